// The one error path: misuse is reported through an imported function.
//
// Import: module "env", name "wasm_malloc_report",
//   (kind: i32, reason: i32, op: i32, ptr: i32, block: i32, size: i32) -> void
// `kind` is one of the ERR_* codes below (the host's error vocabulary),
// `reason` refines invalid-free, `op` names the entry point, `ptr` is the
// pointer the caller passed, `block`/`size` describe the block it hit (0 if none).
// A rejected call changes nothing; a report with OP_NOTICED in `op` comes
// from a call that went on and succeeded (see notice). Out of memory is never reported here:
// the C functions return 0.
//
// The link build (LINK) has no host: it writes the report to stderr itself
// (stderr.ts) and imports none of the env functions below.

import { heap, statAdd, STAT_ERRORS } from "./state";
import { LINK } from "./constants";
import { misuseToStderr, noticeToStderr } from "./stderr";

export const ERR_DOUBLE_FREE: u32 = 1;
export const ERR_INVALID_FREE: u32 = 2;
export const ERR_OVERFLOW: u32 = 3;
export const ERR_UNDERFLOW: u32 = 4;
export const ERR_USE_AFTER_FREE: u32 = 5;
export const ERR_OUT_OF_MEMORY: u32 = 6;
export const ERR_CORRUPTION: u32 = 7;
export const ERR_NOT_INITIALIZED: u32 = 8;

export const REASON_NONE: u32 = 0;
export const REASON_MISALIGNED: u32 = 1;   // not 16-byte aligned
export const REASON_NOT_OWNED: u32 = 2;    // outside the heap, or on a page no layer owns
export const REASON_INTERIOR: u32 = 3;     // inside a block, not at its start
export const REASON_NOT_ALLOCATED: u32 = 4; // on a free page or a never-used slab slot

export const OP_FREE: u32 = 1;
export const OP_REALLOC: u32 = 2;
export const OP_USABLE_SIZE: u32 = 3;
export const OP_CHECK: u32 = 4;
export const OP_MALLOC: u32 = 5;
export const OP_CALLOC: u32 = 6;
export const OP_ALIGNED_ALLOC: u32 = 7;
export const OP_NAME: u32 = 8;

@external("env", "wasm_malloc_report")
declare function wasm_malloc_report(kind: u32, reason: u32, op: u32, ptr: usize, block: usize, size: usize): void;

/** Set when the current call was rejected as misuse (the entry points read it). */
export let rejected: bool = false;

export function report(kind: u32, reason: u32, op: u32, ptr: usize, block: usize, size: usize): void {
  rejected = true;
  if (heap != 0) statAdd(STAT_ERRORS, 1);
  if (LINK) misuseToStderr(kind, reason, op, ptr, block, size);
  else wasm_malloc_report(kind, reason, op, ptr, block, size);
}

/**
 * Added to `op` in a report of damage found while serving a call that then
 * went on and succeeded (a free-list link overwritten after free: the list is
 * rebuilt without it). The call's result is valid; the host must not drop it.
 */
export const OP_NOTICED: u32 = 0x100;

/** Report damage found and worked around during a call that goes on (see OP_NOTICED). */
export function notice(kind: u32, reason: u32, op: u32, ptr: usize, block: usize, size: usize): void {
  if (heap != 0) statAdd(STAT_ERRORS, 1);
  if (LINK) noticeToStderr(kind, reason, op, ptr, block, size);
  else wasm_malloc_report(kind, reason, op | OP_NOTICED, ptr, block, size);
}

// ── Operation log (traced and checked builds) ───────────────────────────────
// Import: module "env", name "wasm_malloc_op", (op, a, b, result) -> void,
// called after every successful C call: OP_MALLOC (size, 0, ptr),
// OP_CALLOC (count, size, ptr), OP_REALLOC (old, size, new), OP_FREE (ptr, 0, 0),
// OP_ALIGNED_ALLOC (align, size, ptr). The host writes it to a trace file.
// Other builds do not import it.

// @ts-ignore: isDefined is a compile-time builtin
export const TRACED: bool = isDefined(WASM_MALLOC_TRACED) || isDefined(WASM_MALLOC_CHECKED);

@external("env", "wasm_malloc_op")
declare function wasm_malloc_op(op: u32, a: usize, b: usize, result: usize): void;

@inline export function traceOp(op: u32, a: usize, b: usize, result: usize): void {
  if (TRACED) wasm_malloc_op(op, a, b, result);
}

@inline export function beginCall(): void { rejected = false; }

// ── Names (every build) ─────────────────────────────────────────────────────
// Import: module "env", name "wasm_malloc_named", (ptr, label, length) -> void:
// the label is `length` UTF-8 bytes at `label`. Names live in the host; the
// link build has none, and drops them.
@external("env", "wasm_malloc_named")
declare function hostNamed(ptr: usize, label: usize, length: usize): void;

@inline export function wasm_malloc_named(ptr: usize, label: usize, length: usize): void {
  if (!LINK) hostNamed(ptr, label, length);
}
