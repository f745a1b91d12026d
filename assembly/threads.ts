// wasm-malloc for threads: the entry of the `threads` build (build/threads.wasm).
//
// Each thread instantiates this module over one shared memory (env.memory,
// shared); module globals are the instance's own, the heaps live in the
// memory. One instance sets the memory up (heap_init, with heap 1), every
// other joins it with a heap of its own (heap_attach; api/heaps.ts):
//
//   thread 1: instance ── heap 1 ─┐  no lock: its own slab spans, quick lists,
//   thread 2: instance ── heap 2 ─┤  segments, counters
//   thread n: instance ── heap n ─┘
//                  │ pages, large runs, growth: under the page layer's lock (base/lock.ts)
//                  ▼
//   shared memory: page map (each page's kind and owning heap), start map, free page runs
//
// A call on this thread's own blocks runs as in a single thread. A block of
// another heap is claimed and handed to its owner (api/remote.ts), which
// takes it back at its next malloc. Large runs and pages no heap owns are
// the page layer's: those calls hold its lock.
//
// The inspection exports read the memory without a lock: walk and check
// while the other threads are quiet, or hold heap_lock around them (which
// keeps pages from moving between heaps, not blocks within one).

import {
  free as heapFree, calloc as heapCalloc, realloc as heapRealloc,
  aligned_alloc as heapAlignedAlloc, posix_memalign as heapPosixMemalign, malloc_usable_size as heapUsableSize,
  malloc_name as heapName, heap_init_with as heapInitWith,
} from "./index";
import { PAGE_BITS, PAGE_HEAP, PAGE_SLAB, ALIGN_MASK } from "./base/constants";
import { heap, heapAt, setHeap, statGet, H_INDEX, MAX_HEAPS, STAT_COUNT } from "./base/state";
import { heapAttach } from "./api/init";
import { cMalloc } from "./api/calls";
import { freeFast } from "./engines/engine";
import { heapsLeave } from "./api/heaps";
import { remoteFree, remoteRealloc, remoteUsable, inboxWaiting, drainInbox, drainAbandoned } from "./api/remote";
import { lockAcquire, lockRelease, lockSetWait, pagesLock, pagesUnlock } from "./base/lock";
import { pageEntry, OWNER_SHIFT } from "./pages/pagemap";
import { heapCheck } from "./inspect/check";
import { OP_USABLE_SIZE, OP_NAME, wasm_malloc_named } from "./base/report";

/** Where a pointer's block belongs (whereOf). */
const MINE: u32 = 0;      // this heap's page (or no heap yet: the C API reports it)
const REMOTE: u32 = 1;    // another heap's boundary-tag or slab page: `whereKind`, `whereIndex`
const SHARED: u32 = 2;    // a page no heap owns (large runs, free pages, ...): under the page lock
let whereKind: u8 = 0;
let whereIndex: u32 = 0;

@inline function whereOf(ptr: usize): u32 {
  if (heap == 0) return MINE;
  let entry = <u32>pageEntry(<u32>(ptr >>> PAGE_BITS));
  let kind = <u8>(entry & 7);
  if (kind != PAGE_HEAP && kind != PAGE_SLAB) return SHARED;
  let index = entry >> OWNER_SHIFT;
  // (A misaligned pointer goes to this heap's checks, which report it.)
  if (index == load<u32>(heap, H_INDEX) || (ptr & ALIGN_MASK) != 0) return MINE;
  whereKind = kind;
  whereIndex = index;
  return REMOTE;
}

/** Take back blocks other threads freed into this heap, if any wait (one atomic load when none do). */
@inline function takeInbox(): void { if (heap != 0 && inboxWaiting()) drainInbox(); }

// ── The C API ───────────────────────────────────────────────────────────────
// (The C functions directly, not index.ts's exports: this build has no
// operation log, and a call fewer is a few instructions of each operation.)
export function malloc(size: usize): usize {
  takeInbox();
  return cMalloc(size);
}
export function free(ptr: usize): void {
  // A live block of this heap first: the engine's fast path reads the page
  // entry once, and owner and liveness are settled together.
  if (heap != 0 && ptr != 0 && (ptr & ALIGN_MASK) == 0 && freeFast(ptr)) return;
  let where = whereOf(ptr);
  if (where == MINE) heapFree(ptr);
  else if (where == REMOTE) remoteFree(ptr, whereKind, whereIndex);
  else { pagesLock(); heapFree(ptr); pagesUnlock(); }
}
export function calloc(count: usize, size: usize): usize {
  takeInbox();
  return heapCalloc(count, size);
}
export function realloc(ptr: usize, size: usize): usize {
  takeInbox();
  let where = ptr == 0 ? MINE : whereOf(ptr);
  if (where == MINE) return heapRealloc(ptr, size);
  if (where == REMOTE) return remoteRealloc(ptr, size, whereKind, whereIndex);
  pagesLock(); let p = heapRealloc(ptr, size); pagesUnlock(); return p;
}
export function aligned_alloc(align: usize, size: usize): usize {
  takeInbox();
  return heapAlignedAlloc(align, size);
}
export function posix_memalign(out: usize, align: usize, size: usize): i32 {
  takeInbox();
  return heapPosixMemalign(out, align, size);
}
export function malloc_usable_size(ptr: usize): usize {
  let where = ptr == 0 ? MINE : whereOf(ptr);
  if (where == MINE) return heapUsableSize(ptr);
  if (where == REMOTE) return remoteUsable(ptr, whereKind, OP_USABLE_SIZE);
  pagesLock(); let n = heapUsableSize(ptr); pagesUnlock(); return n;
}
export function malloc_name(ptr: usize, label: usize, length: usize): i32 {
  let where = ptr == 0 ? MINE : whereOf(ptr);
  if (where == MINE) return heapName(ptr, label, length);
  if (where == REMOTE) {
    if (remoteUsable(ptr, whereKind, OP_NAME) == 0) return -1;
    wasm_malloc_named(ptr, label, length);
    return 0;
  }
  pagesLock(); let status = heapName(ptr, label, length); pagesUnlock(); return status;
}

// ── Set-up ──────────────────────────────────────────────────────────────────
/**
 * Set the shared heap up at `base` (one instance, once, before any other
 * attaches); `limit`: the address it may not grow past (0: none). 0, or a
 * HEAP_INIT_* code (index.ts, heap_init).
 */
export function heap_init(base: usize, limit: usize): i32 { return heapInitWith(base, limit, 4, 0); }
/** heap_init with a placement policy (POLICY_*) and options (OPTION_* bits). */
export function heap_init_with(base: usize, limit: usize, policy: u32, options: u32): i32 {
  return heapInitWith(base, limit, policy, options);
}
/**
 * Join the memory another instance set up at `base`, with a heap of this
 * thread's own: 0, HEAP_INIT_ALREADY (-1) if this instance has a heap,
 * HEAP_INIT_NO_ROOM (-3) if no page holds a new heap, HEAP_INIT_NOT_FOUND
 * (-6) if none is set up there yet, HEAP_INIT_TOO_MANY (-7) if 31 heaps are
 * attached already.
 */
export function heap_attach(base: usize): i32 {
  let code = heapAttach(base);
  if (code == 0) drainInbox(); // (a heap taken over: blocks freed into it since)
  return code;
}
/**
 * This thread is done (it exits): its heap is left, with its blocks, for the
 * next thread that attaches. The blocks stay valid, and any thread may free
 * them. 0; -1 if the instance had no heap.
 */
export function heap_detach(): i32 {
  if (heap == 0) return -1;
  drainInbox();
  // A block pushed after that, while the heap still looked attached, is taken back here.
  drainAbandoned(heapsLeave());
  return 0;
}
/** 0 if may sleep on the lock (the default), else spin: a browser's main thread passes 0. */
export function heap_set_wait(allowed: u32): void { lockSetWait(allowed != 0); }
/**
 * Hold the page layer's lock (around a whole inspection), and let it go: no
 * page changes hands meanwhile. Calls from this instance in between that
 * need pages would wait forever.
 */
export function heap_lock(): void { if (heap != 0) lockAcquire(); }
export function heap_unlock(): void { if (heap != 0) lockRelease(); }

/**
 * The heap check over every heap, while the other threads are quiet: blocks
 * waiting in any heap's inbox are taken back first (each heap's own, as its
 * thread would), then every invariant of every heap and of the shared state
 * is checked. 0, or a CHECK_* code.
 */
export function heap_check(): u32 {
  if (heap == 0) return 0;
  pagesLock();
  let own = heap;
  for (let i: u32 = 1; i <= MAX_HEAPS; i++) {
    let at = heapAt(i);
    if (at == 0) continue;
    setHeap(at);
    drainInbox();
  }
  setHeap(own);
  let code = heapCheck();
  pagesUnlock();
  return code;
}

/** Statistic `id` (as heap_stat) summed over every heap of the memory; read while the other threads are quiet. */
export function heap_stat_all(id: u32): f64 {
  if (heap == 0 || id >= STAT_COUNT) return 0;
  let own = heap;
  let sum: u64 = 0;
  for (let i: u32 = 1; i <= MAX_HEAPS; i++) {
    let at = heapAt(i);
    if (at == 0) continue;
    setHeap(at);
    sum += statGet(id);
  }
  setHeap(own);
  return <f64>sum;
}

/** Heaps the memory holds (attached or left by a thread that detached). */
export function heap_count(): u32 {
  if (heap == 0) return 0;
  let n: u32 = 0;
  for (let i: u32 = 1; i <= MAX_HEAPS; i++) if (heapAt(i) != 0) n++;
  return n;
}

/** The index of this thread's heap (1 … 31; the owner the walk names), 0 without one. */
export function heap_index(): u32 { return heap == 0 ? 0 : load<u32>(heap, H_INDEX); }

// ── Inspection (no lock: see above) ─────────────────────────────────────────
export { walk_owner } from "./inspect/walk";
export {
  heap_configure, heap_set_quarantine, heap_start, heap_base, heap_top, heap_policy, heap_options, heap_max_pages,
  heap_base_page, heap_stat, heap_check_address, page_kind, walk_first, walk_end, walk_entry, free_list_count,
  free_list_head, free_block_next, free_block_prev, free_block_size, free_list_next, quick_list_next, quick_list_head,
  walk_address, walk_payload, walk_size, walk_usable, walk_state, walk_layer, walk_error, walk_error_address,
} from "./index";
export { __heap_base };
