// Placement policies of the boundary-tag layer, on one hand-built layout.
//
//   seg0 ┌─────┬─┬─────┬─┬─────┬─┬─────┬─┬─────┬─┬─────┬─┬────────┬───┐
//        │ 176 │s│ 112 │s│ 400 │s│ 160 │s│ 144 │s│ 240 │s│ filler │epi│
//        └─────┴─┴─────┴─┴─────┴─┴─────┴─┴─────┴─┴─────┴─┴────────┴───┘
//   holes (free blocks, sizes in bytes) kept apart by in-use 16-byte separators
//   `s`; the filler takes the rest of the segment so only the holes are free.
//
//   request      first   next                  best   worst
//   384 bytes    400     400                   400    400    (only hole big enough)
//   128 bytes    176     160 (after the 400)   144    240
import { freshHeap, countEntries, lastFreeMedium, entrySize } from "./helpers";
import { cMalloc, cFree } from "../../assembly/api/calls";
import { heapCheck } from "../../assembly/inspect/check";
import {
  POLICY_FIRST, POLICY_NEXT, POLICY_BEST, POLICY_WORST, POLICY_SEGREGATED, OPTION_NO_SLABS,
} from "../../assembly/base/constants";
import { listHead } from "../../assembly/blocks/freelists";
import { linkNext } from "../../assembly/blocks/block";
import { LAYER_MEDIUM, STATE_FREE } from "../../assembly/inspect/walk";

const HOLE_BLOCKS: StaticArray<u32> = [176, 112, 400, 160, 144, 240];
/** Holes are freed out of address order, so an ordered list had to be kept ordered. */
const FREE_ORDER: StaticArray<i32> = [3, 0, 5, 1, 4, 2];

/** Build the layout above under `policy`; returns the holes' payload addresses (ascending). */
function buildHoles(policy: u32, blocks: StaticArray<u32> = HOLE_BLOCKS,
                    order: StaticArray<i32> = FREE_ORDER): StaticArray<usize> {
  freshHeap(policy, OPTION_NO_SLABS);
  let holes = new StaticArray<usize>(blocks.length);
  for (let i = 0; i < blocks.length; i++) {
    holes[i] = cMalloc(blocks[i] - 4);
    cMalloc(12); // separator: one 16-byte in-use block
  }
  let rest = lastFreeMedium();
  cMalloc(<usize>entrySize(rest) - 4); // filler: exactly the rest of the segment
  for (let i = 0; i < order.length; i++) cFree(holes[order[i]]);
  return holes;
}

/** Steps 1 and 2 under `policy`; `second` is the hole the 128-byte request must take. */
function expectPicks(policy: u32, second: i32): StaticArray<usize> {
  let holes = buildHoles(policy);
  expect(heapCheck()).toBe(0);
  let p = cMalloc(380); // block 384
  expect(p).toBe(holes[2], "384 bytes fit only the 400 hole");
  expect(heapCheck()).toBe(0);
  let q = cMalloc(124); // block 128
  expect(q).toBe(holes[second]);
  expect(heapCheck()).toBe(0);
  return holes;
}

describe("placement policies on one layout", () => {
  it("the layout has exactly six free blocks: the holes, at their intended sizes", () => {
    for (let policy: u32 = POLICY_FIRST; policy <= POLICY_WORST; policy++) {
      let holes = buildHoles(policy);
      expect(countEntries(LAYER_MEDIUM, STATE_FREE)).toBe(6);
      for (let i = 0; i < holes.length; i++) {
        expect(entrySize(holes[i] - 4)).toBe(<usize>HOLE_BLOCKS[i]);
        if (i > 0) expect(holes[i]).toBeGreaterThan(holes[i - 1]);
      }
      expect(heapCheck()).toBe(0);
    }
  });

  it("first fit takes the lowest hole that fits: 400 for 384 bytes, then 176 for 128", () => {
    expectPicks(POLICY_FIRST, 0);
  });

  it("next fit resumes after the last hole it used: 400 for 384 bytes, then 160 for 128", () => {
    let holes = expectPicks(POLICY_NEXT, 3);
    // It goes on from the rest of the 160 hole, so the next 128 bytes land in the 144 hole
    // (first fit would wrap back to the 176 hole).
    expect(cMalloc(124)).toBe(holes[4]);
    expect(heapCheck()).toBe(0);
  });

  it("best fit takes the smallest hole that fits: 400 for 384 bytes, then 144 for 128", () => {
    expectPicks(POLICY_BEST, 4);
  });

  it("best fit takes the free block at the top of memory only when no other fits", () => {
    // A 400-byte hole below; the segment's last 208 bytes free at the top (the wilderness).
    freshHeap(POLICY_BEST, OPTION_NO_SLABS);
    let hole = cMalloc(396);
    cMalloc(12); // separator
    let rest = lastFreeMedium();
    cMalloc(<usize>entrySize(rest) - 208 - 4); // filler: leaves a 208-byte block at the end
    let top = lastFreeMedium();
    expect(entrySize(top)).toBe(208);
    cFree(hole);
    expect(heapCheck()).toBe(0);
    // 128 bytes: the 208 top block is the tighter fit, but it is the one block that can grow.
    expect(cMalloc(124)).toBe(hole, "the hole below, not the top block");
    // The hole's 272-byte rest still comes before the top block...
    expect(cMalloc(252)).toBe(hole + 128, "a 256-byte block from the hole's rest");
    // ...and once nothing else fits, the top block is taken.
    expect(cMalloc(204)).toBe(top + 4, "nothing else fits: the top block");
    expect(heapCheck()).toBe(0);
  });

  it("worst fit takes the largest hole: 400 for 384 bytes, then 240 for 128", () => {
    expectPicks(POLICY_WORST, 5);
  });

  it("first, next, best and worst fit keep their one free list in address order", () => {
    for (let policy: u32 = POLICY_FIRST; policy <= POLICY_WORST; policy++) {
      let holes = buildHoles(policy);
      let block = listHead(0);
      let n = 0;
      while (block != 0 && n < 16) {
        expect(block).toBe(holes[n] - 4, "list position " + n.toString());
        block = linkNext(block);
        n++;
      }
      expect(n).toBe(6);
      // A split keeps the remainder in its parent's position.
      cMalloc(124); // takes part of some hole; its rest stays listed
      let prev: usize = 0;
      block = listHead(0);
      n = 0;
      while (block != 0 && n < 16) {
        expect(block).toBeGreaterThan(prev);
        prev = block;
        block = linkNext(block);
        n++;
      }
      expect(n).toBe(6);
      expect(heapCheck()).toBe(0);
    }
  });
});

const SEG_BLOCKS: StaticArray<u32> = [400, 304, 512];
const SEG_ORDER: StaticArray<i32> = [0, 1, 2];

describe("segregated fit", () => {
  it("reuses a hole of exactly the requested size, though a larger one lies lower", () => {
    let holes = buildHoles(POLICY_SEGREGATED, SEG_BLOCKS, SEG_ORDER);
    expect(heapCheck()).toBe(0);
    let p = cMalloc(300); // block 304
    expect(p).toBe(holes[1]);
    // Taken whole: the two other holes are still free and unsplit.
    expect(countEntries(LAYER_MEDIUM, STATE_FREE)).toBe(2);
    expect(entrySize(holes[0] - 4)).toBe(400);
    expect(entrySize(holes[2] - 4)).toBe(512);
    expect(heapCheck()).toBe(0);
  });

  it("a freed block is reused by the next request of its size", () => {
    let holes = buildHoles(POLICY_SEGREGATED, SEG_BLOCKS, SEG_ORDER);
    let p = cMalloc(300);
    cFree(p);
    expect(cMalloc(300)).toBe(p);
    expect(cMalloc(396)).toBe(holes[0]); // block 400: the 400 hole, not a split of 512
    expect(heapCheck()).toBe(0);
  });
});
