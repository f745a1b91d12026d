// The C API: malloc, free, calloc, realloc, aligned_alloc, posix_memalign,
// malloc_usable_size, with C semantics, over the engine this build composes
// (engines/engine.ts): the heap set up on first use, requests checked,
// pointers checked before anything changes, every call counted.
//
// Pointer checks (O(1), in every build): a pointer that is not 16-aligned,
// on a page no layer owns, inside the heap state, not on a slot boundary, in
// the middle of a large run, not the start of a live boundary-tag block (the
// start map, blocks/starts.ts), or naming a free block or slot is reported
// and the call does nothing (engines/pointers.ts says which).
//
// The checked build wraps these functions (api/guard.ts); nothing here knows
// of it.

import { UNCHECKED, ALIGN_MASK, PAGE_BITS, MAX_REQUEST, MAX_ALIGNMENT, PAGE_FREE, PAGE_META, PAGE_SLAB, PAGE_HEAP, THREADS } from "../base/constants";
import {
  heap, heapAt, HEAP_PART_SIZE, statAdd, countAlloc, countFree, STAT_FREES, STAT_CALLOCS, STAT_REALLOCS, STAT_ALIGNED,
  STAT_FAILED, STAT_REALLOC_IN_PLACE,
} from "../base/state";
import { report, OP_FREE, OP_REALLOC, OP_USABLE_SIZE, OP_NAME, wasm_malloc_named } from "../base/report";
import { pageKind, pageOwner } from "../pages/pagemap";
import { startsHolds } from "../blocks/starts";
import { foundOwner, foundIndex, foundBlock, foundSize, allocUsable, slabSlotLive } from "../engines/pointers";
import { HEAP_STATE_SIZE, allocate, allocateAligned, classify, ownNew, usable, release, resizeInPlace, freeFast } from "../engines/engine";
import { heapEnsure } from "./init";

export const EINVAL: i32 = 22;
export const ENOMEM: i32 = 12;

/** allocate as a call: for calloc, realloc, aligned_alloc and the guard layer (malloc inlines it). */
export function allocateCall(size: usize): usize { return allocate(size); }

/** classify, reporting a misuse of `op` at `ptr`; true if `ptr` is live. */
export function validate(ptr: usize, op: u32): bool {
  let code = classify(ptr);
  if (code == 0) return true;
  report(code >> 8, code & 255, op, ptr, foundBlock, foundSize);
  return false;
}

// ── For the checked build's guard layer (guard.ts): raw blocks ─────────────
/** Usable bytes of the live raw block at `raw`. */
export function rawUsable(raw: usize): u32 { classify(raw); return usable(raw); }
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

/** Count a block from a path other than `allocate` (aligned): its owner is found from the page map. */
function countedFound(ptr: usize, requested: usize): usize {
  if (ptr == 0) { statAdd(STAT_FAILED, 1); return 0; }
  ownNew(ptr);
  countAlloc(usable(ptr), requested);
  return ptr;
}

// ── The C functions ─────────────────────────────────────────────────────────

@inline export function cMalloc(size: usize): usize {
  if (!heapEnsure()) return 0;
  return counted(allocate(size), size);
}

@inline export function cFree(ptr: usize): void {
  if (ptr == 0) return;
  if (!heapEnsure()) return;
  // The engine's fast paths: a live slab slot or boundary-tag block. Anything
  // wrong goes the long way below, to be reported. (The unchecked build, for
  // the benchmark only, takes them without the checks.)
  if ((UNCHECKED || (ptr & ALIGN_MASK) == 0) && freeFast(ptr)) return;
  if (!validate(ptr, OP_FREE)) return;
  statAdd(STAT_FREES, 1);
  release(ptr);
}

export function cCalloc(count: usize, size: usize): usize {
  if (!heapEnsure()) return 0;
  statAdd(STAT_CALLOCS, 1);
  let total = <u64>count * <u64>size;
  if (total > <u64>MAX_REQUEST) { statAdd(STAT_FAILED, 1); return 0; }
  let ptr = counted(allocateCall(<usize>total), <usize>total);
  if (ptr != 0) memory.fill(ptr, 0, <usize>total);
  return ptr;
}

export function cRealloc(ptr: usize, size: usize): usize {
  if (ptr == 0) return mallocCall(size);
  if (!heapEnsure()) return 0;
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
  let oldUsable = usable(ptr);
  if (resizeInPlace(ptr, size)) {
    foundOwner = owner;
    let newUsable = usable(ptr);
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

/** cMalloc as a call (realloc of a null pointer). */
function mallocCall(size: usize): usize { return cMalloc(size); }

/** Is `align` one aligned_alloc accepts: a power of two up to MAX_ALIGNMENT? */
@inline export function alignmentValid(align: usize): bool {
  return align != 0 && (align & (align - 1)) == 0 && align <= MAX_ALIGNMENT;
}

export function cAlignedAlloc(align: usize, size: usize): usize {
  if (!heapEnsure()) return 0;
  statAdd(STAT_ALIGNED, 1);
  if (!alignmentValid(align)) { statAdd(STAT_FAILED, 1); return 0; }
  if (align <= 16) return counted(allocateCall(size), size);
  if (size > MAX_REQUEST) { statAdd(STAT_FAILED, 1); return 0; }
  return countedFound(allocateAligned(align, size), size);
}

/**
 * posix_memalign's checks before anything is allocated: 0 if `out` and
 * `align` are acceptable and the heap is set up, else EINVAL or ENOMEM.
 */
export function posixMemalignRefusal(out: usize, align: usize): i32 {
  if (align < 4 || (align & (align - 1)) != 0 || align > MAX_ALIGNMENT) return EINVAL;
  if (!heapEnsure()) return ENOMEM;
  // Where the result goes is checked before anything is allocated.
  if (!writableOut(out)) return EINVAL;
  return 0;
}

/** posix_memalign's answer once `ptr` is allocated (0: out of memory): the pointer stored at `out`, 0; or ENOMEM. */
export function posixMemalignResult(out: usize, ptr: usize): i32 {
  if (ptr == 0) return ENOMEM;
  store<u32>(out, <u32>ptr);
  return 0;
}

export function cPosixMemalign(out: usize, align: usize, size: usize): i32 {
  let refused = posixMemalignRefusal(out, align);
  return refused != 0 ? refused : posixMemalignResult(out, cAlignedAlloc(align, size));
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
  if (THREADS && kind == PAGE_HEAP) {
    // Any heap's state: the first's (both parts) or another's, opening a page of its own.
    let owner = pageOwner(<u32>(out >>> PAGE_BITS));
    let state = heapAt(owner);
    if (state != 0 && out >= state && out < state + (owner == 1 ? HEAP_STATE_SIZE : HEAP_PART_SIZE)) return false;
  }
  if (kind == PAGE_FREE || kind == PAGE_META) return false;
  if (kind == PAGE_SLAB) return slabSlotLive(out);
  return true;
}

export function cMallocUsableSize(ptr: usize): usize {
  if (ptr == 0) return 0;
  if (!heapEnsure()) return 0;
  if (!validate(ptr, OP_USABLE_SIZE)) return 0;
  return usable(ptr);
}

export function cName(ptr: usize, label: usize, length: usize): i32 {
  if (!heapEnsure()) return -1;
  if (ptr == 0) return -1;
  if (!validate(ptr, OP_NAME)) return -1;
  wasm_malloc_named(ptr, label, length);
  return 0;
}
