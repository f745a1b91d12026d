// The C API: malloc, free, calloc, realloc, aligned_alloc, posix_memalign,
// malloc_usable_size, with C semantics, dispatched to the layers by size and,
// for pointers, by the page map.
//
//   request size      layer                 where
//   0 … 256           size-class slabs      slab.ts   (unless OPTION_NO_SLABS)
//   257 … 256 KiB-1   boundary-tag blocks   medium.ts (placement policy)
//   ≥ 256 KiB         page runs             large.ts
//   aligned > 16      boundary-tag blocks   medium.ts (any size)
//
// The buddy build (WASM_MALLOC_BUDDY, build/buddy.wasm) instead sends
// 0 … 32 KiB (and aligned requests up to 32 KiB) to buddy blocks (buddy.ts),
// larger sizes to page runs; its hooks below are marked "buddy hook".
//
// Pointer checks (O(1), in every build): a pointer that is not 16-aligned,
// on a page no layer owns, inside the heap state, not on a slot boundary, in
// the middle of a large run, not the start of a live boundary-tag block (the
// start map, starts.ts), or naming a free block or slot is reported and the
// call does nothing.

import {
  CHECKED, UNCHECKED, ALIGN_MASK, PAGE_SIZE, PAGE_BITS, MAX_REQUEST, MAX_ALIGNMENT, SLAB_MAX, RUN_MIN,
  BLOCK_HEADER, MIN_BLOCK, TAG_IN_USE, TAG_PREV_FREE, TAG_MASK, TAG_MARK, OPTION_NO_SLABS, OPTION_EAGER_SLABS,
  PAGE_HEAP, PAGE_SLAB, PAGE_LARGE, PAGE_LARGE_TAIL, PAGE_FREE, PAGE_META, SEGMENT_PROLOGUE, SLAB_START_BYTES,
  SLAB_SMALL_OBJECT, SLAB_START_BYTES_BIG,
  QUICK_MAX, QUICK_ALWAYS_MAX, QUICK_CENSUS_MIN,
} from "../base/constants";
import {
  heap, HEAP_STATE_SIZE, H_OPTIONS, H_SEGMENT0, H_TOP, statAdd, countAlloc, countFree, STAT_FREES, STAT_CALLOCS,
  STAT_REALLOCS, STAT_ALIGNED, STAT_FAILED, STAT_REALLOC_IN_PLACE,
} from "../base/state";
import { pageKind } from "../pages/pagemap";
import { heapEnsure } from "./init";
import {
  report, ERR_DOUBLE_FREE, ERR_INVALID_FREE, ERR_CORRUPTION, REASON_MISALIGNED, REASON_NOT_OWNED,
  REASON_INTERIOR, REASON_NOT_ALLOCATED, REASON_NONE, OP_FREE, OP_REALLOC, OP_USABLE_SIZE, OP_NAME,
  wasm_malloc_named,
} from "../base/report";
import { blockSizeFor, blockSize, header, usableOf } from "../blocks/block";
import { quickPush, quickPop, isQuick, quickOn } from "../blocks/quick";
import { startIsLive, startsHolds } from "../blocks/starts";
import { mediumAlloc, mediumAllocAligned, mediumFree, mediumResize, smallLive, countSmall } from "../blocks/medium";
import {
  slabAlloc, slabFree, slabClassOf, classPages, slabMagicOk, slabFirst, slabObjSize, slabBump,
  slabIndex, slabBit, slabTake, slabClassSize, classPartial,
} from "../slabs/slab";
import { guardAlloc, guardFree, guardRealloc, guardUsable, guardIsLive } from "./guard";
import { largeAlloc, largeFree, largeResize, largeUsable, largePages, largePagesFor, isLarge } from "../runs/large";
// ── buddy engine hooks (WASM_MALLOC_BUDDY builds only; `BUDDY` folds to false elsewhere) ──
import { BUDDY, PAGE_BUDDY } from "../base/constants";
import {
  buddyAlloc, buddyFree, buddyResize, buddyUsedOrder, buddyContaining, buddyOrderFor,
  foundBuddyOff, foundBuddyOrder, BUDDY_MAX_SIZE, BUDDY_MAX_ORDER,
} from "../buddy/buddy";

export const EINVAL: i32 = 22;
export const ENOMEM: i32 = 12;

// Which layer a validated pointer belongs to.
@inline const OWNER_NONE: u32 = 0;
@inline const OWNER_MEDIUM: u32 = 1;
@inline const OWNER_SLAB: u32 = 2;
@inline const OWNER_LARGE: u32 = 3;
@inline const OWNER_BUDDY: u32 = 4; // buddy build: foundIndex holds the block's order

// Set by `validate` for the caller.
let foundOwner: u32 = 0;
let foundIndex: u32 = 0;   // slab slot index


// Usable bytes of the block the last `allocate` returned (saves finding it again).
let allocUsable: u32 = 0;

/**
 * Allocate without counting: the shared path of every allocating entry point.
 * The fast paths, inlined into each caller (a few loads, no call): a block
 * of the size held on a quick list (quick.ts; the lists are empty when the
 * heap keeps none), else for a small size a slab page of its class with
 * room. The quick list comes first: its check is one load, where the class
 * takes a dozen instructions (s1: 171 -> 162 instructions per operation;
 * binary2-bal, served by slabs, 168 -> 172). Everything else: allocateSlow.
 */
@inline export function allocate(size: usize): usize {
  if (!BUDDY && size <= QUICK_MAX - BLOCK_HEADER) {
    let bs = blockSizeFor(size);
    let held = quickPop(bs);
    if (held != 0) {
      countSmall(bs, 1);
      allocUsable = bs - BLOCK_HEADER;
      return held + BLOCK_HEADER;
    }
    if (size <= SLAB_MAX) {
      let cls = slabClassOf(size);
      let page = classPartial(cls);
      if (page != 0) {
        allocUsable = slabClassSize(cls);
        return slabTake(page, cls);
      }
    }
  }
  return allocateSlow(size);
}

/** allocate as a call: for calloc, realloc, aligned_alloc and the guard layer (malloc inlines it). */
export function allocateCall(size: usize): usize { return allocate(size); }

function allocateSlow(size: usize): usize {
  if (size > MAX_REQUEST) return 0;
  if (BUDDY) return buddyAllocate(size); // buddy hook
  if (size > SLAB_MAX && size < RUN_MIN) return mediumAllocate(size);
  let options = load<u32>(heap, H_OPTIONS);
  if (size <= SLAB_MAX && (options & OPTION_NO_SLABS) == 0) {
    let cls = slabClassOf(size);
    // A class starts using slab pages once enough of its size is live.
    if (classPages(cls) != 0 || (options & OPTION_EAGER_SLABS) != 0 ||
        smallLive(blockSizeFor(size)) * blockSizeFor(size) >= slabStartBytes(size)) {
      let slot = slabAlloc(cls);
      if (slot != 0) { allocUsable = slabClassSize(cls); return slot; }
      // No page for a new slab: a free medium block may still hold it.
    }
  } else if (isLarge(size)) {
    let payload = largeAlloc(size);
    if (payload != 0) { allocUsable = largeUsable(largePagesFor(size)); return payload; }
  }
  return mediumAllocate(size);
}

/** Live bytes of a size in the boundary-tag layer before its class gets slab pages. */
@inline function slabStartBytes(size: usize): u32 {
  return size > SLAB_SMALL_OBJECT ? SLAB_START_BYTES_BIG : SLAB_START_BYTES;
}

/** A boundary-tag block (`allocate` already looked for a held one of its size). */
@inline function mediumAllocate(size: usize): usize {
  let bs = blockSizeFor(size);
  let block = mediumAlloc(bs);
  if (block == 0) return 0;
  allocUsable = usableOf(block);
  return block + BLOCK_HEADER;
}

/** Buddy build: a buddy block below 32 KiB, else a page run. */
function buddyAllocate(size: usize): usize {
  if (size <= BUDDY_MAX_SIZE) {
    let order = buddyOrderFor(size);
    allocUsable = 1 << order;
    return buddyAlloc(order);
  }
  let payload = largeAlloc(size);
  if (payload != 0) allocUsable = largeUsable(largePagesFor(size));
  return payload;
}

/** Buddy build: classify a pointer on a buddy page. */
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

/** Usable bytes of a pointer `validate` accepted. */
function usableSize(ptr: usize): u32 {
  if (BUDDY && foundOwner == OWNER_BUDDY) return 1 << foundIndex; // buddy hook
  if (foundOwner == OWNER_SLAB) return slabObjSize(ptr & ~<usize>(PAGE_SIZE - 1));
  if (foundOwner == OWNER_LARGE) return largeUsable(largePages(ptr));
  return usableOf(ptr - BLOCK_HEADER);
}

// What `classify` found wrong, for the report.
let foundBlock: usize = 0;
let foundSize: usize = 0;

@inline function misuse(kind: u32, reason: u32, block: usize, size: usize): u32 {
  foundBlock = block;
  foundSize = size;
  return (kind << 8) | reason;
}

/**
 * Is `ptr` the start of a live allocation? 0 if so (foundOwner, and
 * foundIndex for slabs, are set), else the misuse as (ERR_* << 8) | REASON_*
 * with foundBlock/foundSize describing what it hit. Reports nothing.
 */
export function classify(ptr: usize): u32 {
  if (UNCHECKED) return trust(ptr);
  if (ptr & ALIGN_MASK) return misuse(ERR_INVALID_FREE, REASON_MISALIGNED, 0, 0);
  let page = <u32>(ptr >>> PAGE_BITS);
  let kind = pageKind(page);
  if (BUDDY && kind == PAGE_BUDDY) return classifyBuddy(ptr); // buddy hook
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

/** The unchecked build: find the owner of `ptr`, checking nothing. */
function trust(ptr: usize): u32 {
  let kind = pageKind(<u32>(ptr >>> PAGE_BITS));
  if (kind == PAGE_SLAB) {
    let page = ptr & ~<usize>(PAGE_SIZE - 1);
    foundIndex = slabIndex(page, <u32>(ptr - page - slabFirst(page)));
    foundOwner = OWNER_SLAB;
  } else {
    foundOwner = kind == PAGE_LARGE ? OWNER_LARGE : OWNER_MEDIUM;
  }
  return 0;
}

/** classify, reporting a misuse of `op` at `ptr`; true if `ptr` is live. */
export function validate(ptr: usize, op: u32): bool {
  let code = classify(ptr);
  if (code == 0) return true;
  report(code >> 8, code & 255, op, ptr, foundBlock, foundSize);
  return false;
}

@inline function classifyMedium(ptr: usize): u32 {
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
  if (block < <usize>load<u32>(heap, H_SEGMENT0) + SEGMENT_PROLOGUE) return misuse(ERR_INVALID_FREE, REASON_NOT_OWNED, 0, 0);
  let h = header(block);
  let size = h & ~TAG_MASK;
  let end = <u64>block + size;
  let freeHeader = (h & (TAG_IN_USE | 12)) == 0 && size >= MIN_BLOCK &&
    end <= <u64>load<u32>(heap, H_TOP) && pageKind(<u32>((end - 1) >> PAGE_BITS)) == PAGE_HEAP;
  if (freeHeader) return misuse(ERR_DOUBLE_FREE, REASON_NONE, block, size);
  return misuse(ERR_INVALID_FREE, REASON_INTERIOR, 0, 0);
}

@inline function classifySlab(ptr: usize): u32 {
  let page = ptr & ~<usize>(PAGE_SIZE - 1);
  let first = page + slabFirst(page);
  let size = slabObjSize(page);
  if (!slabMagicOk(page) || ptr < first) return misuse(ERR_INVALID_FREE, REASON_NOT_OWNED, page, 0);
  let offset = <u32>(ptr - first);
  let index = slabIndex(page, offset);
  if (index * size != offset) return misuse(ERR_INVALID_FREE, REASON_INTERIOR, first + index * size, size);
  if (index >= slabBump(page)) return misuse(ERR_INVALID_FREE, REASON_NOT_ALLOCATED, ptr, size);
  if (!slabBit(page, index)) return misuse(ERR_DOUBLE_FREE, REASON_NONE, ptr, size);
  foundOwner = OWNER_SLAB;
  foundIndex = index;
  return 0;
}

/** Free a validated pointer (foundOwner/foundIndex set). */
function release(ptr: usize): void {
  if (foundOwner == OWNER_LARGE) { // its length is read once (large.ts)
    let pages = largePages(ptr);
    countFree(largeUsable(pages));
    largeFree(ptr, pages);
    return;
  }
  countFree(usableSize(ptr));
  if (BUDDY && foundOwner == OWNER_BUDDY) buddyFree(ptr, foundIndex); // buddy hook
  else if (foundOwner == OWNER_SLAB) slabFree(ptr & ~<usize>(PAGE_SIZE - 1), ptr, foundIndex);
  else mediumFree(ptr - BLOCK_HEADER);
}

// ── For the checked build's guard layer (guard.ts): raw blocks ─────────────
/** Usable bytes of the live raw block at `raw`. */
export function rawUsable(raw: usize): u32 { classify(raw); return usableSize(raw); }
/** Free the live raw block at `raw` (counted). */
export function releaseRaw(raw: usize): void { if (classify(raw) == 0) release(raw); }
/** Count the new raw block at `raw` serving `requested` bytes. */
export function countRaw(raw: usize, requested: usize): void { countedFound(raw, requested); }

/** Count a successful allocation at `ptr` (from `allocate`, which set allocUsable). */
@inline function counted(ptr: usize, requested: usize): usize {
  if (ptr == 0) { statAdd(STAT_FAILED, 1); return 0; }
  countAlloc(allocUsable, requested);
  return ptr;
}

/** Count a block from a path other than `allocate` (aligned, buddy): its owner is found from the page map. */
function countedFound(ptr: usize, requested: usize): usize {
  if (ptr == 0) { statAdd(STAT_FAILED, 1); return 0; }
  let kind = pageKind(<u32>(ptr >>> PAGE_BITS));
  foundOwner = kind == PAGE_SLAB ? OWNER_SLAB : kind == PAGE_LARGE ? OWNER_LARGE : OWNER_MEDIUM;
  if (BUDDY && kind == PAGE_BUDDY) { // buddy hook
    foundOwner = OWNER_BUDDY;
    foundIndex = buddyUsedOrder(ptr & ~<usize>(PAGE_SIZE - 1), ptr);
  }
  countAlloc(usableSize(ptr), requested);
  return ptr;
}

// ── The C functions ─────────────────────────────────────────────────────────

@inline export function cMalloc(size: usize): usize {
  if (!heapEnsure()) return 0;
  if (CHECKED) return guarded(guardAlloc(size, 16));
  return counted(allocate(size), size);
}

/** cMalloc as a call (realloc of a null pointer). */
function mallocCall(size: usize): usize { return cMalloc(size); }

/** Count a failed guarded allocation (the guard layer counted a success). */
@inline function guarded(p: usize): usize {
  if (p == 0) statAdd(STAT_FAILED, 1);
  return p;
}

@inline export function cFree(ptr: usize): void {
  if (ptr == 0) return;
  if (!heapEnsure()) return;
  if (CHECKED) { if (guardFree(ptr)) statAdd(STAT_FREES, 1); return; }
  if (UNCHECKED || (ptr & ALIGN_MASK) == 0) {
    // The fast paths: a live slab slot or boundary-tag block. Anything wrong
    // goes the long way below, to be reported. (The unchecked build, for the
    // benchmark only, takes them without the checks.)
    let kind = pageKind(<u32>(ptr >>> PAGE_BITS));
    if (kind == PAGE_SLAB && (UNCHECKED ? trust(ptr) : classifySlab(ptr)) == 0) {
      let page = ptr & ~<usize>(PAGE_SIZE - 1);
      countFreed(slabObjSize(page));
      slabFree(page, ptr, foundIndex);
      return;
    }
    if (kind == PAGE_HEAP && (UNCHECKED || classifyMedium(ptr) == 0)) {
      let block = ptr - BLOCK_HEADER;
      let h = header(block);
      let size = h & ~TAG_MASK;
      countFreed(size - BLOCK_HEADER);
      // Blocks up to 4 KiB are held for reuse at their size (segregated fit
      // with slabs on; see quick.ts): the small ones always, the others when
      // their size is common and no neighbour is free (no merge waits on them).
      if (!BUDDY && size <= QUICK_MAX && quickOn() && (size <= QUICK_ALWAYS_MAX ||
          (smallLive(size) >= QUICK_CENSUS_MIN && (h & TAG_PREV_FREE) == 0 && (header(block + size) & TAG_IN_USE) != 0))) {
        countSmall(size, -1);
        quickPush(block, size);
        return;
      }
      mediumFree(block);
      return;
    }
  }
  if (!validate(ptr, OP_FREE)) return;
  statAdd(STAT_FREES, 1);
  release(ptr);
}

/** Count a free() of a live block of `usable` bytes. */
@inline function countFreed(usable: u32): void {
  statAdd(STAT_FREES, 1);
  countFree(usable);
}

export function cCalloc(count: usize, size: usize): usize {
  if (!heapEnsure()) return 0;
  statAdd(STAT_CALLOCS, 1);
  let total = <u64>count * <u64>size;
  if (total > <u64>MAX_REQUEST) { statAdd(STAT_FAILED, 1); return 0; }
  let ptr = CHECKED ? guarded(guardAlloc(<usize>total, 16)) : counted(allocateCall(<usize>total), <usize>total);
  if (ptr != 0) memory.fill(ptr, 0, <usize>total);
  return ptr;
}

export function cRealloc(ptr: usize, size: usize): usize {
  if (ptr == 0) return mallocCall(size);
  if (!heapEnsure()) return 0;
  if (CHECKED) {
    statAdd(STAT_REALLOCS, 1);
    if (size > MAX_REQUEST) { statAdd(STAT_FAILED, 1); return 0; }
    return guardRealloc(ptr, size, OP_REALLOC);
  }
  if (!validate(ptr, OP_REALLOC)) return 0;
  statAdd(STAT_REALLOCS, 1);
  if (size == 0) {
    // C17 leaves this implementation-defined; we free and return 0.
    statAdd(STAT_FREES, 1);
    release(ptr);
    return 0;
  }
  if (size > MAX_REQUEST) { statAdd(STAT_FAILED, 1); return 0; }
  let owner = foundOwner;
  let index = foundIndex;
  let oldUsable = usableSize(ptr);
  if (resizeInPlace(ptr, size, owner)) {
    foundOwner = owner;
    let newUsable = usableSize(ptr);
    countFree(oldUsable);
    countAlloc(newUsable, size);
    statAdd(STAT_REALLOC_IN_PLACE, 1);
    return ptr;
  }
  let moved = allocateCall(size);
  if (moved == 0) { statAdd(STAT_FAILED, 1); return 0; } // the old block is untouched
  memory.copy(moved, ptr, min<usize>(oldUsable, size));
  foundOwner = owner;
  foundIndex = index;
  release(ptr);
  return counted(moved, size);
}

function resizeInPlace(ptr: usize, size: usize, owner: u32): bool {
  if (BUDDY && owner == OWNER_BUDDY) { // buddy hook: foundIndex is the order; becomes the new one
    if (size > BUDDY_MAX_SIZE) return false;
    let order = buddyOrderFor(size);
    if (!buddyResize(ptr, foundIndex, order)) return false;
    foundIndex = order;
    return true;
  }
  if (owner == OWNER_SLAB) {
    // Same class (and slabs still serve this size): nothing to do.
    return size <= SLAB_MAX && slabClassOf(size) == slabClassOf(slabObjSize(ptr & ~<usize>(PAGE_SIZE - 1)));
  }
  if (owner == OWNER_LARGE) {
    // A size that no longer belongs in whole pages moves.
    if (BUDDY ? size <= BUDDY_MAX_SIZE : !isLarge(size)) return false; // buddy hook
    return largeResize(ptr, size);
  }
  return mediumResize(ptr - BLOCK_HEADER, blockSizeFor(size));
}

export function cAlignedAlloc(align: usize, size: usize): usize {
  if (!heapEnsure()) return 0;
  statAdd(STAT_ALIGNED, 1);
  if (align == 0 || (align & (align - 1)) != 0 || align > MAX_ALIGNMENT) { statAdd(STAT_FAILED, 1); return 0; }
  if (CHECKED) return guarded(guardAlloc(size, align));
  if (align <= 16) return counted(allocateCall(size), size);
  if (size > MAX_REQUEST) { statAdd(STAT_FAILED, 1); return 0; }
  if (BUDDY) { // buddy hook: a block of order k is 2^k-aligned (pages are 64 KiB-aligned)
    let order = max<u32>(buddyOrderFor(size), ctz<u32>(<u32>align));
    if (order <= BUDDY_MAX_ORDER) return countedFound(buddyAlloc(order), size);
  }
  let block = mediumAllocAligned(blockSizeFor(size), <u32>align);
  return countedFound(block == 0 ? 0 : block + BLOCK_HEADER, size);
}

export function cPosixMemalign(out: usize, align: usize, size: usize): i32 {
  if (align < 4 || (align & (align - 1)) != 0 || align > MAX_ALIGNMENT) return EINVAL;
  if (!heapEnsure()) return ENOMEM;
  // Where the result goes is checked before anything is allocated.
  if (!writableOut(out)) return EINVAL;
  let ptr = cAlignedAlloc(align, size);
  if (ptr == 0) return ENOMEM;
  store<u32>(out, <u32>ptr);
  return 0;
}

/**
 * Can posix_memalign store a pointer at `out`? Not at 0, not misaligned, not
 * past the memory, not in the allocator's own state, a free page, or a slab
 * page's header or free slot. (Inside a boundary-tag page it is taken to be a
 * live block's, as a pointer variable in a malloc'd struct is; the checked
 * build's poison catches a write into a freed one.)
 */
function writableOut(out: usize): bool {
  if (out == 0 || (out & 3) != 0 || <u64>out + 4 > (<u64>memory.size() << PAGE_BITS)) return false;
  if ((out >= heap && out < heap + HEAP_STATE_SIZE) || startsHolds(out, 4)) return false;
  let kind = pageKind(<u32>(out >>> PAGE_BITS));
  if (kind == PAGE_FREE || kind == PAGE_META) return false;
  if (kind == PAGE_SLAB) {
    let page = out & ~<usize>(PAGE_SIZE - 1);
    let first = page + slabFirst(page);
    if (out < first) return false;
    let index = slabIndex(page, <u32>(out - first));
    return index < slabBump(page) && slabBit(page, index);
  }
  return true;
}

export function cMallocUsableSize(ptr: usize): usize {
  if (ptr == 0) return 0;
  if (!heapEnsure()) return 0;
  if (CHECKED) return guardUsable(ptr, OP_USABLE_SIZE);
  if (!validate(ptr, OP_USABLE_SIZE)) return 0;
  return usableSize(ptr);
}

export function cName(ptr: usize, label: usize, length: usize): i32 {
  if (!heapEnsure()) return -1;
  if (ptr == 0) return -1;
  if (CHECKED ? !guardIsLive(ptr, OP_NAME) : !validate(ptr, OP_NAME)) return -1;
  wasm_malloc_named(ptr, label, length);
  return 0;
}
