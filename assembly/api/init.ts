// Setting up a heap: where it lives, its policy, options and memory limit.
//
// The standalone builds call `heapEnsure()` at the top of every entry point:
// the first call sets the heap up at `__heap_base` with the defaults, so
// instantiating the module neither touches nor grows memory. `heap_configure`
// may choose the policy, options and limit before that first allocation.
// `heap_init` (embed builds) says where the heap goes in a memory shared with
// other modules; `heapInit` checks the request (range, room, a heap already
// there) before anything is written, and answers with a HEAP_INIT_* code.

import {
  PAGE_SIZE, PAGE_BITS, PAGE_HEAP, POLICY_COUNT, POLICY_DEFAULT, SEGMENT_PROLOGUE, SEGMENT_EPILOGUE, MIN_BLOCK,
  MAX_MEMORY_PAGES, EMBED, LINK, CHECKED, QUARANTINE_DEFAULT, THREADS,
} from "../base/constants";
import { linkHeapAt, linkPolicy, linkOptions, linkMaxBytes } from "../base/link-config";
import {
  heap, setHeap, setShared, HEAP_MAGIC, SHARED_AT, S_MAGIC, H_POLICY, H_OPTIONS, S_MAX_PAGES, S_TOP, S_BASE_PAGE,
  S_PAGE_MAP, S_PAGE_MAP_CAP, S_INLINE_MAP, INLINE_MAP_ENTRIES, H_QUARANTINE_LIMIT,
} from "../base/state";
import { report, ERR_NOT_INITIALIZED, REASON_NONE, OP_MALLOC } from "../base/report";
import { setPageKinds } from "../pages/pagemap";
import { pagesRelease, pagesAllowGrowth, pagesThreadsSetUp, GROWTH_NONE } from "../pages/pages";
import { heapsFirst, heapsJoin } from "./heaps";
import { segmentInit } from "../blocks/medium";
import { HEAP_STATE_SIZE, SEGMENT0_RESERVED, engineSetUp, engineSegment0Ready } from "../engines/engine";


// ── heap_init's answers ─────────────────────────────────────────────────────
// Exported as HEAP_INIT_* globals; include/wasm_malloc.h lists them for C.
// Every failure changes nothing: neither memory nor the instance.
export const HEAP_INIT_OK: i32 = 0;
/** This instance has set its heap up already (one heap per instance). */
export const HEAP_INIT_ALREADY: i32 = -1;
/** heap_init_with / heap_configure: no such placement policy. */
export const HEAP_INIT_BAD_POLICY: i32 = -2;
/** The heap state and a first segment (about 4.7 KiB) do not fit below the limit (rounded down to a page), below 4 GiB - 64 KiB, or in the memory it could grow to. */
export const HEAP_INIT_NO_ROOM: i32 = -3;
/** limit != 0 and limit <= base: an empty range. */
export const HEAP_INIT_BAD_RANGE: i32 = -4;
/** The memory at base already holds a heap: another allocator instance's (give each one a disjoint range). */
export const HEAP_INIT_IN_USE: i32 = -5;
/** heap_attach (threads build): no heap has been set up at base (heap_init it first, from one instance). */
export const HEAP_INIT_NOT_FOUND: i32 = -6;
/** heap_attach (threads build): MAX_HEAPS heaps are attached already (api/heaps.ts). */
export const HEAP_INIT_TOO_MANY: i32 = -7;

/** Where a heap asked for at `base` starts: 16-aligned up, and never at 0 (the null pointer: a heap at 0 would read as no heap). */
@inline function heapAddress(base: usize): u64 {
  let at = (<u64>base + 15) & ~<u64>15;
  return at < 16 ? 16 : at;
}

/**
 * Does the memory at `at` hold a heap already? The magic word, and the base
 * page the state records agrees with where it is. Reads only memory that
 * exists.
 */
function heapFoundAt(at: u64): bool {
  if (at + HEAP_STATE_SIZE > (<u64>memory.size() << PAGE_BITS)) return false;
  let state = <usize>at + SHARED_AT;
  // (Threads: the magic is stored last, atomically; read so, the rest of the state is then complete.)
  let magic = THREADS ? atomic.load<u32>(state + S_MAGIC) : load<u32>(state, S_MAGIC);
  return magic == HEAP_MAGIC && load<u32>(state, S_BASE_PAGE) == <u32>(at >> PAGE_BITS);
}

/**
 * heap_init, heap_init_with and heap_configure: check the request against
 * this instance and the memory, then set the heap up. A HEAP_INIT_* code.
 * `limit` is the address the heap may not grow past (0: none).
 */
export function heapInit(base: usize, limit: u64, policy: u32, options: u32): i32 {
  if (heap != 0) return HEAP_INIT_ALREADY;
  if (policy >= POLICY_COUNT) return HEAP_INIT_BAD_POLICY;
  if (limit != 0 && limit <= <u64>base) return HEAP_INIT_BAD_RANGE;
  if (heapFoundAt(heapAddress(base))) return HEAP_INIT_IN_USE;
  return heapSetup(base, policy, options, limit) ? HEAP_INIT_OK : HEAP_INIT_NO_ROOM;
}

/**
 * Set up a heap whose state starts at `base` (16-aligned up; 16 for a base
 * below that), managing memory from there on. `maxBytes` (0: no limit but
 * wasm32's 4 GiB) caps growth. Returns false, having changed nothing, if the
 * limit or the memory cannot hold even the first page.
 */
export function heapSetup(base: usize, policy: u32, options: u32, maxBytes: u64): bool {
  let start = heapAddress(base);
  let limitPages: u32 = MAX_MEMORY_PAGES;
  if (maxBytes != 0 && maxBytes < (<u64>MAX_MEMORY_PAGES << PAGE_BITS)) limitPages = <u32>(maxBytes >> PAGE_BITS);
  // The state, then a first segment holding at least a few blocks (in 64
  // bits: a base near 4 GiB must fail here, not wrap around).
  // The first segment holds what the engine keeps there (the first start map) too.
  let needEnd: u64 = start + HEAP_STATE_SIZE + SEGMENT_PROLOGUE + SEGMENT0_RESERVED + 4 * MIN_BLOCK + SEGMENT_EPILOGUE;
  if (needEnd > (<u64>limitPages << PAGE_BITS)) return false;
  let needPages = <u32>((needEnd + PAGE_SIZE - 1) >> PAGE_BITS);
  let current = <u32>memory.size();
  if (current < needPages && memory.grow(<i32>(needPages - current)) < 0) return false;
  current = <u32>memory.size();
  // This heap's part, then the shared part, in one block (base/state.ts).
  let at = <usize>start;
  let sh = at + SHARED_AT;
  setHeap(at);
  if (THREADS) setShared(sh);
  memory.fill(at, 0, HEAP_STATE_SIZE);
  store<u32>(at, policy < POLICY_COUNT ? policy : POLICY_DEFAULT, H_POLICY);
  store<u32>(at, options, H_OPTIONS);
  store<u32>(sh, limitPages, S_MAX_PAGES);
  let basePage = <u32>(at >>> PAGE_BITS);
  store<u32>(sh, basePage, S_BASE_PAGE);
  store<u32>(sh, <u32>(sh + S_INLINE_MAP), S_PAGE_MAP);
  store<u32>(sh, INLINE_MAP_ENTRIES, S_PAGE_MAP_CAP);
  engineSetUp();
  pagesAllowGrowth(GROWTH_NONE); // (no allocation is in progress: the engine decides when memory may grow)
  if (CHECKED) store<u32>(at, QUARANTINE_DEFAULT, H_QUARANTINE_LIMIT);
  // Segment 0 fills the pages after the state; any memory already beyond
  // them becomes a free run.
  let segmentStart = at + HEAP_STATE_SIZE;
  let segmentEnd = <usize>needPages << PAGE_BITS;
  store<u32>(sh, <u32>segmentEnd, S_TOP);
  if (THREADS) heapsFirst(); // (heap 1: its index goes into its pages' map entries)
  setPageKinds(basePage, needPages - basePage, PAGE_HEAP);
  segmentInit(segmentStart, segmentEnd);
  // Memory present beyond what we asked for (an embedder's initial pages),
  // up to the limit, becomes a free run.
  if (current > limitPages) current = limitPages;
  if (current > needPages) {
    if (current - basePage > INLINE_MAP_ENTRIES) current = basePage + INLINE_MAP_ENTRIES;
    store<u32>(sh, current << PAGE_BITS, S_TOP);
    pagesRelease(segmentEnd, current - needPages);
  }
  // (Room was made above for what the engine puts in segment 0.)
  if (!engineSegment0Ready()) { setHeap(0); return false; }
  // Threads build: the page map and the start map in pages of their own, never moved.
  if (THREADS && !pagesThreadsSetUp()) { setHeap(0); return false; }
  if (THREADS) atomic.store<u32>(sh + S_MAGIC, HEAP_MAGIC);
  else store<u32>(sh, HEAP_MAGIC, S_MAGIC);
  return true;
}

/**
 * heap_attach (threads build): join the heaps another instance set up at
 * `base` over this shared memory, with a heap of this thread's own
 * (api/heaps.ts). A HEAP_INIT_* code; the instance is unchanged on failure.
 */
export function heapAttach(base: usize): i32 {
  if (heap != 0) return HEAP_INIT_ALREADY;
  let at = heapAddress(base);
  if (!heapFoundAt(at)) return HEAP_INIT_NOT_FOUND;
  setShared(<usize>at + SHARED_AT);
  let code = heapsJoin();
  if (code != HEAP_INIT_OK) setShared(0);
  return code;
}

/**
 * Set the heap up with the defaults if nothing has yet. The embed build
 * never guesses where its heap may go: it reports ERR_NOT_INITIALIZED until
 * heap_init is called, and the call fails (returns 0 / does nothing). The
 * link build sets it up where, and as, the linker's config says (above the
 * program's data and the scratch area; base/link-config.ts); if that cannot
 * hold it (a --max-memory too small), every call fails as out of memory.
 */
@inline export function heapEnsure(): bool {
  if (heap != 0) return true;
  if (EMBED) { report(ERR_NOT_INITIALIZED, REASON_NONE, OP_MALLOC, 0, 0, 0); return false; }
  if (LINK) return heapSetup(linkHeapAt, linkPolicy, linkOptions, linkMaxBytes);
  return heapSetup(__heap_base, POLICY_DEFAULT, 0, 0);
}
