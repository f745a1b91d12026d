// Setting up a heap: where it lives, its policy, options and memory limit.
//
// The standalone builds call `heapEnsure()` at the top of every entry point:
// the first call sets the heap up at `__heap_base` with the defaults, so
// instantiating the module neither touches nor grows memory. `heap_configure`
// may choose the policy, options and limit before that first allocation.

import {
  PAGE_SIZE, PAGE_BITS, PAGE_HEAP, POLICY_COUNT, POLICY_DEFAULT,
  SEGMENT_PROLOGUE, SEGMENT_EPILOGUE, MIN_BLOCK,
} from "./constants";
import {
  heap, setHeap, HEAP_MAGIC, HEAP_STATE_SIZE, H_INITIALIZED, H_POLICY, H_OPTIONS,
  H_MAX_PAGES, H_TOP, H_BASE_PAGE, H_PAGE_MAP, H_PAGE_MAP_CAP, H_INLINE_MAP,
  INLINE_MAP_ENTRIES,
} from "./state";
import { setPageKinds } from "./pagemap";
import { pagesRelease } from "./pages";
import { segmentInit, mediumStartsInit } from "./medium";
import { slabInit } from "./slab";
import { report, ERR_NOT_INITIALIZED, REASON_NONE, OP_MALLOC } from "./report";
import { EMBED, CHECKED } from "./constants";
import { QUARANTINE_DEFAULT } from "./guard";
import { H_QUARANTINE_LIMIT, H_QUICK_ON } from "./state";
import { quickListsFor } from "./quick";
// buddy hook (WASM_MALLOC_BUDDY builds only)
import { BUDDY } from "./constants";
import { H_BUDDY } from "./state";
import { buddyInit } from "./buddy";

/** Pages the heap may span at most (4 GiB less one page). */
const MAX_MEMORY_PAGES: u32 = 65535; // keeps every address, top included, in a u32

/**
 * Set up a heap whose state starts at `base` (16-aligned up), managing memory
 * from there on. `maxBytes` (0: no limit but wasm32's 4 GiB) caps growth.
 * Returns false if the memory cannot hold even the first page.
 */
export function heapSetup(base: usize, policy: u32, options: u32, maxBytes: u64): bool {
  let at = (base + 15) & ~<usize>15;
  let limitPages: u32 = MAX_MEMORY_PAGES;
  if (maxBytes != 0 && maxBytes < (<u64>MAX_MEMORY_PAGES << PAGE_BITS)) limitPages = <u32>(maxBytes >> PAGE_BITS);
  // The state, then a first segment holding at least a few blocks.
  let needEnd = at + HEAP_STATE_SIZE + SEGMENT_PROLOGUE + 4 * MIN_BLOCK + SEGMENT_EPILOGUE;
  let needPages = <u32>((needEnd + PAGE_SIZE - 1) >>> PAGE_BITS);
  let current = <u32>memory.size();
  if (needPages > limitPages) return false;
  if (current < needPages && memory.grow(<i32>(needPages - current)) < 0) return false;
  current = <u32>memory.size();
  setHeap(at);
  memory.fill(at, 0, HEAP_STATE_SIZE);
  store<u32>(at, policy < POLICY_COUNT ? policy : POLICY_DEFAULT, H_POLICY);
  store<u32>(at, options, H_OPTIONS);
  store<u32>(at, quickListsFor(load<u32>(at, H_POLICY), options) ? 1 : 0, H_QUICK_ON);
  store<u32>(at, limitPages, H_MAX_PAGES);
  let basePage = <u32>(at >>> PAGE_BITS);
  store<u32>(at, basePage, H_BASE_PAGE);
  store<u32>(at, <u32>(at + H_INLINE_MAP), H_PAGE_MAP);
  store<u32>(at, INLINE_MAP_ENTRIES, H_PAGE_MAP_CAP);
  slabInit();
  if (BUDDY) buddyInit(at + H_BUDDY); // buddy hook
  if (CHECKED) store<u32>(at, QUARANTINE_DEFAULT, H_QUARANTINE_LIMIT);
  // Segment 0 fills the pages after the state; any memory already beyond
  // them becomes a free run.
  let segmentStart = at + HEAP_STATE_SIZE;
  let segmentEnd = <usize>needPages << PAGE_BITS;
  store<u32>(at, <u32>segmentEnd, H_TOP);
  setPageKinds(basePage, needPages - basePage, PAGE_HEAP);
  segmentInit(segmentStart, segmentEnd);
  // Memory present beyond what we asked for (an embedder's initial pages),
  // up to the limit, becomes a free run.
  if (current > limitPages) current = limitPages;
  if (current > needPages) {
    if (current - basePage > INLINE_MAP_ENTRIES) current = basePage + INLINE_MAP_ENTRIES;
    store<u32>(at, current << PAGE_BITS, H_TOP);
    pagesRelease(segmentEnd, current - needPages);
  }
  // The start map (starts.ts) comes first in segment 0, below every block.
  if (!BUDDY && !mediumStartsInit()) return false;
  store<u32>(at, HEAP_MAGIC, H_INITIALIZED);
  return true;
}

/**
 * Set the heap up with the defaults if nothing has yet. The embed build
 * never guesses where its heap may go: it reports ERR_NOT_INITIALIZED until
 * heap_init is called, and the call fails (returns 0 / does nothing).
 */
@inline export function heapEnsure(): bool {
  if (heap != 0) return true;
  if (EMBED) { report(ERR_NOT_INITIALIZED, REASON_NONE, OP_MALLOC, 0, 0, 0); return false; }
  return heapSetup(__heap_base, POLICY_DEFAULT, 0, 0);
}
