// The engine this build composes, chosen at compile time: the buddy engine
// (buddy.ts) in the `buddy` build (`--use WASM_MALLOC_BUDDY=1`), the standard
// one (standard.ts) in every other. The C API (api/) calls only these, so it
// holds no engine's code; `BUDDY` is a compile-time constant, and the engine
// not chosen is not compiled in.
//
// What an engine provides:
//   SEGMENT0_RESERVED      bytes of segment 0 it needs from the start
//   ENGINE_STATE_BYTES     bytes of per-heap state it keeps at H_ENGINE
//   engineSetUp()          its layers' set-up in a fresh heap state
//   engineSegment0Ready()  set-up that needs segment 0
//   allocate(size)         a block, allocUsable set (pointers.ts); an engine
//                          tries again under page pressure (reclaim.ts)
//   allocateAligned(a, n)  a block aligned to a > 16
//   classify(ptr)          0: live (foundOwner, foundIndex), else the misuse
//   ownNew(ptr)            foundOwner etc. for a block it just allocated
//   usable(ptr)            usable bytes of a classified pointer
//   release(ptr)           free a classified pointer, counted out
//   resizeInPlace(ptr, n)  grow or shrink a classified pointer where it is
//   freeFast(ptr)          free()'s fast path: true if it freed `ptr`

import { BUDDY } from "../base/constants";
import { H_ENGINE } from "../base/state";
import * as standard from "./standard";
import * as buddy from "./buddy";

export const SEGMENT0_RESERVED: u32 = BUDDY ? buddy.SEGMENT0_RESERVED : standard.SEGMENT0_RESERVED;
/** Bytes of the engine's own state at the end of the per-heap part (H_ENGINE). */
export const ENGINE_STATE_BYTES: u32 = BUDDY ? buddy.ENGINE_STATE_BYTES : standard.ENGINE_STATE_BYTES;
/** The whole heap state before segment 0: the per-heap part, the shared part, the engine's state (base/state.ts). */
export const HEAP_STATE_SIZE: u32 = H_ENGINE + ENGINE_STATE_BYTES;

export function engineSetUp(): bool { return BUDDY ? buddy.engineSetUp() : standard.engineSetUp(); }
export function engineSegment0Ready(): bool { return BUDDY ? buddy.engineSegment0Ready() : standard.engineSegment0Ready(); }
@inline export function allocate(size: usize): usize { return BUDDY ? buddy.allocate(size) : standard.allocate(size); }
@inline export function allocateAligned(align: usize, size: usize): usize {
  return BUDDY ? buddy.allocateAligned(align, size) : standard.allocateAligned(align, size);
}
@inline export function classify(ptr: usize): u32 { return BUDDY ? buddy.classify(ptr) : standard.classify(ptr); }
@inline export function ownNew(ptr: usize): void { if (BUDDY) buddy.ownNew(ptr); else standard.ownNew(ptr); }
@inline export function usable(ptr: usize): u32 { return BUDDY ? buddy.usable(ptr) : standard.usable(ptr); }
@inline export function release(ptr: usize): void { if (BUDDY) buddy.release(ptr); else standard.release(ptr); }
@inline export function resizeInPlace(ptr: usize, size: usize): bool {
  return BUDDY ? buddy.resizeInPlace(ptr, size) : standard.resizeInPlace(ptr, size);
}
@inline export function freeFast(ptr: usize): bool { return BUDDY ? buddy.freeFast(ptr) : standard.freeFast(ptr); }
