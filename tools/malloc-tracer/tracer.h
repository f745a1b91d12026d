// The malloc tracer's shared declarations: an LD_PRELOAD library that writes a
// native program's malloc, calloc, realloc, aligned allocations and frees to a
// .rep trace (docs/real-traces.md).
//
//   hooks.c    the interposed functions, the lock, finding the real allocator
//   blocks.c   live pointer -> trace id (and size), ids of freed blocks reused
//   output.c   configuration, the buffered .rep text, the file and its header
//
// Nothing here allocates through malloc: tables live in mmap'd memory, text in
// a static buffer, so the tracer never calls the functions it traces.
#ifndef MALLOC_TRACER_H
#define MALLOC_TRACER_H

#include <stddef.h>
#include <stdint.h>

#define TRACER_EXPORT __attribute__((visibility("default")))

// ── blocks.c ────────────────────────────────────────────────────────────────
/** A live block: its trace id and the size the program asked for. */
typedef struct {
  uint32_t id;
  uint64_t size;
} block_info;

/** Record `ptr` as a new live block of `size` bytes; returns its id (a freed one when any). */
uint32_t blocks_add(uintptr_t ptr, uint64_t size);
/** Forget `ptr`: 1 and its info in *out when it was live, 0 when unknown. Its id stays taken. */
int blocks_remove(uintptr_t ptr, block_info *out);
/** `id`'s block is freed: the next allocation may take the id. */
void blocks_release_id(uint32_t id);
/** `ptr` moved to `moved` with a new size, keeping its id (realloc). */
void blocks_move(uintptr_t moved, uint32_t id, uint64_t size);
/** Ids handed out so far: the trace's id count (freed ids are reused first). */
uint32_t blocks_id_count(void);
/** Call `each` for every live block (in no particular order). */
void blocks_each(void (*each)(uint32_t id, uint64_t size));

// ── output.c ────────────────────────────────────────────────────────────────
/** What the trace counts, for its header and its .stats file. */
typedef struct {
  uint64_t ops;            // lines written: a, f and r
  uint64_t run_ops;        // operations seen, written or not (after MAX_OPS)
  uint64_t mallocs, callocs, reallocs, aligned, frees;
  uint64_t realloc_from_null, realloc_to_zero;
  uint64_t unknown_frees;  // frees and reallocs of blocks from before the trace
  uint64_t usable_size_calls;
  uint64_t inherited;      // "a" lines a fork's child opens with (its parent's live blocks)
  uint64_t live_bytes, peak_live_bytes;
} trace_counts;

extern trace_counts counts;

/** 1 once the environment is read and this process is traced; 0 when it is not (or is done). */
int output_enabled(void);
/** Read the configuration (WASM_MALLOC_TRACE, _ONLY, _MAX_OPS) when libc's environment is there. */
void output_configure(void);
/** Append "a ID SIZE", "f ID" or "r ID SIZE" (size unused for f). */
void output_op(char kind, uint32_t id, uint64_t size);
/** At exit: complete the trace file and write NAME.stats; later operations are not traced. */
void output_finish(void);
/**
 * In a fork's child: drop the parent's unwritten text and counts and start this
 * process's own trace, which opens with an "a" for each block it inherited.
 */
void output_restart_after_fork(void);

#endif
