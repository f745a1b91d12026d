// wasi-libc's malloc (dlmalloc) behind one global lock, for the threads
// benchmark (bench/threads.mjs): one instance per thread over one shared,
// imported memory. The design issue 21 sets out to beat: every call from
// every thread takes the same lock.
//
// Built by bench/lib/build.mjs with -matomics -mbulk-memory and linked with
// --import-memory --shared-memory. wasi-libc's libc.a (Debian's wasi-libc) is
// the single-threaded build: compiled without the atomics feature, and so
// without locks of its own in dlmalloc, and wasm-ld refuses to put it in a shared-memory
// module unless told --no-check-features. That is safe here because nothing
// from libc.a runs outside the lock below: malloc, free and realloc (and the
// sbrk and errno they touch) are only ever entered with the lock held, so
// libc's plain loads and stores see one thread at a time, and the lock's
// atomic acquire/release orders them between threads.
//
// Shared state: everything static here (the lock, the cap) and dlmalloc's
// own statics (errno too) live in linear memory, so every instance sees the
// same. With a shared memory, wasm-ld's start function sets them up once for
// all instances, under an atomic flag (here it zeroes .bss; there is no other
// data), so a later instance does not reset them. Per instance: the Wasm
// globals, among them __stack_pointer, which the harness points at a stack of
// the instance's own before the first call (every instance would otherwise run
// on the same stack).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define PAGE 65536

// ── The lock: 0 free, 1 held, 2 held with waiters (Drepper's futex mutex) ──
// A bounded spin first (the critical sections are short), then
// memory.atomic.wait32 until the holder's unlock notifies.
static int lock_word;

static void lock(void) {
  for (int spin = 0; spin < 100; spin++) {
    int expected = 0;
    if (__atomic_compare_exchange_n(&lock_word, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
  }
  // Announce a waiter (2) and sleep while the lock is held.
  while (__atomic_exchange_n(&lock_word, 2, __ATOMIC_ACQUIRE) != 0)
    __builtin_wasm_memory_atomic_wait32(&lock_word, 2, -1);
}

static void unlock(void) {
  if (__atomic_exchange_n(&lock_word, 0, __ATOMIC_RELEASE) == 2)
    __builtin_wasm_memory_atomic_notify(&lock_word, 1);
}

// ── sbrk: the end of the memory, grown under the lock ──
// wasi-libc's dlmalloc starts with [__heap_base, end of memory) as its first
// segment, then asks sbrk for more at the end: so the heap cannot move to a
// base of the harness's choosing, and nothing else may grow this memory.
// sbrk only runs inside malloc/realloc, so under the lock. Same contract as
// wasi-libc's: whole pages, (void *)-1 on failure (dlmalloc sets errno
// itself; this file leaves errno alone: with -matomics <errno.h> declares it
// thread-local, and libc.a's is not). The cap is heap_init's maxBytes.
extern unsigned char __heap_base;
static uintptr_t limit;

void *sbrk(intptr_t increment) {
  if (increment < 0 || increment % PAGE != 0) __builtin_trap();
  uintptr_t end = __builtin_wasm_memory_size(0) * (uintptr_t)PAGE;
  if (increment == 0) return (void *)end;
  if ((uintptr_t)increment > limit - end || __builtin_wasm_memory_grow(0, increment / PAGE) < 0) return (void *)-1;
  return (void *)end;
}

// ── What the harness calls ──

// One instance, before any malloc. base must be __heap_base (see sbrk); the
// heap may grow to base + maxBytes. 0 on success.
EXPORT("heap_init") int heap_init(uintptr_t base, uintptr_t maxBytes) {
  if (base != (uintptr_t)&__heap_base || maxBytes > UINTPTR_MAX - base) return 1;
  lock();
  int busy = limit != 0;
  if (!busy) limit = base + maxBytes;
  unlock();
  return busy;
}

// Every other instance: nothing to join (all state is shared); 0 once
// heap_init has run.
EXPORT("heap_attach") int heap_attach(uintptr_t base) {
  return base != (uintptr_t)&__heap_base || __atomic_load_n(&limit, __ATOMIC_ACQUIRE) == 0;
}

EXPORT("malloc") void *locked_malloc(size_t size) {
  lock();
  void *p = malloc(size);
  unlock();
  return p;
}

EXPORT("free") void locked_free(void *ptr) {
  if (!ptr) return;
  lock();
  free(ptr);
  unlock();
}

EXPORT("realloc") void *locked_realloc(void *ptr, size_t size) {
  lock();
  void *p = realloc(ptr, size);
  unlock();
  return p;
}
