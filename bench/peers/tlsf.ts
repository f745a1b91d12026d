// AssemblyScript's own TLSF (std/assembly/rt/tlsf.ts) behind the C names.
// Built by bench/lib/build.mjs with --runtime minimal -O3 --noAssert; the
// "shared" variant imports its memory and starts its heap above the Wasm
// driver's region (--memoryBase).
//
// heap.realloc and heap.free expect a live block, so the C edge cases are
// handled here: realloc(0, n) is malloc(n), realloc(p, 0) frees p and gives 0.

export function malloc(size: usize): usize {
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

export function realloc(ptr: usize, size: usize): usize {
  if (ptr == 0) return heap.alloc(size);
  if (size == 0) {
    heap.free(ptr);
    return 0;
  }
  return heap.realloc(ptr, size);
}

export { __heap_base };
