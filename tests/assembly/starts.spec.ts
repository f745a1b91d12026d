// The start map: no pointer into a boundary-tag block passes as a live block,
// whatever the block holds (assembly/starts.ts).
import { freshHeap, reportCount, clearReport, lastReportKind } from "./helpers";
import { cMalloc, cFree, cRealloc, cMallocUsableSize } from "../../assembly/api/calls";
import { heapCheck } from "../../assembly/inspect/check";
import { POLICY_SEGREGATED, POLICY_FIRST, POLICY_BEST, OPTION_NO_SLABS, TAG_IN_USE, TAG_QUICK, BLOCK_HEADER } from "../../assembly/base/constants";
import { ERR_USE_AFTER_FREE } from "../../assembly/base/report";
import { startIsLive, startsEnd, startsBlock } from "../../assembly/blocks/starts";
import { blockSize } from "../../assembly/blocks/block";

const BLOCKS = 12; // blocks of 300 … 2,170 bytes

// Fill the payload of the block at `p` (`size` bytes) by pattern `kind`.
function fill(p: usize, size: usize, kind: u32, seed: u32): void {
  let x = seed * 2654435761 + 1;
  for (let at: usize = 0; at + 4 <= size; at += 4) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    let word: u32;
    if (kind == 0) word = 17;                         // every word 17 (a 16-byte in-use header)
    else if (kind == 1) word = x % 64;                // small integers
    else if (kind == 2) word = load<u32>(p - 4);      // copies of its own header
    else if (kind == 3) word = x;                     // random words
    else {
      // A forged header at every 16-aligned payload: in use, and sized to end
      // exactly at the real header after this block (whose P bit is clear).
      let fake = p + at;
      word = ((fake & 15) == 12) ? <u32>((p - 4 + blockSize(p - 4)) - fake) | TAG_IN_USE : 0;
    }
    store<u32>(p + at, word);
  }
}

function checksum(p: usize, size: usize): u32 {
  let h: u32 = 0;
  for (let at: usize = 0; at < size; at += 4) h = (h ^ load<u32>(p + at)) * 16777619;
  return h;
}

function tryEveryInterior(policy: u32, options: u32, kind: u32): void {
  freshHeap(policy, options);
  let ptrs = new StaticArray<usize>(BLOCKS);
  let sizes = new StaticArray<usize>(BLOCKS);
  let sums = new StaticArray<u32>(BLOCKS);
  for (let i = 0; i < BLOCKS; i++) {
    sizes[i] = 300 + <usize>i * 170; // boundary-tag sizes (above the slab classes)
    ptrs[i] = cMalloc(sizes[i]);
  }
  for (let i = 0; i < BLOCKS; i++) { fill(ptrs[i], sizes[i], kind, i); sums[i] = checksum(ptrs[i], sizes[i]); }
  clearReport();
  let before = reportCount();
  let tried: u32 = 0;
  for (let i = 0; i < BLOCKS; i++) {
    for (let q = ptrs[i] + 16; q < ptrs[i] + sizes[i]; q += 16) {
      cFree(q);
      expect(cMallocUsableSize(q)).toBe(0);
      expect(cRealloc(q, 64)).toBe(0);
      tried += 3;
    }
  }
  expect(reportCount() - before).toBe(tried); // every call rejected
  expect(heapCheck()).toBe(0);
  for (let i = 0; i < BLOCKS; i++) expect(checksum(ptrs[i], sizes[i])).toBe(sums[i]);
  // The next allocations come from outside every live block.
  for (let n = 0; n < 8; n++) {
    let p = cMalloc(8 + n * 200);
    for (let i = 0; i < BLOCKS; i++) expect(p + 8 + n * 200 <= ptrs[i] - 4 || p >= ptrs[i] + sizes[i]).toBe(true);
  }
  for (let i = 0; i < BLOCKS; i++) cFree(ptrs[i]);
  expect(heapCheck()).toBe(0);
}

describe("start map", () => {
  it("rejects every interior pointer of blocks whose words are all 17", () => {
    tryEveryInterior(POLICY_SEGREGATED, 0, 0);
    tryEveryInterior(POLICY_FIRST, OPTION_NO_SLABS, 0);
  });
  it("rejects every interior pointer of blocks of small integers", () => {
    tryEveryInterior(POLICY_SEGREGATED, 0, 1);
    tryEveryInterior(POLICY_BEST, OPTION_NO_SLABS, 1);
  });
  it("rejects every interior pointer of blocks filled with copies of a real header", () => {
    tryEveryInterior(POLICY_SEGREGATED, 0, 2);
  });
  it("rejects every interior pointer of blocks of random words", () => {
    tryEveryInterior(POLICY_SEGREGATED, 0, 3);
    tryEveryInterior(POLICY_FIRST, OPTION_NO_SLABS, 3);
  });
  it("rejects every interior pointer of blocks holding forged headers that end on the next real one", () => {
    tryEveryInterior(POLICY_SEGREGATED, 0, 4);
    tryEveryInterior(POLICY_FIRST, OPTION_NO_SLABS, 4);
  });

  it("marks a block live from malloc to free, and a held block stays marked", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(1000), b = cMalloc(100);
    expect(startIsLive(a)).toBe(true);
    expect(startIsLive(a + 16)).toBe(false);
    cFree(a);
    expect(startIsLive(a)).toBe(false);
    cFree(b); // 112 bytes: held on a quick list
    expect(load<u32>(b - 4) & TAG_QUICK).toBe(TAG_QUICK);
    expect(startIsLive(b)).toBe(true);
    expect(heapCheck()).toBe(0);
  });

  it("is replaced by a larger one when the heap outgrows it, keeping every bit", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let first = startsEnd();
    let keep = new StaticArray<usize>(64);
    for (let i = 0; i < 64; i++) keep[i] = cMalloc(20000); // 1.25 MiB: past the first map's 512 KiB
    expect(startsEnd()).toBeGreaterThan(first);
    for (let i = 0; i < 64; i++) expect(startIsLive(keep[i])).toBe(true);
    expect(heapCheck()).toBe(0);
    // The map's own block is no live block.
    cFree(startsBlock() + BLOCK_HEADER);
    expect(reportCount()).toBeGreaterThan(0);
    expect(heapCheck()).toBe(0);
    for (let i = 0; i < 64; i++) cFree(keep[i]);
    expect(heapCheck()).toBe(0);
  });

  it("a quick-list link overwritten with a forged block inside a live one is noticed; malloc never returns it", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(200), b = cMalloc(200), c = cMalloc(200);
    cFree(a); // held on the quick list of 208-byte blocks
    // Inside b: a header that reads as a held block of the same size.
    let fake = b + 28;
    store<u32>(fake, 208 | TAG_QUICK | TAG_IN_USE);
    store<u32>(a, <u32>fake); // use after free: a's link now names the fake block
    clearReport();
    let before = reportCount();
    let x = cMalloc(200);
    expect(x).toBe(a); // the call goes on with the sound block it took
    expect(reportCount()).toBe(before + 1);
    expect(lastReportKind()).toBe(ERR_USE_AFTER_FREE);
    let y = cMalloc(200);
    expect(y == fake + BLOCK_HEADER).toBe(false);
    expect(y + 200 <= b - 4 || y >= b + 200).toBe(true);
    expect(heapCheck()).toBe(0);
    cFree(x); cFree(y); cFree(b); cFree(c);
    expect(heapCheck()).toBe(0);
  });

  it("a quick-list link pointing back at its own block is noticed; the block is not handed out twice", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(200), guard = cMalloc(200);
    cFree(a);
    store<u32>(a, <u32>(a - BLOCK_HEADER)); // a's link names a itself
    clearReport();
    let before = reportCount();
    let x = cMalloc(200);
    let y = cMalloc(200);
    expect(x).toBe(a);
    expect(y == a).toBe(false);
    expect(reportCount()).toBe(before + 1);
    expect(heapCheck()).toBe(0);
    cFree(x); cFree(y); cFree(guard);
  });

  it("a quick-list cycle does not hang the flush before growth", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(200), b = cMalloc(200), guard = cMalloc(200);
    cFree(a); cFree(b); // list: b -> a
    store<u32>(a, <u32>(b - BLOCK_HEADER)); // a -> b: a cycle
    clearReport();
    let big = cMalloc(200000); // a search that fails flushes the lists first
    expect(big).toBeGreaterThan(0);
    expect(reportCount()).toBeGreaterThan(0);
    expect(heapCheck()).toBe(0);
    cFree(big); cFree(guard);
  });
});
