// The page layer and large runs: whole 64 KiB pages, reused across layers.
//
//   large run (n pages at R):  [ PAGE_LARGE | PAGE_LARGE_TAIL × (n-1) ]   payload at R (no header)
//   freed:                     [ PAGE_FREE × n ]   merged with free neighbours into one run
import { startsBlock } from "../../assembly/blocks/starts";
import { blockSize } from "../../assembly/blocks/block";
import {
  freshHeap, countEntries, entrySize, lastReportKind, lastReportReason, reportCount, clearReport,
} from "./helpers";
import { cMalloc, cFree, cRealloc, cMallocUsableSize } from "../../assembly/api/calls";
import { heapCheck } from "../../assembly/inspect/check";
import {
  POLICY_SEGREGATED, PAGE_SIZE, PAGE_FREE, PAGE_HEAP, PAGE_SLAB, PAGE_LARGE, PAGE_LARGE_TAIL,
  LARGE_MIN, RUN_MIN, TRIM_MIN_PAGES, OPTION_EAGER_SLABS, POLICY_FIRST, OPTION_NO_SLABS, SEGMENT_PROLOGUE,
} from "../../assembly/base/constants";
import { HEAP_STATE_SIZE } from "../../assembly/engines/engine";
import { slabCapacity, spanOf, slabMagicOk, freeSpans } from "../../assembly/slabs/slab";
import { pageKind } from "../../assembly/pages/pagemap";
import { heapPages } from "../../assembly/pages/pages";
import {
  statGet, STAT_LIVE, STAT_FREES, STAT_GROWS, STAT_FAILED, STAT_TRIMMED_PAGES, STAT_REALLOC_IN_PLACE,
} from "../../assembly/base/state";
import { ERR_DOUBLE_FREE, ERR_INVALID_FREE, REASON_INTERIOR } from "../../assembly/base/report";
import { LAYER_PAGES, LAYER_LARGE, STATE_FREE, STATE_IN_USE } from "../../assembly/inspect/walk";
import { walkFirst, walkEnd, walkEntry, walk_layer, walk_state, walk_size } from "../../assembly/inspect/walk";

@inline function pageIndex(ptr: usize): u32 { return <u32>(ptr >>> 16); }
@inline function kindOf(ptr: usize): u8 { return pageKind(pageIndex(ptr)); }
/** Pages a large request of `size` bytes takes (a run has no header). */
@inline function runPagesFor(size: usize): u32 { return <u32>((size + PAGE_SIZE - 1) >>> 16); }

/** Bytes in free page runs, summed over the walk. */
function freeRunBytes(): usize {
  let total: usize = 0;
  let cursor = walkFirst();
  let end = walkEnd();
  while (cursor < end) {
    cursor = walkEntry(cursor);
    if (walk_layer == LAYER_PAGES && walk_state == STATE_FREE) total += walk_size;
  }
  return total;
}

describe("large runs", () => {
  it("a request of LARGE_MIN bytes is a run of pages: PAGE_LARGE, then PAGE_LARGE_TAIL", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(LARGE_MIN);
    let n = runPagesFor(LARGE_MIN); // 4: 256 KiB, no header
    expect(n).toBe(4);
    expect(p & (PAGE_SIZE - 1)).toBe(0); // page-aligned
    let first = pageIndex(p);
    expect(pageKind(first)).toBe(PAGE_LARGE);
    for (let i: u32 = 1; i < n; i++) expect(pageKind(first + i)).toBe(PAGE_LARGE_TAIL);
    expect(pageKind(first + n)).not.toBe(PAGE_LARGE_TAIL);
    expect(cMallocUsableSize(p)).toBe(n << 16);
    expect(countEntries(LAYER_LARGE, STATE_IN_USE)).toBe(1);
    expect(entrySize(p)).toBe(<usize>n << 16);
    expect(heapCheck()).toBe(0);
  });

  it("below LARGE_MIN a request stays in the boundary-tag heap unless it fills its pages to 7/8", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let loose = cMalloc(RUN_MIN + 1);         // 2 pages for 64 KiB + 1: nearly half lost
    let loose2 = cMalloc(LARGE_MIN - 40000);  // 4 pages, 40,000 bytes (15%) lost
    let below = cMalloc(RUN_MIN - 1);         // under RUN_MIN: never a run
    expect(kindOf(loose)).toBe(PAGE_HEAP);
    expect(kindOf(loose2)).toBe(PAGE_HEAP);
    expect(kindOf(below)).toBe(PAGE_HEAP);
    expect(countEntries(LAYER_LARGE, STATE_IN_USE)).toBe(0);
    let page = cMalloc(RUN_MIN);                      // exactly one page
    let twoPages = cMalloc(2 * RUN_MIN - 8000);       // 6% lost
    let almost = cMalloc(LARGE_MIN - 1);              // one byte lost
    expect(kindOf(page)).toBe(PAGE_LARGE);
    expect(kindOf(twoPages)).toBe(PAGE_LARGE);
    expect(kindOf(almost)).toBe(PAGE_LARGE);
    expect(cMallocUsableSize(twoPages)).toBe(2 * RUN_MIN);
    expect(countEntries(LAYER_LARGE, STATE_IN_USE)).toBe(3);
    expect(heapCheck()).toBe(0);
  });

  it("realloc moves a run whose new size would waste more than 1/8 of it into the boundary-tag heap", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(2 * RUN_MIN);
    store<u64>(p, 0x1122334455667788);
    expect(kindOf(p)).toBe(PAGE_LARGE);
    let q = cRealloc(p, 2 * RUN_MIN - 100); // still fills its 2 pages: stays
    expect(q).toBe(p);
    let r = cRealloc(q, RUN_MIN + 100);     // 2 pages for 64 KiB + 100: moves
    expect(kindOf(r)).toBe(PAGE_HEAP);
    expect(load<u64>(r)).toBe(0x1122334455667788);
    expect(kindOf(p)).toBe(PAGE_FREE);
    expect(heapCheck()).toBe(0);
  });

  it("freeing a run makes its pages free, and neighbouring free runs merge into one", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(LARGE_MIN), b = cMalloc(LARGE_MIN), c = cMalloc(LARGE_MIN), d = cMalloc(LARGE_MIN);
    let n = runPagesFor(LARGE_MIN);
    cFree(a);
    cFree(c);
    let runsApart = countEntries(LAYER_PAGES, STATE_FREE);
    let aKind = kindOf(a), aTailKind = pageKind(pageIndex(a) + n - 1);
    cFree(b);
    let runsMerged = countEntries(LAYER_PAGES, STATE_FREE);
    expect(aKind).toBe(PAGE_FREE);
    expect(aTailKind).toBe(PAGE_FREE);
    expect(runsApart).toBe(2);
    expect(runsMerged).toBe(1);
    expect(entrySize(a)).toBe(<usize>(3 * n) << 16);
    expect(kindOf(d)).toBe(PAGE_LARGE);
    expect(heapCheck()).toBe(0);
  });

  it("a freed run is reused by the next large allocation without growing memory", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(LARGE_MIN + 1000), guard = cMalloc(LARGE_MIN);
    cFree(a);
    let pages = memory.size(), grows = statGet(STAT_GROWS);
    let b = cMalloc(LARGE_MIN + 2000); // the same 5 pages
    let pagesAfter = memory.size();
    expect(b).toBe(a);
    expect(pagesAfter).toBe(pages);
    expect(statGet(STAT_GROWS)).toBe(grows);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });

  it("a freed run is reused by a slab page and a boundary-tag segment without growing memory", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(LARGE_MIN), guard = cMalloc(LARGE_MIN);
    let run = a;
    let runEnd = run + (<usize>runPagesFor(LARGE_MIN) << 16);
    cFree(a);
    let pages = memory.size(), grows = statGet(STAT_GROWS);
    let slot = cMalloc(24);       // the first slab page of its class
    let medium = cMalloc(100000); // too big for segment 0: a new segment
    let pagesAfter = memory.size();
    expect(slot & ~<usize>(PAGE_SIZE - 1)).toBe(run);
    expect(kindOf(slot)).toBe(PAGE_SLAB);
    expect(kindOf(medium)).toBe(PAGE_HEAP);
    expect(medium).toBeGreaterThan(run);
    expect(medium).toBeLessThan(runEnd);
    expect(pagesAfter).toBe(pages);
    expect(statGet(STAT_GROWS)).toBe(grows);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });

  it("a run is placed by best fit: the shortest free run that is long enough, not the first", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let long = cMalloc(8 << 16), guard1 = cMalloc(LARGE_MIN);
    let short = cMalloc(5 << 16), guard2 = cMalloc(LARGE_MIN);
    cFree(long);
    cFree(short);
    let grows = statGet(STAT_GROWS);
    let b = cMalloc(LARGE_MIN + 1000); // 5 pages: first fit would split the 8-page run
    expect(b).toBe(short);
    expect(kindOf(long)).toBe(PAGE_FREE);
    expect(statGet(STAT_GROWS)).toBe(grows);
    expect(heapCheck()).toBe(0);
    cFree(b); cFree(guard1); cFree(guard2);
  });

  it("best fit takes the free run that reaches the top of memory only when no other run fits", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let inner = cMalloc(8 << 16), guard = cMalloc(LARGE_MIN);
    let last = cMalloc(6 << 16);
    let top = <usize>memory.size() << 16;
    let lastEnd = last + (<usize>6 << 16);
    cFree(inner);
    cFree(last);
    // Both free runs fit 5 pages; the 6 at the top are shorter, but they can
    // grow with memory, so the 8 inside are used first.
    let b = cMalloc(LARGE_MIN + 1000);
    expect(lastEnd).toBe(top);
    expect(b).toBe(inner);
    expect(kindOf(last)).toBe(PAGE_FREE);
    // 7 pages: only the top run (grown by one page) or the rest of the inner one (3) could hold them.
    let pages = memory.size();
    let c = cMalloc(7 << 16);
    expect(c).toBe(last);
    expect(memory.size() - pages).toBe(1);
    expect(heapCheck()).toBe(0);
    cFree(b); cFree(c); cFree(guard);
  });

  it("realloc of a large block at the top of memory grows in place, growing only the missing pages", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(LARGE_MIN);
    for (let i: usize = 0; i < LARGE_MIN; i += 4096) store<u32>(a + i, <u32>(i ^ 0x5A5A));
    let pages = memory.size(), inPlace = statGet(STAT_REALLOC_IN_PLACE);
    let b = cRealloc(a, 2 * LARGE_MIN);
    let pagesAfter = memory.size();
    let n = runPagesFor(2 * LARGE_MIN); // 8
    expect(b).toBe(a);
    expect(pagesAfter - pages).toBe(n - runPagesFor(LARGE_MIN));
    expect(statGet(STAT_REALLOC_IN_PLACE)).toBe(inPlace + 1);
    expect(cMallocUsableSize(b)).toBe(n << 16);
    expect(pageKind(pageIndex(a) + n - 1)).toBe(PAGE_LARGE_TAIL);
    for (let i: usize = 0; i < LARGE_MIN; i += 4096) expect(load<u32>(b + i)).toBe(<u32>(i ^ 0x5A5A));
    expect(heapCheck()).toBe(0);
  });
});

describe("growth", () => {
  it("past 16 MiB a small need grows by a step of the heap, a need of 1/64 of it or more exactly", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let big = cMalloc(20 << 20); // grown exactly: below 16 MiB
    let heapPagesNow = heapPages();
    // A 2-page segment: the step (heap/32, 10 pages) is grown, and the rest stays free at the top
    // but for the pages of the start map's replacement (the block lies past the first map).
    let pages = memory.size();
    let medium = cMalloc(100000);
    let smallGrowth = memory.size() - pages;
    let freeAtTop = freeRunBytes() >>> 16;
    let segmentPages: u32 = 0; // the 2 pages and the map's
    while (pageKind(<u32>(medium >>> 16) + segmentPages) == PAGE_HEAP) segmentPages++;
    // A run lacking more than half a step (1/64 of the heap), less than a
    // whole one: only what the top run lacks is grown.
    let step = heapPages() >>> 5;
    let lacking = (step >>> 1) + 1;
    pages = memory.size();
    let large = cMalloc(<usize>(freeAtTop + lacking) << 16);
    let largeGrowth = memory.size() - pages;
    expect(heapPagesNow).toBeGreaterThan(256);
    expect(smallGrowth).toBe(heapPagesNow >>> 5);
    expect(segmentPages).toBeGreaterThan(2);
    expect(freeAtTop).toBe(smallGrowth - segmentPages);
    expect(lacking).toBeLessThan(step);
    expect(largeGrowth).toBe(lacking);
    expect(heapCheck()).toBe(0);
    cFree(big); cFree(medium); cFree(large);
  });
});

describe("large run length", () => {
  it("a run has no header: its length is read from the page map, also after realloc shrinks it", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(4 * LARGE_MIN), b = cMalloc(LARGE_MIN); // 16 pages, then 4 right after
    expect(b).toBe(a + (<usize>16 << 16));
    expect(cMallocUsableSize(a)).toBe(16 << 16);
    expect(cMallocUsableSize(b)).toBe(4 << 16); // a neighbouring run's first page ends the count
    store<u32>(a, 0xDEADBEEF); // the payload's first word is the caller's
    let c = cRealloc(a, 2 * LARGE_MIN);
    expect(c).toBe(a);
    expect(load<u32>(c)).toBe(0xDEADBEEF);
    expect(cMallocUsableSize(c)).toBe(8 << 16);
    expect(kindOf(c + (<usize>8 << 16))).toBe(PAGE_FREE); // the 8 tail pages went back
    expect(entrySize(c)).toBe(<usize>8 << 16);
    expect(heapCheck()).toBe(0);
    cFree(c);
    cFree(b);
    expect(countEntries(LAYER_LARGE, STATE_IN_USE)).toBe(0);
    expect(heapCheck()).toBe(0);
  });
});

describe("large run misuse", () => {
  it("a pointer into a run (its tail page, or past the payload start) is an invalid free (interior)", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(LARGE_MIN);
    let live = statGet(STAT_LIVE);
    clearReport();
    cFree(a + PAGE_SIZE); // in the first tail page
    expect(lastReportKind()).toBe(ERR_INVALID_FREE);
    expect(lastReportReason()).toBe(REASON_INTERIOR);
    clearReport();
    cFree(a + 16); // in the first page, past the payload start
    expect(lastReportKind()).toBe(ERR_INVALID_FREE);
    expect(lastReportReason()).toBe(REASON_INTERIOR);
    expect(statGet(STAT_LIVE)).toBe(live);
    expect(kindOf(a)).toBe(PAGE_LARGE);
    expect(heapCheck()).toBe(0);
    let reports = reportCount();
    cFree(a);
    expect(reportCount()).toBe(reports);
    expect(kindOf(a)).toBe(PAGE_FREE);
  });

  it("freeing a large block twice is reported as a double free and changes nothing", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(LARGE_MIN), guard = cMalloc(LARGE_MIN);
    cFree(a);
    let live = statGet(STAT_LIVE), frees = statGet(STAT_FREES), runs = countEntries(LAYER_PAGES, STATE_FREE);
    clearReport();
    cFree(a);
    expect(lastReportKind()).toBe(ERR_DOUBLE_FREE);
    expect(statGet(STAT_LIVE)).toBe(live);
    expect(statGet(STAT_FREES)).toBe(frees);
    expect(countEntries(LAYER_PAGES, STATE_FREE)).toBe(runs);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });
});

describe("pages moving between layers", () => {
  it("a free boundary-tag block covering at least 4 whole pages gives them back when pages are needed", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(200000), b = cMalloc(200000);
    expect(kindOf(a)).toBe(PAGE_HEAP);
    expect(kindOf(b)).toBe(PAGE_HEAP);
    cFree(a);
    cFree(b); // merges with a and the free rest: well over 5 pages, kept for now
    expect(statGet(STAT_TRIMMED_PAGES)).toBe(0);
    expect(freeRunBytes()).toBe(0);
    expect(kindOf(b)).toBe(PAGE_HEAP);
    expect(heapCheck()).toBe(0);
    // A large request finds no free run: the pages come out of the free block, memory does not grow.
    let pages = memory.size();
    let big = cMalloc(LARGE_MIN);
    let pagesAfter = memory.size();
    let trimmed = statGet(STAT_TRIMMED_PAGES);
    expect(trimmed).toBeGreaterThanOrEqual(<u64>TRIM_MIN_PAGES);
    expect(kindOf(big)).toBe(PAGE_LARGE);
    expect(pagesAfter).toBe(pages);
    expect(heapCheck()).toBe(0);
    cFree(big);
    expect(heapCheck()).toBe(0);
  });

  it("a boundary-tag segment that becomes all free goes back to the page layer at once, unless it is the first or the top one", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let guard0 = cMalloc(LARGE_MIN);     // the segment below is not next to segment 0
    let a = cMalloc(100000);              // too big for segment 0: a segment of its own (2 pages)
    let guard1 = cMalloc(LARGE_MIN);     // ... no longer at the top
    let aPage = pageIndex(a);
    let kindInUse = pageKind(aPage);
    let trimmed = statGet(STAT_TRIMMED_PAGES), free0 = freeRunBytes();
    cFree(a);
    let kindFreed = pageKind(aPage), kindFreed2 = pageKind(aPage + 1);
    let freeRun = freeRunBytes() - free0;
    // Reused by the next request that needs pages, without growing memory.
    let grows = statGet(STAT_GROWS);
    let b = cMalloc(131072); // 128 KiB fills its 2 pages: a run
    expect(kindInUse).toBe(PAGE_HEAP);
    expect(kindFreed).toBe(PAGE_FREE);
    expect(kindFreed2).toBe(PAGE_FREE);
    expect(freeRun).toBe(<usize>2 << 16);
    expect(statGet(STAT_TRIMMED_PAGES)).toBe(trimmed + 2);
    expect(pageIndex(b)).toBe(aPage);
    expect(statGet(STAT_GROWS)).toBe(grows);
    expect(heapCheck()).toBe(0);
    // The segment at the top keeps its free space (the reserve: the block there grows in place).
    let c = cMalloc(100000);
    let cPage = pageIndex(c);
    cFree(c);
    expect(pageKind(cPage)).toBe(PAGE_HEAP);
    // Segment 0, all free, stays.
    let small = cMalloc(1000);
    let smallPage = pageIndex(small);
    cFree(small);
    expect(pageKind(smallPage)).toBe(PAGE_HEAP);
    expect(heapCheck()).toBe(0);
    cFree(b); cFree(guard0); cFree(guard1);
  });

  it("the heap stays within maxBytes: beyond it malloc returns 0; after a free the same request succeeds", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS, 1 << 20); // 16 pages, the heap state's page included
    let maxPages = <u32>memory.size() + 15; // memory.size() is the heap state's page + 1
    let a = cMalloc(600000); // 10 pages
    let failed = statGet(STAT_FAILED);
    let b = cMalloc(600000); // 10 more: past the limit
    let pagesAtFailure = <u32>memory.size();
    expect(a).not.toBe(0);
    expect(b).toBe(0);
    expect(statGet(STAT_FAILED)).toBe(failed + 1);
    expect(pagesAtFailure).toBeLessThanOrEqual(maxPages);
    expect(heapCheck()).toBe(0);
    cFree(a);
    let c = cMalloc(600000);
    expect(c).not.toBe(0);
    expect(<u32>memory.size()).toBeLessThanOrEqual(maxPages);
    expect(heapCheck()).toBe(0);
  });
});

describe("reclaim at the memory limit", () => {
  it("every whole page of a free boundary-tag block goes back, also where no remainder is left beside it", () => {
    let policies: u32[] = [POLICY_FIRST, POLICY_SEGREGATED];
    for (let i = 0; i < policies.length; i++) {
      freshHeap(policies[i], OPTION_NO_SLABS, 6 << 16); // six pages: the state's and five more
      let p0 = (<usize>memory.size() - 1) << 16;      // the heap state's page, holding segment 0
      // x fills segment 0 after the start map: the block after it starts 4 bytes before the next page.
      let x = cMalloc(PAGE_SIZE - 4 - (HEAP_STATE_SIZE + SEGMENT_PROLOGUE + blockSize(startsBlock())) - 4);
      // y extends segment 0 by pages and runs 12 bytes past a page: [P1-4, P4+12).
      let y = cMalloc(3 * PAGE_SIZE + 16 - 4);
      let z = cMalloc(1000);
      let p1 = p0 + PAGE_SIZE;
      expect(x - 4 + cMallocUsableSize(x) + 4).toBe(p1 - 4);
      expect(y - 4).toBe(p1 - 4);
      expect(z - 4).toBe(p1 + 3 * PAGE_SIZE + 12);
      store<u64>(x, 0x1111); store<u64>(z, 0x3333);
      cFree(y); // three whole pages inside it, none given back (fewer than TRIM_MIN_PAGES)
      expect(pageKind(pageIndex(p1))).toBe(PAGE_HEAP);
      let failed = cMalloc(8 * PAGE_SIZE); // past the limit: everything free comes back, then 0
      expect(failed).toBe(0);
      expect(pageKind(pageIndex(p1))).toBe(PAGE_FREE);
      expect(pageKind(pageIndex(p1) + 1)).toBe(PAGE_FREE);
      expect(pageKind(pageIndex(p1) + 2)).toBe(PAGE_FREE);
      expect(pageKind(pageIndex(p1) + 3)).toBe(PAGE_HEAP); // z's page
      expect(load<u64>(x)).toBe(0x1111);
      expect(load<u64>(z)).toBe(0x3333);
      expect(heapCheck()).toBe(0);
      let run = cMalloc(3 * PAGE_SIZE); // the three pages, as a run
      expect(run).toBe(p1);
      cFree(run); cFree(x); cFree(z);
      expect(heapCheck()).toBe(0);
    }
  });

  it("an empty slab span that is no longer first on its class's list goes back", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS, 4 << 16); // the state's page and three more
    let first = cMalloc(16);
    let capacity = slabCapacity(spanOf(first));
    let slots = new StaticArray<usize>(capacity);
    slots[0] = first;
    for (let i: u32 = 1; i < capacity; i++) slots[i] = cMalloc(16); // span A, full
    let b = cMalloc(16);                                             // span B, first on the list
    let spanB = spanOf(b);
    expect(spanB).not.toBe(spanOf(first));
    cFree(b);        // B empty: kept, the class's only span with room
    cFree(slots[0]); // A has room again: first on the list, B behind it
    expect(slabMagicOk(spanB)).toBe(true);
    let failed = cMalloc(4 * PAGE_SIZE); // past the limit
    expect(failed).toBe(0);
    expect(slabMagicOk(spanB)).toBe(false); // a free span now
    expect(freeSpans()).toBe(spanB);
    expect(heapCheck()).toBe(0);
    for (let i: u32 = 1; i < capacity; i++) cFree(slots[i]);
    expect(heapCheck()).toBe(0);
  });
});
