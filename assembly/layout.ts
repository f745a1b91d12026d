// The layout description: every constant the host, the C header and the
// visualizer need (page size, page kinds, layers, block states, policies,
// options, counter ids, error, reason, operation and check codes, heap_init's
// statuses, the buddy engine's orders), re-exported from where it is defined.
//
// This is an entry file of its own (asconfig.json target `layout`), not part
// of any allocator build: `npm run build:layout` compiles it to
// build/layout/layout.wasm, reads its exported globals, and writes
// src/layout.ts (the host's table) and the generated section of
// include/wasm_malloc.h (tools/layout.mjs). The allocator builds export
// functions and walk_* results only. docs/layout.md says how to add one.
//
// Compiled without --use flags: a value that depends on the build is the
// default build's (HEAP_STATE_SIZE is larger in the buddy build). The build
// flags (CHECKED, EMBED, TRACED, BUDDY) are not here: the host knows which
// build it loaded.

export {
  LAYER_STATE, LAYER_MEDIUM, LAYER_SLAB, LAYER_LARGE, LAYER_PAGES, LAYER_PAGE_MAP, LAYER_SLAB_HEADER, LAYER_START_MAP,
  LAYER_BUDDY, LAYER_SPAN, STATE_FREE, STATE_IN_USE, STATE_METADATA,
} from "./inspect/walk";
export {
  PAGE_SIZE, ALIGNMENT, MAX_ALIGNMENT, MAX_REQUEST, BLOCK_HEADER, MIN_BLOCK, SEGMENT_PROLOGUE,
  SEGMENT_EPILOGUE, SLAB_MAX, SLAB_CLASSES, SLAB_SPAN, LARGE_MIN, RUN_MIN, TRIM_MIN_PAGES,
  PAGE_NONE, PAGE_FREE, PAGE_HEAP, PAGE_SLAB, PAGE_LARGE, PAGE_LARGE_TAIL, PAGE_META, PAGE_BUDDY,
  POLICY_FIRST, POLICY_NEXT, POLICY_BEST, POLICY_WORST, POLICY_SEGREGATED, POLICY_DEFAULT,
  OPTION_NO_SLABS, OPTION_EAGER_SLABS, SLAB_START_BYTES, SLAB_SMALL_OBJECT, SLAB_START_BYTES_BIG, TAG_QUICK, QUICK_MAX, QUICK_ALWAYS_MAX, QUICK_CENSUS_MIN,
  QUARANTINE_DEFAULT,
} from "./base/constants";
export {
  STAT_IN_USE, STAT_PEAK_IN_USE, STAT_LIVE, STAT_REQUESTED, STAT_MALLOCS, STAT_FREES, STAT_CALLOCS,
  STAT_REALLOCS, STAT_ALIGNED, STAT_FAILED, STAT_GROWS, STAT_GROWN_PAGES, STAT_ERRORS,
  STAT_REALLOC_IN_PLACE, STAT_TRIMMED_PAGES, STAT_QUARANTINED,
} from "./base/state";
// The heap state's layout, for tests that damage or compare it (base/state.ts has the diagram).
export { SHARED_AT, S_TOP, S_INLINE_MAP, H_COUNTERS, H_CLASS_PAGES } from "./base/state";
export { HEAP_STATE_SIZE } from "./engines/engine";
export {
  CHECK_GUARD, CHECK_CANARY, CHECK_POISON, CHECK_QUARANTINE, GUARD_HEADER, GUARD_TAIL, CANARY, POISON,
} from "./api/guard";
export {
  ERR_DOUBLE_FREE, ERR_INVALID_FREE, ERR_OVERFLOW, ERR_UNDERFLOW, ERR_USE_AFTER_FREE,
  ERR_OUT_OF_MEMORY, ERR_CORRUPTION, ERR_NOT_INITIALIZED, REASON_NONE, REASON_MISALIGNED,
  REASON_NOT_OWNED, REASON_INTERIOR, REASON_NOT_ALLOCATED, OP_FREE, OP_REALLOC, OP_USABLE_SIZE,
  OP_CHECK, OP_MALLOC, OP_CALLOC, OP_ALIGNED_ALLOC, OP_NAME,
} from "./base/report";
export {
  CHECK_PAGE_KIND, CHECK_PAGE_BEYOND_TOP, CHECK_RUN_LINKS, CHECK_RUN_ORDER, CHECK_RUN_PAGES,
  CHECK_RUN_FOOTER, CHECK_RUN_COUNT, CHECK_BLOCK_SIZE, CHECK_BLOCK_FOOTER, CHECK_PREV_FREE_BIT,
  CHECK_ADJACENT_FREE, CHECK_EPILOGUE, CHECK_FREE_NOT_LISTED, CHECK_LISTED_NOT_FREE, CHECK_LIST_LINKS,
  CHECK_LIST_ORDER, CHECK_WRONG_LIST, CHECK_BITMAP, CHECK_LIST_DUPLICATE, CHECK_ROVER,
  CHECK_SLAB_HEADER, CHECK_SLAB_COUNT, CHECK_SLAB_FREE_LIST, CHECK_SLAB_LIST, CHECK_LARGE,
  CHECK_COUNTERS, CHECK_STATE, CHECK_QUICK_LIST, CHECK_WALK_CURSOR, CHECK_START_MAP, CHECK_SPANS,
} from "./inspect/violations";
export { EINVAL, ENOMEM } from "./api/calls";
export {
  HEAP_INIT_OK, HEAP_INIT_ALREADY, HEAP_INIT_BAD_POLICY, HEAP_INIT_NO_ROOM, HEAP_INIT_BAD_RANGE, HEAP_INIT_IN_USE, HEAP_INIT_NOT_FOUND,
} from "./api/init";
// The buddy engine (the buddy build's only; the constants compile in every build).
export {
  BUDDY_MIN_ORDER, BUDDY_MAX_ORDER, BUDDY_MAX_SIZE, BUDDY_PAGE_HEADER,
  CHECK_BUDDY_TAG, CHECK_BUDDY_MERGE, CHECK_BUDDY_LIST, CHECK_BUDDY_BITMAP, CHECK_BUDDY_COUNT,
} from "./buddy/buddy";
