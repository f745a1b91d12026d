// Walking the heap for inspection: every block of every layer, in address order.
//
// The host calls `walkEntry(cursor)` from `walkFirst()` until the cursor
// reaches `walkEnd()`; each call describes one entry in the walk_* globals
// and returns the next cursor. Entries tile the heap except the 12-byte
// segment prologues, 4-byte epilogues and slab page tails, which belong to
// no entry.

import {
  PAGE_SIZE, PAGE_BITS, PAGE_FREE, PAGE_HEAP, PAGE_SLAB, PAGE_LARGE, PAGE_META,
  SEGMENT_PROLOGUE, SEGMENT_EPILOGUE, BLOCK_HEADER, TAG_IN_USE, TAG_QUICK,
} from "./constants";
import { heap, H_TOP, H_SEGMENT0 } from "./state";
import { pageKind } from "./pagemap";
import { header } from "./block";
import { runPages } from "./pages";
import { slabFirst, slabObjSize, slabCapacity, slabBump, slabBit, slabIndex } from "./slab";
import { largePages } from "./large";
import { startsBlock } from "./starts";
// buddy hook (WASM_MALLOC_BUDDY builds only)
import { BUDDY, PAGE_BUDDY } from "./constants";
import { buddyEntry, buddyEntrySize, buddyEntryState } from "./buddy";

export const LAYER_STATE: u32 = 0;     // the heap structure (and inline page map)
export const LAYER_MEDIUM: u32 = 1;    // a boundary-tag block
export const LAYER_SLAB: u32 = 2;      // a slab slot
export const LAYER_LARGE: u32 = 3;     // a large run
export const LAYER_PAGES: u32 = 4;     // a free page run
export const LAYER_PAGE_MAP: u32 = 5;  // the page holding the relocated page map
export const LAYER_SLAB_HEADER: u32 = 6; // a slab page's header and bitmap
export const LAYER_BUDDY: u32 = 7;     // buddy build: a buddy block, or a buddy page's bitmaps (metadata)
export const LAYER_START_MAP: u32 = 8; // the start map's boundary-tag block (starts.ts)

export const STATE_FREE: u32 = 0;
export const STATE_IN_USE: u32 = 1;
export const STATE_METADATA: u32 = 2;

export let walk_address: usize = 0;  // where the entry's memory starts
export let walk_payload: usize = 0;  // the pointer malloc returned (0 if not allocated)
export let walk_size: usize = 0;     // bytes the entry spans
export let walk_usable: usize = 0;   // bytes the owner may use (allocations only)
export let walk_state: u32 = 0;
export let walk_layer: u32 = 0;

function describe(address: usize, size: usize, state: u32, layer: u32, payload: usize, usable: usize): void {
  walk_address = address; walk_size = size; walk_state = state; walk_layer = layer;
  walk_payload = payload; walk_usable = usable;
}

export function walkFirst(): usize { return heap; }
export function walkEnd(): usize { return heap == 0 ? 0 : <usize>load<u32>(heap, H_TOP); }

/** Skip prologues/epilogues/foreign pages to the next describable address. */
function settle(at: usize): usize {
  let top: usize = load<u32>(heap, H_TOP);
  while (at < top) {
    if ((at & (PAGE_SIZE - 1)) != 0) {
      let kind = pageKind(<u32>(at >>> PAGE_BITS));
      if (kind == PAGE_HEAP && (header(at) & ~15) == 0) { at += SEGMENT_EPILOGUE; continue; }
      return at;
    }
    let kind = pageKind(<u32>(at >>> PAGE_BITS));
    if (kind == PAGE_HEAP) {
      // Blocks start at 12 mod 16, so a page boundary in a segment is
      // always a segment start, with its prologue.
      return at + SEGMENT_PROLOGUE;
    }
    if (kind == PAGE_FREE || kind == PAGE_SLAB || kind == PAGE_LARGE || kind == PAGE_META) return at;
    if (BUDDY && kind == PAGE_BUDDY) return at; // buddy hook
    at += PAGE_SIZE; // foreign page
  }
  return top;
}

/** Describe the entry at `cursor`; returns the cursor after it. */
export function walkEntry(cursor: usize): usize {
  if (cursor == heap) {
    let seg0: usize = load<u32>(heap, H_SEGMENT0);
    describe(heap, seg0 - heap, STATE_METADATA, LAYER_STATE, 0, 0);
    return settle(seg0 + SEGMENT_PROLOGUE);
  }
  let page = cursor & ~<usize>(PAGE_SIZE - 1);
  let kind = pageKind(<u32>(cursor >>> PAGE_BITS));
  if (BUDDY && kind == PAGE_BUDDY) { // buddy hook
    let next = buddyEntry(cursor);
    let used = buddyEntryState == 1;
    describe(cursor, buddyEntrySize, buddyEntryState == 2 ? STATE_METADATA : used ? STATE_IN_USE : STATE_FREE,
      LAYER_BUDDY, used ? cursor : 0, used ? <usize>buddyEntrySize : 0);
    return settle(next);
  }
  if (kind == PAGE_SLAB) {
    let first = page + slabFirst(page);
    if (cursor == page) {
      describe(page, first - page, STATE_METADATA, LAYER_SLAB_HEADER, 0, 0);
      return first;
    }
    let size = slabObjSize(page);
    let index = slabIndex(page, <u32>(cursor - first));
    let used = index < slabBump(page) && slabBit(page, index);
    describe(cursor, size, used ? STATE_IN_USE : STATE_FREE, LAYER_SLAB, used ? cursor : 0, used ? <usize>size : 0);
    let next = cursor + size;
    if (index + 1 >= slabCapacity(page)) next = page + PAGE_SIZE;
    return settle(next);
  }
  if (cursor == page) {
    if (kind == PAGE_FREE) {
      let bytes = <usize>runPages(page) << PAGE_BITS;
      describe(page, bytes, STATE_FREE, LAYER_PAGES, 0, 0);
      return settle(page + bytes);
    }
    if (kind == PAGE_LARGE) {
      let bytes = <usize>largePages(page) << PAGE_BITS;
      describe(page, bytes, STATE_IN_USE, LAYER_LARGE, page, bytes);
      return settle(page + bytes);
    }
    if (kind == PAGE_META) {
      describe(page, PAGE_SIZE, STATE_METADATA, LAYER_PAGE_MAP, 0, 0);
      return settle(page + PAGE_SIZE);
    }
  }
  // A boundary-tag block (or the start map's, which is the allocator's own).
  let h = header(cursor);
  let size = <usize>(h & ~15);
  if (cursor == startsBlock()) {
    describe(cursor, size, STATE_METADATA, LAYER_START_MAP, 0, 0);
    return settle(cursor + size);
  }
  let used = (h & (TAG_IN_USE | TAG_QUICK)) == TAG_IN_USE; // a quick block is free
  describe(cursor, size, used ? STATE_IN_USE : STATE_FREE, LAYER_MEDIUM,
    used ? cursor + BLOCK_HEADER : 0, used ? size - BLOCK_HEADER : 0);
  return settle(cursor + size);
}
