// Raw memory for AssemblyScript code: `import { malloc, free } from "wasm-malloc/assembly"`.
//
// The C API (malloc, free, calloc, realloc, aligned_alloc, posix_memalign,
// malloc_usable_size) with C semantics, for code that wants blocks outside the
// garbage collector: buffers handed to other modules, arenas, C-style data
// structures. Which allocator serves them depends on the program's runtime:
//
//   program's runtime                      these functions
//   wasm-malloc's (assembly/runtime/)      the linked wasm-malloc module, the
//                                          same heap as the managed objects
//   incremental or minimal (TLSF)          wasm-malloc compiled into the
//                                          program, beside TLSF (below)
//   stub                                   refused at compile time: the stub
//                                          takes every page up to the top of
//                                          memory as its own, so no other
//                                          allocator can live beside it
//
// Beside TLSF, wasm-malloc must not start at __heap_base, where TLSF lives.
// TLSF claims all memory that exists when it initializes, and afterwards only
// the pages it grows itself. So the first call here makes the runtime
// initialize (one tiny allocation, freed at once), then sets wasm-malloc's heap
// up at the top of memory, on pages it grows. From then on each allocator
// grows memory for itself, and each treats the other's pages as not its own.
//
// Compiled in, wasm-malloc reports misuse (double or invalid free) through
// the import `env.wasm_malloc_report`, and names through `env.wasm_malloc_named`:
// a host gives them with `allocatorImports(...)` of wasm-malloc's host library
// (or functions of its own).

import {
  malloc as heapMalloc, free as heapFree, calloc as heapCalloc, realloc as heapRealloc,
  aligned_alloc as heapAlignedAlloc, posix_memalign as heapPosixMemalign,
  malloc_usable_size as heapUsableSize, heap_check as heapCheck,
} from "./index";
import { heap } from "./base/state";
import { heapSetup } from "./api/init";
import { POLICY_DEFAULT, PAGE_BITS } from "./base/constants";

// ── Linked: the program runs on wasm-malloc's runtime ────────────────────────
@external("env", "wasm_malloc") declare function linkedMalloc(size: usize): usize;
@external("env", "wasm_free") declare function linkedFree(ptr: usize): void;
@external("env", "wasm_calloc") declare function linkedCalloc(count: usize, size: usize): usize;
@external("env", "wasm_realloc") declare function linkedRealloc(ptr: usize, size: usize): usize;
@external("env", "wasm_aligned_alloc") declare function linkedAlignedAlloc(align: usize, size: usize): usize;
@external("env", "wasm_posix_memalign") declare function linkedPosixMemalign(out: usize, align: usize, size: usize): i32;
@external("env", "wasm_malloc_usable_size") declare function linkedUsableSize(ptr: usize): usize;
@external("env", "wasm_heap_check") declare function linkedHeapCheck(): u32;

// @ts-ignore: compile-time constant, set by assembly/runtime/memory-manager.ts
@inline const LINKED: bool = isDefined(WASM_MALLOC_LINKED_RUNTIME);

// ASC_RUNTIME: 0 stub, 1 minimal, 2 incremental (and custom runtimes).
// @ts-ignore: compile-time constant
if (ASC_RUNTIME == 0) ERROR("wasm-malloc/assembly cannot share memory with the stub runtime; use --runtime incremental, minimal, or wasm-malloc's");

// ── Compiled in: set up beside the program's own runtime ─────────────────────
function ensure(): void {
  if (heap != 0) return;
  // Let the runtime claim what it claims first (TLSF takes all memory present at its first allocation).
  __free(__alloc(1));
  heapSetup(<usize>memory.size() << PAGE_BITS, POLICY_DEFAULT, 0, 0);
}

/** A block of at least `size` bytes, 16-aligned, or 0. */
export function malloc(size: usize): usize {
  if (LINKED) return linkedMalloc(size);
  ensure();
  return heapMalloc(size);
}
/** Free a block; free(0) does nothing. */
export function free(ptr: usize): void {
  if (LINKED) { linkedFree(ptr); return; }
  ensure();
  heapFree(ptr);
}
/** `count * size` zeroed bytes, or 0 (also when the product overflows). */
export function calloc(count: usize, size: usize): usize {
  if (LINKED) return linkedCalloc(count, size);
  ensure();
  return heapCalloc(count, size);
}
/** Resize, keeping the contents; realloc(0, n) = malloc(n), realloc(p, 0) frees p and returns 0. */
export function realloc(ptr: usize, size: usize): usize {
  if (LINKED) return linkedRealloc(ptr, size);
  ensure();
  return heapRealloc(ptr, size);
}
/** A block aligned to `align` (a power of two up to 64 KiB), or 0. */
export function aligned_alloc(align: usize, size: usize): usize {
  if (LINKED) return linkedAlignedAlloc(align, size);
  ensure();
  return heapAlignedAlloc(align, size);
}
/** Stores an aligned block at `out`; returns 0, 22 (EINVAL) or 12 (ENOMEM). */
export function posix_memalign(out: usize, align: usize, size: usize): i32 {
  if (LINKED) return linkedPosixMemalign(out, align, size);
  ensure();
  return heapPosixMemalign(out, align, size);
}
/** Bytes usable at `ptr` (at least what was asked). */
export function malloc_usable_size(ptr: usize): usize {
  if (LINKED) return linkedUsableSize(ptr);
  ensure();
  return heapUsableSize(ptr);
}
/** The full heap check: 0 when every invariant holds, else the CHECK_* code of the first broken one. */
export function heap_check(): u32 {
  if (LINKED) return linkedHeapCheck();
  ensure();
  return heapCheck();
}
