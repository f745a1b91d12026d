// The interposed allocation functions. Each calls the real one (glibc's, found
// with dlsym(RTLD_NEXT, ...)) and records what it did, both under one lock, so
// the trace holds the calls of all threads in the order the allocator saw them
// (a free is recorded before another thread can be handed the same address).
//
// Three situations call for care:
//   - Finding the real functions: dlsym itself may call calloc or malloc. While
//     the tracer is inside its own code (`inside`, per thread), calls go straight
//     to the real function, or, before it is known, to a small static arena
//     (`early`) whose blocks are never freed and never traced.
//   - Blocks the trace never saw (allocated before the tracer ran, in the arena,
//     or by a parent before a fork the child's trace does not cover): freeing
//     them is counted, not written; reallocating one writes a new "a".
//   - fork: the lock is held across it; the child starts its own trace file
//     (output.c). exec starts a new program, traced afresh.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "tracer.h"

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static size_t (*real_malloc_usable_size)(void *);
static volatile int resolved;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int inside __attribute__((tls_model("initial-exec")));

// ── The early arena: memory for dlsym's own allocations ─────────────────────
// Each block is preceded by its size (for realloc and malloc_usable_size).
#define EARLY_BYTES (1 << 16)
static _Alignas(4096) char early[EARLY_BYTES];
static size_t early_used;

static int is_early(const void *p) {
  return (const char *)p >= early && (const char *)p < early + EARLY_BYTES;
}

static void *early_alloc(size_t size, size_t align) {
  if (align < 16) align = 16;
  size_t start = (early_used + sizeof(size_t) + align - 1) & ~(align - 1);
  if (align > EARLY_BYTES || size > EARLY_BYTES || start + size > EARLY_BYTES) return NULL;
  ((size_t *)(early + start))[-1] = size;
  early_used = start + size;
  return early + start;   // static memory: already zero, as calloc needs
}

static size_t early_size(const void *p) { return ((const size_t *)p)[-1]; }

// ── Finding the real functions ──────────────────────────────────────────────
static void *find(const char *name) {
  void *f = dlsym(RTLD_NEXT, name);
  if (!f) {
    static const char message[] = "malloc-tracer: dlsym(RTLD_NEXT) found no real allocator function; aborting\n";
    (void)!write(2, message, sizeof message - 1);
    __builtin_trap();
  }
  return f;
}

static void resolve(void) {
  inside = 1;
  pthread_mutex_lock(&lock);
  if (!resolved) {
    real_malloc = find("malloc");
    real_calloc = find("calloc");
    real_realloc = find("realloc");
    real_free = find("free");
    real_memalign = find("memalign");
    real_aligned_alloc = find("aligned_alloc");
    real_posix_memalign = find("posix_memalign");
    real_valloc = find("valloc");
    real_pvalloc = find("pvalloc");
    real_malloc_usable_size = find("malloc_usable_size");
    resolved = 1;
  }
  pthread_mutex_unlock(&lock);
  inside = 0;
}

static void enter(void) {
  if (!resolved) resolve();
  inside = 1;
  pthread_mutex_lock(&lock);
}

static void leave(void) {
  pthread_mutex_unlock(&lock);
  inside = 0;
}

// ── Recording (under the lock) ──────────────────────────────────────────────
static void record_alloc(void *p, size_t size) {
  uint32_t id = blocks_add((uintptr_t)p, size);
  output_op('a', id, size);
  counts.live_bytes += size;
  if (counts.live_bytes > counts.peak_live_bytes) counts.peak_live_bytes = counts.live_bytes;
}

static void record_free(void *p) {
  block_info b;
  if (!blocks_remove((uintptr_t)p, &b)) { counts.unknown_frees++; return; }
  output_op('f', b.id, 0);
  blocks_release_id(b.id);
  counts.live_bytes -= b.size;
  counts.frees++;
}

/** realloc(p, size) gave `moved` (not NULL): the block keeps its id. */
static void record_realloc(void *p, void *moved, size_t size) {
  block_info b;
  if (!blocks_remove((uintptr_t)p, &b)) {
    counts.unknown_frees++;
    record_alloc(moved, size);
    return;
  }
  blocks_move((uintptr_t)moved, b.id, size);
  output_op('r', b.id, size);
  counts.live_bytes += size - b.size;
  if (counts.live_bytes > counts.peak_live_bytes) counts.peak_live_bytes = counts.live_bytes;
  counts.reallocs++;
}

// ── The interposed functions ────────────────────────────────────────────────
TRACER_EXPORT void *malloc(size_t size) {
  if (inside) return real_malloc ? real_malloc(size) : early_alloc(size, 16);
  enter();
  void *p = real_malloc(size);
  if (p && output_enabled()) { record_alloc(p, size); counts.mallocs++; }
  leave();
  return p;
}

TRACER_EXPORT void *calloc(size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) { errno = ENOMEM; return NULL; }
  if (inside) return real_calloc ? real_calloc(count, size) : early_alloc(bytes, 16);
  enter();
  void *p = real_calloc(count, size);
  if (p && output_enabled()) { record_alloc(p, bytes); counts.callocs++; }
  leave();
  return p;
}

TRACER_EXPORT void free(void *p) {
  if (!p || is_early(p)) return;   // the early arena is never given back
  if (inside) { if (real_free) real_free(p); return; }
  enter();
  if (output_enabled()) record_free(p);
  real_free(p);
  leave();
}

TRACER_EXPORT void *realloc(void *p, size_t size) {
  if (p && is_early(p)) {
    // Out of the early arena into real memory: to the trace, a new block.
    void *moved = malloc(size);
    if (moved) memcpy(moved, p, early_size(p) < size ? early_size(p) : size);
    return moved;
  }
  if (inside) return real_realloc ? real_realloc(p, size) : early_alloc(size, 16);
  enter();
  void *moved = real_realloc(p, size);
  if (output_enabled()) {
    if (!p) {
      if (moved) { record_alloc(moved, size); counts.realloc_from_null++; }
    } else if (moved) {
      record_realloc(p, moved, size);
    } else if (size == 0) {
      // glibc's realloc(p, 0) frees p and returns NULL.
      record_free(p);
      counts.realloc_to_zero++;
    }
    // NULL for a size > 0: the call failed and p is still live, unchanged.
  }
  leave();
  return moved;
}

TRACER_EXPORT void *reallocarray(void *p, size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) { errno = ENOMEM; return NULL; }
  return realloc(p, bytes);
}

/** The aligned allocations: written as "a" (the format has no alignment; docs/real-traces.md). */
static void *aligned(void *(*real)(size_t, size_t), size_t align, size_t size) {
  if (inside) return resolved ? real(align, size) : early_alloc(size, align);
  enter();
  void *p = real(align, size);
  if (p && output_enabled()) { record_alloc(p, size); counts.aligned++; }
  leave();
  return p;
}

// The real pointers are read after enter() resolves them, hence these wrappers.
static void *call_memalign(size_t align, size_t size) { return real_memalign(align, size); }
static void *call_aligned_alloc(size_t align, size_t size) { return real_aligned_alloc(align, size); }
static void *call_valloc(size_t align, size_t size) { (void)align; return real_valloc(size); }
static void *call_pvalloc(size_t align, size_t size) { (void)align; return real_pvalloc(size); }

TRACER_EXPORT void *memalign(size_t align, size_t size) { return aligned(call_memalign, align, size); }
TRACER_EXPORT void *aligned_alloc(size_t align, size_t size) { return aligned(call_aligned_alloc, align, size); }
TRACER_EXPORT void *valloc(size_t size) { return aligned(call_valloc, 4096, size); }
TRACER_EXPORT void *pvalloc(size_t size) { return aligned(call_pvalloc, 4096, size); }

TRACER_EXPORT int posix_memalign(void **out, size_t align, size_t size) {
  if (inside) {
    if (real_posix_memalign) return real_posix_memalign(out, align, size);
    void *p = early_alloc(size, align);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
  }
  enter();
  int error = real_posix_memalign(out, align, size);
  if (error == 0 && output_enabled()) { record_alloc(*out, size); counts.aligned++; }
  leave();
  return error;
}

TRACER_EXPORT size_t malloc_usable_size(void *p) {
  if (!p) return 0;
  if (is_early(p)) return early_size(p);
  if (inside) return real_malloc_usable_size ? real_malloc_usable_size(p) : 0;
  enter();
  // Counted, not traced: a program that writes past its request into the usable
  // size uses more than its trace says (the .stats file shows whether it asked).
  counts.usable_size_calls++;
  size_t usable = real_malloc_usable_size(p);
  leave();
  return usable;
}

// ── Process life: start, fork, exit ─────────────────────────────────────────
static void before_fork(void) { enter(); }
static void after_fork_in_parent(void) { leave(); }
static void after_fork_in_child(void) {
  output_restart_after_fork();
  leave();
}

__attribute__((constructor)) static void start(void) {
  enter();
  output_configure();
  leave();
  inside = 1;   // pthread_atfork may allocate: untraced
  pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
  inside = 0;
}

// A preloaded library is finalized after the program's own destructors and
// atexit handlers, so this sees nearly every call; later ones go untraced.
__attribute__((destructor)) static void finish(void) {
  enter();
  output_finish();
  leave();
}
