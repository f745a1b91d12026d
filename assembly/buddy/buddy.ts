// The buddy engine: power-of-two blocks that split in halves and merge with their buddy.
//
// Compiled in only by the `buddy` target (`--use WASM_MALLOC_BUDDY=1`): there
// every request below BUDDY_MAX_SIZE (32 KiB) is a buddy block, no size-class
// slabs are used, and larger requests get page runs (large.ts) as in the
// default engine. The boundary-tag layer keeps only what the orders cannot
// give: aligned_alloc with an alignment or size beyond the top order.
//
// A buddy page is one 64 KiB page from the page layer (PAGE_BUDDY in the page
// map). Its first 2 KiB hold the page's two bitmaps; the rest is cut into
// blocks of 2^k bytes, k = 4 (16 B) … 15 (32 KiB), each at an offset that is a
// multiple of its size (natural alignment, relative to the page):
//
// ╒══════════════ Buddy page (64 KiB, at page-aligned P) ══════════════╕
//   P+0     u8[1024]  free bitmap: bit n set = the block of node n is free
//   P+1024  u8[1024]  used bitmap: bit n set = the block of node n is allocated
//   P+2048  blocks: a fresh page is five free blocks, one of each order
//           11 (at 2 KiB), 12 (4 KiB), 13 (8 KiB), 14 (16 KiB), 15 (32 KiB)
// ╘════════════════════════════════════════════════════════════════════╛
//
// Nodes number the blocks of the page as a binary tree, root first:
//
//   order k, offset off  →  node (1 << (16 - k)) - 1 + (off >> k)
//   order 16: node 0 (never a block: the bitmaps sit in the first 2 KiB)
//   order 15: nodes 1, 2    order 14: 3 … 6   …   order 4: 4095 … 8190
//
// The buddy of the block (k, off) is (k, off ^ 2^k). A free block's first two
// words link it into the free list of its order (heads in the heap state,
// with a bitmap of the non-empty orders):
//
// ╒═══ Free block (2^k bytes at B) ═══╕
//   B+0  u32  next   next free block of order k, 0 = none
//   B+4  u32  prev
// ╘═══════════════════════════════════╛
//
// Costs: malloc = one bit scan over the order bitmap + at most 11 splits;
// free = at most 12 bit tests to find the order + at most 11 merges: O(log n).
// A page that empties goes back to the page layer, except one kept spare.
//
// Invariants (checked by buddyCheck):
//   - the blocks of a page tile [P+2048, P+64K): at each block start exactly
//     one bit (free or used) is set among the orders the offset is aligned to,
//     and the page holds no other bit;
//   - no free block has a free buddy of the same order (it would have merged);
//   - a block is on the list of order k exactly when its free bit at order k
//     is set; list links agree both ways; an order's bitmap bit is set exactly
//     when its list is non-empty.

import { PAGE_SIZE, PAGE_BITS, PAGE_BUDDY } from "../base/constants";
import { shared, heap, S_BASE_PAGE, S_TOP } from "../base/state";
import { pageKind, setPageKind } from "../pages/pagemap";
import { pagesAlloc, pagesRelease } from "../pages/pages";

export const BUDDY_MIN_ORDER: u32 = 4;
export const BUDDY_MAX_ORDER: u32 = 15;
export const BUDDY_ORDERS: u32 = BUDDY_MAX_ORDER - BUDDY_MIN_ORDER + 1;
/** Largest request a buddy block serves; above it, page runs. */
export const BUDDY_MAX_SIZE: u32 = 1 << BUDDY_MAX_ORDER;
/** Bytes at the start of each buddy page holding its bitmaps. */
export const BUDDY_PAGE_HEADER: u32 = 2048;
@inline const HEADER_ORDER: u32 = 11;
@inline const USED_MAP: u32 = 1024;

// Buddy state: in the buddy build at state (see state.ts); tests
// of other builds put it in a block of their own (buddyInit).
//   +0   u32  orderBitmap   bit k-4 set: the list of order k is non-empty
//   +4   u32  spare         an empty buddy page kept back, 0 = none
//   +8   u32  heads[12]     free list of each order 4 … 15
@inline const B_BITMAP: u32 = 0;
@inline const B_SPARE: u32 = 4;
@inline const B_HEADS: u32 = 8;
export const BUDDY_STATE_SIZE: u32 = B_HEADS + (BUDDY_ORDERS << 2);

/** Where the buddy state is; 0 until buddyInit. */
let state: usize = 0;

/** Use the BUDDY_STATE_SIZE bytes at `at` as the (empty) buddy state. */
export function buddyInit(at: usize): void {
  state = at;
  memory.fill(at, 0, BUDDY_STATE_SIZE);
}

// Check codes of the buddy engine (after check.ts's 1 … 27 and guard.ts's 28 … 31).
export const CHECK_BUDDY_TAG: u32 = 40;     // a page's bitmaps do not tile it with blocks
export const CHECK_BUDDY_MERGE: u32 = 41;   // a free block whose buddy is free at the same order
export const CHECK_BUDDY_LIST: u32 = 42;    // a listed block is not free at that order, or links disagree
export const CHECK_BUDDY_BITMAP: u32 = 43;  // the order bitmap disagrees with the lists
export const CHECK_BUDDY_COUNT: u32 = 44;   // free blocks not all on the lists

// ── Bits ───────────────────────────────────────────────────────────────────
/** The node of the block of `order` at page offset `off` (its bit in both bitmaps). */
@inline export function buddyNode(order: u32, off: u32): u32 { return (1 << (16 - order)) - 1 + (off >> order); }
@inline function node(order: u32, off: u32): u32 { return buddyNode(order, off); }
@inline function bitAt(page: usize, map: u32, n: u32): bool {
  return ((load<u8>(page + map + (n >> 3)) >> (n & 7)) & 1) != 0;
}
@inline function setBit(page: usize, map: u32, n: u32): void {
  let at = page + map + (n >> 3);
  store<u8>(at, <u32>load<u8>(at) | (<u32>1 << (n & 7)));
}
@inline function clearBit(page: usize, map: u32, n: u32): void {
  let at = page + map + (n >> 3);
  store<u8>(at, <u32>load<u8>(at) & ~(<u32>1 << (n & 7)));
}
@inline export function buddyIsFree(page: usize, order: u32, off: u32): bool { return bitAt(page, 0, node(order, off)); }
@inline export function buddyIsUsed(page: usize, order: u32, off: u32): bool { return bitAt(page, USED_MAP, node(order, off)); }

/** The order serving `size` bytes: the smallest 2^k ≥ size, at least 16. */
@inline export function buddyOrderFor(size: usize): u32 {
  if (size <= (1 << BUDDY_MIN_ORDER)) return BUDDY_MIN_ORDER;
  return 32 - clz<u32>(<u32>size - 1);
}

// ── Free lists ──────────────────────────────────────────────────────────────
@inline function headAt(order: u32): usize { return state + B_HEADS + ((order - BUDDY_MIN_ORDER) << 2); }
@inline export function buddyListHead(order: u32): usize { return load<u32>(headAt(order)); }
@inline export function buddyOrderBitmap(): u32 { return load<u32>(state + B_BITMAP); }

/** Mark the block free at `order` and push it on that order's list. */
function pushFree(page: usize, order: u32, off: u32): void {
  let block = page + off;
  let at = headAt(order);
  let head: usize = load<u32>(at);
  store<u32>(block, <u32>head);
  store<u32>(block, 0, 4);
  if (head) store<u32>(head, <u32>block, 4);
  store<u32>(at, <u32>block);
  let bm = state + B_BITMAP;
  store<u32>(bm, load<u32>(bm) | (1 << (order - BUDDY_MIN_ORDER)));
  setBit(page, 0, node(order, off));
}

/** Take the free block off its list and clear its free bit. */
function unlinkFree(page: usize, order: u32, off: u32): void {
  let block = page + off;
  let next: usize = load<u32>(block);
  let prev: usize = load<u32>(block, 4);
  if (next) store<u32>(next, <u32>prev, 4);
  if (prev) store<u32>(prev, <u32>next);
  else {
    store<u32>(headAt(order), <u32>next);
    if (next == 0) {
      let bm = state + B_BITMAP;
      store<u32>(bm, load<u32>(bm) & ~(1 << (order - BUDDY_MIN_ORDER)));
    }
  }
  clearBit(page, 0, node(order, off));
}

// ── Pages ───────────────────────────────────────────────────────────────────
/** Take a page and make it five free blocks, orders 11 … 15. False if no page. */
function newPage(): bool {
  let page = pagesAlloc(1);
  if (page == 0) return false;
  setPageKind(<u32>(page >>> PAGE_BITS), PAGE_BUDDY);
  memory.fill(page, 0, BUDDY_PAGE_HEADER);
  for (let k = HEADER_ORDER; k <= BUDDY_MAX_ORDER; k++) pushFree(page, k, 1 << k);
  return true;
}

/** True when every block of the page is free (the five blocks of a fresh page). */
@inline function pageEmpty(page: usize): bool {
  for (let k = HEADER_ORDER; k <= BUDDY_MAX_ORDER; k++) if (!buddyIsFree(page, k, 1 << k)) return false;
  return true;
}

/** An empty page: keep it as the spare, or give it back if a spare is kept already. */
function pageEmptied(page: usize): void {
  let spareAt = state + B_SPARE;
  let spare: usize = load<u32>(spareAt);
  if (spare == page) return;
  if (spare == 0 || !pageEmpty(spare)) { store<u32>(spareAt, <u32>page); return; }
  for (let k = HEADER_ORDER; k <= BUDDY_MAX_ORDER; k++) unlinkFree(page, k, 1 << k);
  pagesRelease(page, 1);
}

// ── Allocate, free, resize ─────────────────────────────────────────────────
/** A block of order `order` (4 … 15): its address, or 0 when no page can be had. */
export function buddyAlloc(order: u32): usize {
  let mask = buddyOrderBitmap() >> (order - BUDDY_MIN_ORDER);
  if (mask == 0) {
    if (!newPage()) return 0;
    mask = buddyOrderBitmap() >> (order - BUDDY_MIN_ORDER);
  }
  let have = order + ctz<u32>(mask);
  let block: usize = load<u32>(headAt(have));
  let page = block & ~<usize>(PAGE_SIZE - 1);
  let off = <u32>(block - page);
  unlinkFree(page, have, off);
  // Split down: the upper half of each split is a free buddy one order lower.
  while (have > order) {
    have--;
    pushFree(page, have, off + (1 << have));
  }
  setBit(page, USED_MAP, node(order, off));
  return block;
}

/** The order of the allocated block at `ptr` on buddy page `page`, or 0 if none starts there. */
export function buddyUsedOrder(page: usize, ptr: usize): u32 {
  let off = <u32>(ptr - page);
  if (off < BUDDY_PAGE_HEADER) return 0;
  for (let k = BUDDY_MIN_ORDER; k <= BUDDY_MAX_ORDER; k++) {
    if ((off & ((1 << k) - 1)) != 0) return 0;
    if (buddyIsUsed(page, k, off)) return k;
  }
  return 0;
}

// Set by buddyContaining: the block around an offset.
export let foundBuddyOff: u32 = 0;
export let foundBuddyOrder: u32 = 0;

/** Which block holds byte `off` of the page: 1 if allocated, 2 if free, 0 if none (the bitmaps). */
export function buddyContaining(page: usize, off: u32): u32 {
  if (off < BUDDY_PAGE_HEADER) return 0;
  for (let k = BUDDY_MIN_ORDER; k <= BUDDY_MAX_ORDER; k++) {
    let start = off & ~((1 << k) - 1);
    foundBuddyOff = start;
    foundBuddyOrder = k;
    if (buddyIsUsed(page, k, start)) return 1;
    if (buddyIsFree(page, k, start)) return 2;
  }
  return 0;
}

/** Free the allocated block (order `order`) at `ptr`, merging with free buddies. */
export function buddyFree(ptr: usize, order: u32): void {
  let page = ptr & ~<usize>(PAGE_SIZE - 1);
  let off = <u32>(ptr - page);
  clearBit(page, USED_MAP, node(order, off));
  let k = order;
  while (k < BUDDY_MAX_ORDER) {
    let buddy = off ^ (1 << k);
    // The bitmaps' 2 KiB are never a free block, so merging stops beside them.
    if (!buddyIsFree(page, k, buddy)) break;
    unlinkFree(page, k, buddy);
    off &= ~(1 << k);
    k++;
  }
  pushFree(page, k, off);
  if (k >= HEADER_ORDER && pageEmpty(page)) pageEmptied(page);
}

/**
 * Resize the allocated block at `ptr` (order `order`) to `newOrder` in place:
 * shrinking frees the upper halves; growing takes the buddies to the right
 * while each is free and whole. False if the block cannot grow where it is.
 */
export function buddyResize(ptr: usize, order: u32, newOrder: u32): bool {
  if (newOrder > BUDDY_MAX_ORDER) return false;
  let page = ptr & ~<usize>(PAGE_SIZE - 1);
  let off = <u32>(ptr - page);
  if (newOrder == order) return true;
  if (newOrder < order) {
    clearBit(page, USED_MAP, node(order, off));
    // Each upper half's buddy is the lower half we keep: no merge is possible.
    for (let k = order; k > newOrder; k--) pushFree(page, k - 1, off + (1 << (k - 1)));
    setBit(page, USED_MAP, node(newOrder, off));
    return true;
  }
  if ((off & ((1 << newOrder) - 1)) != 0) return false;
  for (let k = order; k < newOrder; k++) if (!buddyIsFree(page, k, off + (1 << k))) return false;
  for (let k = order; k < newOrder; k++) unlinkFree(page, k, off + (1 << k));
  clearBit(page, USED_MAP, node(order, off));
  setBit(page, USED_MAP, node(newOrder, off));
  return true;
}

// ── Inspection ──────────────────────────────────────────────────────────────
/** Is `block` where a free block of `order` can be listed: on a buddy page, past the bitmaps, aligned, its free bit set? */
@inline function listableAt(block: usize, order: u32): bool {
  let page = block & ~<usize>(PAGE_SIZE - 1);
  let off = <u32>(block - page);
  return block < <usize>load<u32>(shared(), S_TOP) && pageKind(<u32>(block >>> PAGE_BITS)) == PAGE_BUDDY &&
    off >= BUDDY_PAGE_HEADER && (off & ((1 << order) - 1)) == 0 && buddyIsFree(page, order, off);
}

// Set by buddyFreeCount: the first list link that is no free block of its
// order (or whose back link disagrees), 0 if the list was sound.
export let buddyCountBroken: usize = 0;

/**
 * Free blocks on the list of `order`. Links live in freed memory, so each is
 * checked before it is followed (listableAt, and its back link must name the
 * block before it: a cycle cannot pass that, see inspect-lists.ts). A broken link
 * ends the count and is left in buddyCountBroken; the count is also bounded
 * by the blocks the heap could hold.
 */
export function buddyFreeCount(order: u32): u32 {
  buddyCountBroken = 0;
  if (order < BUDDY_MIN_ORDER || order > BUDDY_MAX_ORDER) return 0;
  let bound = <u32>((<usize>load<u32>(shared(), S_TOP) - heap) >> BUDDY_MIN_ORDER);
  let n: u32 = 0;
  let prev: usize = 0;
  let block = buddyListHead(order);
  while (block != 0) {
    if (!listableAt(block, order) || <usize>load<u32>(block, 4) != prev || n >= bound) { buddyCountBroken = block; break; }
    n++;
    prev = block;
    block = load<u32>(block);
  }
  return n;
}

// Set by buddyEntry for the walk: 0 free, 1 allocated, 2 metadata, 3 broken
// (BUDDY_ENTRY_BROKEN: no block starts there, the page's bitmaps are corrupt).
export let buddyEntrySize: u32 = 0;
export let buddyEntryState: u32 = 0;
export const BUDDY_ENTRY_BROKEN: u32 = 3;

/** Describe the entry at `cursor` on a buddy page; returns the address after it. */
export function buddyEntry(cursor: usize): usize {
  let page = cursor & ~<usize>(PAGE_SIZE - 1);
  let off = <u32>(cursor - page);
  if (off == 0) { buddyEntrySize = BUDDY_PAGE_HEADER; buddyEntryState = 2; return cursor + BUDDY_PAGE_HEADER; }
  let state = buddyContaining(page, off);
  if (state == 0 || foundBuddyOff != off) {
    // Not a block start: the bitmaps were overwritten. The walk reports it
    // (walk.ts); the rest of the page is what the entry would have spanned.
    buddyEntrySize = PAGE_SIZE - off; buddyEntryState = BUDDY_ENTRY_BROKEN;
    return page + PAGE_SIZE;
  }
  buddyEntrySize = 1 << foundBuddyOrder;
  buddyEntryState = state == 1 ? 1 : 0;
  return cursor + buddyEntrySize;
}

// ── Check ───────────────────────────────────────────────────────────────────
export let buddyCheckAddress: usize = 0;
// Totals of the page checks since buddyCheckBegin.
export let buddySeenInUse: u64 = 0;
export let buddySeenLive: u64 = 0;
let seenFree: u32 = 0;

@inline function bad(code: u32, at: usize): u32 { buddyCheckAddress = at; return code; }

export function buddyCheckBegin(): void { buddySeenInUse = 0; buddySeenLive = 0; seenFree = 0; buddyCheckAddress = 0; }

/** Check one buddy page: tiling, bit counts, no mergeable pair. 0 or a CHECK_BUDDY_* code. */
export function buddyCheckPage(page: usize): u32 {
  let off: u32 = BUDDY_PAGE_HEADER;
  let blocks: u32 = 0;
  while (off < PAGE_SIZE) {
    let found: u32 = 0;
    let order: u32 = 0;
    let used = false;
    for (let k = BUDDY_MIN_ORDER; k <= BUDDY_MAX_ORDER; k++) {
      if ((off & ((1 << k) - 1)) != 0) break;
      let f = buddyIsFree(page, k, off);
      let u = buddyIsUsed(page, k, off);
      if (f) { found++; order = k; used = false; }
      if (u) { found++; order = k; used = true; }
    }
    if (found != 1 || off + (1 << order) > PAGE_SIZE) return bad(CHECK_BUDDY_TAG, page + off);
    if (used) { buddySeenInUse += <u64>1 << order; buddySeenLive++; }
    else {
      seenFree++;
      let buddy = off ^ (1 << order);
      if (order < BUDDY_MAX_ORDER && buddy >= BUDDY_PAGE_HEADER && buddyIsFree(page, order, buddy)) {
        return bad(CHECK_BUDDY_MERGE, page + off);
      }
    }
    blocks++;
    off += 1 << order;
  }
  let bits: u32 = 0;
  for (let i: u32 = 0; i < BUDDY_PAGE_HEADER; i += 4) bits += popcnt<u32>(load<u32>(page + i));
  if (bits != blocks) return bad(CHECK_BUDDY_TAG, page);
  return 0;
}

/**
 * Check every buddy page, then the lists and the order bitmap against them:
 * 0 or a CHECK_BUDDY_* code (address in buddyCheckAddress). buddySeenInUse
 * and buddySeenLive then hold the allocated bytes and blocks seen.
 */
export function buddyCheck(): u32 {
  buddyCheckBegin();
  if (state == 0) return 0;
  let topPage = <u32>(<usize>load<u32>(shared(), S_TOP) >>> PAGE_BITS);
  for (let page = load<u32>(shared(), S_BASE_PAGE); page < topPage; page++) {
    if (pageKind(page) != PAGE_BUDDY) continue;
    let code = buddyCheckPage(<usize>page << PAGE_BITS);
    if (code) return code;
  }
  return buddyCheckLists();
}

/** Check the free lists and the order bitmap against the pages (after every page was checked). */
export function buddyCheckLists(): u32 {
  let listed: u32 = 0;
  let bitmap = buddyOrderBitmap();
  if ((bitmap >> BUDDY_ORDERS) != 0) return bad(CHECK_BUDDY_BITMAP, state);
  for (let k = BUDDY_MIN_ORDER; k <= BUDDY_MAX_ORDER; k++) {
    let block = buddyListHead(k);
    if ((block != 0) != (((bitmap >> (k - BUDDY_MIN_ORDER)) & 1) != 0)) return bad(CHECK_BUDDY_BITMAP, block);
    let prev: usize = 0;
    while (block != 0) {
      if (!listableAt(block, k)) return bad(CHECK_BUDDY_LIST, block);
      if (<usize>load<u32>(block, 4) != prev) return bad(CHECK_BUDDY_LIST, block);
      if (++listed > seenFree) return bad(CHECK_BUDDY_COUNT, block);
      prev = block;
      block = load<u32>(block);
    }
  }
  if (listed != seenFree) return bad(CHECK_BUDDY_COUNT, 0);
  let spare: usize = load<u32>(state + B_SPARE);
  if (spare != 0 && ((spare & (PAGE_SIZE - 1)) != 0 || pageKind(<u32>(spare >>> PAGE_BITS)) != PAGE_BUDDY)) {
    return bad(CHECK_BUDDY_LIST, spare);
  }
  return 0;
}
