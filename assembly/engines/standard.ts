// The standard engine: size-class slabs, boundary-tag blocks with quick lists,
// and page runs, composed by size. (engines/engine.ts selects it unless the
// build is the buddy one.)
//
//   request size      layer                  where
//   0 … 256           size-class slabs       slabs/slab.ts (unless OPTION_NO_SLABS;
//                                            a class starts once enough of its size is live)
//   257 … 256 KiB-1   boundary-tag blocks    blocks/medium.ts (placement policy)
//   ≥ 256 KiB         page runs              runs/large.ts (from 64 KiB when whole
//                                            pages fit it: isLarge)
//   aligned > 16      boundary-tag blocks    blocks/medium.ts (any size)
//
// In front of them, for blocks up to QUICK_MAX, the quick lists
// (blocks/quick.ts): free() holds a freed block at its size, malloc takes
// it back first. An allocation that finds no free page run fails, and is
// tried again under pressure (reclaim.ts): after the layers gave back the
// pages they hold free, then with growth allowed, then at the limit; only
// there does a size whose own layer is out of pages fall back to a
// boundary-tag block.
//
// The fast paths (a held block, a slab page with room; free of a live slot
// or block) are inlined into the C API's functions: a few loads, no call.

import {
  UNCHECKED, ALIGN_MASK, PAGE_SIZE, PAGE_BITS, MAX_REQUEST, SLAB_MAX, RUN_MIN, BLOCK_HEADER, TAG_IN_USE,
  TAG_PREV_FREE, TAG_MASK, OPTION_NO_SLABS, OPTION_EAGER_SLABS, PAGE_HEAP, PAGE_SLAB, SLAB_START_BYTES,
  SLAB_SMALL_OBJECT, SLAB_START_BYTES_BIG, QUICK_MAX, QUICK_ALWAYS_MAX, QUICK_CENSUS_MIN, POLICY_SEGREGATED,
  ALIGNMENT, THREADS,
} from "../base/constants";
import { heap, H_OPTIONS, H_POLICY, H_QUICK_ON, statAdd, countFree, STAT_FREES } from "../base/state";
import { pageKind, pageEntry, pageIsMine, ownerBits } from "../pages/pagemap";
import { pagesGrowth, GROWTH_AT_LIMIT } from "../pages/pages";
import { blockSizeFor, header, usableOf } from "../blocks/block";
import { quickPush, quickPop, quickOn } from "../blocks/quick";
import { STARTS_FIRST_BYTES } from "../blocks/starts";
import { mediumAlloc, mediumAllocAligned, mediumFree, smallLive, countSmall, mediumStartsInit } from "../blocks/medium";
import { slabAlloc, slabFree, slabClassOf, classPages, slabObjSize, slabTake, slabClassSize, classPartial, slabInit, spanOf } from "../slabs/slab";
import { largeAlloc, largeResize, largeUsable, largePagesFor, isLarge } from "../runs/large";
import {
  OWNER_LARGE, foundOwner, foundIndex, allocUsable, misaligned, notOwned, classifyOn, classifySlab, classifyMedium, trust,
  ownNewOn, usableShared, releaseShared, resizeShared,
} from "./pointers";
import { pressureStep, pressureEnd, PRESSURE_DONE, PRESSURE_RETRY } from "./reclaim";

/** Bytes segment 0 holds for the engine's own use from the start: the first start map's block (blocks/starts.ts). */
export const SEGMENT0_RESERVED: u32 = THREADS ? 0 : (STARTS_FIRST_BYTES + BLOCK_HEADER + ALIGNMENT - 1) & ~(ALIGNMENT - 1);

/** No state of its own beyond the per-heap part's fields. */
export const ENGINE_STATE_BYTES: u32 = 0;

/** Set this engine's layers up in a fresh heap state (policy and options written); false if memory ran out. */
export function engineSetUp(): bool {
  let policy = load<u32>(heap, H_POLICY);
  let options = load<u32>(heap, H_OPTIONS);
  // Quick lists belong with the slabs to the small-object machinery
  // (quick.ts): segregated fit with slabs on.
  store<u32>(heap, policy == POLICY_SEGREGATED && (options & OPTION_NO_SLABS) == 0 ? 1 : 0, H_QUICK_ON);
  slabInit();
  return true;
}

/** Once segment 0 exists: the start map comes first in it, below every block. */
export function engineSegment0Ready(): bool { return mediumStartsInit(); }

// ── Allocating ──────────────────────────────────────────────────────────────

/**
 * A block of at least `size` bytes, 16-aligned; 0 if none (allocUsable: its
 * usable bytes). The quick list comes first: its check is one load, where the
 * class takes a dozen instructions (s1: 171 -> 162 instructions per
 * operation; binary2-bal, served by slabs, 168 -> 172). Everything else:
 * allocateSlow.
 */
@inline export function allocate(size: usize): usize {
  if (size <= QUICK_MAX - BLOCK_HEADER) {
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

function allocateSlow(size: usize): usize {
  if (size > MAX_REQUEST) return 0;
  if (size > SLAB_MAX && size < RUN_MIN) {
    // The commonest slow case, written out: its one test of the result leads to the pressure loop.
    let block = mediumAlloc(blockSizeFor(size));
    if (block == 0) return allocateUnderPressure(size, 0);
    allocUsable = usableOf(block);
    return block + BLOCK_HEADER;
  }
  let p = allocateFrom(size);
  return p != 0 ? p : allocateUnderPressure(size, 0);
}

/** One try at a block of `size` bytes from the layer its size belongs to (allocate found no held block). */
function allocateFrom(size: usize): usize {
  if (size > SLAB_MAX && size < RUN_MIN) return mediumAllocate(size);
  let options = load<u32>(heap, H_OPTIONS);
  if (size <= SLAB_MAX && (options & OPTION_NO_SLABS) == 0) {
    let cls = slabClassOf(size);
    // A class starts using slab pages once enough of its size is live.
    if (classPages(cls) != 0 || (options & OPTION_EAGER_SLABS) != 0 ||
        smallLive(blockSizeFor(size)) * blockSizeFor(size) >= slabStartBytes(size)) {
      let slot = slabAlloc(cls);
      if (slot != 0) { allocUsable = slabClassSize(cls); return slot; }
      // No page for a new slab: at the limit a free medium block may still hold it.
      if (pagesGrowth() != GROWTH_AT_LIMIT) return 0;
    }
  } else if (isLarge(size)) {
    let payload = largeAlloc(size);
    if (payload != 0) { allocUsable = largeUsable(largePagesFor(size)); return payload; }
    if (pagesGrowth() != GROWTH_AT_LIMIT) return 0;
  }
  return mediumAllocate(size);
}

/**
 * The allocation of `size` bytes (aligned to `align`, if above 16) found no
 * free page run: try it again after each step of relieving the pressure
 * (reclaim.ts); 0 only when memory cannot hold it.
 */
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

/** Live bytes of a size in the boundary-tag layer before its class gets slab pages. */
@inline function slabStartBytes(size: usize): u32 {
  return size > SLAB_SMALL_OBJECT ? SLAB_START_BYTES_BIG : SLAB_START_BYTES;
}

/** A boundary-tag block (`allocate` already looked for a held one of its size); 0 if none. */
@inline function mediumAllocate(size: usize): usize {
  let bs = blockSizeFor(size);
  let block = mediumAlloc(bs);
  if (block == 0) return 0;
  allocUsable = usableOf(block);
  return block + BLOCK_HEADER;
}

/** A block of `size` (≤ MAX_REQUEST) bytes aligned to `align` (a power of two, 32 … 64 KiB); 0 if none. Its owner is found by ownNew. */
export function allocateAligned(align: usize, size: usize): usize {
  let p = alignedFrom(align, size);
  return p != 0 ? p : allocateUnderPressure(size, align);
}

/** One try at allocateAligned's block. */
function alignedFrom(align: usize, size: usize): usize {
  let block = mediumAllocAligned(blockSizeFor(size), <u32>align);
  return block == 0 ? 0 : block + BLOCK_HEADER;
}

// ── Pointers ────────────────────────────────────────────────────────────────

/** Is `ptr` the start of a live allocation? 0 if so (foundOwner etc. set), else the misuse (pointers.ts). */
export function classify(ptr: usize): u32 {
  if (UNCHECKED) return trust(ptr);
  if (ptr & ALIGN_MASK) return misaligned();
  let page = <u32>(ptr >>> PAGE_BITS);
  let kind = pageKind(page);
  // Threads build: another heap's blocks are not this heap's to free (threads.ts hands them to their owner).
  if (THREADS && (kind == PAGE_HEAP || kind == PAGE_SLAB) && !pageIsMine(page, kind)) return notOwned();
  return classifyOn(ptr, kind);
}

/** The owner of the new block at `ptr` (from allocateAligned, or the checked build's guard). */
export function ownNew(ptr: usize): void { ownNewOn(pageKind(<u32>(ptr >>> PAGE_BITS))); }

/** Usable bytes of a pointer classify accepted. */
@inline export function usable(ptr: usize): u32 { return usableShared(ptr); }

/** Free a pointer classify accepted, counting it out. */
export function release(ptr: usize): void { releaseShared(ptr); }

/** Resize a pointer classify accepted in place to hold `size` bytes; false if it must move (foundOwner and foundIndex still describe it). */
export function resizeInPlace(ptr: usize, size: usize): bool {
  // A size that no longer belongs in whole pages moves.
  if (foundOwner == OWNER_LARGE) return isLarge(size) && largeResize(ptr, size);
  return resizeShared(ptr, size);
}

/**
 * free()'s fast paths: a live slab slot or boundary-tag block (16-aligned
 * `ptr`), freed and counted; false for anything else, which goes the long
 * way (classify, report). The unchecked build takes them without the checks.
 */
@inline export function freeFast(ptr: usize): bool {
  // (Whole entries, less this heap's owner bits: in the threads build, this heap's pages only.)
  let entry = pageEntry(<u32>(ptr >>> PAGE_BITS)) ^ ownerBits();
  if (entry == PAGE_SLAB && (UNCHECKED ? trust(ptr) : classifySlab(ptr)) == 0) {
    let span = spanOf(ptr);
    countFreed(slabObjSize(span));
    slabFree(span, ptr, foundIndex);
    return true;
  }
  if (entry == PAGE_HEAP && (UNCHECKED || classifyMedium(ptr) == 0)) {
    let block = ptr - BLOCK_HEADER;
    let h = header(block);
    let size = h & ~TAG_MASK;
    countFreed(size - BLOCK_HEADER);
    // Blocks up to 4 KiB are held for reuse at their size (segregated fit
    // with slabs on; see quick.ts): the small ones always, the others when
    // their size is common and no neighbour is free (no merge waits on them).
    if (size <= QUICK_MAX && quickOn() && (size <= QUICK_ALWAYS_MAX ||
        (smallLive(size) >= QUICK_CENSUS_MIN && (h & TAG_PREV_FREE) == 0 && (header(block + size) & TAG_IN_USE) != 0))) {
      countSmall(size, -1);
      quickPush(block, size);
      return true;
    }
    mediumFree(block);
    return true;
  }
  return false;
}

/** Count a free() of a live block of `usable` bytes. */
@inline function countFreed(usable: u32): void {
  statAdd(STAT_FREES, 1);
  countFree(usable);
}
