import { freshHeap, countEntries, entrySize } from "./helpers";
import { cMalloc, cFree, cRealloc, cMallocUsableSize } from "../../assembly/api/calls";
import { heapCheck } from "../../assembly/inspect/check";
import { POLICY_SEGREGATED, POLICY_FIRST, OPTION_NO_SLABS, TAG_IN_USE, TAG_PREV_FREE } from "../../assembly/base/constants";
import { LAYER_MEDIUM, STATE_FREE, STATE_IN_USE } from "../../assembly/inspect/walk";

describe("boundary-tag blocks", () => {
  it("allocate 8, 16, 32, 48, 64 bytes and free them all: one free block remains", () => {
    for (let policy: u32 = 0; policy <= POLICY_SEGREGATED; policy++) {
      freshHeap(policy, OPTION_NO_SLABS);
      let before = countEntries(LAYER_MEDIUM, STATE_FREE);
      expect(before).toBe(1);
      let a = cMalloc(8), b = cMalloc(16), c = cMalloc(32), d = cMalloc(48), e = cMalloc(64);
      expect(countEntries(LAYER_MEDIUM, STATE_IN_USE)).toBe(5);
      cFree(b); cFree(d); cFree(a); cFree(e); cFree(c);
      expect(heapCheck()).toBe(0);
      expect(countEntries(LAYER_MEDIUM, STATE_FREE)).toBe(1);
      expect(countEntries(LAYER_MEDIUM, STATE_IN_USE)).toBe(0);
    }
  });

  it("a header is 4 bytes and sizes round to 16: malloc(12) is one 16-byte block", () => {
    freshHeap(POLICY_FIRST, OPTION_NO_SLABS);
    let p = cMalloc(12);
    expect(entrySize(p - 4)).toBe(16);
    expect(cMallocUsableSize(p)).toBe(12);
    let q = cMalloc(13);
    expect(entrySize(q - 4)).toBe(32);
    expect(q - p).toBe(16);
  });

  it("free merges with both free neighbours (A and C free, free B: one block)", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(100), b = cMalloc(100), c = cMalloc(100), guard = cMalloc(100);
    cFree(a); cFree(c);
    let free0 = countEntries(LAYER_MEDIUM, STATE_FREE);
    cFree(b);
    expect(countEntries(LAYER_MEDIUM, STATE_FREE)).toBe(free0 - 1);
    expect(entrySize(a - 4)).toBe(3 * 112);
    expect(heapCheck()).toBe(0);
    cFree(guard);
    expect(countEntries(LAYER_MEDIUM, STATE_FREE)).toBe(1);
  });

  it("the block after a free block has its previous-free bit set; after an in-use one, clear", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(60), b = cMalloc(60);
    expect(load<u32>(b - 4) & TAG_PREV_FREE).toBe(0);
    expect(load<u32>(b - 4) & TAG_IN_USE).toBe(TAG_IN_USE);
    cFree(a);
    expect(load<u32>(b - 4) & TAG_PREV_FREE).toBe(TAG_PREV_FREE);
    // The free block carries a footer equal to its size.
    expect(load<u32>(b - 8)).toBe(64);
  });

  it("splits a larger free block and leaves the rest free", () => {
    freshHeap(POLICY_FIRST, OPTION_NO_SLABS);
    let a = cMalloc(1020), guard = cMalloc(12);
    cFree(a);
    let b = cMalloc(100);
    expect(b).toBe(a);
    expect(entrySize(b + 108)).toBe(1024 - 112);
    expect(heapCheck()).toBe(0);
    cFree(guard); cFree(b);
  });

  it("does not split when the rest could not hold a block", () => {
    freshHeap(POLICY_FIRST, OPTION_NO_SLABS);
    let a = cMalloc(44), guard = cMalloc(12); // 48-byte block
    cFree(a);
    let b = cMalloc(28); // wants 32: the 16 left over still makes a block
    expect(b).toBe(a);
    expect(cMallocUsableSize(b)).toBe(28);
    cFree(b);
    let c = cMalloc(36); // wants 48 - exactly the hole
    expect(c).toBe(a);
    expect(cMallocUsableSize(c)).toBe(44);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });
});

describe("realloc of boundary-tag blocks", () => {
  it("grows in place into a free right neighbour", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(300), b = cMalloc(300), guard = cMalloc(300);
    for (let i: u32 = 0; i < 300; i++) store<u8>(a + i, <u8>i);
    cFree(b);
    let grown = cRealloc(a, 500);
    expect(grown).toBe(a);
    for (let i: u32 = 0; i < 300; i++) expect(load<u8>(a + i)).toBe(<u8>i);
    expect(heapCheck()).toBe(0);
    cFree(guard); cFree(grown);
  });

  it("grows in place at the top of memory, growing only the missing pages", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let pagesBefore = memory.size();
    // Fill the first segment so the next block is the last before the top.
    let big = cMalloc(50000);
    let last = cMalloc(4000);
    let p = cRealloc(last, 200000);
    expect(p).toBe(last);
    expect(memory.size() - pagesBefore).toBeLessThanOrEqual(4);
    expect(heapCheck()).toBe(0);
    cFree(big); cFree(p);
  });

  it("shrinks in place by splitting off the tail", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(2000), guard = cMalloc(12);
    let p = cRealloc(a, 100);
    expect(p).toBe(a);
    expect(cMallocUsableSize(p)).toBe(108);
    expect(entrySize(a + 108)).toBe(2016 - 112);
    expect(heapCheck()).toBe(0);
    cFree(guard); cFree(p);
  });

  it("moves only when it cannot grow in place, keeping the contents", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(100), guard = cMalloc(100);
    for (let i: u32 = 0; i < 100; i++) store<u8>(a + i, <u8>(i * 7));
    let p = cRealloc(a, 1000);
    expect(p).not.toBe(a);
    for (let i: u32 = 0; i < 100; i++) expect(load<u8>(p + i)).toBe(<u8>(i * 7));
    expect(heapCheck()).toBe(0);
    cFree(guard); cFree(p);
  });
});
