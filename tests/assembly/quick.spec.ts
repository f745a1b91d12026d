// Quick lists: freed small boundary-tag blocks held for reuse at their size (assembly/quick.ts).
import { freshHeap, lastReportKind, lastReportReason, reportCount, countEntries } from "./helpers";
import { cMalloc, cFree, cRealloc, cMallocUsableSize } from "../../assembly/api/calls";
import { heapCheck } from "../../assembly/inspect/check";
import {
  POLICY_SEGREGATED, POLICY_FIRST, OPTION_NO_SLABS, TAG_QUICK, TAG_IN_USE, TAG_PREV_FREE, QUICK_MAX, PAGE_HEAP,
  QUICK_ALWAYS_MAX, QUICK_CENSUS_MIN,
} from "../../assembly/base/constants";
import { quickHead, quickBytes } from "../../assembly/blocks/quick";
import {
  CHECK_QUICK_LIST, CHECK_COUNTERS,
} from "../../assembly/inspect/violations";
import { heap, H_QUICK_BYTES, H_SMALL_LIVE } from "../../assembly/base/state";
import { pageKind } from "../../assembly/pages/pagemap";
import { statGet, STAT_LIVE, STAT_IN_USE, STAT_GROWS } from "../../assembly/base/state";
import { ERR_DOUBLE_FREE, ERR_USE_AFTER_FREE, ERR_INVALID_FREE, REASON_INTERIOR } from "../../assembly/base/report";
import { LAYER_MEDIUM, STATE_FREE, STATE_IN_USE } from "../../assembly/inspect/walk";

@inline function held(ptr: usize): bool { return (load<u32>(ptr - 4) & TAG_QUICK) != 0; }

/** QUICK_CENSUS_MIN live blocks of `request` bytes: the size becomes common (quick lists hold freed blocks of it). */
function makeCommon(request: usize): StaticArray<usize> {
  let blocks = new StaticArray<usize>(QUICK_CENSUS_MIN);
  for (let i: u32 = 0; i < QUICK_CENSUS_MIN; i++) blocks[i] = cMalloc(request);
  return blocks;
}
function freeAll(blocks: StaticArray<usize>): void {
  for (let i = 0; i < blocks.length; i++) cFree(blocks[i]);
}

describe("quick lists", () => {
  it("free of a small boundary-tag block holds it, uncoalesced; malloc of its size takes it back", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(100), b = cMalloc(100), c = cMalloc(100); // 112-byte blocks (the class has no slab page yet)
    expect(pageKind(<u32>(a >>> 16))).toBe(PAGE_HEAP);
    let live = statGet(STAT_LIVE);
    cFree(a);
    cFree(b);
    expect(held(a) && held(b)).toBe(true);
    expect(load<u32>(a - 4) & TAG_IN_USE).toBe(TAG_IN_USE); // in use to its neighbours: nothing merges
    expect(load<u32>(c - 4) & TAG_PREV_FREE).toBe(0);
    expect(quickHead(112)).toBe(b - 4); // LIFO
    expect(statGet(STAT_LIVE)).toBe(live - 2);
    expect(countEntries(LAYER_MEDIUM, STATE_FREE)).toBeGreaterThanOrEqual(2); // walks show them free
    expect(heapCheck()).toBe(0);
    expect(cMalloc(100)).toBe(b);
    expect(cMalloc(97)).toBe(a); // any request that takes a 112-byte block
    expect(held(a) || held(b)).toBe(false);
    expect(statGet(STAT_LIVE)).toBe(live);
    expect(heapCheck()).toBe(0);
  });

  it("a second free, a realloc or malloc_usable_size of a held block is reported as a double free and changes nothing", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(60), guard = cMalloc(60);
    cFree(a);
    let inUse = statGet(STAT_IN_USE);
    let reports = reportCount();
    cFree(a);
    expect(reportCount()).toBe(reports + 1);
    expect(lastReportKind()).toBe(ERR_DOUBLE_FREE);
    expect(cRealloc(a, 200)).toBe(0);
    expect(lastReportKind()).toBe(ERR_DOUBLE_FREE);
    expect(cMallocUsableSize(a)).toBe(0);
    expect(reportCount()).toBe(reports + 3);
    expect(statGet(STAT_IN_USE)).toBe(inUse);
    expect(heapCheck()).toBe(0);
    expect(cMalloc(60)).toBe(a);
    cFree(guard);
  });

  it("a held block's link overwritten after free is reported as use after free; the lists are rebuilt, no forged block comes out", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(100), b = cMalloc(100), victim = cMalloc(100), guard = cMalloc(100);
    cFree(b);
    cFree(a); // list: a, then b
    store<u32>(a, <u32>(victim - 4)); // a use-after-free write over a's link
    let reports = reportCount();
    expect(cMalloc(100)).toBe(a);
    expect(reportCount()).toBe(reports + 1);
    expect(lastReportKind()).toBe(ERR_USE_AFTER_FREE);
    expect(heapCheck()).toBe(0);
    expect(cMalloc(100)).toBe(b); // rebuilt from the segments: b is still held
    let fresh = cMalloc(100);
    expect(fresh).not.toBe(victim);
    expect(heapCheck()).toBe(0);
    cFree(a); cFree(b); cFree(fresh); cFree(victim); cFree(guard);
    expect(heapCheck()).toBe(0);
  });

  it("a pointer whose preceding word merely has the held bits set is an interior pointer, not a double free", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(200), guard = cMalloc(100);
    store<u32>(a + 28, 0x25); // user data that reads as size 32 | TAG_QUICK | TAG_IN_USE
    let reports = reportCount();
    cFree(a + 32);
    expect(reportCount()).toBe(reports + 1);
    expect(lastReportKind()).toBe(ERR_INVALID_FREE);
    expect(lastReportReason()).toBe(REASON_INTERIOR);
    expect(heapCheck()).toBe(0);
    cFree(a); cFree(guard);
  });

  it("held blocks are released and coalesced before the heap grows", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    // 300 blocks of 272 bytes (260-byte requests: above the slab sizes), side by side.
    let blocks = new StaticArray<usize>(300);
    for (let i = 0; i < 300; i++) blocks[i] = cMalloc(260);
    let guard = cMalloc(260);
    for (let i = 0; i < 300; i++) cFree(blocks[i]);
    expect(held(blocks[0]) && held(blocks[299])).toBe(true);
    // 300 × 272 bytes coalesce into one block that holds 80,000 bytes, more than
    // the free rest of the last page: found there, with no growth.
    let grows = statGet(STAT_GROWS);
    let big = cMalloc(80000);
    expect(big).toBe(blocks[0]);
    expect(statGet(STAT_GROWS)).toBe(grows);
    for (let size: u32 = 16; size <= QUICK_MAX; size += 16) expect(quickHead(size)).toBe(0);
    expect(heapCheck()).toBe(0);
    cFree(big);
    cFree(guard);
    expect(heapCheck()).toBe(0);
  });

  it("hold nothing under first fit or with OPTION_NO_SLABS (the policies are compared on plain boundary tags)", () => {
    freshHeap(POLICY_FIRST, 0);
    let a = cMalloc(100), b = cMalloc(100);
    cFree(a);
    expect(held(a)).toBe(false);
    expect(countEntries(LAYER_MEDIUM, STATE_IN_USE)).toBe(1);
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let c = cMalloc(100), d = cMalloc(100);
    cFree(c);
    expect(held(c)).toBe(false);
    expect(heapCheck()).toBe(0);
    cFree(b); cFree(d);
  });

  it("a block up to 4 KiB of a common size is held when neither neighbour is free, and malloc of its size takes it back", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let common = makeCommon(4072); // the size is common
    let a = cMalloc(1000), b = cMalloc(4072), c = cMalloc(1000); // b: a 4,080-byte block between two in use
    expect(<u32>4080).toBeGreaterThan(QUICK_ALWAYS_MAX);
    expect(<u32>4080).toBeLessThanOrEqual(QUICK_MAX);
    cFree(b);
    expect(held(b)).toBe(true);
    expect(quickHead(4080)).toBe(b - 4);
    expect(quickBytes()).toBe(4080);
    expect(heapCheck()).toBe(0);
    expect(cMalloc(4072)).toBe(b);
    expect(quickBytes()).toBe(0);
    expect(heapCheck()).toBe(0);
    cFree(a); cFree(b); cFree(c);
    freeAll(common);
    expect(heapCheck()).toBe(0);
  });

  it("a block above the always-held sizes of a size few blocks have is not held", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(1000), b = cMalloc(2000), c = cMalloc(1000); // the only 2,016-byte block
    cFree(b);
    expect(held(b)).toBe(false);
    expect(quickBytes()).toBe(0);
    expect(load<u32>(c - 4) & TAG_PREV_FREE).toBe(TAG_PREV_FREE); // a free block before c
    expect(heapCheck()).toBe(0);
    cFree(a); cFree(c);
    expect(heapCheck()).toBe(0);
  });

  it("a block above the always-held sizes merges as usual when a neighbour is free", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let common = makeCommon(1000); // 1,008 bytes is a common size
    // Free before it: a 5,008-byte block (above QUICK_MAX: never held).
    let big = cMalloc(5000), y = cMalloc(1000), guard = cMalloc(1000);
    cFree(big);
    expect(held(big)).toBe(false);
    cFree(y);
    expect(held(y)).toBe(false);
    expect(load<u32>(big - 4) & ~15).toBe(5008 + 1008);
    expect(quickBytes()).toBe(0);
    expect(heapCheck()).toBe(0);
    // Free after it.
    let z = cMalloc(1000), big2 = cMalloc(5000), guard2 = cMalloc(1000);
    cFree(big2);
    cFree(z);
    expect(held(z)).toBe(false);
    expect(load<u32>(z - 4) & ~15).toBeGreaterThanOrEqual(1008 + 5008);
    expect(heapCheck()).toBe(0);
    cFree(guard); cFree(guard2);
    freeAll(common);
    expect(heapCheck()).toBe(0);
  });

  it("held blocks up to 4 KiB merge back before the heap grows", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    // 50 blocks of 1,008 bytes side by side, each freed between blocks in use (or held): all held
    // (four more elsewhere keep the size common to the last).
    let common = makeCommon(1000);
    let blocks = new StaticArray<usize>(50);
    for (let i = 0; i < 50; i++) blocks[i] = cMalloc(1000);
    let guard = cMalloc(1000);
    for (let i = 0; i < 50; i += 2) cFree(blocks[i]);
    for (let i = 1; i < 50; i += 2) cFree(blocks[i]);
    for (let i = 0; i < 50; i++) expect(held(blocks[i])).toBe(true);
    expect(quickBytes()).toBe(50 * 1008);
    // Nothing listed nor the rest of the page holds 45,000 bytes: the held blocks merge and do, with no growth.
    let grows = statGet(STAT_GROWS);
    let big = cMalloc(45000);
    expect(big).toBe(blocks[0]);
    expect(statGet(STAT_GROWS)).toBe(grows);
    expect(quickBytes()).toBe(0);
    expect(heapCheck()).toBe(0);
    cFree(big); cFree(guard);
    freeAll(common);
    expect(heapCheck()).toBe(0);
  });

  it("the checker finds a held-bytes count that disagrees with the lists", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(100), guard = cMalloc(100);
    cFree(a);
    expect(heapCheck()).toBe(0);
    store<u32>(heap + H_QUICK_BYTES, quickBytes() + 16);
    expect(heapCheck()).toBe(CHECK_QUICK_LIST);
    store<u32>(heap + H_QUICK_BYTES, quickBytes() - 16);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });

  it("the checker finds a census of live blocks by size that disagrees with the blocks", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(1000), b = cMalloc(1000);
    let at = heap + H_SMALL_LIVE + ((<usize>1008 >> 4) << 2);
    expect(load<u32>(at)).toBe(2);
    store<u32>(at, 3);
    expect(heapCheck()).toBe(CHECK_COUNTERS);
    store<u32>(at, 2);
    expect(heapCheck()).toBe(0);
    cFree(a); cFree(b);
    expect(load<u32>(at)).toBe(0);
    expect(heapCheck()).toBe(0);
  });
});
