// The heap structure: every piece of allocator state, in one place in memory.
//
// All state lives in this structure inside the managed region, found through
// the single Wasm global `heap`. Nothing else is kept in globals, so a second
// heap (one per thread, later) is a second structure, not a rewrite.
//
// ╒════════════════ Heap state (at `heap`, 16-aligned) ═════════════════╕
//   +0    u32  initialized (HEAP_MAGIC once set up)
//   +4    u32  policy          placement policy of the boundary-tag layer
//   +8    u32  options         OPTION_* flags
//   +12   u32  maxPages        memory may not grow past this many pages
//   +16   u32  top             end of our memory (page aligned)
//   +20   u32  basePage        page index holding this structure
//   +24   u32  segment0        start of the first boundary-tag segment
//   +28   u32  pageMap         address of the page map (inline or a META page)
//   +32   u32  pageMapCap      entries the page map holds
//   +36   u32  freeRuns        first free page run (address ordered list)
//   +40   u32  freeHead        first free block (first/next/best/worst lists)
//   +44   u32  rover           next-fit's roving pointer
//   +48   u32  flBitmap        segregated fit: non-empty first levels
//   +52   u32  reserve         segregated fit: the free block at the top, kept off the lists
//   +56   u16  slBitmap[25]    segregated fit: non-empty second levels
//   +108  u32  quarantineHead  checked build: oldest freed block held back
//   +112  u32  quarantineTail  newest
//   +116  u32  quarantineBytes bytes held
//   +120  u32  quarantineLimit bytes it may hold before the oldest is released
//   +124  u32  quickOn         1 if free() holds small blocks on quick lists (quick.ts)
//   +128  u64  counters[16]    statistics (STAT_*)
//   +256  u32  heads[25*16]    segregated fit: free list heads
//   +1856 u32×4 slabClass[12]  size classes: partial page, objSize, capacity, reciprocal
//   +2048 u8   inlineMap[512]  page map for the first 32 MiB
//   +2560 u32  classPages[12]  slab pages each size class holds
//   +2608 u32  quickBytes      bytes held on the quick lists
//   +2612 u32  starts          start map: payload of its block, 0 = none yet (starts.ts)
//   +2616 u32  startsBias      its address less (heap base >> 7)
//   +2620 u32  startsEnd       first payload address it does not cover
//   +2624 u32  quick[258]      quick list heads, by block size 16·i (i ≤ 257; 0 unused)
//   +3656 u32  smallLive[258]  live boundary-tag blocks of size 16·i (i ≤ 257)
// ╘══════════════════════════════ 4688 bytes ═════════════════════════════╛
//   +4688 u32×14 buddy state  buddy build only (4752 bytes then): see buddy.ts

import { PAGE_BITS, BUDDY, QUICK_MAX } from "./constants";

export const HEAP_MAGIC: u32 = 0x6D616C63; // "malc"

export const H_INITIALIZED: u32 = 0;
export const H_POLICY: u32 = 4;
export const H_OPTIONS: u32 = 8;
export const H_MAX_PAGES: u32 = 12;
export const H_TOP: u32 = 16;
export const H_BASE_PAGE: u32 = 20;
export const H_SEGMENT0: u32 = 24;
export const H_PAGE_MAP: u32 = 28;
export const H_PAGE_MAP_CAP: u32 = 32;
export const H_FREE_RUNS: u32 = 36;
export const H_FREE_HEAD: u32 = 40;
export const H_ROVER: u32 = 44;
export const H_FL_BITMAP: u32 = 48;
export const H_RESERVE: u32 = 52;
export const H_SL_BITMAP: u32 = 56;
export const H_QUARANTINE_HEAD: u32 = 108;
export const H_QUARANTINE_TAIL: u32 = 112;
export const H_QUARANTINE_BYTES: u32 = 116;
export const H_QUARANTINE_LIMIT: u32 = 120;
export const H_QUICK_ON: u32 = 124;
export const H_COUNTERS: u32 = 128;
export const H_HEADS: u32 = 256;
export const H_SLAB_CLASSES: u32 = 1856;
export const H_INLINE_MAP: u32 = 2048;
export const INLINE_MAP_ENTRIES: u32 = 512;
export const H_CLASS_PAGES: u32 = 2560;
export const H_QUICK_BYTES: u32 = 2608;
export const H_STARTS: u32 = 2612;
export const H_STARTS_BIAS: u32 = 2616;
export const H_STARTS_END: u32 = 2620;
export const H_QUICK: u32 = 2624;
/** Quick list heads and census entries: one per block size 16·i, i = 0 … QUICK_MAX / 16. */
const SIZE_ENTRIES: u32 = (QUICK_MAX >> 4) + 1;
export const H_SMALL_LIVE: u32 = H_QUICK + (SIZE_ENTRIES << 2);
export const SMALL_LIVE_MAX: u32 = QUICK_MAX; // block sizes counted in smallLive
export const H_BUDDY: u32 = (H_SMALL_LIVE + (SIZE_ENTRIES << 2) + 15) & ~15; // 4688: segments start 16-aligned
export const HEAP_STATE_SIZE: u32 = BUDDY ? H_BUDDY + 64 : H_BUDDY;

/** Address of the heap structure; 0 until the heap is initialised. */
export let heap: usize = 0;

export function setHeap(at: usize): void { heap = at; }

@inline export function getU32(field: u32): u32 { return load<u32>(heap + field); }
@inline export function setU32(field: u32, value: u32): void { store<u32>(heap + field, value); }

@inline export function policy(): u32 { return load<u32>(heap, H_POLICY); }
@inline export function options(): u32 { return load<u32>(heap, H_OPTIONS); }
@inline export function top(): usize { return load<u32>(heap, H_TOP); }
@inline export function basePage(): u32 { return load<u32>(heap, H_BASE_PAGE); }
@inline export function segment0(): usize { return load<u32>(heap, H_SEGMENT0); }
@inline export function heapStart(): usize { return heap; }
@inline export function pageOf(addr: usize): u32 { return <u32>(addr >>> PAGE_BITS); }

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
  let at = heap + H_COUNTERS + (id << 3);
  store<u64>(at, load<u64>(at) + delta);
}
@inline export function statSub(id: u32, delta: u64): void {
  let at = heap + H_COUNTERS + (id << 3);
  store<u64>(at, load<u64>(at) - delta);
}
@inline export function statGet(id: u32): u64 { return load<u64>(heap + H_COUNTERS + (id << 3)); }

/** Account a new live allocation of `usable` bytes (requested `requested`). */
@inline export function countAlloc(usable: usize, requested: usize): void {
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
  let base = heap + H_COUNTERS;
  store<u64>(base, load<u64>(base) - <u64>usable);
  store<u64>(base, load<u64>(base, 16) - 1, 16);
}
