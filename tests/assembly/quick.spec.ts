// Quick lists: freed small boundary-tag blocks held for reuse at their size (assembly/quick.ts).
import { freshHeap, lastReportKind, lastReportReason, reportCount, countEntries } from "./helpers";
import { cMalloc, cFree, cRealloc, cMallocUsableSize } from "../../assembly/api";
import { heapCheck } from "../../assembly/check";
import {
  POLICY_SEGREGATED, POLICY_FIRST, OPTION_NO_SLABS, TAG_QUICK, TAG_IN_USE, TAG_PREV_FREE, QUICK_MAX, PAGE_HEAP,
} from "../../assembly/constants";
import { quickHead } from "../../assembly/quick";
import { pageKind } from "../../assembly/pagemap";
import { statGet, STAT_LIVE, STAT_IN_USE, STAT_GROWS } from "../../assembly/state";
import { ERR_DOUBLE_FREE, ERR_USE_AFTER_FREE, ERR_INVALID_FREE, REASON_INTERIOR } from "../../assembly/report";
import { LAYER_MEDIUM, STATE_FREE, STATE_IN_USE } from "../../assembly/walk";

@inline function held(ptr: usize): bool { return (load<u32>(ptr - 4) & TAG_QUICK) != 0; }

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
});
