// Reclaim: pages the layers hold without using them, handed back to the
// page layer when an allocation finds no free run long enough, before memory
// may grow (pages.ts takes free runs only until the engine allows growth).
//
// Wasm memory never shrinks, so a page moves between layers instead: a page
// one layer holds empty is a page another layer cannot have. An engine whose
// allocation failed for want of pages tries it again under pressure, step by
// step (pressureStep), until one succeeds:
//
//   step 0  reclaimBeforeGrowth; again, from free runs (if any page came back)
//   step 1  again, memory may grow (GROWTH_ALLOWED)
//   step 2  reclaimAtLimit; again, the page map may move too (GROWTH_AT_LIMIT)
//
// and then pressureEnd (free runs only, as between allocations). What each
// reclaim asks of the layers:
//
//   before growth (reclaimBeforeGrowth), cheap, every time a run is missing:
//     1. quick lists flushed: held blocks coalesce (medium.ts, quickFlush)
//     2. free boundary-tag blocks of TRIM_MIN_PAGES + 1 pages or more give
//        their whole pages back (medium.ts, mediumTrimFree)
//     3. the empty page a slab class keeps, if first on its list (slab.ts,
//        slabReclaimEmpty)
//
//   at the limit (reclaimAtLimit), when growth is refused: everything free
//     1. quick lists flushed
//     2. every whole page of every free boundary-tag block goes back: the
//        pages inside a block, the tail of segment 0, whole empty segments,
//        the top segment's free end (the reserve) included
//     3. every empty slab page, wherever it sits on its class's list
//        (slabReclaimAllEmpty)
//     4. the start map moves to the lowest place that holds it, sized for
//        the whole limit, and the pages it leaves go back (medium.ts,
//        mediumStartsMoveDown)
//   then the page layer moves its page map down if that joins the run it
//   needs (pages.ts, pageMapMoveFor), and tries its runs and growth again.
//
// The second is the slow path of running out of memory only: a program that
// never reaches its limit never takes it. After it, a heap whose blocks are
// all freed serves one block of its whole limit less two pages: its first
// (the heap state) and the page map's (docs/reclaim.md has the figures).

import { TRIM_MIN_PAGES, PAGE_BITS, MAX_MEMORY_PAGES, SMALL } from "../base/constants";
import { shared, heap, S_MAX_PAGES, S_TOP } from "../base/state";
import { pagesAllowGrowth, GROWTH_NONE, GROWTH_ALLOWED, GROWTH_AT_LIMIT } from "../pages/pages";
import { quickFlush, mediumTrimFree, mediumStartsMoveDown, TRIM_MIN_BLOCK, TRIM_ANY_BLOCK } from "../blocks/medium";
import { slabReclaimEmpty, slabReclaimAllEmpty } from "../slabs/slab";

/** pressureStep's answers. */
export const PRESSURE_DONE: u32 = 0;   // no step left: the allocation fails
export const PRESSURE_RETRY: u32 = 1;  // try the allocation again
export const PRESSURE_SKIP: u32 = 2;   // nothing changed: go on to the next step

/** Take step `step` (0, 1, 2, …) of relieving page pressure: what to do next. */
export function pressureStep(step: u32): u32 {
  // The small build reclaims nothing: memory grows, or the allocation fails.
  if (SMALL) {
    if (step != 0) return PRESSURE_DONE;
    pagesAllowGrowth(GROWTH_ALLOWED);
    return PRESSURE_RETRY;
  }
  if (step == 0) return reclaimBeforeGrowth() ? PRESSURE_RETRY : PRESSURE_SKIP;
  if (step == 1) { pagesAllowGrowth(GROWTH_ALLOWED); return PRESSURE_RETRY; }
  if (step == 2) { reclaimAtLimit(); pagesAllowGrowth(GROWTH_AT_LIMIT); return PRESSURE_RETRY; }
  return PRESSURE_DONE;
}

/** After the last step: free runs only again. */
export function pressureEnd(): void { pagesAllowGrowth(GROWTH_NONE); }

/** Before memory grows: the held quick blocks, large free blocks' pages, kept empty slab pages. True if any page may have come back. */
function reclaimBeforeGrowth(): bool {
  return quickFlush() | mediumTrimFree(TRIM_MIN_BLOCK, TRIM_MIN_PAGES) | slabReclaimEmpty();
}

/** When memory cannot grow: every whole free page the layers above hold. True if any came back. */
function reclaimAtLimit(): bool {
  quickFlush();
  let any = mediumTrimFree(TRIM_ANY_BLOCK, 1) | slabReclaimAllEmpty();
  // The start map moves down into what came back; the pages it leaves go back too.
  if (mediumStartsMoveDown(limitTop())) any = mediumTrimFree(TRIM_ANY_BLOCK, 1) | any;
  return any;
}

/** The highest top the heap may reach: its cap, or (no cap: growth was refused) where it is. */
function limitTop(): usize {
  let maxPages = load<u32>(shared(), S_MAX_PAGES);
  let top: usize = load<u32>(shared(), S_TOP);
  if (maxPages >= MAX_MEMORY_PAGES) return top;
  let cap = <usize>maxPages << PAGE_BITS;
  return cap > top ? cap : top;
}
