// wasm-malloc for threads: the entry of the `threads` build (build/threads.wasm).
//
// Each thread instantiates this module over one shared memory (env.memory,
// shared); module globals are the instance's own, the heap lives in the
// memory. One instance sets the heap up (heap_init), every other joins it
// (heap_attach), and each call into the heap runs under the heap's lock
// (base/lock.ts), so a block freed by any thread goes back where it belongs.
//
//   thread 1: instance ─┐
//   thread 2: instance ─┼── lock ──> heap state (per-heap part, shared part) ──> pages
//   thread n: instance ─┘            in the shared memory
//
// One lock for the whole heap: calls from different threads take turns.
// The inspection exports (walk, free lists, page map) do not take it: a host
// takes it around a whole inspection with heap_lock / heap_unlock, or inspects
// while the other threads are quiet.

import {
  malloc as heapMalloc, free as heapFree, calloc as heapCalloc, realloc as heapRealloc,
  aligned_alloc as heapAlignedAlloc, posix_memalign as heapPosixMemalign, malloc_usable_size as heapUsableSize,
  malloc_name as heapName, heap_init_with as heapInitWith, heap_check as heapCheck,
} from "./index";
import { heap, setHeap } from "./base/state";
import { heapAttach } from "./api/init";
import { lockAcquire, lockRelease, lockSetWait } from "./base/lock";

// ── The C API, under the lock ───────────────────────────────────────────────
// (Before heap_init / heap_attach there is no lock to take: the calls report
// ERR_NOT_INITIALIZED, as in the embed build.)
@inline function enter(): bool { if (heap == 0) return false; lockAcquire(); return true; }
@inline function leave(locked: bool): void { if (locked) lockRelease(); }

export function malloc(size: usize): usize {
  let locked = enter(); let p = heapMalloc(size); leave(locked); return p;
}
export function free(ptr: usize): void {
  let locked = enter(); heapFree(ptr); leave(locked);
}
export function calloc(count: usize, size: usize): usize {
  let locked = enter(); let p = heapCalloc(count, size); leave(locked); return p;
}
export function realloc(ptr: usize, size: usize): usize {
  let locked = enter(); let p = heapRealloc(ptr, size); leave(locked); return p;
}
export function aligned_alloc(align: usize, size: usize): usize {
  let locked = enter(); let p = heapAlignedAlloc(align, size); leave(locked); return p;
}
export function posix_memalign(out: usize, align: usize, size: usize): i32 {
  let locked = enter(); let status = heapPosixMemalign(out, align, size); leave(locked); return status;
}
export function malloc_usable_size(ptr: usize): usize {
  let locked = enter(); let n = heapUsableSize(ptr); leave(locked); return n;
}
export function malloc_name(ptr: usize, label: usize, length: usize): i32 {
  let locked = enter(); let status = heapName(ptr, label, length); leave(locked); return status;
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
 * Join the heap another instance set up at `base`: 0, HEAP_INIT_ALREADY (-1)
 * if this instance has a heap, HEAP_INIT_NOT_FOUND (-6) if none is there yet.
 */
export function heap_attach(base: usize): i32 { return heapAttach(base); }
/**
 * This thread is done with the heap (it exits): the instance lets go of it.
 * Its blocks stay valid, and any thread may free them. 0; -1 if it had none.
 */
export function heap_detach(): i32 {
  if (heap == 0) return -1;
  setHeap(0);
  return 0;
}
/** 0 if may sleep on the lock (the default), else spin: a browser's main thread passes 0. */
export function heap_set_wait(allowed: u32): void { lockSetWait(allowed != 0); }
/** Hold the heap's lock (for a whole inspection), and let it go. Calls into the heap from this instance in between would wait forever. */
export function heap_lock(): void { if (heap != 0) lockAcquire(); }
export function heap_unlock(): void { if (heap != 0) lockRelease(); }

/** The heap check, under the lock: 0 = every invariant holds, else a CHECK_* code. */
export function heap_check(): u32 {
  let locked = enter(); let code = heapCheck(); leave(locked); return code;
}

// ── Inspection (no lock: see above) ─────────────────────────────────────────
export {
  heap_configure, heap_set_quarantine, heap_start, heap_base, heap_top, heap_policy, heap_options, heap_max_pages,
  heap_base_page, heap_stat, heap_check_address, page_kind, walk_first, walk_end, walk_entry, free_list_count,
  free_list_head, free_block_next, free_block_prev, free_block_size, free_list_next, quick_list_next, quick_list_head,
  walk_address, walk_payload, walk_size, walk_usable, walk_state, walk_layer, walk_error, walk_error_address,
} from "./index";
export { __heap_base };
