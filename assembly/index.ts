// wasm-malloc: the module's exports.
//
// The C API (exact C semantics, wasm32 pointers), the set-up calls, and the
// inspection exports the host library reads. The layout constants are not
// exported here: layout.ts describes them once for the host and the C header.

import { cMalloc, cFree, cCalloc, cRealloc, cAlignedAlloc, cPosixMemalign, cMallocUsableSize, cName } from "./api/calls";
import {
  checkedMalloc, checkedFree, checkedCalloc, checkedRealloc, checkedAlignedAlloc, checkedPosixMemalign,
  checkedUsableSize, checkedName,
} from "./api/checked";
import {
  traceOp, beginCall, rejected, OP_MALLOC, OP_FREE, OP_CALLOC, OP_REALLOC, OP_ALIGNED_ALLOC,
} from "./base/report";
import { heapInit } from "./api/init";
import { shared, heap, statGet, STAT_COUNT, S_TOP, H_POLICY, H_OPTIONS, S_BASE_PAGE, S_MAX_PAGES } from "./base/state";
import { heapCheck, checkAddress, checkFailed } from "./inspect/check";
import { guardSetQuarantine, guardCheck, guardCheckAddress } from "./api/guard";
import { walkFirst, walkEnd, walkEntry } from "./inspect/walk";
import { pageKind } from "./pages/pagemap";
import { listCount, listHead } from "./blocks/freelists";
import { linkNext, linkPrev, blockSize } from "./blocks/block";
import { POLICY_COUNT, POLICY_SEGREGATED, QUICK_MAX, CHECKED as IS_CHECKED } from "./base/constants";
import { quickHead } from "./blocks/quick";
import { freeListNext, quickListNext } from "./inspect/lists";

// ── The C API ───────────────────────────────────────────────────────────────
// The checked build wraps every call in its guard layer (api/checked.ts);
// the traced and checked builds log each successful call (traceOp compiles
// to nothing in the release build).
export function malloc(size: usize): usize {
  let ptr = IS_CHECKED ? checkedMalloc(size) : cMalloc(size);
  if (ptr) traceOp(OP_MALLOC, size, 0, ptr);
  return ptr;
}
export function free(ptr: usize): void {
  beginCall();
  if (IS_CHECKED) checkedFree(ptr);
  else cFree(ptr);
  if (ptr && !rejected) traceOp(OP_FREE, ptr, 0, 0);
}
export function calloc(count: usize, size: usize): usize {
  let ptr = IS_CHECKED ? checkedCalloc(count, size) : cCalloc(count, size);
  if (ptr) traceOp(OP_CALLOC, count, size, ptr);
  return ptr;
}
export function realloc(ptr: usize, size: usize): usize {
  beginCall();
  let result = IS_CHECKED ? checkedRealloc(ptr, size) : cRealloc(ptr, size);
  if (!rejected && (result != 0 || (ptr != 0 && size == 0))) traceOp(OP_REALLOC, ptr, size, result);
  return result;
}
export function aligned_alloc(align: usize, size: usize): usize {
  let ptr = IS_CHECKED ? checkedAlignedAlloc(align, size) : cAlignedAlloc(align, size);
  if (ptr) traceOp(OP_ALIGNED_ALLOC, align, size, ptr);
  return ptr;
}
export function posix_memalign(out: usize, align: usize, size: usize): i32 {
  let status = IS_CHECKED ? checkedPosixMemalign(out, align, size) : cPosixMemalign(out, align, size);
  if (status == 0) traceOp(OP_ALIGNED_ALLOC, align, size, load<u32>(out));
  return status;
}
export function malloc_usable_size(ptr: usize): usize { return IS_CHECKED ? checkedUsableSize(ptr) : cMallocUsableSize(ptr); }

/**
 * Name the live block at `ptr` with the `length` UTF-8 bytes at `label` (for
 * inspection: walks, dumps, error messages). Returns 0, or -1 if `ptr` is
 * not a live block (reported like an invalid free).
 */
export function malloc_name(ptr: usize, label: usize, length: usize): i32 {
  return IS_CHECKED ? checkedName(ptr, label, length) : cName(ptr, label, length);
}

// ── Set-up ──────────────────────────────────────────────────────────────────
// Each returns a HEAP_INIT_* code (init.ts): 0, or a negative code, having
// changed nothing.
/**
 * Choose the placement policy (POLICY_*), options (OPTION_* bits) and memory
 * limit in bytes (0: none) before the first allocation; sets the heap up at
 * `__heap_base`. Returns 0, HEAP_INIT_ALREADY (-1) if the heap is already set
 * up, HEAP_INIT_BAD_POLICY (-2), HEAP_INIT_NO_ROOM (-3) if the limit or the
 * memory cannot hold the heap, HEAP_INIT_BAD_RANGE (-4) for a limit at or
 * below `__heap_base`.
 */
export function heap_configure(policy: u32, options: u32, maxBytes: f64): i32 {
  return heapInit(__heap_base, <u64>maxBytes, policy, options);
}

/**
 * Embedding: manage the memory from `base` on, never writing below it;
 * `limit` is the address the heap may not grow past (rounded down to a 64
 * KiB page; 0: grow the memory as needed, up to 4 GiB). The heap state
 * starts at `base` aligned up to 16 (at 16 for a base of 0: address 0 is the
 * null pointer). A C client passes its `__heap_base`. Returns 0, or
 *   HEAP_INIT_ALREADY    (-1) this instance has a heap already;
 *   HEAP_INIT_BAD_POLICY (-2) heap_init_with: an unknown policy;
 *   HEAP_INIT_NO_ROOM    (-3) the heap state and first segment (about 4.7 KiB)
 *                             do not fit below `limit`, below 4 GiB, or in the
 *                             memory it can grow to;
 *   HEAP_INIT_BAD_RANGE  (-4) `limit` is not 0 and not above `base`;
 *   HEAP_INIT_IN_USE     (-5) the memory at `base` holds a heap already: another
 *                             allocator instance's. Instances sharing a memory
 *                             need disjoint [base, limit) ranges (see
 *                             include/wasm_malloc.h).
 */
export function heap_init(base: usize, limit: usize): i32 {
  return heapInit(base, limit, POLICY_SEGREGATED, 0);
}
/** heap_init with a placement policy (POLICY_*) and options (OPTION_* bits). */
export function heap_init_with(base: usize, limit: usize, policy: u32, options: u32): i32 {
  return heapInit(base, limit, policy, options);
}

/** Checked build: how many bytes of freed blocks the quarantine holds before releasing the oldest (0 in other builds: no quarantine). */
export function heap_set_quarantine(bytes: u32): void { if (IS_CHECKED && heap != 0) guardSetQuarantine(bytes); }

// ── Inspection ──────────────────────────────────────────────────────────────
/** Where the heap starts (its state: the per-heap part, then the shared part); 0 before set-up. */
export function heap_start(): usize { return heap; }
// `__heap_base` itself is exported too: where static data ends and the heap
// may start; utilization is measured from it.
export { __heap_base };
/** The module's `__heap_base`, as a function. */
export function heap_base(): usize { return __heap_base; }
export function heap_top(): usize { return heap == 0 ? 0 : <usize>load<u32>(shared(), S_TOP); }
export function heap_policy(): u32 { return heap == 0 ? 0 : load<u32>(heap, H_POLICY); }
export function heap_options(): u32 { return heap == 0 ? 0 : load<u32>(heap, H_OPTIONS); }
export function heap_max_pages(): u32 { return heap == 0 ? 0 : load<u32>(shared(), S_MAX_PAGES); }
export function heap_base_page(): u32 { return heap == 0 ? 0 : load<u32>(shared(), S_BASE_PAGE); }
/** Counter `id` (STAT_*) as a double (exact below 2^53). */
export function heap_stat(id: u32): f64 { return heap == 0 || id >= STAT_COUNT ? 0 : <f64>statGet(id); }
/** 0 if every invariant holds, else a CHECK_* code; see heap_check_address. */
export function heap_check(): u32 {
  let code = heapCheck();
  // The checked build's own invariants (canaries, poison, quarantine), once the heap's hold.
  if (IS_CHECKED && code == 0 && heap != 0) {
    let guardCode = guardCheck();
    if (guardCode != 0) code = checkFailed(guardCode, guardCheckAddress);
  }
  return code;
}
export function heap_check_address(): usize { return checkAddress; }
export function page_kind(page: u32): u32 { return heap == 0 ? 0 : <u32>pageKind(page); }
export function walk_first(): usize { return heap == 0 ? 0 : walkFirst(); }
export function walk_end(): usize { return walkEnd(); }
export function walk_entry(cursor: usize): usize { return walkEntry(cursor); }
export function free_list_count(): u32 { return heap == 0 ? 0 : listCount(); }
export function free_list_head(index: u32): usize { return heap == 0 ? 0 : listHead(index); }
export function free_block_next(block: usize): usize { return linkNext(block); }
export function free_block_prev(block: usize): usize { return linkPrev(block); }
export function free_block_size(block: usize): u32 { return blockSize(block); }
/**
 * The block after free-list block `block` (whose predecessor is `prev`, 0 for
 * the head), each link checked first (inspect/lists.ts): 0 at the end, or 0
 * with walk_error set when the link is broken.
 */
export function free_list_next(block: usize, prev: usize): usize { return heap == 0 ? 0 : freeListNext(block, prev); }
/** quick_list_head's list, checked the same way: the block after `block` on the list of block size `size`. */
export function quick_list_next(block: usize, size: u32): usize { return heap == 0 ? 0 : quickListNext(block, size); }
/** First block held on the quick list of block size `size` (16 … QUICK_MAX); free_block_next links on. */
export function quick_list_head(size: u32): usize { return heap == 0 || size > QUICK_MAX || (size & 15) != 0 ? 0 : quickHead(size); }

// The walk's results, set by each walk_* call.
export {
  walk_address, walk_payload, walk_size, walk_usable, walk_state, walk_layer, walk_error, walk_error_address,
} from "./inspect/walk";
