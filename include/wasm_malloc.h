/*
 * wasm_malloc.h: wasm-malloc as the malloc of a C program compiled to Wasm.
 *
 * Link c/wasm_malloc.c into the program: it defines the libc malloc family
 * (malloc, free, calloc, realloc, aligned_alloc, posix_memalign,
 * malloc_usable_size, memalign, reallocarray, and wasi-libc's __libc_malloc,
 * __libc_calloc, __libc_free) by calling the allocator module, so wasi-libc's
 * own dlmalloc is never linked. The program imports its memory and exports
 * __heap_base; the host (wasm-malloc's linkAllocator) instantiates the
 * allocator over that same memory, starts its heap at __heap_base and hands
 * the program the imports declared below.
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -I include \
 *     -Wl,--import-memory -Wl,--export=__heap_base \
 *     program.c c/wasm_malloc.c -o program.wasm
 *
 * The imports (module "env"), one per allocator export:
 *
 *   wasm_malloc(size) -> ptr                  wasm_free(ptr)
 *   wasm_calloc(count, size) -> ptr           wasm_realloc(ptr, size) -> ptr
 *   wasm_aligned_alloc(align, size) -> ptr    wasm_posix_memalign(out, align, size) -> errno
 *   wasm_malloc_usable_size(ptr) -> size      wasm_malloc_name(ptr, label, length) -> 0 | -1
 *   wasm_heap_check() -> 0 | CHECK_* code
 *
 * Every pointer is 16-byte aligned. Misuse (double free, invalid free) is
 * reported to the host, which by default throws and so ends the program, the
 * way a libc abort would; the call changes nothing.
 *
 * Setting the heap up (the host's job; linkAllocator does it): the allocator
 * module (build/embed.wasm) exports
 *
 *   heap_init(base, limit) -> status
 *   heap_init_with(base, limit, policy, options) -> status
 *
 * The heap manages [base, limit) of the shared memory and never writes below
 * base. Its state starts at base aligned up to 16 (at 16 for base 0: address
 * 0 is the null pointer). limit is the address it may not grow past, rounded
 * down to a 64 KiB page; 0 means grow the memory as needed, up to 4 GiB. The
 * status is one of WASM_MALLOC_HEAP_INIT_* below; a failed call changes
 * nothing, and the instance can still be set up by a later call.
 *
 * Two allocator instances over one memory (e.g. one per module) need
 * disjoint [base, limit) ranges, each with a limit, except that the one with
 * the highest base may have limit 0: an instance claims every existing page
 * from its base up to its limit (all of them with limit 0) when it is set up,
 * and grows the memory at its end. Create the memory large enough to hold
 * every range that has a limit, so that no instance's growth lands inside
 * another's range. An instance set up at the very base of another's heap
 * gets WASM_MALLOC_HEAP_INIT_IN_USE (the state starts with a magic word); a
 * base elsewhere inside another heap is not detected.
 */
#ifndef WASM_MALLOC_H
#define WASM_MALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* heap_init's statuses (the allocator module exports the same values as HEAP_INIT_* globals). */
#define WASM_MALLOC_HEAP_INIT_OK 0
/* This allocator instance has set its heap up already (one heap per instance). */
#define WASM_MALLOC_HEAP_INIT_ALREADY (-1)
/* heap_init_with: no such placement policy. */
#define WASM_MALLOC_HEAP_INIT_BAD_POLICY (-2)
/* The heap state and a first segment (about 4.7 KiB from the aligned base) do not fit below
   limit, below 4 GiB - 64 KiB, or in the memory it can grow to (its maximum). */
#define WASM_MALLOC_HEAP_INIT_NO_ROOM (-3)
/* limit is not 0 and not above base. */
#define WASM_MALLOC_HEAP_INIT_BAD_RANGE (-4)
/* The memory at base holds a heap already: another allocator instance's. */
#define WASM_MALLOC_HEAP_INIT_IN_USE (-5)

#define WASM_MALLOC_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

WASM_MALLOC_IMPORT(wasm_malloc) void *wasm_malloc(size_t size);
WASM_MALLOC_IMPORT(wasm_free) void wasm_free(void *ptr);
WASM_MALLOC_IMPORT(wasm_calloc) void *wasm_calloc(size_t count, size_t size);
WASM_MALLOC_IMPORT(wasm_realloc) void *wasm_realloc(void *ptr, size_t size);
WASM_MALLOC_IMPORT(wasm_aligned_alloc) void *wasm_aligned_alloc(size_t align, size_t size);
WASM_MALLOC_IMPORT(wasm_posix_memalign) int wasm_posix_memalign(void **out, size_t align, size_t size);
WASM_MALLOC_IMPORT(wasm_malloc_usable_size) size_t wasm_malloc_usable_size(void *ptr);
/* Name a live block (shown by the host's walk, dumps and error messages); `label` is `length` UTF-8 bytes. */
WASM_MALLOC_IMPORT(wasm_malloc_name) int wasm_malloc_name(void *ptr, const char *label, size_t length);
/* The full heap check: 0 when every invariant holds, else the CHECK_* code of the first broken one. */
WASM_MALLOC_IMPORT(wasm_heap_check) unsigned wasm_heap_check(void);

/* Defined by c/wasm_malloc.c; wasi-libc's headers do not declare it. */
void *memalign(size_t align, size_t size);

/* Name a live block with a NUL-terminated label. */
static inline int wasm_malloc_name_str(void *ptr, const char *label) {
  return wasm_malloc_name(ptr, label, __builtin_strlen(label));
}

#ifdef __cplusplus
}
#endif

#endif /* WASM_MALLOC_H */
