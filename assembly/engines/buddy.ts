// The buddy engine: buddy blocks for every size up to 32 KiB, page runs above,
// boundary-tag blocks only for what the orders cannot give (an alignment or
// size beyond the top order). No slabs, no quick lists. (engines/engine.ts
// selects it in the `buddy` build, `--use WASM_MALLOC_BUDDY=1`.)
//
//   request size        layer                where
//   0 … 32 KiB          buddy blocks         buddy/buddy.ts (order ⌈log2 size⌉, ≥ 4)
//   > 32 KiB            page runs            runs/large.ts
//   aligned, order ≤ 15 buddy blocks         (a block of order k is 2^k-aligned)
//   aligned, larger     boundary-tag blocks  blocks/medium.ts
//
// Pointers on buddy pages are this engine's to check; every other page kind
// is one of the shared layers' (pointers.ts).

import { UNCHECKED, ALIGN_MASK, PAGE_SIZE, PAGE_BITS, MAX_REQUEST, BLOCK_HEADER, PAGE_BUDDY } from "../base/constants";
import { heap, H_ENGINE, countFree } from "../base/state";
import { ERR_DOUBLE_FREE, ERR_INVALID_FREE, REASON_NOT_OWNED, REASON_INTERIOR, REASON_NONE } from "../base/report";
import { pageKind } from "../pages/pagemap";
import { blockSizeFor } from "../blocks/block";
import { mediumAllocAligned } from "../blocks/medium";
import { largeAlloc, largeResize, largeUsable, largePagesFor } from "../runs/large";
import {
  BUDDY_STATE_SIZE, buddyInit, buddyAlloc, buddyFree, buddyResize, buddyUsedOrder, buddyContaining, buddyOrderFor,
  foundBuddyOff, foundBuddyOrder, BUDDY_MAX_SIZE, BUDDY_MAX_ORDER,
} from "../buddy/buddy";
import {
  OWNER_BUDDY, OWNER_LARGE, foundOwner, foundIndex, allocUsable, misuse, misaligned, classifyOn, trust, ownNewOn,
  usableShared, releaseShared, resizeShared,
} from "./pointers";
import { pressureStep, pressureEnd, PRESSURE_DONE, PRESSURE_RETRY } from "./reclaim";

/** Bytes segment 0 holds for the engine's own use from the start: none (no start map in this build). */
export const SEGMENT0_RESERVED: u32 = 0;

/** Its free lists and order bitmap (buddy.ts), in whole 16-byte granules: segment 0 stays 16-aligned. */
export const ENGINE_STATE_BYTES: u32 = (BUDDY_STATE_SIZE + 15) & ~15;

/** Set this engine's layers up in a fresh heap state; false if memory ran out. */
export function engineSetUp(): bool {
  buddyInit(heap + H_ENGINE);
  return true;
}

/** Once segment 0 exists: nothing more to set up. */
export function engineSegment0Ready(): bool { return true; }

// ── Allocating ──────────────────────────────────────────────────────────────

/** A block of at least `size` bytes, 16-aligned; 0 if none (allocUsable: its usable bytes). */
@inline export function allocate(size: usize): usize { return allocateBlock(size); }

function allocateBlock(size: usize): usize {
  if (size > MAX_REQUEST) return 0;
  let p = allocateFrom(size);
  return p != 0 ? p : allocateUnderPressure(size, 0);
}

/** One try: a buddy block up to 32 KiB, else a page run. */
function allocateFrom(size: usize): usize {
  if (size <= BUDDY_MAX_SIZE) {
    let order = buddyOrderFor(size);
    allocUsable = 1 << order;
    return buddyAlloc(order);
  }
  let payload = largeAlloc(size);
  if (payload != 0) allocUsable = largeUsable(largePagesFor(size));
  return payload;
}

/** A block of `size` (≤ MAX_REQUEST) bytes aligned to `align` (32 … 64 KiB); 0 if none. */
export function allocateAligned(align: usize, size: usize): usize {
  let p = alignedFrom(align, size);
  return p != 0 ? p : allocateUnderPressure(size, align);
}

/** One try at allocateAligned's block: a block of order k is 2^k-aligned (pages are 64 KiB-aligned). */
function alignedFrom(align: usize, size: usize): usize {
  let order = max<u32>(buddyOrderFor(size), ctz<u32>(<u32>align));
  if (order <= BUDDY_MAX_ORDER) return buddyAlloc(order);
  let block = mediumAllocAligned(blockSizeFor(size), <u32>align);
  return block == 0 ? 0 : block + BLOCK_HEADER;
}

/** An allocation that found no free page run, tried again after each step of relieving the pressure (reclaim.ts). */
function allocateUnderPressure(size: usize, align: usize): usize {
  let p: usize = 0;
  let step: u32 = 0;
  let next: u32 = 0;
  while (p == 0 && (next = pressureStep(step++)) != PRESSURE_DONE) {
    if (next == PRESSURE_RETRY) p = align > 16 ? alignedFrom(align, size) : allocateFrom(size);
  }
  pressureEnd();
  return p;
}

// ── Pointers ────────────────────────────────────────────────────────────────

/** Is `ptr` the start of a live allocation? 0 if so (foundOwner etc. set), else the misuse (pointers.ts). */
export function classify(ptr: usize): u32 {
  if (UNCHECKED) return trust(ptr);
  if (ptr & ALIGN_MASK) return misaligned();
  let kind = pageKind(<u32>(ptr >>> PAGE_BITS));
  if (kind == PAGE_BUDDY) return classifyBuddy(ptr);
  return classifyOn(ptr, kind);
}

/** A pointer on a buddy page: the start of a used block? */
function classifyBuddy(ptr: usize): u32 {
  let page = ptr & ~<usize>(PAGE_SIZE - 1);
  let order = buddyUsedOrder(page, ptr);
  if (order != 0) { foundOwner = OWNER_BUDDY; foundIndex = order; return 0; }
  let found = buddyContaining(page, <u32>(ptr - page));
  if (found == 0) return misuse(ERR_INVALID_FREE, REASON_NOT_OWNED, page, 0);
  let block = page + foundBuddyOff;
  let size = <usize>1 << foundBuddyOrder;
  // Inside a free block: freed already (it may since have merged with its buddy).
  if (found == 2) return misuse(ERR_DOUBLE_FREE, REASON_NONE, block, size);
  return misuse(ERR_INVALID_FREE, REASON_INTERIOR, block, size);
}

/** The owner of the new block at `ptr` (from allocateAligned). */
export function ownNew(ptr: usize): void {
  let kind = pageKind(<u32>(ptr >>> PAGE_BITS));
  ownNewOn(kind);
  if (kind == PAGE_BUDDY) {
    foundOwner = OWNER_BUDDY;
    foundIndex = buddyUsedOrder(ptr & ~<usize>(PAGE_SIZE - 1), ptr);
  }
}

/** Usable bytes of a pointer classify accepted. */
@inline export function usable(ptr: usize): u32 {
  return foundOwner == OWNER_BUDDY ? 1 << foundIndex : usableShared(ptr);
}

/** Free a pointer classify accepted, counting it out. */
export function release(ptr: usize): void {
  if (foundOwner != OWNER_BUDDY) { releaseShared(ptr); return; }
  countFree(1 << foundIndex);
  buddyFree(ptr, foundIndex);
}

/** Resize a pointer classify accepted in place to hold `size` bytes; false if it must move. foundIndex becomes a buddy block's new order. */
export function resizeInPlace(ptr: usize, size: usize): bool {
  if (foundOwner == OWNER_BUDDY) {
    if (size > BUDDY_MAX_SIZE) return false;
    let order = buddyOrderFor(size);
    if (!buddyResize(ptr, foundIndex, order)) return false;
    foundIndex = order;
    return true;
  }
  // A size a buddy block serves moves out of its page run.
  if (foundOwner == OWNER_LARGE) return size > BUDDY_MAX_SIZE && largeResize(ptr, size);
  return resizeShared(ptr, size);
}

/** free()'s fast path: none in this engine (every pointer is classified, then released). */
@inline export function freeFast(ptr: usize): bool { return false; }
