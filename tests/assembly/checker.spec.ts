// The heap checker: each deliberate corruption yields its CHECK_* code.
//
// Every test builds a fresh heap, checks it is clean, corrupts one word,
// runs heapCheck(), restores the word, and checks the heap is clean again,
// so the code is known to come from that word alone.
import { freshHeap, lastFreeMedium, entrySize } from "./helpers";
import { cMalloc, cFree } from "../../assembly/api/calls";
import { heapCheck, checkAddress } from "../../assembly/inspect/check";
import {
  CHECK_BLOCK_FOOTER, CHECK_PREV_FREE_BIT, CHECK_BLOCK_SIZE, CHECK_EPILOGUE, CHECK_LIST_LINKS, CHECK_LISTED_NOT_FREE, CHECK_SLAB_COUNT, CHECK_RUN_FOOTER, CHECK_COUNTERS, CHECK_QUICK_LIST, CHECK_LARGE,
} from "../../assembly/inspect/violations";
import {
  POLICY_SEGREGATED, POLICY_FIRST, OPTION_NO_SLABS, TAG_IN_USE, TAG_PREV_FREE, TAG_MASK,
  LARGE_MIN, PAGE_SIZE, OPTION_EAGER_SLABS, TAG_QUICK, PAGE_LARGE, PAGE_LARGE_TAIL,
} from "../../assembly/base/constants";
import { listHead } from "../../assembly/blocks/freelists";
import { linkNext } from "../../assembly/blocks/block";
import { SLAB_HEADER } from "../../assembly/slabs/slab";
import { statAdd, statSub, STAT_LIVE, shared, heap, S_PAGE_MAP, S_BASE_PAGE } from "../../assembly/base/state";

/** Store `value` at `at`, run the checker, restore the old word; returns the checker's code. */
function checkWith(at: usize, value: u32): u32 {
  let saved = load<u32>(at);
  store<u32>(at, value);
  let code = heapCheck();
  store<u32>(at, saved);
  return code;
}

describe("heap checker", () => {
  it("finds a free block whose footer differs from its size", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(100), guard = cMalloc(100); // 112-byte blocks
    cFree(a);
    let block = a - 4;
    let footer = block + 112 - 4;
    expect(heapCheck()).toBe(0);
    expect(load<u32>(footer)).toBe(112);
    expect(checkWith(footer, 96)).toBe(CHECK_BLOCK_FOOTER);
    expect(checkAddress).toBe(block);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });

  it("finds a cleared previous-free bit after a free block", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(100), b = cMalloc(100), guard = cMalloc(100);
    cFree(a);
    let header = b - 4;
    expect(heapCheck()).toBe(0);
    expect(load<u32>(header) & TAG_PREV_FREE).toBe(TAG_PREV_FREE);
    expect(checkWith(header, load<u32>(header) & ~TAG_PREV_FREE)).toBe(CHECK_PREV_FREE_BIT);
    expect(checkAddress).toBe(header);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });

  it("finds a set previous-free bit after an in-use block", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(100), b = cMalloc(100);
    let header = b - 4;
    expect(heapCheck()).toBe(0);
    expect(checkWith(header, load<u32>(header) | TAG_PREV_FREE)).toBe(CHECK_PREV_FREE_BIT);
    expect(checkAddress).toBe(header);
    expect(heapCheck()).toBe(0);
    cFree(a);
  });

  it("finds a block size that runs past the segment end", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(100), guard = cMalloc(100);
    let header = a - 4;
    let rest = lastFreeMedium();
    let epilogue = rest + entrySize(rest);
    expect(heapCheck()).toBe(0);
    let overrun = <u32>(epilogue - header) + 16; // ends 12 bytes past the epilogue
    expect(checkWith(header, overrun | TAG_IN_USE)).toBe(CHECK_BLOCK_SIZE);
    expect(checkAddress).toBe(header);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });

  it("finds a block size that runs past its segment", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(100), guard = cMalloc(100);
    let header = a - 4;
    expect(heapCheck()).toBe(0);
    expect(checkWith(header, 0x7FFF0 | TAG_IN_USE)).toBe(CHECK_BLOCK_SIZE);
    expect(checkAddress).toBe(header);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });

  it("finds a block tagged as held on a quick list that no quick list holds, and a quick list naming an in-use block", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(100), b = cMalloc(100), guard = cMalloc(100);
    cFree(a); // held on the quick list of 112-byte blocks
    expect(heapCheck()).toBe(0);
    expect(load<u32>(a - 4) & TAG_QUICK).toBe(TAG_QUICK);
    expect(checkWith(b - 4, load<u32>(b - 4) | TAG_QUICK)).toBe(CHECK_QUICK_LIST);
    expect(checkAddress).toBe(b - 4);
    expect(checkWith(a - 4, load<u32>(a - 4) & ~TAG_QUICK)).toBe(CHECK_QUICK_LIST);
    expect(heapCheck()).toBe(0);
    cFree(b); cFree(guard);
    expect(heapCheck()).toBe(0);
  });

  it("finds a segment that does not end with its epilogue", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(100);
    let rest = lastFreeMedium();
    let epilogue = rest + entrySize(rest);
    expect(heapCheck()).toBe(0);
    expect(load<u32>(epilogue) & ~TAG_PREV_FREE).toBe(TAG_IN_USE); // size 0, in use
    expect(checkWith(epilogue, load<u32>(epilogue) | 16)).toBe(CHECK_EPILOGUE);
    expect(checkAddress).toBe(epilogue);
    expect(heapCheck()).toBe(0);
    cFree(a);
  });

  it("finds a free-list link that skips a block", () => {
    freshHeap(POLICY_FIRST, OPTION_NO_SLABS);
    let a = cMalloc(100), g1 = cMalloc(12), b = cMalloc(100), g2 = cMalloc(12), c = cMalloc(100), g3 = cMalloc(12);
    cFree(a); cFree(b); cFree(c);
    expect(heapCheck()).toBe(0);
    expect(listHead(0)).toBe(a - 4);
    expect(linkNext(a - 4)).toBe(b - 4);
    // a.next = c: c's prev link (b) no longer agrees.
    expect(checkWith(a - 4 + 4, <u32>(c - 4))).toBe(CHECK_LIST_LINKS);
    expect(heapCheck()).toBe(0);
    cFree(g1); cFree(g2); cFree(g3);
  });

  it("finds a free-list back link that names the wrong block", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(100), g1 = cMalloc(12), b = cMalloc(100), g2 = cMalloc(12);
    cFree(a); cFree(b); // one segregated list: b, a (LIFO)
    expect(heapCheck()).toBe(0);
    expect(linkNext(b - 4)).toBe(a - 4);
    expect(checkWith(a - 4 + 8, <u32>(g1 - 4))).toBe(CHECK_LIST_LINKS);
    expect(heapCheck()).toBe(0);
    cFree(g1); cFree(g2);
  });

  it("finds a free list that leads to an in-use block", () => {
    freshHeap(POLICY_FIRST, OPTION_NO_SLABS);
    let a = cMalloc(100), g1 = cMalloc(12), b = cMalloc(100), g2 = cMalloc(12);
    cFree(a); cFree(b);
    expect(heapCheck()).toBe(0);
    expect(checkWith(a - 4 + 4, <u32>(g1 - 4))).toBe(CHECK_LISTED_NOT_FREE);
    expect(heapCheck()).toBe(0);
    cFree(g2);
  });

  it("finds a slab bitmap bit that disagrees with the page's in-use count", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(32), q = cMalloc(32), r = cMalloc(32);
    cFree(q);
    let page = p & ~<usize>(PAGE_SIZE - 1);
    let bitmap = page + SLAB_HEADER;
    expect(heapCheck()).toBe(0);
    expect(load<u32>(bitmap)).toBe(0b101); // slots 0 and 2 in use
    expect(checkWith(bitmap, 0b100)).toBe(CHECK_SLAB_COUNT); // in use one lost
    expect(checkAddress).toBe(page);
    expect(checkWith(bitmap, 0b111)).toBe(CHECK_SLAB_COUNT); // free one marked in use
    expect(checkAddress).toBe(page);
    expect(heapCheck()).toBe(0);
    cFree(p); cFree(r);
  });

  it("finds a free page run whose footer does not name its start", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(LARGE_MIN), guard = cMalloc(LARGE_MIN);
    cFree(a);
    let run = a;
    let footer = run + (<usize>load<u32>(run) << 16) - 4;
    expect(heapCheck()).toBe(0);
    expect(load<u32>(footer)).toBe(<u32>run);
    expect(checkWith(footer, <u32>run + PAGE_SIZE)).toBe(CHECK_RUN_FOOTER);
    expect(checkAddress).toBe(run);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });

  it("finds a large-run tail page with no run before it", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let a = cMalloc(LARGE_MIN);
    let entry = <usize>load<u32>(shared(), S_PAGE_MAP) + (<u32>(a >>> 16) - load<u32>(shared(), S_BASE_PAGE));
    expect(heapCheck()).toBe(0);
    expect(load<u8>(entry)).toBe(PAGE_LARGE);
    store<u8>(entry, PAGE_LARGE_TAIL); // the run's first page now claims to continue a run
    let code = heapCheck();
    let where = checkAddress;
    store<u8>(entry, PAGE_LARGE);
    expect(code).toBe(CHECK_LARGE);
    expect(where).toBe(a);
    expect(heapCheck()).toBe(0);
    cFree(a);
  });

  it("finds live counters that disagree with the blocks", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let p = cMalloc(32), q = cMalloc(3000);
    expect(heapCheck()).toBe(0);
    statAdd(STAT_LIVE, 1);
    let code = heapCheck();
    statSub(STAT_LIVE, 1);
    expect(code).toBe(CHECK_COUNTERS);
    expect(heapCheck()).toBe(0);
    cFree(p); cFree(q);
  });

  it("reports in checkAddress the block of the free-list violation it returns", () => {
    freshHeap(POLICY_FIRST, OPTION_NO_SLABS);
    let a = cMalloc(100), g1 = cMalloc(12), b = cMalloc(100), g2 = cMalloc(12), c = cMalloc(100), g3 = cMalloc(12);
    cFree(a); cFree(b); cFree(c);
    expect(heapCheck()).toBe(0);
    expect(checkWith(a - 4 + 4, <u32>(c - 4))).toBe(CHECK_LIST_LINKS);
    expect(checkAddress).toBe(c - 4);
    expect(checkWith(a - 4 + 4, <u32>(g1 - 4))).toBe(CHECK_LISTED_NOT_FREE);
    expect(checkAddress).toBe(g1 - 4);
    expect(heapCheck()).toBe(0);
    cFree(g1); cFree(g2); cFree(g3);
  });

  it("leaves no scratch marks behind when it stops at a bad block size", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(100), guard = cMalloc(100);
    let header = a - 4;
    let rest = lastFreeMedium(); // a listed free block after the bad one
    expect(heapCheck()).toBe(0);
    expect(checkWith(header, 0x7FFF0 | TAG_IN_USE)).toBe(CHECK_BLOCK_SIZE);
    // TAG_MARK is "never set between calls" (constants.ts): the listed block is unmarked.
    expect(load<u32>(rest) & TAG_MASK & ~(TAG_IN_USE | TAG_PREV_FREE)).toBe(0);
    expect(heapCheck()).toBe(0);
    cFree(guard);
  });
});
