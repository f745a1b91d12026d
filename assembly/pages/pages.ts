// The page layer: whole 64 KiB pages, got from `memory.grow` and reused.
//
// Every other layer takes its memory from here: boundary-tag segments, slab
// pages and large runs. Pages that come back form free runs; adjacent free
// runs merge at once, so free space at the top of memory is always one run and
// no page is stranded. Wasm memory never shrinks, so reuse is the only reclaim.
// Whether memory may grow is the engine's decision (engines/reclaim.ts):
// pagesAlloc takes pages from free runs only, until the engine, having
// asked the layers above for the pages they hold free, allows growth
// (pagesAllowGrowth). The page layer knows nothing of those layers; an
// allocation that finds no run fails, and the engine tries it again.
//
// ╒════ Free page run (n pages, starting at page-aligned R) ════╕
//   R+0          u32  n          length in pages
//   R+4          u32  next       next free run (higher address), 0 = none
//   R+8          u32  prev       previous free run, 0 = none
//   R+n*64K-4    u32  R          footer: lets the run after it find R
// ╘═════════════════════════════════════════════════════════════╛
// Every page of a free run is PAGE_FREE in the page map.
//
// Placement: best fit, the run at the top last (bestFitRun).
//
// Growth policy: below 16 MiB a growth asks for exactly what is needed (a
// growth costs a few microseconds there: random-bal's 115 took 0.4 ms in
// all); above, for what is needed or 1/32 of the heap's pages, whichever is
// more, never past `maxPages`; a need of 1/64 of the heap or more is grown
// exactly, since it pays for its own growth (s4, 64 KiB..4 MiB blocks: the
// same 46 grows, 81.8% -> 82.4% utilization over 24 seeds). Few large steps
// where `memory.grow` is expensive in V8 (measured here: about 1 ms per call
// at 80 MiB, 3.6 ms at 256 MiB; it can trigger a GC), yet at most about 3% of
// the heap sits unused after a growth. (Exact up to 4 MiB only, a 15 MiB trace ended up to 7 pages
// past its need: random-bal 94.5% with exact growth, 93.8% without.) If the
// bigger step fails, the exact need is tried before giving up.
//
// Invariants (checked by heapCheck):
//   - the free-run list is address ordered, links agree both ways;
//   - each run's pages are all PAGE_FREE, its footer names its start;
//   - no two free runs touch (they would have merged);
//   - the number of PAGE_FREE pages equals the sum of run lengths.

import { notice, ERR_CORRUPTION, REASON_NONE, OP_MALLOC } from "../base/report";
import {
  PAGE_SIZE, PAGE_BITS, PAGE_FREE, PAGE_META, SMALL, THREADS,
} from "../base/constants";
import {
  shared, heap, S_TOP, S_FREE_RUNS, S_MAX_PAGES, S_BASE_PAGE, S_PAGE_MAP, S_PAGE_MAP_CAP,
  S_INLINE_MAP, INLINE_MAP_ENTRIES, START_BITS_REGIONS, statAdd, STAT_GROWS, STAT_GROWN_PAGES,
} from "../base/state";
import { pageKind, setPageKinds, setPageKind } from "./pagemap";
import { startRegionSet, startRegion, START_REGION_BITS } from "./startbits";

// ── Growth: allowed by the engine ───────────────────────────────────────────
/** pagesAlloc takes free runs only (the engine reclaims before memory grows). */
export const GROWTH_NONE: u32 = 0;
/** pagesAlloc grows memory when no run is long enough. */
export const GROWTH_ALLOWED: u32 = 1;
/** At the limit, after every free page came back: the page map may move out of the way too (pageMapMoveFor). */
export const GROWTH_AT_LIMIT: u32 = 2;

// A module global, not heap state: each instance (each thread, one day) says
// what its own allocation in progress may do.
let growth: u32 = 0; // GROWTH_NONE (a literal: a constant here would cost the module a start function)

/** Set what pagesAlloc may do when no free run is long enough (GROWTH_*). */
export function pagesAllowGrowth(mode: u32): void { growth = mode; }
/** What pagesAlloc may do now (GROWTH_*). */
@inline export function pagesGrowth(): u32 { return growth; }

/** Below this many pages (16 MiB) growth is exact: a growth is cheap there. */
const GROW_EXACT_BELOW: u32 = 256;
/** Above it a growth adds at least heap/2^GROW_SHIFT: few steps, little slack. */
const GROW_SHIFT: u32 = 5;

@inline export function runPages(run: usize): u32 { return load<u32>(run); }
@inline export function runNext(run: usize): usize { return load<u32>(run, 4); }
@inline export function runPrev(run: usize): usize { return load<u32>(run, 8); }
@inline function runEnd(run: usize): usize { return run + (<usize>load<u32>(run) << PAGE_BITS); }

/** Write a run's length and footer (its pages' kinds are the caller's). */
@inline function runSet(run: usize, pages: u32): void {
  store<u32>(run, pages);
  store<u32>(run + (<usize>pages << PAGE_BITS) - 4, <u32>run);
}

/** Link unlisted `run` between `prev` and `next` (0: the list's ends). */
@inline function runLinkBetween(run: usize, prev: usize, next: usize): void {
  store<u32>(run, <u32>next, 4);
  store<u32>(run, <u32>prev, 8);
  if (next) store<u32>(next, <u32>run, 8);
  if (prev) store<u32>(prev, <u32>run, 4);
  else store<u32>(shared(), <u32>run, S_FREE_RUNS);
}

/**
 * The free run after `run` on the address-ordered list, 0 at its end. A run's
 * links live in its free pages: one that does not lead up the memory (a
 * cycle, a wild pointer, after a write into freed pages) ends the walk and is
 * reported, so no walk loops or reads past the memory.
 */
@inline function nextRun(run: usize): usize {
  let next = runNext(run);
  if (next != 0 && (next <= run || next >= <usize>load<u32>(shared(), S_TOP))) return runsBroken(run);
  return next;
}

function runsBroken(run: usize): usize {
  notice(ERR_CORRUPTION, REASON_NONE, OP_MALLOC, run, run, 0);
  return 0;
}

/**
 * Free run `run`'s length in pages, if its footer and the top agree with it;
 * else 0, reported (a write into the freed pages changed it): the run is not
 * used or merged, and the heap check names it.
 */
function runLength(run: usize): u32 {
  let pages = runPages(run);
  let end = <u64>run + (<u64>pages << PAGE_BITS);
  if (pages == 0 || end > <u64>load<u32>(shared(), S_TOP) || load<u32>(<usize>end - 4) != <u32>run) {
    runsBroken(run);
    return 0;
  }
  return pages;
}

/** Link unlisted `run` into the address-ordered list: a walk from the head. */
function runLink(run: usize): void {
  let prev: usize = 0;
  let next: usize = load<u32>(shared(), S_FREE_RUNS);
  while (next != 0 && next < run) { prev = next; next = nextRun(next); }
  runLinkBetween(run, prev, next);
}

/**
 * Put unlisted `run` in listed `old`'s place: no walk. Address order holds
 * because `run` starts inside or right after `old` and no other run lies
 * between them (the callers: a run's remainder, a run merged with the one
 * after it).
 */
function runReplace(old: usize, run: usize): void {
  runLinkBetween(run, runPrev(old), runNext(old));
}

/** Unlink a run from the list (its pages keep PAGE_FREE until re-marked). */
function runRemove(run: usize): void {
  let next = runNext(run);
  let prev = runPrev(run);
  if (next) store<u32>(next, <u32>prev, 8);
  if (prev) store<u32>(prev, <u32>next, 4);
  else store<u32>(shared(), <u32>next, S_FREE_RUNS);
}

/**
 * Give pages back: they merge with free neighbours into one run. Only these
 * pages are marked; a merge keeps the list position of the run it joins, so
 * the list is walked only for a run with no free neighbour (s4: 634 -> 521
 * instructions per operation).
 */
export function pagesRelease(start: usize, pages: u32): void {
  let first = <u32>(start >>> PAGE_BITS);
  let after = first + pages;
  setPageKinds(first, pages, PAGE_FREE);
  let right = <usize>after << PAGE_BITS;
  // A neighbour's length and footer sit in its free pages: merged only if they agree.
  let rightFree = pageKind(after) == PAGE_FREE && runLength(right) != 0;
  let left: usize = pageKind(first - 1) == PAGE_FREE ? <usize>load<u32>(start - 4) : 0;
  if (left != 0 && (left >= start || runLength(left) == 0 || runEnd(left) != start)) left = 0;
  if (left != 0) {
    pages += runPages(left);
    if (rightFree) {
      runRemove(right);
      pages += runPages(right);
    }
    runSet(left, pages);
  } else if (rightFree) {
    runReplace(right, start);
    runSet(start, pages + runPages(right));
  } else {
    runSet(start, pages);
    runLink(start);
  }
}

/** Take `pages` from the low end of a free run; the rest stays free, in its place. */
function runTake(run: usize, pages: u32): usize {
  let have = runPages(run);
  if (have > pages) {
    let rest = run + (<usize>pages << PAGE_BITS);
    runReplace(run, rest);
    runSet(rest, have - pages);
  } else {
    runRemove(run);
  }
  return run;
}

/** First fit over the free runs; 0 if none is long enough. */
function firstFitRun(pages: u32): usize {
  let run: usize = load<u32>(shared(), S_FREE_RUNS);
  while (run != 0) {
    let have = runLength(run);
    if (have >= pages) return run; // (a run whose length lies is passed over: 0)
    run = nextRun(run);
  }
  return 0;
}

/**
 * Where a run of `pages` goes: the shortest free run that is long enough
 * (lowest address among equals), except that the run reaching the top of
 * memory is taken only when no other fits: it is the one that can grow, and
 * carving it ratchets memory up (the boundary-tag layer's best fit keeps the
 * same rule). 0 if none is long enough. Measured against first fit over 24
 * seeds of s4: 81.3% -> 81.8% utilization (the bench's seed 76.4% -> 78.4%),
 * over 12 seeds of 64..256 KiB blocks, 256 live: 81.4% -> 83.0%; 510 -> 547
 * instructions per s4 operation (the whole list is walked, ~15-30 runs).
 */
function bestFitRun(pages: u32): usize {
  let run: usize = load<u32>(shared(), S_FREE_RUNS);
  let best: usize = 0;
  let bestPages: u32 = 0xFFFFFFFF;
  let top: usize = load<u32>(shared(), S_TOP);
  let atTop: usize = 0;
  while (run != 0) {
    let have = runLength(run); // (a run whose length lies is passed over: 0)
    if (have >= pages && have < bestPages) {
      if (have == pages) return run;
      if (runEnd(run) == top) atTop = run;
      else { best = run; bestPages = have; }
    }
    run = nextRun(run);
  }
  return best != 0 ? best : atTop;
}

/**
 * Take `pages` pages from the lowest free run that holds them (first fit: the
 * list is address ordered), without growing; 0 if no run is long enough. For
 * metadata moved down at the limit, out of the way of large requests.
 */
export function pagesAllocLowest(pages: u32): usize {
  let run = firstFitRun(pages);
  return run == 0 ? 0 : runTake(run, pages);
}

/** True if a free run of at least `pages` pages exists (no growth needed). */
export function pagesAvailable(pages: u32): bool { return firstFitRun(pages) != 0; }

/** Pages the heap spans, from its base page to the top. */
@inline export function heapPages(): u32 {
  return <u32>(load<u32>(shared(), S_TOP) >>> PAGE_BITS) - load<u32>(shared(), S_BASE_PAGE);
}

/** Pages a growth for `need` pages asks for at least (see the growth policy above). */
@inline function growthStep(need: u32): u32 {
  let pages = heapPages();
  if (pages < GROW_EXACT_BELOW) return 0;
  let step = pages >>> GROW_SHIFT;
  // A need of half a step or more pays for its own growth: exact.
  return need >= (step >>> 1) ? 0 : step;
}

/**
 * Grow memory by at least `need` pages and release them as a free run (it
 * merges with a free run at the top). False when the limit or the engine
 * refuses; nothing changes then.
 */
export function pagesGrow(need: u32): bool {
  let current = <u32>memory.size();
  let maxPages = load<u32>(shared(), S_MAX_PAGES);
  if (current > maxPages || need > maxPages - current) return false;
  let room = maxPages - current;
  // Moving the page map out of the heap state costs one more page.
  let relocate: u32 = 0;
  if (<usize>load<u32>(shared(), S_PAGE_MAP) == shared() + S_INLINE_MAP) {
    let wouldSpan = current + max<u32>(need, growthStep(need)) - load<u32>(shared(), S_BASE_PAGE);
    if (wouldSpan + 1 > INLINE_MAP_ENTRIES) relocate = 1;
  }
  // Threads build: a page of start bits for each 8 MiB the growth reaches first.
  let bits = THREADS ? regionsLacking(current, max<u32>(need, growthStep(need)) + 1) : 0;
  if (need + relocate + bits > room) return false;
  let want = min<u32>(max<u32>(need, growthStep(need)) + relocate + bits, room);
  let old = memory.grow(<i32>want);
  if (old < 0 && want > need + relocate + bits) {
    want = need + relocate + bits;
    old = memory.grow(<i32>want);
  }
  if (old < 0) return false;
  statAdd(STAT_GROWS, 1);
  statAdd(STAT_GROWN_PAGES, want);
  // If someone else grew the memory since our last growth, the pages between
  // our old top and `start` are theirs: they stay PAGE_NONE and never merge.
  let start = <usize>old << PAGE_BITS;
  store<u32>(shared(), <u32>(start + (<usize>want << PAGE_BITS)), S_TOP);
  if (relocate) {
    relocatePageMap(start);
    start += PAGE_SIZE;
    want -= 1;
  }
  if (THREADS) {
    let grownEnd = start + (<usize>want << PAGE_BITS);
    for (let r = <u32>(start >>> START_REGION_BITS); r <= <u32>((grownEnd - 1) >>> START_REGION_BITS) && want > 0; r++) {
      if (startRegion(r) != 0) continue;
      setPageKind(<u32>(start >>> PAGE_BITS), PAGE_META);
      startRegionSet(r, start);
      start += PAGE_SIZE;
      want -= 1;
    }
  }
  if (want) pagesRelease(start, want);
  return true;
}

/** Threads build: 8 MiB regions of memory in [page, page + pages + what they add) with no page of start bits yet. */
function regionsLacking(page: u32, pages: u32): u32 {
  let lacking: u32 = 0;
  let last = <u32>((<u64>page + pages + 1) >> (START_REGION_BITS - PAGE_BITS));
  for (let r = page >> (START_REGION_BITS - PAGE_BITS); r <= last && r < START_BITS_REGIONS; r++) {
    if (startRegion(r) == 0) lacking++;
  }
  return lacking;
}

/**
 * Threads build, at set-up: the page map moves to a META page at once (where
 * it never moves again: heaps read it without a lock), and each 8 MiB below
 * the top gets its page of start bits. False if memory cannot grow for them.
 */
export function pagesThreadsSetUp(): bool {
  growth = GROWTH_ALLOWED;
  let page = pagesAlloc(1);
  if (page == 0) { growth = GROWTH_NONE; return false; }
  memory.fill(page, 0, PAGE_SIZE);
  relocatePageMap(page);
  let top: usize = load<u32>(shared(), S_TOP);
  for (let r: u32 = 0; r <= <u32>((top - 1) >>> START_REGION_BITS); r++) {
    if (startRegion(r) != 0) continue;
    let bits = pagesAlloc(1);
    if (bits == 0) { growth = GROWTH_NONE; return false; }
    setPageKind(<u32>(bits >>> PAGE_BITS), PAGE_META);
    startRegionSet(r, bits);
  }
  growth = GROWTH_NONE;
  return true;
}

/** Move the page map from the heap state to the page at `page` (fresh, zeroed). */
function relocatePageMap(page: usize): void {
  memory.copy(page, shared() + S_INLINE_MAP, INLINE_MAP_ENTRIES);
  store<u32>(shared(), <u32>page, S_PAGE_MAP);
  store<u32>(shared(), PAGE_SIZE - load<u32>(shared(), S_BASE_PAGE), S_PAGE_MAP_CAP);
  memory.fill(shared() + S_INLINE_MAP, 0, INLINE_MAP_ENTRIES);
  setPageKind(<u32>(page >>> PAGE_BITS), PAGE_META);
}

/**
 * Take a run of `pages` pages (best fit): a free run; when none is long
 * enough and the engine allows it (pagesAllowGrowth), growth, and at the
 * limit first a move of the page map that joins the run (pageMapMoveFor).
 * 0 if none of that yields the run.
 */
export function pagesAlloc(pages: u32): usize {
  let run = bestFitRun(pages);
  if (run == 0 && growth != GROWTH_NONE) {
    if (!SMALL && growth == GROWTH_AT_LIMIT) run = pageMapMoveFor(pages); // (never, in the small build)
    if (run == 0) run = growFor(pages);
  }
  return run == 0 ? 0 : runTake(run, pages);
}

/** Grow memory so that a free run of `pages` pages exists; the run, or 0 if memory cannot grow. */
function growFor(pages: u32): usize {
  // Grow only what the free run at the top lacks.
  let top: usize = load<u32>(shared(), S_TOP);
  let have: u32 = 0;
  let topPage = <u32>(top >>> PAGE_BITS);
  if (pageKind(topPage - 1) == PAGE_FREE) have = runPages(load<u32>(top - 4));
  if (!pagesGrow(pages - have)) return 0;
  let run = firstFitRun(pages);
  // A foreign growth may have split the top: grow the whole need once more.
  if (run == 0 && pagesGrow(pages)) run = firstFitRun(pages);
  return run;
}

/**
 * At the limit, once the layers above gave back their free pages: if the
 * page map's META page is all that parts free pages which together would
 * hold a run of `pages` (or could grow to it, at the top), move the map to
 * the lowest free page and return that run (0 otherwise; nothing moves).
 * The lowest page: a heap that empties ends with the map right after its
 * first page, and everything above it one run (a 100 MiB cap then serves a
 * block of 100 MiB less two pages, not 68 MiB). Only when it joins the run
 * asked for: taking the lowest page shortens the first run, which may be the
 * longest. Costs a 64 KiB copy, on the slow path of running out.
 */
function pageMapMoveFor(pages: u32): usize {
  if (THREADS) return 0; // (heaps read the map without a lock: it stays where it is)
  let map: usize = load<u32>(shared(), S_PAGE_MAP);
  if (map == shared() + S_INLINE_MAP) return 0;
  let lowest: usize = load<u32>(shared(), S_FREE_RUNS);
  if (lowest == 0 || lowest > map) return 0;
  let mapPage = <u32>(map >>> PAGE_BITS);
  let left: usize = pageKind(mapPage - 1) == PAGE_FREE ? <usize>load<u32>(map - 4) : 0;
  let right: usize = map + PAGE_SIZE;
  let rightPages: u32 = 0;
  if (pageKind(mapPage + 1) == PAGE_FREE) rightPages = runPages(right);
  // The run the map's page would join: the free pages on both sides of it,
  // less the page the map moves to if that is the left run's first.
  let joined = <u64>(left != 0 ? runPages(left) : 0) + rightPages + (lowest == left ? 0 : 1);
  let end = right + (<usize>rightPages << PAGE_BITS);
  if (end == <usize>load<u32>(shared(), S_TOP)) {
    let current = <u32>memory.size();
    let maxPages = load<u32>(shared(), S_MAX_PAGES);
    if (maxPages > current) joined += maxPages - current;
  }
  if (joined < <u64>pages) return 0;
  let to = runTake(lowest, 1);
  memory.copy(to, map, PAGE_SIZE);
  store<u32>(shared(), <u32>to, S_PAGE_MAP);
  setPageKind(<u32>(to >>> PAGE_BITS), PAGE_META);
  pagesRelease(map, 1);
  return bestFitRun(pages);
}

/**
 * Take the `pages` pages starting exactly at `at`, which is either the top of
 * memory or the start of a free run (the caller owns the page before `at`).
 * Grows memory when the run reaches the top and is too short. Used to extend
 * a block or segment in place.
 */
export function pagesTakeAt(at: usize, pages: u32): bool {
  let top: usize = load<u32>(shared(), S_TOP);
  if (at == top) {
    if (!pagesGrow(pages)) return false;
    // A foreign growth leaves `at` unowned: the run is not where we need it.
    if (pageKind(<u32>(at >>> PAGE_BITS)) != PAGE_FREE) return false;
  } else if (pageKind(<u32>(at >>> PAGE_BITS)) != PAGE_FREE) {
    return false;
  }
  let have = runPages(at);
  if (have < pages) {
    if (runEnd(at) != load<u32>(shared(), S_TOP)) return false;
    if (!pagesGrow(pages - have)) return false;
    have = runPages(at);
    if (have < pages) return false;
  }
  runTake(at, pages);
  return true;
}

/** Pages free at the top of memory right after `end` (0 if `end` is not followed by a top run). */
export function freePagesAfter(end: usize): u32 {
  if (end == <usize>load<u32>(shared(), S_TOP)) return 0;
  if (pageKind(<u32>(end >>> PAGE_BITS)) != PAGE_FREE) return 0;
  return runPages(end);
}

/** True when `end` is the top of memory, or starts a free run that reaches it. */
@inline export function reachesTop(end: usize): bool {
  return end == <usize>load<u32>(shared(), S_TOP) || freeRunReachesTop(end);
}

function freeRunReachesTop(end: usize): bool {
  if (pageKind(<u32>(end >>> PAGE_BITS)) != PAGE_FREE) return false;
  return runEnd(end) == <usize>load<u32>(shared(), S_TOP);
}

