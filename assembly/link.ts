// wasm-malloc for `wasm-malloc link`: the build merged into a program.
//
// asconfig.json's `link` target (WASM_MALLOC_LINK=1). The linker (src/link/)
// merges this module into a C program as the module "env", so the program's
// imports of env.memory and env.wasm_malloc, env.wasm_free, … (the shim,
// c/wasm_malloc.c) resolve to the exports below; then it drops every export
// here but `memory` (and, with --inspect, the C API and inspection under the
// names index.ts gives them) and optimizes the whole, inlining what pays.
//
// It defines the memory (the program's, once merged: the linker sets its
// limits to the program's), sets the heap up on the first call where the
// linker's config says (base/link-config.ts), and writes misuse to stderr
// (base/stderr.ts). It imports nothing from a host: only the config's
// globals, which the merge resolves, and WASI's fd_write.

import {
  malloc, free, calloc, realloc, aligned_alloc, posix_memalign, malloc_usable_size, malloc_name, heap_check, heap_stat,
} from "./index";
import { linkScratchAt } from "./base/link-config";

// ── The C API under the names the shim imports (include/wasm_malloc.h) ─────
export function wasm_malloc(size: usize): usize { return malloc(size); }
export function wasm_free(ptr: usize): void { free(ptr); }
export function wasm_calloc(count: usize, size: usize): usize { return calloc(count, size); }
export function wasm_realloc(ptr: usize, size: usize): usize { return realloc(ptr, size); }
export function wasm_aligned_alloc(align: usize, size: usize): usize { return aligned_alloc(align, size); }
export function wasm_posix_memalign(out: usize, align: usize, size: usize): i32 { return posix_memalign(out, align, size); }
export function wasm_malloc_usable_size(ptr: usize): usize { return malloc_usable_size(ptr); }
export function wasm_malloc_name(ptr: usize, label: usize, length: usize): i32 { return malloc_name(ptr, label, length); }
export function wasm_heap_check(): u32 { return heap_check(); }
export function wasm_heap_stat(id: u32): f64 { return heap_stat(id); }

// ── The same under index.ts's names, and the inspection (kept by --inspect) ─
export {
  malloc, free, calloc, realloc, aligned_alloc, posix_memalign, malloc_usable_size, malloc_name, heap_check, heap_stat,
  heap_start, heap_top, heap_policy, heap_options, heap_max_pages, heap_base_page, heap_check_address, page_kind,
  walk_first, walk_end, walk_entry, free_list_count, free_list_head, free_block_next, free_block_prev, free_block_size,
  free_list_next, quick_list_next, quick_list_head,
  walk_address, walk_payload, walk_size, walk_usable, walk_state, walk_layer, walk_error, walk_error_address,
} from "./index";

/** Where the program's static data ends (its __heap_base): the scratch area starts there. */
export function heap_base(): usize { return linkScratchAt; }
