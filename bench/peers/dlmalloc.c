// wasi-libc's malloc (Doug Lea's dlmalloc) behind the same exports as the
// other peers; malloc, free and realloc come from libc.a, exported by the
// linker (see bench/lib/build.mjs).
//
// dlmalloc gets memory through sbrk. Defining sbrk here keeps libc's (which
// runs memory.grow itself) out of the link, so every growth goes through the
// imported bench.grow: the harness counts and times it. Same contract as
// wasi-libc's sbrk: whole pages only, (void *)-1 and ENOMEM on failure.
#include <errno.h>
#include <stdint.h>

__attribute__((import_module("bench"), import_name("grow")))
extern int bench_grow(int pages);

void *sbrk(intptr_t increment) {
  if (increment == 0) return (void *)(__builtin_wasm_memory_size(0) * 65536);
  if (increment < 0 || increment % 65536 != 0) __builtin_trap();
  int old = bench_grow((int)(increment / 65536));
  if (old < 0) {
    errno = ENOMEM;
    return (void *)-1;
  }
  return (void *)((uintptr_t)old * 65536);
}
