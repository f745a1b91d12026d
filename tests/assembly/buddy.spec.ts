// The buddy engine (see assembly/buddy.ts), driven directly: split and merge
// worked examples, in-place resize, page reuse, and the checker catching
// broken invariants. The C API over it (build/buddy.wasm) is tested from the
// host in tests/buddy.test.mjs.
//
// A buddy page's first 2 KiB hold its bitmaps, so a fresh page is five free
// blocks: orders 11 (at +2 KiB), 12, 13, 14 and 15 (the upper 32 KiB half).
import { freshBuddyHeap } from "./helpers";
import {
  buddyAlloc, buddyFree, buddyResize, buddyCheck, buddyFreeCount, buddyOrderFor, buddyUsedOrder,
  buddyContaining, buddyIsFree, buddyIsUsed, buddyNode, foundBuddyOff, foundBuddyOrder,
  BUDDY_MIN_ORDER, BUDDY_MAX_ORDER, BUDDY_PAGE_HEADER,
  CHECK_BUDDY_TAG, CHECK_BUDDY_MERGE, CHECK_BUDDY_BITMAP, CHECK_BUDDY_LIST,
} from "../../assembly/buddy/buddy";
import { pageKind } from "../../assembly/pages/pagemap";
import { PAGE_BUDDY, PAGE_FREE } from "../../assembly/base/constants";

@inline function pageOf(p: usize): usize { return p & ~<usize>0xFFFF; }

/** Free blocks per order 4 … 15 as a string, e.g. "0 0 1 …". */
function counts(): string {
  let out = "";
  for (let k = BUDDY_MIN_ORDER; k <= BUDDY_MAX_ORDER; k++) out += (k > BUDDY_MIN_ORDER ? " " : "") + buddyFreeCount(k).toString();
  return out;
}

describe("buddy orders", () => {
  it("a request gets the smallest power of two that holds it, at least 16 bytes", () => {
    expect(buddyOrderFor(0)).toBe(4);
    expect(buddyOrderFor(16)).toBe(4);
    expect(buddyOrderFor(17)).toBe(5);
    expect(buddyOrderFor(1000)).toBe(10);
    expect(buddyOrderFor(1024)).toBe(10);
    expect(buddyOrderFor(1025)).toBe(11);
    expect(buddyOrderFor(32768)).toBe(15);
  });
});

describe("buddy split", () => {
  it("a fresh page is one free block of each order 11 to 15", () => {
    freshBuddyHeap();
    let p = buddyAlloc(15);
    expect(pageKind(<u32>(p >>> 16))).toBe(PAGE_BUDDY);
    expect(p - pageOf(p)).toBe(32768);
    expect(counts()).toBe("0 0 0 0 0 0 0 1 1 1 1 0");
    expect(buddyCheck()).toBe(0);
  });

  it("a 16-byte block splits the 2 KiB block down, leaving one free buddy per order", () => {
    freshBuddyHeap();
    let p = buddyAlloc(4);
    expect(p - pageOf(p)).toBe(BUDDY_PAGE_HEADER);
    expect(counts()).toBe("1 1 1 1 1 1 1 0 1 1 1 1");
    // The next 16-byte block is its buddy: address XOR size.
    let q = buddyAlloc(4);
    expect(q).toBe(p ^ 16);
    expect(counts()).toBe("0 1 1 1 1 1 1 0 1 1 1 1");
    expect(buddyUsedOrder(pageOf(p), p)).toBe(4);
    expect(buddyCheck()).toBe(0);
  });

  it("every block is aligned to its own size", () => {
    freshBuddyHeap();
    for (let k = BUDDY_MIN_ORDER; k <= BUDDY_MAX_ORDER; k++) {
      let p = buddyAlloc(k);
      expect(p & ((<usize>1 << k) - 1)).toBe(0);
      expect(buddyUsedOrder(pageOf(p), p)).toBe(k);
    }
    expect(buddyCheck()).toBe(0);
  });
});

describe("buddy merge", () => {
  it("a block merges with its buddy only when the buddy is free and of the same order", () => {
    freshBuddyHeap();
    let a = buddyAlloc(4), b = buddyAlloc(4), c = buddyAlloc(5);
    expect(b).toBe(a + 16);
    expect(c).toBe(a + 32);
    buddyFree(c, 5);       // its buddy [a, a+32) is two used 16-byte blocks: no merge
    expect(buddyIsFree(pageOf(c), 5, <u32>(c - pageOf(c)))).toBe(true);
    expect(buddyFreeCount(5)).toBe(1);
    buddyFree(a, 4);       // its buddy b is in use
    expect(buddyFreeCount(4)).toBe(1);
    expect(buddyCheck()).toBe(0);
    buddyFree(b, 4);       // b + a → 32 B, + c → 64 B, … up to the whole 2 KiB block
    for (let k: u32 = 4; k <= 10; k++) expect(buddyFreeCount(k)).toBe(0);
    expect(buddyIsFree(pageOf(a), 11, BUDDY_PAGE_HEADER)).toBe(true);
    expect(buddyCheck()).toBe(0);
  });

  it("the 32 KiB half cut into 16 blocks of 2 KiB, freed in a scrambled order, ends as one block", () => {
    freshBuddyHeap();
    // 31 blocks of 2 KiB fill the page (62 KiB after the bitmaps); 16 of them are the upper half.
    let blocks = new StaticArray<usize>(31);
    for (let i = 0; i < 31; i++) blocks[i] = buddyAlloc(11);
    let page = pageOf(blocks[0]);
    for (let i = 1; i < 31; i++) expect(pageOf(blocks[i])).toBe(page);
    expect(counts()).toBe("0 0 0 0 0 0 0 0 0 0 0 0");
    let upper = new StaticArray<usize>(16);
    let n = 0;
    for (let i = 0; i < 31; i++) if (blocks[i] >= page + 32768) upper[n++] = blocks[i];
    expect(n).toBe(16);
    // Slot s is page + 32768 + s * 2048; free slots in the order 7s mod 16 (a permutation).
    let freed: u32 = 0;
    for (let i = 0; i < 16; i++) {
      let slot = (i * 7) % 16;
      let p = page + 32768 + slot * 2048;
      expect(buddyUsedOrder(page, p)).toBe(11);
      buddyFree(p, 11);
      freed++;
      expect(buddyCheck()).toBe(0);
      if (i == 0) expect(counts()).toBe("0 0 0 0 0 0 0 1 0 0 0 0");
    }
    // Slots 0,7,14,5,12,3,10,1: 0 and 1 merged at step 8 (index 7), so far 8 blocks freed.
    expect(freed).toBe(16);
    expect(counts()).toBe("0 0 0 0 0 0 0 0 0 0 0 1");
    expect(buddyIsFree(page, 15, 32768)).toBe(true);
    expect(buddyIsFree(page, 11, 32768)).toBe(false);
    // The lower half too: the page is empty again, five free blocks, kept as the spare.
    for (let i = 0; i < 31; i++) if (blocks[i] < page + 32768) buddyFree(blocks[i], 11);
    expect(counts()).toBe("0 0 0 0 0 0 0 1 1 1 1 1");
    expect(pageKind(<u32>(page >>> 16))).toBe(PAGE_BUDDY);
    expect(buddyCheck()).toBe(0);
  });

  it("halfway through a scrambled free, pairs of freed buddies have merged and no more", () => {
    freshBuddyHeap();
    let first = buddyAlloc(11);           // the 2 KiB block at +2 KiB
    let page = pageOf(first);
    for (let i = 1; i < 31; i++) buddyAlloc(11);
    // Free slots 0, 1 (buddies → one 4 KiB block) and 3 (its buddy 2 is used).
    buddyFree(page + 32768, 11);
    buddyFree(page + 32768 + 2048, 11);
    buddyFree(page + 32768 + 3 * 2048, 11);
    expect(counts()).toBe("0 0 0 0 0 0 0 1 1 0 0 0");
    expect(buddyIsFree(page, 12, 32768)).toBe(true);
    expect(buddyIsFree(page, 11, 32768 + 3 * 2048)).toBe(true);
    expect(buddyCheck()).toBe(0);
  });

  it("an emptied page is kept as a spare; a second emptied page goes back to the page layer", () => {
    freshBuddyHeap();
    let a = buddyAlloc(15), b = buddyAlloc(15);
    expect(pageOf(a)).not.toBe(pageOf(b));
    buddyFree(a, 15);
    expect(pageKind(<u32>(a >>> 16))).toBe(PAGE_BUDDY);
    buddyFree(b, 15);
    expect(pageKind(<u32>(b >>> 16))).toBe(PAGE_FREE);
    expect(counts()).toBe("0 0 0 0 0 0 0 1 1 1 1 1");
    expect(buddyCheck()).toBe(0);
  });
});

describe("buddy lookup and resize", () => {
  it("finds the block around an interior address, used or free", () => {
    freshBuddyHeap();
    let p = buddyAlloc(8);
    let page = pageOf(p);
    expect(buddyContaining(page, <u32>(p - page) + 48)).toBe(1);
    expect(foundBuddyOff).toBe(<u32>(p - page));
    expect(foundBuddyOrder).toBe(8);
    expect(buddyUsedOrder(page, p + 16)).toBe(0);
    expect(buddyContaining(page, <u32>(p - page) + 256 + 16)).toBe(2);  // in its free buddy
    expect(buddyContaining(page, 100)).toBe(0);                           // the bitmaps
  });

  it("grows in place into free buddies to the right, and shrinks by freeing upper halves", () => {
    freshBuddyHeap();
    let p = buddyAlloc(4);
    let page = pageOf(p);
    expect(buddyResize(p, 4, 8)).toBe(true);     // buddies of orders 4..7 were free
    expect(buddyUsedOrder(page, p)).toBe(8);
    expect(buddyCheck()).toBe(0);
    let q = buddyAlloc(8);                       // takes the order-8 buddy at p + 256
    expect(q).toBe(p + 256);
    expect(buddyResize(p, 8, 9)).toBe(false);    // its buddy is now in use
    expect(buddyResize(q, 8, 9)).toBe(false);    // not aligned to 512 relative to the page
    expect(buddyResize(p, 8, 5)).toBe(true);
    expect(buddyUsedOrder(page, p)).toBe(5);
    expect(buddyIsFree(page, 7, <u32>(p - page) + 128)).toBe(true);
    expect(buddyIsFree(page, 6, <u32>(p - page) + 64)).toBe(true);
    expect(buddyIsFree(page, 5, <u32>(p - page) + 32)).toBe(true);
    expect(buddyCheck()).toBe(0);
  });
});

describe("buddy check", () => {
  it("reports two free buddies of one order that did not merge", () => {
    freshBuddyHeap();
    let a = buddyAlloc(4), b = buddyAlloc(4);
    let page = pageOf(a);
    buddyFree(a, 4);
    expect(buddyCheck()).toBe(0);
    // Mark b free in the bitmaps without freeing it through the engine.
    let n = buddyNode(4, <u32>(b - page));
    store<u8>(page + 1024 + (n >> 3), load<u8>(page + 1024 + (n >> 3)) & ~(<u8>1 << <u8>(n & 7)));
    store<u8>(page + (n >> 3), load<u8>(page + (n >> 3)) | (<u8>1 << <u8>(n & 7)));
    expect(buddyIsUsed(page, 4, <u32>(b - page))).toBe(false);
    expect(buddyCheck()).toBe(CHECK_BUDDY_MERGE);
  });

  it("reports a block both free and in use, and a block no bit describes", () => {
    freshBuddyHeap();
    let a = buddyAlloc(6);
    let page = pageOf(a);
    let n = buddyNode(6, <u32>(a - page));
    store<u8>(page + (n >> 3), load<u8>(page + (n >> 3)) | (<u8>1 << <u8>(n & 7)));
    expect(buddyCheck()).toBe(CHECK_BUDDY_TAG);
    store<u8>(page + (n >> 3), load<u8>(page + (n >> 3)) & ~(<u8>1 << <u8>(n & 7)));
    expect(buddyCheck()).toBe(0);
    store<u8>(page + 1024 + (n >> 3), load<u8>(page + 1024 + (n >> 3)) & ~(<u8>1 << <u8>(n & 7)));
    expect(buddyCheck()).toBe(CHECK_BUDDY_TAG);
  });

  it("reports a stray bit inside a block (a block start the tiling never reaches)", () => {
    freshBuddyHeap();
    let a = buddyAlloc(6);
    let page = pageOf(a);
    let n = buddyNode(4, <u32>(a - page) + 16);   // a 16-byte "block" inside the 64-byte one
    store<u8>(page + 1024 + (n >> 3), load<u8>(page + 1024 + (n >> 3)) | (<u8>1 << <u8>(n & 7)));
    expect(buddyCheck()).toBe(CHECK_BUDDY_TAG);
  });

  it("reports an order bitmap that disagrees with the lists, and a list naming a used block", () => {
    let state = freshBuddyHeap();
    let a = buddyAlloc(4);
    let bitmap = load<u32>(state);
    store<u32>(state, bitmap ^ 1);               // order 4 claimed empty, yet listed
    expect(buddyCheck()).toBe(CHECK_BUDDY_BITMAP);
    store<u32>(state, bitmap);
    expect(buddyCheck()).toBe(0);
    let head = load<u32>(state, 8);               // heads[0]: the free 16-byte block
    store<u32>(state, <u32>a, 8);                 // now names the used block a
    expect(buddyCheck()).toBe(CHECK_BUDDY_LIST);
    store<u32>(state, head, 8);
    expect(buddyCheck()).toBe(0);
  });
});
