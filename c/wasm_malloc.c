/*
 * wasm_malloc.c: the libc malloc family of a C program, served by wasm-malloc.
 *
 * Each function forwards to the allocator module's export of the same name
 * (imported as env.wasm_*, see include/wasm_malloc.h); nothing here keeps
 * state. Defining every allocation symbol wasi-libc references, including its
 * internal __libc_malloc, __libc_calloc and __libc_free, is what keeps the
 * linker from pulling in wasi-libc's dlmalloc (which would bring sbrk and
 * memory.grow with it: a second allocator fighting the first over memory).
 *
 * errno: malloc, calloc, realloc, aligned_alloc, memalign and reallocarray set
 * ENOMEM when they return 0 for a non-zero request, as POSIX asks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <malloc.h>

#include "wasm_malloc.h"

#define EXPORT __attribute__((used))

static void *nonzero_or_enomem(void *ptr) {
  if (ptr == NULL) errno = ENOMEM;
  return ptr;
}

EXPORT void *malloc(size_t size) { return nonzero_or_enomem(wasm_malloc(size)); }

EXPORT void free(void *ptr) { wasm_free(ptr); }

EXPORT void *calloc(size_t count, size_t size) { return nonzero_or_enomem(wasm_calloc(count, size)); }

/* realloc(ptr, 0) frees ptr and returns NULL (and is not a failure). */
EXPORT void *realloc(void *ptr, size_t size) {
  void *result = wasm_realloc(ptr, size);
  if (result == NULL && size != 0) errno = ENOMEM;
  return result;
}

EXPORT void *aligned_alloc(size_t align, size_t size) {
  void *ptr = wasm_aligned_alloc(align, size);
  if (ptr == NULL) errno = (align == 0 || (align & (align - 1)) != 0) ? EINVAL : ENOMEM;
  return ptr;
}

EXPORT int posix_memalign(void **out, size_t align, size_t size) {
  return wasm_posix_memalign(out, align, size);
}

EXPORT size_t malloc_usable_size(void *ptr) { return wasm_malloc_usable_size(ptr); }

/* The obsolete memalign: same as aligned_alloc. */
EXPORT void *memalign(size_t align, size_t size) { return aligned_alloc(align, size); }

/* realloc(ptr, count * size), failing with ENOMEM when the product overflows. */
EXPORT void *reallocarray(void *ptr, size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) { errno = ENOMEM; return NULL; }
  return realloc(ptr, bytes);
}

/* wasi-libc's internal entry points (used by its stdio, strdup, getcwd, ...). */
EXPORT void *__libc_malloc(size_t size) { return malloc(size); }
EXPORT void *__libc_calloc(size_t count, size_t size) { return calloc(count, size); }
EXPORT void __libc_free(void *ptr) { free(ptr); }
