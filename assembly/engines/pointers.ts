// Pointers: which layer owns a pointer given to free/realloc/malloc_usable_size,
// whether it is the start of a live allocation, and that layer's answer for
// it (usable size, release, resize), for the layers both engines share:
// boundary-tag blocks (blocks/), slabs (slabs/) and page runs (runs/).
//
// The page map (pages/pagemap.ts) names the owner of any address in O(1);
// the owner then checks the pointer against its own metadata:
//
//   page kind     live allocation starts where        else (the misuse)
//   HEAP          the start map's bit is set and      interior / double free
//                 the header is sound (starts.ts)     (stale free header) /
//                                                     corruption (bad header)
//   SLAB          on a slot boundary, below the bump   interior / not allocated
//                 mark, its bit set                    / double free
//   LARGE         the run's first byte                 interior
//   LARGE_TAIL    never                                interior
//   FREE          never                                double free (a run start)
//   anything else never                                not owned
//
// `classify` reports nothing and changes nothing: it answers 0 (live; then
// foundOwner and foundIndex say where) or the misuse as (ERR_* << 8) |
// REASON_*, with foundBlock/foundSize describing what it hit. The C API
// (api/calls.ts) reports it; the checked build (api/guard.ts) asks first.

import {
  PAGE_SIZE, PAGE_BITS, SLAB_MAX, BLOCK_HEADER, MIN_BLOCK, TAG_IN_USE, TAG_PREV_FREE, TAG_MASK, TAG_MARK,
  PAGE_HEAP, PAGE_SLAB, PAGE_LARGE, PAGE_LARGE_TAIL, PAGE_FREE, SEGMENT_PROLOGUE, THREADS,
} from "../base/constants";
import { shared, heap, H_SEGMENT0, S_TOP, countFree } from "../base/state";
import {
  ERR_DOUBLE_FREE, ERR_INVALID_FREE, ERR_CORRUPTION, REASON_MISALIGNED, REASON_NOT_OWNED, REASON_INTERIOR,
  REASON_NOT_ALLOCATED, REASON_NONE,
} from "../base/report";
import { pageKind } from "../pages/pagemap";
import { blockSizeFor, header, usableOf } from "../blocks/block";
import { isQuick } from "../blocks/quick";
import { startIsLive } from "../blocks/starts";
import { mediumFree, mediumResize } from "../blocks/medium";
import { slabFree, slabClassOf, slabMagicOk, slabFirst, slabObjSize, slabBump, slabIndex, slabBit, spanOf } from "../slabs/slab";
import { largeFree, largeUsable, largePages } from "../runs/large";

// Which layer a live pointer belongs to.
export const OWNER_MEDIUM: u32 = 1;
export const OWNER_SLAB: u32 = 2;
export const OWNER_LARGE: u32 = 3;
/** The buddy engine's blocks (engines/buddy.ts): foundIndex holds the block's order. */
export const OWNER_BUDDY: u32 = 4;

/** Set by classify for a live pointer: its owner (OWNER_*), and for slabs its slot index. */
export let foundOwner: u32 = 0;
export let foundIndex: u32 = 0;
/** Set by classify for a misuse: the block it hit and its size, for the report. */
export let foundBlock: usize = 0;
export let foundSize: usize = 0;
/** Usable bytes of the block the engine's last allocate returned (saves finding it again). */
export let allocUsable: u32 = 0;

/** Record a misuse for the report; its code. */
@inline export function misuse(kind: u32, reason: u32, block: usize, size: usize): u32 {
  foundBlock = block;
  foundSize = size;
  return (kind << 8) | reason;
}

/** A pointer that is not 16-aligned: no allocation starts there. */
@inline export function misaligned(): u32 { return misuse(ERR_INVALID_FREE, REASON_MISALIGNED, 0, 0); }
/** A pointer on a page this heap does not own. */
export function notOwned(): u32 { return misuse(ERR_INVALID_FREE, REASON_NOT_OWNED, 0, 0); }

/** Classify 16-aligned `ptr` on a page of `kind`, one of the shared layers' (any other kind: not owned). */
export function classifyOn(ptr: usize, kind: u8): u32 {
  if (kind == PAGE_HEAP) return classifyMedium(ptr);
  if (kind == PAGE_SLAB) return classifySlab(ptr);
  if (kind == PAGE_LARGE) {
    if ((ptr & (PAGE_SIZE - 1)) != 0) return misuse(ERR_INVALID_FREE, REASON_INTERIOR, ptr & ~<usize>(PAGE_SIZE - 1), 0);
    foundOwner = OWNER_LARGE;
    return 0;
  }
  if (kind == PAGE_LARGE_TAIL) return misuse(ERR_INVALID_FREE, REASON_INTERIOR, 0, 0);
  if (kind == PAGE_FREE) {
    // A pointer where a large run began: most likely freed already.
    if ((ptr & (PAGE_SIZE - 1)) == 0) return misuse(ERR_DOUBLE_FREE, REASON_NONE, ptr, 0);
    return misuse(ERR_INVALID_FREE, REASON_NOT_ALLOCATED, 0, 0);
  }
  return misuse(ERR_INVALID_FREE, REASON_NOT_OWNED, 0, 0);
}

/** The unchecked build (benchmark only): find the owner of `ptr`, checking nothing. */
export function trust(ptr: usize): u32 {
  let kind = pageKind(<u32>(ptr >>> PAGE_BITS));
  if (kind == PAGE_SLAB) {
    let span = spanOf(ptr);
    foundIndex = slabIndex(span, <u32>(ptr - span - slabFirst(span)));
    foundOwner = OWNER_SLAB;
  } else {
    foundOwner = kind == PAGE_LARGE ? OWNER_LARGE : OWNER_MEDIUM;
  }
  return 0;
}

/** A pointer on a boundary-tag page: the payload of a live block? */
@inline export function classifyMedium(ptr: usize): u32 {
  let block = ptr - BLOCK_HEADER;
  // Only the start map (starts.ts) says where a live block begins: whatever a
  // block holds, no pointer into it passes. Past this check the header is the
  // allocator's own, and is checked for damage.
  if (!startIsLive(ptr)) return notLive(block);
  let h = header(block);
  let size = h & ~TAG_MASK;
  // A live block's header: in use, tag bits 2-3 clear, a size that ends
  // inside the segment on a header whose P bit agrees. Anything else is an
  // overwritten header (a write before the block, or past the one before it).
  let end = <u64>block + size;
  // (The end's page is looked up only when it differs from the block's,
  // which the caller found to be a boundary-tag page.)
  let endPage = <u32>((end - 1) >> PAGE_BITS);
  let sound = (h & (TAG_IN_USE | 12)) == TAG_IN_USE && size >= MIN_BLOCK &&
    (endPage == <u32>(ptr >>> PAGE_BITS) || pageKind(endPage) == PAGE_HEAP) &&
    (load<u32>(<usize>end) & TAG_PREV_FREE) == 0;
  if (!sound) {
    // Held on a quick list (marked live, tagged held): freed already.
    if (isQuick(h) && (h & TAG_MARK) == 0) return misuse(ERR_DOUBLE_FREE, REASON_NONE, block, size);
    return misuse(ERR_CORRUPTION, REASON_NONE, block, size);
  }
  foundOwner = OWNER_MEDIUM;
  return 0;
}

/**
 * Why `block + BLOCK_HEADER`, which starts no live block, was passed: inside
 * the heap state it is not a block at all; a word there that reads as a free
 * header is most likely the block's own, left when it was freed (a double
 * free); anything else is a pointer into a block. (Only the message depends
 * on this guess: the call is rejected either way.)
 */
function notLive(block: usize): u32 {
  // (A threads build's heap state opens a page of its own; its segments lie anywhere.)
  let stateFrom: usize = THREADS ? heap & ~<usize>(PAGE_SIZE - 1) : 0;
  if (block >= stateFrom && block < <usize>load<u32>(heap, H_SEGMENT0) + SEGMENT_PROLOGUE) return misuse(ERR_INVALID_FREE, REASON_NOT_OWNED, 0, 0);
  let h = header(block);
  let size = h & ~TAG_MASK;
  let end = <u64>block + size;
  let freeHeader = (h & (TAG_IN_USE | 12)) == 0 && size >= MIN_BLOCK &&
    end <= <u64>load<u32>(shared(), S_TOP) && pageKind(<u32>((end - 1) >> PAGE_BITS)) == PAGE_HEAP;
  if (freeHeader) return misuse(ERR_DOUBLE_FREE, REASON_NONE, block, size);
  return misuse(ERR_INVALID_FREE, REASON_INTERIOR, 0, 0);
}

/** A pointer on a slab page: a live slot? */
@inline export function classifySlab(ptr: usize): u32 {
  let span = spanOf(ptr);
  let first = span + slabFirst(span);
  let size = slabObjSize(span);
  // (A free span's header fails the magic: whatever was there is gone.)
  if (!slabMagicOk(span) || ptr < first) return misuse(ERR_INVALID_FREE, REASON_NOT_OWNED, span, 0);
  let offset = <u32>(ptr - first);
  let index = slabIndex(span, offset);
  if (index * size != offset) return misuse(ERR_INVALID_FREE, REASON_INTERIOR, first + index * size, size);
  if (index >= slabBump(span)) return misuse(ERR_INVALID_FREE, REASON_NOT_ALLOCATED, ptr, size);
  if (!slabBit(span, index)) return misuse(ERR_DOUBLE_FREE, REASON_NONE, ptr, size);
  foundOwner = OWNER_SLAB;
  foundIndex = index;
  return 0;
}

/** The owner of a new block at `ptr` on a page of `kind` (a block the engine just allocated). */
@inline export function ownNewOn(kind: u8): void {
  foundOwner = kind == PAGE_SLAB ? OWNER_SLAB : kind == PAGE_LARGE ? OWNER_LARGE : OWNER_MEDIUM;
}

/** Usable bytes of a pointer classify accepted (a shared layer's). */
@inline export function usableShared(ptr: usize): u32 {
  if (foundOwner == OWNER_SLAB) return slabObjSize(spanOf(ptr));
  if (foundOwner == OWNER_LARGE) return largeUsable(largePages(ptr));
  return usableOf(ptr - BLOCK_HEADER);
}

/** Free a pointer classify accepted (a shared layer's), counting its usable bytes out. */
@inline export function releaseShared(ptr: usize): void {
  if (foundOwner == OWNER_LARGE) { // its length is read once (large.ts)
    let pages = largePages(ptr);
    countFree(largeUsable(pages));
    largeFree(ptr, pages);
    return;
  }
  countFree(usableShared(ptr));
  if (foundOwner == OWNER_SLAB) slabFree(spanOf(ptr), ptr, foundIndex);
  else mediumFree(ptr - BLOCK_HEADER);
}

/**
 * Resize a classified slab slot or boundary-tag block in place to hold `size`
 * bytes; false if it must move. (Page runs: largeResize, after the engine's
 * own test of whether the size still belongs in whole pages.)
 */
@inline export function resizeShared(ptr: usize, size: usize): bool {
  if (foundOwner == OWNER_SLAB) {
    // Same class (and slabs still serve this size): nothing to do.
    return size <= SLAB_MAX && slabClassOf(size) == slabClassOf(slabObjSize(spanOf(ptr)));
  }
  return mediumResize(ptr - BLOCK_HEADER, blockSizeFor(size));
}

/** Does `at` lie inside a live slot of the slab span it is on (for posix_memalign's result word)? */
export function slabSlotLive(at: usize): bool {
  let span = spanOf(at);
  if (!slabMagicOk(span)) return false;
  let first = span + slabFirst(span);
  if (at < first) return false;
  let index = slabIndex(span, <u32>(at - first));
  return index < slabBump(span) && slabBit(span, index);
}
