// Large allocations: whole runs of pages, at or above LARGE_MIN bytes (and
// from RUN_MIN, sizes that fill their pages: isLarge).
//
// ╒═══════ Large run (n pages, at page-aligned R) ═══════╕
//   R+0    payload, n*64K usable bytes (no header)
// ╘══════════════════════════════════════════════════════╛
//   page map:  [R] PAGE_LARGE  [R+1 … R+n-1] PAGE_LARGE_TAIL
//
// A run carries no header: its length is the number of PAGE_LARGE_TAIL
// entries after its PAGE_LARGE entry in the page map. A header would cost a
// whole page whenever the size is a multiple of 64 KiB (a 256 KiB vector took
// 5 pages), and the payload is page-aligned for free. Reading the length is
// a scan of the page map, eight entries per step, once per free or resize:
// cheaper than the page-map update those do anyway. The page map is the only record, so a pointer into
// the middle of a run (not page-aligned, or on a tail page) is rejected, and
// a second free finds the page PAGE_FREE.
//
// Above 256 KiB a run wastes less than one page to rounding (at most 1/5 of
// itself at the threshold, far less for bigger blocks); from 64 KiB only
// sizes that waste at most 1/8 of their run take one (isLarge). A run is freed
// and resized by moving pages, never bytes: it grows in place into the pages
// after it when they are free or at the top of memory.
//
// Invariants (checked by heapCheck):
//   - every PAGE_LARGE_TAIL page follows a PAGE_LARGE or PAGE_LARGE_TAIL page.

import { PAGE_SIZE, PAGE_BITS, PAGE_LARGE, PAGE_LARGE_TAIL, LARGE_MIN, RUN_MIN } from "../base/constants";
import { shared, heap, S_BASE_PAGE, S_PAGE_MAP, S_PAGE_MAP_CAP } from "../base/state";
import { setPageKind, setPageKinds } from "../pages/pagemap";
import { pagesAlloc, pagesRelease, pagesTakeAt } from "../pages/pages";
import { pagesLock, pagesUnlock } from "../base/lock";

@inline export function largePagesFor(size: usize): u32 {
  return <u32>((<u64>size + PAGE_SIZE - 1) >> PAGE_BITS);
}

/** Eight page-map entries that are all PAGE_LARGE_TAIL, as one word. */
const TAIL_WORD: u64 = <u64>PAGE_LARGE_TAIL * 0x0101010101010101;

/** Pages in the run starting at `run` (a PAGE_LARGE page): 1 + the tail entries after it. */
export function largePages(run: usize): u32 {
  let first = <u32>(run >>> PAGE_BITS) - load<u32>(shared(), S_BASE_PAGE);
  let cap = load<u32>(shared(), S_PAGE_MAP_CAP);
  let map = <usize>load<u32>(shared(), S_PAGE_MAP);
  let index = first + 1;
  // Eight entries at a time (a byte at a time cost s4 a quarter of its speed).
  while (index + 8 <= cap && load<u64>(map + index) == TAIL_WORD) index += 8;
  while (index < cap && load<u8>(map + index) == PAGE_LARGE_TAIL) index++;
  return index - first;
}

/**
 * Does a request of `size` bytes get a run? From LARGE_MIN always (the
 * rounding costs at most 1/5 there, less above); from RUN_MIN when the run's
 * pages would be at least 7/8 payload.
 */
@inline export function isLarge(size: usize): bool {
  if (size >= LARGE_MIN) return true;
  if (size < RUN_MIN) return false;
  return (<usize>largePagesFor(size) << PAGE_BITS) - size <= size >> 3;
}

/** Usable bytes of a run of `pages` pages: all of them. */
@inline export function largeUsable(pages: u32): u32 { return pages << PAGE_BITS; }

function mark(run: usize, pages: u32): void {
  let first = <u32>(run >>> PAGE_BITS);
  setPageKind(first, PAGE_LARGE);
  if (pages > 1) setPageKinds(first + 1, pages - 1, PAGE_LARGE_TAIL);
}

/** A run for `size` bytes; returns its address (the payload), or 0. */
export function largeAlloc(size: usize): usize {
  let pages = largePagesFor(size);
  pagesLock(); // (runs are shared by every heap of the threads build)
  let run = pagesAlloc(pages);
  if (run != 0) mark(run, pages);
  pagesUnlock();
  return run;
}

/** Free the run at `run` of `pages` pages (largePages(run), which the caller has counted). */
export function largeFree(run: usize, pages: u32): void {
  pagesLock();
  pagesRelease(run, pages);
  pagesUnlock();
}

/** Resize in place: give back tail pages, or take the pages after the run. */
export function largeResize(run: usize, size: usize): bool {
  pagesLock();
  let done = largeResizeLocked(run, size);
  pagesUnlock();
  return done;
}

@inline function largeResizeLocked(run: usize, size: usize): bool {
  let have = largePages(run);
  let want = largePagesFor(size);
  if (want < have) {
    pagesRelease(run + (<usize>want << PAGE_BITS), have - want);
    return true;
  }
  if (want == have) return true;
  if (!pagesTakeAt(run + (<usize>have << PAGE_BITS), want - have)) return false;
  mark(run, want);
  return true;
}
