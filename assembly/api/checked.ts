// The checked build's C API: calls.ts's functions with every allocation
// guarded (guard.ts: canaries, poison, quarantine). The module's exports
// (index.ts) call these instead of calls.ts's when the build is `checked`
// (`--use WASM_MALLOC_CHECKED=1`); requests are checked and counted the same
// way, and every pointer is located through its guard header first.

import { MAX_REQUEST } from "../base/constants";
import { statAdd, STAT_FREES, STAT_CALLOCS, STAT_REALLOCS, STAT_ALIGNED, STAT_FAILED } from "../base/state";
import { OP_REALLOC, OP_USABLE_SIZE, OP_NAME, wasm_malloc_named } from "../base/report";
import { heapEnsure } from "./init";
import { alignmentValid, posixMemalignRefusal, posixMemalignResult } from "./calls";
import { guardAlloc, guardFree, guardRealloc, guardUsable, guardIsLive } from "./guard";

/** Count a failed guarded allocation (the guard layer counted a success). */
@inline function guarded(p: usize): usize {
  if (p == 0) statAdd(STAT_FAILED, 1);
  return p;
}

export function checkedMalloc(size: usize): usize {
  if (!heapEnsure()) return 0;
  return guarded(guardAlloc(size, 16));
}

export function checkedFree(ptr: usize): void {
  if (ptr == 0) return;
  if (!heapEnsure()) return;
  if (guardFree(ptr)) statAdd(STAT_FREES, 1);
}

export function checkedCalloc(count: usize, size: usize): usize {
  if (!heapEnsure()) return 0;
  statAdd(STAT_CALLOCS, 1);
  let total = <u64>count * <u64>size;
  if (total > <u64>MAX_REQUEST) { statAdd(STAT_FAILED, 1); return 0; }
  let ptr = guarded(guardAlloc(<usize>total, 16));
  if (ptr != 0) memory.fill(ptr, 0, <usize>total);
  return ptr;
}

export function checkedRealloc(ptr: usize, size: usize): usize {
  if (ptr == 0) return checkedMalloc(size);
  if (!heapEnsure()) return 0;
  statAdd(STAT_REALLOCS, 1);
  if (size > MAX_REQUEST) { statAdd(STAT_FAILED, 1); return 0; }
  return guardRealloc(ptr, size, OP_REALLOC);
}

export function checkedAlignedAlloc(align: usize, size: usize): usize {
  if (!heapEnsure()) return 0;
  statAdd(STAT_ALIGNED, 1);
  if (!alignmentValid(align)) { statAdd(STAT_FAILED, 1); return 0; }
  return guarded(guardAlloc(size, align));
}

export function checkedPosixMemalign(out: usize, align: usize, size: usize): i32 {
  let refused = posixMemalignRefusal(out, align);
  return refused != 0 ? refused : posixMemalignResult(out, checkedAlignedAlloc(align, size));
}

export function checkedUsableSize(ptr: usize): usize {
  if (ptr == 0) return 0;
  if (!heapEnsure()) return 0;
  return guardUsable(ptr, OP_USABLE_SIZE);
}

export function checkedName(ptr: usize, label: usize, length: usize): i32 {
  if (!heapEnsure()) return -1;
  if (ptr == 0) return -1;
  if (!guardIsLive(ptr, OP_NAME)) return -1;
  wasm_malloc_named(ptr, label, length);
  return 0;
}
