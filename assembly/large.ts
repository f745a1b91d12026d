// Large allocations: whole runs of pages, at or above LARGE_MIN bytes.
//
// ╒═══════ Large run (n pages, at page-aligned R) ═══════╕
//   R+0    u32  n            pages in the run
//   R+4    u32  LARGE_MAGIC
//   R+8    u32  (reserved)
//   R+12   u32  (reserved)
//   R+16   payload, n*64K - 16 usable bytes
// ╘══════════════════════════════════════════════════════╛
// The first page is PAGE_LARGE in the page map, the others PAGE_LARGE_TAIL,
// so a pointer into the middle of a run is recognised and rejected.
//
// Above 256 KiB a run wastes at most 1/5 of itself to page rounding (on
// average about 1/10 at the threshold, far less for bigger blocks), and
// it is freed and resized by moving pages, never bytes: a run grows in place
// into the pages after it when they are free or at the top of memory.
//
// Invariants (checked by heapCheck):
//   - the header's n and magic agree with the page map: one PAGE_LARGE page
//     followed by exactly n-1 PAGE_LARGE_TAIL pages.

import { PAGE_SIZE, PAGE_BITS, PAGE_LARGE, PAGE_LARGE_TAIL, LARGE_HEADER } from "./constants";
import { setPageKind, setPageKinds } from "./pagemap";
import { pagesAlloc, pagesRelease, pagesTakeAt } from "./pages";

export const LARGE_MAGIC: u32 = 0x4C524745; // "LRGE"

@inline export function largePagesFor(size: usize): u32 {
  return <u32>((<u64>size + LARGE_HEADER + PAGE_SIZE - 1) >> PAGE_BITS);
}
@inline export function largePages(run: usize): u32 { return load<u32>(run); }
@inline export function largeMagicOk(run: usize): bool { return load<u32>(run, 4) == LARGE_MAGIC; }
@inline export function largeUsable(run: usize): u32 { return (load<u32>(run) << PAGE_BITS) - LARGE_HEADER; }

function mark(run: usize, pages: u32): void {
  let first = <u32>(run >>> PAGE_BITS);
  setPageKind(first, PAGE_LARGE);
  if (pages > 1) setPageKinds(first + 1, pages - 1, PAGE_LARGE_TAIL);
  store<u32>(run, pages);
  store<u32>(run, LARGE_MAGIC, 4);
  store<u64>(run, 0, 8);
}

/** A run for `size` bytes; returns the payload address, or 0. */
export function largeAlloc(size: usize): usize {
  let pages = largePagesFor(size);
  let run = pagesAlloc(pages);
  if (run == 0) return 0;
  mark(run, pages);
  return run + LARGE_HEADER;
}

export function largeFree(run: usize): void {
  store<u32>(run, 0, 4); // a second free of the same pointer finds no magic
  pagesRelease(run, largePages(run));
}

/** Resize in place: give back tail pages, or take the pages after the run. */
export function largeResize(run: usize, size: usize): bool {
  let have = largePages(run);
  let want = largePagesFor(size);
  if (want < have) {
    mark(run, want);
    pagesRelease(run + (<usize>want << PAGE_BITS), have - want);
    return true;
  }
  if (want == have) return true;
  if (!pagesTakeAt(run + (<usize>have << PAGE_BITS), want - have)) return false;
  mark(run, want);
  return true;
}
