// Walking the heap for inspection: every block of every layer, in address order.
//
// The host calls `walkEntry(cursor)` from `walkFirst()` until the cursor
// reaches `walkEnd()`; each call describes one entry in the walk_* globals
// and returns the next cursor. Entries tile the heap except the 12-byte
// segment prologues, 4-byte epilogues and slab span tails, which belong to
// no entry.
//
// The walk reads sizes from memory a program may have overwritten, so it
// trusts none of them: before it describes an entry it checks that the
// entry lies inside its segment, page or run and below the top (the bounds
// below). A broken entry ends the walk: walk_error holds a CHECK_* code
// (check.ts) and walk_error_address where it was found, the entry globals
// describe nothing (metadata, size 0) and walkEntry returns walkEnd(). Every
// cursor walkEntry returns is at least 16 bytes past the one it was given,
// or the end, so a walk takes at most (top - heap) / 16 steps.
//
//   entry at cursor          accepted when (else walk_error)
//   heap state               top page-aligned, within memory; page map within
//                            memory; segment 0 right after the state (STATE)
//   boundary-tag block       on a HEAP page at 12 mod 16; size >= 16, and the
//                            block and the header after it on HEAP pages up to
//                            the top (BLOCK_SIZE); an all-zero header is an
//                            epilogue only on a segment's last word
//   slab span header / slot  magic, class, size, capacity, first offset agree
//                            with the class (SLAB_HEADER); a slot on a slot
//                            boundary (WALK_CURSOR)
//   free slab span           entered at its first byte (WALK_CURSOR)
//   free page run            length >= 1, every page FREE, ends below the top
//                            (RUN_PAGES)
//   large run                ends below the top (LARGE)
//   buddy page               a block starts at the cursor (BUDDY_TAG)
//   anything else            WALK_CURSOR: outside [heap, top), or inside a run

import {
  PAGE_SIZE, PAGE_BITS, PAGE_FREE, PAGE_HEAP, PAGE_SLAB, PAGE_LARGE, PAGE_META, SLAB_SPAN,
  SEGMENT_PROLOGUE, SEGMENT_EPILOGUE, BLOCK_HEADER, TAG_IN_USE, TAG_QUICK, MIN_BLOCK, SLAB_CLASSES, THREADS,
} from "../base/constants";
import { shared, heap, heapAt, S_TOP, H_SEGMENT0, S_PAGE_MAP, S_PAGE_MAP_CAP, H_SLAB_CLASSES, HEAP_PART_SIZE } from "../base/state";
import { HEAP_STATE_SIZE } from "../engines/engine";
import { pageKind, pageEntry, pageOwner } from "../pages/pagemap";
import { header } from "../blocks/block";
import { runPages } from "../pages/pages";
import {
  SLAB_MAGIC, SLAB_HEADER, SPAN_FREE_MAGIC, slabFirst, slabObjSize, slabCapacity, slabBump, slabBit, slabClassSize, spanOf,
} from "../slabs/slab";
import { largePages } from "../runs/large";
import { startsBlock } from "../blocks/starts";
import {
  CHECK_STATE, CHECK_BLOCK_SIZE, CHECK_SLAB_HEADER, CHECK_RUN_PAGES, CHECK_LARGE, CHECK_WALK_CURSOR,
} from "./violations";
// Buddy pages exist in the buddy build only; their entries compile out elsewhere.
import { BUDDY, PAGE_BUDDY } from "../base/constants";
import { buddyEntry, buddyEntrySize, buddyEntryState, BUDDY_ENTRY_BROKEN, CHECK_BUDDY_TAG } from "../buddy/buddy";

export const LAYER_STATE: u32 = 0;     // the heap state, both parts (and the inline page map)
export const LAYER_MEDIUM: u32 = 1;    // a boundary-tag block
export const LAYER_SLAB: u32 = 2;      // a slab slot
export const LAYER_LARGE: u32 = 3;     // a large run
export const LAYER_PAGES: u32 = 4;     // a free page run
export const LAYER_PAGE_MAP: u32 = 5;  // the page holding the relocated page map
export const LAYER_SLAB_HEADER: u32 = 6; // a slab span's header and bitmap
export const LAYER_BUDDY: u32 = 7;     // buddy build: a buddy block, or a buddy page's bitmaps (metadata)
export const LAYER_START_MAP: u32 = 8; // the start map's boundary-tag block (starts.ts)
export const LAYER_SPAN: u32 = 9;      // a free span of a slab page (slab.ts)

export const STATE_FREE: u32 = 0;
export const STATE_IN_USE: u32 = 1;
export const STATE_METADATA: u32 = 2;

export let walk_address: usize = 0;  // where the entry's memory starts
export let walk_payload: usize = 0;  // the pointer malloc returned (0 if not allocated)
export let walk_size: usize = 0;     // bytes the entry spans
export let walk_usable: usize = 0;   // bytes the owner may use (allocations only)
export let walk_state: u32 = 0;
export let walk_layer: u32 = 0;
/** Threads build: the index of the heap whose page the entry lies on (0: a page no heap owns). */
export let walk_owner: u32 = 0;
/** CHECK_* code of the corruption that ended the last walk step (or list walk, inspect-lists.ts); 0: none. */
export let walk_error: u32 = 0;
/** Where that corruption was found. */
export let walk_error_address: usize = 0;

function describe(address: usize, size: usize, state: u32, layer: u32, payload: usize, usable: usize): void {
  walk_address = address; walk_size = size; walk_state = state; walk_layer = layer;
  walk_payload = payload; walk_usable = usable;
  if (THREADS) walk_owner = pageOwner(<u32>(address >>> PAGE_BITS));
}

/** Where the walk starts: the heap state (the threads build: heap 1's, the memory's first). */
@inline function walkStart(): usize { return THREADS ? heapAt(1) : heap; }

/** Threads build: the heap whose state opens page-aligned `at`, if one does (0: none). */
function stateAt(at: usize): usize {
  if (!THREADS || (at & (PAGE_SIZE - 1)) != 0) return 0;
  let page = <u32>(at >>> PAGE_BITS);
  if (pageKind(page) != PAGE_HEAP) return 0;
  let owner = pageOwner(page);
  return owner != 0 && heapAt(owner) == at ? at : 0;
}

/** End the walk at a corruption: record it, describe nothing, return the end. */
export function walkStop(code: u32, at: usize): usize {
  walk_error = code;
  walk_error_address = at;
  describe(at, 0, STATE_METADATA, LAYER_STATE, 0, 0);
  return walkEnd();
}

export function walkFirst(): usize { walk_error = 0; return heap == 0 ? 0 : walkStart(); }
export function walkEnd(): usize { return heap == 0 ? 0 : <usize>load<u32>(shared(), S_TOP); }

/**
 * Can the heap state be walked from? The top is page-aligned, past the state
 * and within memory; the page map lies within memory; segment 0 follows the
 * state. Everything the walk reads is then inside memory: no trap.
 */
export function walkStateOk(): bool {
  let top: u64 = load<u32>(shared(), S_TOP);
  let memoryBytes = <u64>memory.size() << PAGE_BITS;
  let map: u64 = load<u32>(shared(), S_PAGE_MAP);
  // (The threads build's heaps other than the first: a per-heap part alone.)
  let stateSize = THREADS && heap != heapAt(1) ? HEAP_PART_SIZE : HEAP_STATE_SIZE;
  return (top & (PAGE_SIZE - 1)) == 0 && top > <u64>heap && top <= memoryBytes &&
    map + <u64>load<u32>(shared(), S_PAGE_MAP_CAP) <= memoryBytes &&
    <usize>load<u32>(heap, H_SEGMENT0) == heap + stateSize;
}

/**
 * Begin one inspection step (a walk entry, a list link): clear walk_error;
 * false, with walk_error = CHECK_STATE, if the state cannot be walked from.
 */
export function inspectBegin(): bool {
  walk_error = 0;
  if (walkStateOk()) return true;
  walkStop(CHECK_STATE, heap);
  return false;
}

/** Are the pages holding [from, to) all of `kind`, and is `to` at most the top? */
export function pagesOfKind(from: usize, to: u64, kind: u8): bool {
  if (to > <u64>load<u32>(shared(), S_TOP) || to <= <u64>from) return false;
  let last = <u32>((to - 1) >> PAGE_BITS);
  if (THREADS) { // whole entries: of one heap too
    let entry = pageEntry(<u32>(from >>> PAGE_BITS));
    if (pageKind(<u32>(from >>> PAGE_BITS)) != kind) return false;
    for (let page = <u32>(from >>> PAGE_BITS); page <= last; page++) if (pageEntry(page) != entry) return false;
    return true;
  }
  for (let page = <u32>(from >>> PAGE_BITS); page <= last; page++) if (pageKind(page) != kind) return false;
  return true;
}

/**
 * Is the all-zero-size header at `at` a segment's epilogue? Only on the last
 * word of a page with no segment page after it (segments that touch are one
 * segment: medium.ts, segmentAdd); anywhere else it is a block of size 0.
 */
@inline function isEpilogue(at: usize): bool {
  let next = at + SEGMENT_EPILOGUE;
  if (!THREADS) {
    return (header(at) & ~15) == 0 && (next & (PAGE_SIZE - 1)) == 0 && pageKind(<u32>(next >>> PAGE_BITS)) != PAGE_HEAP;
  }
  // (Threads build: another heap's segment, or this heap's state, may follow.)
  return (header(at) & ~15) == 0 && (next & (PAGE_SIZE - 1)) == 0 &&
    (pageEntry(<u32>(next >>> PAGE_BITS)) != pageEntry(<u32>(at >>> PAGE_BITS)) || stateAt(next) != 0);
}

/** Skip prologues/epilogues/foreign pages to the next describable address. */
function settle(at: usize): usize {
  let top: usize = load<u32>(shared(), S_TOP);
  while (at < top) {
    let kind = pageKind(<u32>(at >>> PAGE_BITS));
    if ((at & (PAGE_SIZE - 1)) != 0) {
      if (kind == PAGE_HEAP && isEpilogue(at)) { at += SEGMENT_EPILOGUE; continue; }
      return at;
    }
    if (kind == PAGE_HEAP) {
      // Blocks start at 12 mod 16, so a page boundary in a segment is
      // always a segment start, with its prologue (or a heap's state).
      return THREADS && stateAt(at) != 0 ? at : at + SEGMENT_PROLOGUE;
    }
    if (kind == PAGE_FREE || kind == PAGE_SLAB || kind == PAGE_LARGE || kind == PAGE_META) return at;
    if (BUDDY && kind == PAGE_BUDDY) return at;
    at += PAGE_SIZE; // foreign page
  }
  return top;
}

/**
 * Does the slab span header at `span` agree with its class (slab.ts's
 * layout)? Then every slot the walk computes lies inside the span.
 */
export function slabHeaderOk(span: usize): bool {
  let magic = load<u32>(span);
  let cls = magic & 0xFF;
  if ((magic & ~0xFF) != SLAB_MAGIC || cls >= SLAB_CLASSES) return false;
  let size = slabObjSize(span);
  let capacity = slabCapacity(span);
  let first = slabFirst(span);
  let classAt = heap + H_SLAB_CLASSES + (cls << 4);
  return size == slabClassSize(cls) && size == load<u32>(classAt, 4) && capacity == load<u32>(classAt, 8) &&
    capacity != 0 && slabBump(span) <= capacity && (first & 15) == 0 &&
    first >= SLAB_HEADER + (((capacity + 31) >> 5) << 2) && <u64>first + <u64>capacity * size <= SLAB_SPAN;
}

/** Describe the entry at `cursor`; returns the cursor after it. */
export function walkEntry(cursor: usize): usize {
  if (heap == 0) return 0;
  if (!inspectBegin()) return walkEnd();
  let top: usize = load<u32>(shared(), S_TOP);
  let state = cursor == walkStart() ? cursor : THREADS ? stateAt(cursor) : 0;
  if (state != 0) {
    let seg0: usize = load<u32>(state, H_SEGMENT0);
    if (seg0 <= state || seg0 >= top) return walkStop(CHECK_STATE, state);
    describe(state, seg0 - state, STATE_METADATA, LAYER_STATE, 0, 0);
    return settle(seg0 + SEGMENT_PROLOGUE);
  }
  if (cursor < walkStart() || cursor >= top) return walkStop(CHECK_WALK_CURSOR, cursor);
  let page = cursor & ~<usize>(PAGE_SIZE - 1);
  let kind = pageKind(<u32>(cursor >>> PAGE_BITS));
  if (BUDDY && kind == PAGE_BUDDY) { // a buddy page: buddy.ts describes its blocks
    let next = buddyEntry(cursor);
    if (buddyEntryState == BUDDY_ENTRY_BROKEN) return walkStop(CHECK_BUDDY_TAG, cursor);
    let used = buddyEntryState == 1;
    describe(cursor, buddyEntrySize, buddyEntryState == 2 ? STATE_METADATA : used ? STATE_IN_USE : STATE_FREE,
      LAYER_BUDDY, used ? cursor : 0, used ? <usize>buddyEntrySize : 0);
    return settle(next);
  }
  if (kind == PAGE_SLAB) {
    let span = spanOf(cursor);
    if (load<u32>(span) == SPAN_FREE_MAGIC) {
      if (cursor != span) return walkStop(CHECK_WALK_CURSOR, cursor);
      describe(span, SLAB_SPAN, STATE_FREE, LAYER_SPAN, 0, 0);
      return settle(span + SLAB_SPAN);
    }
    if (!slabHeaderOk(span)) return walkStop(CHECK_SLAB_HEADER, span);
    let first = span + slabFirst(span);
    if (cursor == span) {
      describe(span, first - span, STATE_METADATA, LAYER_SLAB_HEADER, 0, 0);
      return first;
    }
    let size = slabObjSize(span);
    let offset = cursor - first;
    // (A division, not slab.ts's reciprocal: the walk trusts no stored field it need not.)
    if (cursor < first || offset % size != 0 || offset / size >= slabCapacity(span)) return walkStop(CHECK_WALK_CURSOR, cursor);
    let index = <u32>(offset / size);
    let used = index < slabBump(span) && slabBit(span, index);
    describe(cursor, size, used ? STATE_IN_USE : STATE_FREE, LAYER_SLAB, used ? cursor : 0, used ? <usize>size : 0);
    let next = cursor + size;
    if (index + 1 >= slabCapacity(span)) next = span + SLAB_SPAN;
    return settle(next);
  }
  if (kind == PAGE_FREE || kind == PAGE_LARGE || kind == PAGE_META) {
    // Runs and the page map page are entered at their first byte only.
    if (cursor != page) return walkStop(CHECK_WALK_CURSOR, cursor);
    if (kind == PAGE_FREE) {
      let bytes = <u64>runPages(page) << PAGE_BITS;
      if (!pagesOfKind(page, <u64>page + bytes, PAGE_FREE)) return walkStop(CHECK_RUN_PAGES, page);
      describe(page, <usize>bytes, STATE_FREE, LAYER_PAGES, 0, 0);
      return settle(page + <usize>bytes);
    }
    if (kind == PAGE_LARGE) {
      let bytes = <u64>largePages(page) << PAGE_BITS;
      if (<u64>page + bytes > <u64>top) return walkStop(CHECK_LARGE, page);
      describe(page, <usize>bytes, STATE_IN_USE, LAYER_LARGE, page, <usize>bytes);
      return settle(page + <usize>bytes);
    }
    describe(page, PAGE_SIZE, STATE_METADATA, LAYER_PAGE_MAP, 0, 0);
    return settle(page + PAGE_SIZE);
  }
  // A boundary-tag block: it and the header after it lie in its segment.
  if (kind != PAGE_HEAP || (cursor & 15) != 12) return walkStop(CHECK_WALK_CURSOR, cursor);
  let h = header(cursor);
  let size = <usize>(h & ~15);
  if (size < MIN_BLOCK || !pagesOfKind(cursor, <u64>cursor + size + BLOCK_HEADER, PAGE_HEAP)) {
    return walkStop(CHECK_BLOCK_SIZE, cursor);
  }
  // The start map's block (starts.ts) is the allocator's own.
  if (cursor == startsBlock()) {
    describe(cursor, size, STATE_METADATA, LAYER_START_MAP, 0, 0);
    return settle(cursor + size);
  }
  let used = (h & (TAG_IN_USE | TAG_QUICK)) == TAG_IN_USE; // a quick block is free
  describe(cursor, size, used ? STATE_IN_USE : STATE_FREE, LAYER_MEDIUM,
    used ? cursor + BLOCK_HEADER : 0, used ? size - BLOCK_HEADER : 0);
  return settle(cursor + size);
}
