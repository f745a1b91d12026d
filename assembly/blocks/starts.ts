// The start map: which 16-byte granules begin a live boundary-tag block.
//
// A pointer given to free/realloc/malloc_usable_size on a boundary-tag page
// is accepted only if its bit here is set. The bit is out of band, so no
// content of any block (a copy of a real header, a forged one, repeated small
// integers) can make an interior pointer pass: the header is trusted only
// once the map says a block starts there.
//
// ╒═══════════ Start map (one bitmap, a boundary-tag block of its own) ═══════════╕
//   bit i  <->  payload address  base + 16·i        base = the heap's first page
//
//   byte  = bias + (payload >> 7)        bias = map - (base >> 7)
//   bit   = (payload >> 4) & 7
//
//   covered payloads: [base, end)        end = base + 128 · map bytes
// ╘═════════════════════════════════════════════════════════════════════════════════╛
// A bit is set while the block is allocated or held on a quick list (a held
// block's header then says so with TAG_QUICK), and cleared when the block
// goes back to the free lists (mediumFree, quickFlush). Splitting, merging and
// free blocks never touch it: only a live block's start matters.
//
// The map is itself a boundary-tag block, with no bit of its own (so no
// pointer to it is ever accepted), sized to cover the heap up to its top, and
// replaced by one that covers 1.25 times the heap when a block starts past its
// end (a slow path). It costs 1/128 of the heap it covers (4 KiB at least;
// up to 1/100 of the heap just after a replacement), and a few instructions
// per boundary-tag malloc and free.
//
// The threads build keeps one map for every heap over the memory, never
// moved: a META page of bits for each 8 MiB of memory, made when memory grows
// into it (pages.ts), found through the shared part's directory. Each heap
// marks and clears its own blocks' bits; a thread freeing another heap's
// block clears its bit too, atomically, which claims the block once for the
// owner to take back (api/remote.ts): a second free of it finds the bit
// clear. So bits change by atomic read-modify-writes there.
//
//   bit of payload p:  directory[p >> 23] + ((p >> 7) & 0xFFFF), bit (p >> 4) & 7
//
// Invariants (checked by heapCheck):
//   - a bit is set exactly at the payloads of in-use and quick-held blocks;
//   - every bit at or past the map's coverage would be 0 (no block starts
//     there unmarked).

import { PAGE_BITS, PAGE_SIZE, BLOCK_HEADER, THREADS } from "../base/constants";
import { shared, heap, S_STARTS, S_STARTS_BIAS, S_STARTS_END, S_BASE_PAGE, S_TOP } from "../base/state";
import { startRegionPage, startRegion, START_REGION_BITS } from "../pages/startbits";

// ── The threads build's map (its pages: pages/startbits.ts) ─────────────────
@inline function regionByte(page: usize, payload: usize): usize { return page + ((payload >>> 7) & 0xFFFF); }

/**
 * Threads build: clear the bit of `payload`, a block on another heap's page
 * that the caller frees; true if it was set (the block was live, and is now
 * the caller's to hand back), false if not (nothing changed).
 */
export function startClaim(payload: usize): bool {
  let page = startRegionPage(payload);
  if (page == 0) return false;
  let bit = <u8>bitOf(payload);
  return (atomic.and<u8>(regionByte(page, payload), ~bit) & bit) != 0;
}
/** Threads build: set the bit of `payload` again (a claim given up, or a claimed block being taken back). */
export function startUnclaim(payload: usize): void {
  let page = startRegionPage(payload);
  if (page != 0) atomic.or<u8>(regionByte(page, payload), <u8>bitOf(payload));
}
/** Threads build: set bits in the whole map. */
export function startBitsSet(): u32 {
  let bits: u32 = 0;
  let top: usize = load<u32>(shared(), S_TOP);
  let regions = <u32>((<u64>top + (1 << START_REGION_BITS) - 1) >> START_REGION_BITS);
  for (let r: u32 = 0; r < regions; r++) {
    let page = startRegion(r);
    if (page == 0) continue;
    for (let i: usize = 0; i < PAGE_SIZE; i += 8) bits += <u32>popcnt<u64>(load<u64>(page + i));
  }
  return bits;
}

/**
 * The first map covers this much heap (4 KiB of map, placed at the start of
 * segment 0 before any block): a heap that stays below it never replaces its
 * map, so the map never splits its free space. A larger heap's new map goes
 * wherever the boundary-tag layer finds room.
 */
const STARTS_FIRST_COVER: u64 = 512 << 10;
/** The first map's bytes (heap setup reserves its block in segment 0). */
export const STARTS_FIRST_BYTES: u32 = <u32>(STARTS_FIRST_COVER >> 7);

/** Address of the map's block payload, 0 before the first boundary-tag malloc (always 0 in the threads build: no block holds its map). */
@inline export function startsMap(): usize { return THREADS ? 0 : load<u32>(shared(), S_STARTS); }
/** First payload address the map does not cover. */
@inline export function startsEnd(): usize { return load<u32>(shared(), S_STARTS_END); }

@inline function byteOf(payload: usize): usize { return <usize>load<u32>(shared(), S_STARTS_BIAS) + (payload >> 7); }
@inline function bitOf(payload: usize): u32 { return 1 << (<u32>(payload >> 4) & 7); }

/** Is a live block's payload at `payload` (16-aligned, on a boundary-tag page)? */
@inline export function startIsLive(payload: usize): bool {
  if (THREADS) {
    let page = startRegionPage(payload);
    return page != 0 && (atomic.load<u8>(regionByte(page, payload)) & bitOf(payload)) != 0;
  }
  return payload < startsEnd() && (load<u8>(byteOf(payload)) & bitOf(payload)) != 0;
}

/** Mark `payload` as a live block's start; false if the map does not reach it (grow it first). */
@inline export function startMark(payload: usize): bool {
  if (THREADS) {
    let page = startRegionPage(payload);
    if (page == 0) return false; // (never: memory grows with its region's page)
    atomic.or<u8>(regionByte(page, payload), <u8>bitOf(payload));
    return true;
  }
  if (payload >= startsEnd()) return false;
  let at = byteOf(payload);
  store<u8>(at, load<u8>(at) | <u8>bitOf(payload));
  return true;
}

/** The block at `payload` is no longer live. */
@inline export function startClear(payload: usize): void {
  if (THREADS) {
    let page = startRegionPage(payload);
    if (page != 0) atomic.and<u8>(regionByte(page, payload), ~<u8>bitOf(payload));
    return;
  }
  if (payload < startsEnd()) {
    let at = byteOf(payload);
    store<u8>(at, load<u8>(at) & ~<u8>bitOf(payload));
  }
}

/**
 * Map bytes that cover the heap up to `top` and a quarter more (so a
 * heap that keeps growing replaces its map about log1.25(heap / 512 KiB)
 * times), at least STARTS_FIRST_COVER, in whole 16-byte granules.
 */
export function startsBytesFor(top: usize): u32 {
  let base = <usize>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS;
  let heapBytes = <u64>(top - base);
  let cover = heapBytes + (heapBytes >> 2);
  if (cover < STARTS_FIRST_COVER) cover = STARTS_FIRST_COVER;
  if (cover > <u64>0x100000000) cover = <u64>0x100000000;
  return <u32>(((cover + 2047) >> 11) << 4);
}

/** Map bytes that cover the heap up to `top` exactly (a heap that will not grow past it). */
export function startsBytesExact(top: usize): u32 {
  let base = <usize>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS;
  return <u32>(((<u64>(top - base) + 2047) >> 11) << 4);
}

/**
 * Install `map` (a payload of `bytes` bytes) as the start map: the old map's
 * bits are copied, the rest cleared. Returns the old map's payload (0 if none)
 * for the caller to free.
 */
export function startsInstall(map: usize, bytes: u32): usize {
  let old = startsMap();
  let base = <usize>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS;
  let oldBytes: u32 = old == 0 ? 0 : <u32>((startsEnd() - base) >> 7);
  if (oldBytes > bytes) oldBytes = bytes;
  if (oldBytes != 0) memory.copy(map, old, oldBytes);
  memory.fill(map + oldBytes, 0, bytes - oldBytes);
  store<u32>(shared(), <u32>map, S_STARTS);
  store<u32>(shared(), <u32>(map - (base >> 7)), S_STARTS_BIAS);
  // (A map for a heap near 4 GiB would end past 2^32: it covers every address then.)
  let end = <u64>base + (<u64>bytes << 7);
  store<u32>(shared(), end > 0xFFFFFFFF ? 0xFFFFFFFF : <u32>end, S_STARTS_END);
  return old;
}

/** Does the map's block (header included) hold any byte of [addr, addr + length)? */
export function startsHolds(addr: usize, length: usize): bool {
  let map = startsMap();
  if (map == 0) return false;
  let base = <usize>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS;
  let bytes = (startsEnd() - base + 127) >> 7;
  return <u64>addr + length > <u64>map - BLOCK_HEADER && addr < map + bytes;
}

/** The block of the map's payload (for walks: it is metadata). */
@inline export function startsBlock(): usize { return startsMap() - BLOCK_HEADER; }

/**
 * The first payload at or after `from` (16-aligned) whose bit is set, 0 if
 * none: every live or held boundary-tag block, in address order, whatever
 * its header says (quick.ts rebuilds its lists from them when a link was
 * overwritten). A byte at a time: for slow paths only.
 */
export function startsNextSet(from: usize): usize {
  if (THREADS) return startsNextSetThreads(from);
  let map = startsMap();
  if (map == 0) return 0;
  let at = max<u64>(<u64>from, <u64>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS);
  let end = <u64>startsEnd();
  while (at < end) {
    let bits = <u32>load<u8>(byteOf(<usize>at)) >> (<u32>(at >> 4) & 7);
    if (bits != 0) return <usize>at + (<usize>ctz<u32>(bits) << 4);
    at = (at | 127) + 1; // the first payload the next byte covers
  }
  return 0;
}

/** startsNextSet over the threads build's map: regions without a page hold no bit. */
function startsNextSetThreads(from: usize): usize {
  let at = max<u64>(<u64>from, <u64>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS);
  let end = <u64>load<u32>(shared(), S_TOP);
  while (at < end) {
    let page = startRegionPage(<usize>at);
    if (page == 0) { at = ((at >> START_REGION_BITS) + 1) << START_REGION_BITS; continue; }
    let bits = <u32>load<u8>(regionByte(page, <usize>at)) >> (<u32>(at >> 4) & 7);
    if (bits != 0) return <usize>at + (<usize>ctz<u32>(bits) << 4);
    at = (at | 127) + 1;
  }
  return 0;
}
