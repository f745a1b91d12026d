// The heap state: every piece of allocator state, in two parts in memory.
//
// The per-heap part belongs to one heap: policy, free lists, slab classes,
// quick lists, counters, the checked build's quarantine, the engine's own
// state. The shared part belongs to the memory every heap over it takes
// pages from: the page layer's runs and page map, the start map, the limits.
// Nothing else is kept in globals that outlive a call, so a second heap over
// the same pages (one per thread: the threads issue) is a second per-heap
// part, not a rewrite.
//
// This build has one heap, and both parts lie in one block before segment 0,
// found through one Wasm global, `heap`: the shared part at a constant offset
// from it (`shared()`, SHARED_AT), so a field of either part is one load at a
// constant offset, as when the state was one structure. A build with more
// heaps keeps the shared part's address in a global of its own.
//
// ╒══════════ Per-heap part (at `heap`, 16-aligned) ══════════╕
//   +0    u32  policy          placement policy of the boundary-tag layer
//   +4    u32  options         OPTION_* flags
//   +8    u32  segment0        start of the heap's first boundary-tag segment
//   +12   u32  freeHead        first free block (first/next/best/worst lists)
//   +16   u32  rover           next-fit's roving pointer
//   +20   u32  flBitmap        segregated fit: non-empty first levels
//   +24   u32  reserve         segregated fit: the free block at the top, kept off the lists
//   +28   u32  quickOn         1 if free() holds small blocks on quick lists (quick.ts)
//   +32   u32  quickBytes      bytes held on the quick lists
//   +36   u32  quarantineHead  checked build: oldest freed block held back
//   +40   u32  quarantineTail  newest
//   +44   u32  quarantineBytes bytes held
//   +48   u32  quarantineLimit bytes it may hold before the oldest is released
//   +52   u16  slBitmap[25]    segregated fit: non-empty second levels
//   +104  u64  counters[16]    statistics (STAT_*)
//   +232  u32  classPages[12]  slab pages each size class holds
//   +280  u32×4 slabClass[12]  size classes: partial page, objSize, capacity, reciprocal
//   +472  u32  heads[25*16]    segregated fit: free list heads
//   +2072 u32  quick[258]      quick list heads, by block size 16·i (i ≤ 257; 0 unused)
//   +3104 u32  smallLive[258]  live boundary-tag blocks of size 16·i (i ≤ 257)
//   +4136 u32  freeSpans       first free slab span (slab.ts), 0 = none
//   +4140 u32  index           threads build: this heap's number, 1 … MAX_HEAPS, the owner
//                              bits of its pages' map entries (pagemap.ts); 0 elsewhere
//   +4144 u32  inbox           threads build: blocks other threads freed, for this heap to
//                              take back (api/remote.ts); 0 elsewhere
//   +4148 u32  attached        threads build: HEAP_ATTACHED, HEAP_ABANDONED or HEAP_BUSY
//                              (api/heaps.ts); the part ends at +4160
// ╘═══════════ 4148 bytes (4160 in the threads build) ═══════════╛
// ╒════ Shared part (at shared() = heap + SHARED_AT = heap + 4148) ════╕
//   +0    u32  magic           HEAP_MAGIC once set up
//   +4    u32  maxPages        memory may not grow past this many pages
//   +8    u32  top             end of our memory (page aligned)
//   +12   u32  basePage        page index holding the heap state
//   +16   u32  pageMap         address of the page map (inline or a META page)
//   +20   u32  pageMapCap      entries the page map holds
//   +24   u32  freeRuns        first free page run (address ordered list)
//   +28   u32  starts          start map: payload of its block, 0 = none yet (starts.ts)
//   +32   u32  startsBias      its address less (heap base >> 7)
//   +36   u32  startsEnd       first payload address it does not cover
//   +40   u32  lock            threads build: the page layer's lock (base/lock.ts); 0 elsewhere
//   +44   u8   inlineMap[512]  page map for the first 32 MiB (the threads build keeps it
//                              on a META page from the start: it never moves there)
//   threads build only:
//   +556  u32  heaps[32]       each heap's per-heap part by its index (0: none; [0] unused)
//   +684  u32  startBits[512]  the start map (starts.ts): the META page holding the bits
//                              of each 8 MiB of memory, by address >> 23 (0: none yet)
// ╘═══════════ 556 bytes (2736 in the threads build) ════════════╛
//   +4704 (H_ENGINE) the engine's own state, per heap (engines/engine.ts,
//         ENGINE_STATE_BYTES: the buddy engine's lists, 64 bytes; none in
//         the standard engine)
// In all: 4704 bytes (4768 in the buddy build, 6896 in the threads build), a
// multiple of 16, so segment 0's blocks start 16-aligned.
//
// The threads build has a heap per thread (api/heaps.ts): the first heap's
// state is both parts as above; every other heap's is a per-heap part alone,
// at the start of a page of its own, segment 0 right after it. There the
// shared part is not at a constant offset from `heap`: `sharedAt` holds it.

import { QUICK_MAX, SMALL, THREADS } from "./constants";

export const HEAP_MAGIC: u32 = 0x6D616C63; // "malc"

// ── The shared part ─────────────────────────────────────────────────────────
export const S_MAGIC: u32 = 0;
export const S_MAX_PAGES: u32 = 4;
export const S_TOP: u32 = 8;                  // offset of the top of our memory in the shared part
export const S_BASE_PAGE: u32 = 12;
export const S_PAGE_MAP: u32 = 16;
export const S_PAGE_MAP_CAP: u32 = 20;
export const S_FREE_RUNS: u32 = 24;
export const S_STARTS: u32 = 28;
export const S_STARTS_BIAS: u32 = 32;
export const S_STARTS_END: u32 = 36;
export const S_LOCK: u32 = 40;
export const S_INLINE_MAP: u32 = 44;          // offset of the inline page map: the shared part's scalars lie below it
export const INLINE_MAP_ENTRIES: u32 = 512;
/** Threads build: the heaps by index (MAX_HEAPS + 1 words, [0] unused). */
export const S_HEAPS: u32 = S_INLINE_MAP + INLINE_MAP_ENTRIES; // 556
/** Most heaps a threads build's memory holds (5 owner bits in a page-map entry, 0 meaning none). */
export const MAX_HEAPS: u32 = 31;
/** Threads build: the start map's directory, one META page address per 8 MiB of memory. */
export const S_START_BITS: u32 = S_HEAPS + (MAX_HEAPS + 1) * 4; // 684
export const START_BITS_REGIONS: u32 = 512;
/** Bytes of the shared part. */
export const SHARED_STATE_SIZE: u32 = THREADS ? S_START_BITS + START_BITS_REGIONS * 4 + 4 : S_INLINE_MAP + INLINE_MAP_ENTRIES; // 2736 : 556

// ── The per-heap part ───────────────────────────────────────────────────────
export const H_POLICY: u32 = 0;
export const H_OPTIONS: u32 = 4;
export const H_SEGMENT0: u32 = 8;
export const H_FREE_HEAD: u32 = 12;
export const H_ROVER: u32 = 16;
export const H_FL_BITMAP: u32 = 20;
export const H_RESERVE: u32 = 24;
export const H_QUICK_ON: u32 = 28;
export const H_QUICK_BYTES: u32 = 32;
export const H_QUARANTINE_HEAD: u32 = 36;
export const H_QUARANTINE_TAIL: u32 = 40;
export const H_QUARANTINE_BYTES: u32 = 44;
export const H_QUARANTINE_LIMIT: u32 = 48;
export const H_SL_BITMAP: u32 = 52;
export const H_COUNTERS: u32 = 104;           // offset of the counters (u64 each, STAT_*) in the per-heap part
/** Offset of the first per-heap field after the scalars and counters (what a report changes lies below it). */
export const H_CLASS_PAGES: u32 = H_COUNTERS + 16 * 8;            // 232 (STAT_COUNT counters)
export const H_SLAB_CLASSES: u32 = H_CLASS_PAGES + 12 * 4;         // 280
export const H_HEADS: u32 = H_SLAB_CLASSES + 12 * 16;              // 472
export const H_QUICK: u32 = H_HEADS + 25 * 16 * 4;                 // 2072
/** Quick list heads and census entries: one per block size 16·i, i = 0 … QUICK_MAX / 16. */
const SIZE_ENTRIES: u32 = (QUICK_MAX >> 4) + 1;
export const H_SMALL_LIVE: u32 = H_QUICK + (SIZE_ENTRIES << 2);    // 3104
export const SMALL_LIVE_MAX: u32 = QUICK_MAX; // block sizes counted in smallLive
/** The per-heap part's fields (without the engine's state). */
export const H_FREE_SPANS: u32 = H_SMALL_LIVE + (SIZE_ENTRIES << 2); // 4136
export const H_INDEX: u32 = H_FREE_SPANS + 4;                         // 4140
export const H_INBOX: u32 = H_FREE_SPANS + 8;                         // 4144
export const H_ATTACHED: u32 = H_FREE_SPANS + 12;                     // 4148
export const HEAP_PART_SIZE: u32 = THREADS ? H_FREE_SPANS + 24 : H_FREE_SPANS + 12; // 4160 : 4148
/** Where the shared part lies, from the first heap's `heap` (right after its per-heap part). */
export const SHARED_AT: u32 = HEAP_PART_SIZE;   // from heap_start(), in builds with one heap
/** Where the engine's own state lies, from `heap` (this build: after the shared part). */
export const H_ENGINE: u32 = SHARED_AT + SHARED_STATE_SIZE; // 4704

/** This instance's heap: its per-heap part, the start of the heap state; 0 until set up. */
export let heap: usize = 0;
/** Threads build: the shared part (the other builds find it at a constant offset from `heap`). */
export let sharedAt: usize = 0;
/** The shared part of the heap state. */
@inline export function shared(): usize { return THREADS ? sharedAt : heap + SHARED_AT; }

/** Use the heap state at `at` (0: none); the threads build's shared part is set apart (setShared). */
export function setHeap(at: usize): void { heap = at; }
/** Threads build: the shared part of the memory's heaps. */
export function setShared(at: usize): void { sharedAt = at; }

// ── Statistics counters ─────────────────────────────────────────────────────
export const STAT_IN_USE: u32 = 0;       // bytes usable in live allocations
export const STAT_PEAK_IN_USE: u32 = 1;
export const STAT_LIVE: u32 = 2;         // live allocations
export const STAT_REQUESTED: u32 = 3;    // bytes requested, cumulative
export const STAT_MALLOCS: u32 = 4;      // successful allocations, every entry point
export const STAT_FREES: u32 = 5;
export const STAT_CALLOCS: u32 = 6;
export const STAT_REALLOCS: u32 = 7;
export const STAT_ALIGNED: u32 = 8;
export const STAT_FAILED: u32 = 9;       // allocations that returned 0
export const STAT_GROWS: u32 = 10;       // successful memory.grow calls
export const STAT_GROWN_PAGES: u32 = 11;
export const STAT_ERRORS: u32 = 12;      // misuse reports
export const STAT_REALLOC_IN_PLACE: u32 = 13;
export const STAT_TRIMMED_PAGES: u32 = 14; // pages handed back by the boundary-tag layer
export const STAT_QUARANTINED: u32 = 15;   // checked build: freed blocks held in quarantine
export const STAT_COUNT: u32 = 16;

@inline export function statAdd(id: u32, delta: u64): void {
  if (SMALL) return; // no statistics: nothing reads them
  let at = heap + H_COUNTERS + (id << 3);
  store<u64>(at, load<u64>(at) + delta);
}
@inline export function statSub(id: u32, delta: u64): void {
  if (SMALL) return;
  let at = heap + H_COUNTERS + (id << 3);
  store<u64>(at, load<u64>(at) - delta);
}
@inline export function statGet(id: u32): u64 { return load<u64>(heap + H_COUNTERS + (id << 3)); }

/** Account a new live allocation of `usable` bytes (requested `requested`). */
@inline export function countAlloc(usable: usize, requested: usize): void {
  if (SMALL) return;
  let base = heap + H_COUNTERS;
  let inUse = load<u64>(base) + <u64>usable;
  store<u64>(base, inUse);
  if (inUse > load<u64>(base, 8)) store<u64>(base, inUse, 8);
  store<u64>(base, load<u64>(base, 16) + 1, 16);
  store<u64>(base, load<u64>(base, 24) + <u64>requested, 24);
  store<u64>(base, load<u64>(base, 32) + 1, 32);
}
/** Account the end of a live allocation of `usable` bytes. */
@inline export function countFree(usable: usize): void {
  if (SMALL) return;
  let base = heap + H_COUNTERS;
  store<u64>(base, load<u64>(base) - <u64>usable);
  store<u64>(base, load<u64>(base, 16) - 1, 16);
}

// ── The threads build's heaps (api/heaps.ts) ─────────────────────────────────
/** The per-heap part of heap `index` (1 … MAX_HEAPS), 0 if none. */
@inline export function heapAt(index: u32): usize { return atomic.load<u32>(sharedAt + S_HEAPS + (index << 2)); }
/** H_ATTACHED's values. */
export const HEAP_ATTACHED: u32 = 1;   // a thread's instance uses it
export const HEAP_ABANDONED: u32 = 2;  // its thread detached: the next to attach takes it over
export const HEAP_BUSY: u32 = 3;       // abandoned, and a thread is taking back blocks freed into it
