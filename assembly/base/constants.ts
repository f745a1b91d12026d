// Constants shared by every layer: build flags, memory geometry, block and
// page-kind encodings, policies, options, and the tuning figures with the
// measurements behind them.
//
// The host and the C header never keep a second copy of these numbers:
// assembly/layout.ts re-exports the ones they need, and tools/layout.mjs
// generates src/layout.ts and include/wasm_malloc.h's constants from it
// (docs/layout.md).

// ── Compile-time build flags ────────────────────────────────────────────────
// `asc --use WASM_MALLOC_CHECKED=1` (the `checked` target) turns on the
// expensive checks (interior-pointer detection by walking the segment).
// @ts-ignore: isDefined is a compile-time builtin
export const CHECKED: bool = isDefined(WASM_MALLOC_CHECKED);
// `asc --use WASM_MALLOC_UNCHECKED=1` (the `unchecked` target, for the
// benchmark only): trust every pointer given to free/realloc, so the cost of
// the release build's O(1) pointer checks can be measured. Not for use.
// @ts-ignore: isDefined is a compile-time builtin
export const UNCHECKED: bool = isDefined(WASM_MALLOC_UNCHECKED);
// `asc --use WASM_MALLOC_EMBED=1` (the `embed` targets): the memory is
// imported and shared with a client; the heap starts where heap_init says,
// never on its own.
// @ts-ignore: isDefined is a compile-time builtin
export const EMBED: bool = isDefined(WASM_MALLOC_EMBED);
// `asc --use WASM_MALLOC_LINK=1` (the `link` target): merged into a program by
// `wasm-malloc link` (src/link/), with no host: the heap goes where the linker's
// config says, and misuse is written to stderr through WASI (base/stderr.ts).
// @ts-ignore: isDefined is a compile-time builtin
export const LINK: bool = isDefined(WASM_MALLOC_LINK);
// `asc --use WASM_MALLOC_BUDDY=1` (the `buddy` target): the buddy engine
// (buddy.ts) serves every size below 32 KiB; no slabs. Other builds compile
// none of it.
// @ts-ignore: isDefined is a compile-time builtin
export const BUDDY: bool = isDefined(WASM_MALLOC_BUDDY);
// `asc --use WASM_MALLOC_SMALL=1` (the `small` target): the standard engine
// with segregated fit only, no quick lists, no statistics, no reclaim before
// growth (pages move between layers only as whole freed segments and runs),
// and no inspection exports (assembly/small.ts), built without forced
// inlining (tools/asc-no-inline.mjs): bytes first.
// @ts-ignore: isDefined is a compile-time builtin
export const SMALL: bool = isDefined(WASM_MALLOC_SMALL);
// `asc --use WASM_MALLOC_THREADS=1` (the `threads` target, assembly/threads.ts):
// an embed build over a shared memory, compiled with atomics, whose instances
// (one per thread) share one heap under its lock (base/lock.ts).
// @ts-ignore: isDefined is a compile-time builtin
export const THREADS: bool = isDefined(WASM_MALLOC_THREADS);

// ── Memory geometry ─────────────────────────────────────────────────────────
/** A Wasm page: the unit of `memory.grow` and of the page layer. */
export const PAGE_SIZE: u32 = 65536;
export const PAGE_BITS: u32 = 16;
/** Pages a heap may span at most (4 GiB less one page): every address, top included, fits a u32. */
export const MAX_MEMORY_PAGES: u32 = 65535;
/** Every pointer returned is aligned to this (wasm32 max_align_t, v128). */
export const ALIGNMENT: u32 = 16;
export const ALIGN_MASK: u32 = ALIGNMENT - 1;
/** The largest alignment `aligned_alloc`/`posix_memalign` accept. */
export const MAX_ALIGNMENT: u32 = PAGE_SIZE;
/** Largest request that can be served at all; anything above returns 0.
 *  Leaves room for rounding and headers without wrapping past 2^32. */
export const MAX_REQUEST: u32 = 0xFFFE0000;

// ── Boundary-tag blocks (medium layer) ──────────────────────────────────────
/** Header word before every medium payload. */
export const BLOCK_HEADER: u32 = 4;
/** Smallest block: header + next + prev + footer. */
export const MIN_BLOCK: u32 = 16;
export const TAG_IN_USE: u32 = 1;
export const TAG_PREV_FREE: u32 = 2;
/** An in-use-tagged block held free on a quick list (quick.ts). */
export const TAG_QUICK: u32 = 4;
/** Temporary mark used only inside `heapCheck` (never set between calls). */
export const TAG_MARK: u32 = 8;
export const TAG_MASK: u32 = 15;
/** Bytes before the first block of a segment (keeps payloads 16-aligned). */
export const SEGMENT_PROLOGUE: u32 = 12;
/** The size-0, in-use header that ends a segment. */
export const SEGMENT_EPILOGUE: u32 = 4;
/**
 * Freed blocks up to this size (4 KiB requests: the 4,072-byte buffers of the
 * cccp/cp-decl/expr/amptjp traces, a page-sized buffer in general) may be
 * held on quick lists instead of coalesced (segregated fit; see quick.ts).
 */
export const QUICK_MAX: u32 = 4112;
/**
 * Blocks up to this size are always held; larger ones only when their size
 * is common (at least QUICK_CENSUS_MIN live blocks of it) and neither
 * neighbour is free (then holding them delays no merge). Measured (six seeds;
 * random-bal timed): holding every block up to 4 KiB cost s2 and s5 about 2.5
 * points of utilization; the neighbour rule alone kept s2 but made
 * random-bal 1.4x slower (held blocks of one-off sizes split its free space);
 * both rules together keep both.
 */
export const QUICK_ALWAYS_MAX: u32 = 272;
/** Live blocks of a size (above QUICK_ALWAYS_MAX) before freed ones of it are held. */
export const QUICK_CENSUS_MIN: u32 = 4;
/** A free block this large that covers whole pages gives them back. */
export const TRIM_MIN_PAGES: u32 = 4;

// ── Size classes (slab layer) ───────────────────────────────────────────────
/** Requests up to this many bytes are served from slabs (unless disabled). */
export const SLAB_MAX: u32 = 256;
export const SLAB_CLASSES: u32 = 12;
/**
 * A slab is a span of this many bytes, aligned to its size: a slab page holds
 * SPANS_PER_PAGE of them, each of any class or free (slab.ts). A page per
 * class cost small heaps most: cc1-pngtest's nine classes held 422 KB of
 * empty slots at its peak (8.8% of its memory), most of it one page per class
 * holding a few dozen objects.
 */
export const SLAB_SPAN: u32 = 16384;
export const SLAB_SPAN_BITS: u32 = 14;
export const SPANS_PER_PAGE: u32 = PAGE_SIZE >> SLAB_SPAN_BITS;
/**
 * A size class gets its first slab page only once the boundary-tag layer
 * holds this many bytes of live blocks of its size: a slab page is 64 KiB,
 * and a class with a handful of objects would leave most of it empty.
 * Measured on the CS:APP traces (bench/utilization.mjs): 4 KiB 94.1% mean
 * utilization, 16 KiB 93.6%, 32 KiB 92.0%, slabs from the first object 86.4%.
 */
export const SLAB_START_BYTES: u32 = 4096;
/**
 * Classes of objects larger than SLAB_SMALL_OBJECT wait for SLAB_START_BYTES_BIG
 * live bytes, most of a page's worth. Small objects lose most in the
 * boundary-tag layer (a 16-byte request takes a 32-byte block) and gain from
 * being kept apart from larger ones (binary-bal: 92.6%, 67.6% if its 64-byte
 * class waited for 64 KiB); bigger ones lose at most 11% there, and slabs of
 * them pay only if the class nearly fills them: the 160-byte class of
 * cccp/cp-decl/expr-bal peaks at 230..286 objects. Measured with 16 KiB
 * spans (docs/history.md): 16, 24 and 32 KiB cost the nine big CS:APP traces
 * replayed in passes 1.2 points (94.0% -> 92.8%: amptjp, cccp, cp-decl and
 * expr-bal a page each), 48 KiB 0.3; 56 KiB keeps them at 94.0% (94.2% in
 * one pass) and s2 at 92.4%, with the real programs' traces at 91.7% mean
 * (64 KiB: 91.5%, cc1-pngtest 85.8% against 87.8%).
 */
export const SLAB_SMALL_OBJECT: u32 = 128;
export const SLAB_START_BYTES_BIG: u32 = 57344;

// ── The checked build's quarantine (api/guard.ts) ──────────────────────────
/** Bytes of freed blocks the checked build holds back before releasing the oldest, unless heap_set_quarantine says otherwise. */
export const QUARANTINE_DEFAULT: u32 = 1 << 20;

// ── Page runs (large layer) ─────────────────────────────────────────────────
/** Requests of at least this many bytes get a run of whole pages. */
export const LARGE_MIN: u32 = 262144;
/**
 * From this size up to LARGE_MIN, a request gets a run only when it fills the
 * run's pages to within 1/8 (large.ts, isLarge): a 64 or 128 KiB buffer loses
 * nothing to rounding, and a run grows in place by whole pages; a 70 KiB
 * block would lose 45% and stays a boundary-tag block. Measured: s3 (vectors
 * doubling to 256 KiB) 71.1% -> 86.5% utilization (it copies a fifth more: the
 * vectors cross layers at 64 KiB, not 256), s4 (64 KiB..4 MiB) 80.7% -> 80.5%
 * over twelve seeds (no change); the traces have no such sizes.
 */
export const RUN_MIN: u32 = 65536;

// ── Page map kinds: what owns each 64 KiB page ──────────────────────────────
export const PAGE_NONE: u8 = 0;     // not ours (below the heap, or grown by someone else)
export const PAGE_FREE: u8 = 1;     // part of a free page run
export const PAGE_HEAP: u8 = 2;     // part of a boundary-tag segment
export const PAGE_SLAB: u8 = 3;     // one slab of one size class
export const PAGE_LARGE: u8 = 4;    // first page of a large allocation
export const PAGE_LARGE_TAIL: u8 = 5; // a following page of a large allocation
export const PAGE_META: u8 = 6;     // holds the page map once it outgrows the heap state
export const PAGE_BUDDY: u8 = 7;    // buddy build only: one page of buddy blocks (buddy.ts)
/** The highest page kind this build uses. */
export const PAGE_KIND_MAX: u8 = BUDDY ? PAGE_BUDDY : PAGE_META;

// ── Placement policies for the boundary-tag layer ───────────────────────────
export const POLICY_FIRST: u32 = 0;
export const POLICY_NEXT: u32 = 1;
export const POLICY_BEST: u32 = 2;
export const POLICY_WORST: u32 = 3;
export const POLICY_SEGREGATED: u32 = 4;
export const POLICY_COUNT: u32 = 5;
export const POLICY_DEFAULT: u32 = POLICY_SEGREGATED;

// ── Options (bit flags given to heap_configure) ─────────────────────────────
/** Route small sizes to the boundary-tag heap too (to compare policies). */
export const OPTION_NO_SLABS: u32 = 1;
/** Give a size class slab pages from its first object, not after SLAB_START_BYTES (tests, teaching). */
export const OPTION_EAGER_SLABS: u32 = 2;
