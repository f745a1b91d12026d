// The small build's exports (target `small`): the C API and nothing else.
//
// The standard engine compiled with WASM_MALLOC_SMALL (base/constants.ts says
// what that leaves out) and without forced inlining (tools/asc-no-inline.mjs):
// segregated fit, slabs, page runs, the O(1) pointer checks and the misuse
// reports stay; the walker, the checker and the statistics are not compiled
// in, as nothing exports them. Its memory is its own, set up at __heap_base
// on the first call, as the release build's.

export { malloc, free, calloc, realloc, aligned_alloc, posix_memalign, malloc_usable_size } from "./index";
// Where the heap begins (above the module's own data): for a host that shares the memory.
export { __heap_base };
