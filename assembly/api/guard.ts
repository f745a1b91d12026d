// The checked build's guarded allocations: canaries, poison, quarantine.
//
// Every allocation of the checked build is wrapped in a block of some layer
// ("raw" block) like this:
//
// ╒═════════════════ Guarded allocation (checked build) ═════════════════╕
//   raw                                   (for alignments > 16 raw+0 holds p|2)
//   p-32  u32  raw | FREED                where the raw block starts; bit 0: in quarantine
//   p-28  u32  size                       bytes the caller asked for
//   p-24  u32  next                       next block in quarantine (0 = none)
//   p-20  u32  GUARD_MAGIC ^ p            tells a real header from stale bytes
//   p-16  16 × CANARY                     front canary: underflow shows here
//                                         (once freed, its first word holds the raw
//                                         block's usable bytes: what the quarantine counts)
//   p     payload (size bytes)            poisoned with POISON when freed
//   p+size … raw end: CANARY              back canary (≥ 16 bytes): overflow
// ╘═══════════════════════════════════════════════════════════════════════╛
//
// Check first, then change: free, realloc, malloc_usable_size and
// malloc_name look at everything they are about to trust before they change
// anything, and a call that reports changes nothing (a host that throws from
// the report, like an abort, leaves a consistent heap too). They name the
// first thing broken after the block that owns it:
//   - guard header intact, block freed (in quarantine): `double-free`;
//   - front canary changed: `underflow` of this block, with the bytes changed;
//   - back canary changed: `overflow` of this block, with the bytes changed
//     (at least that many: a write that ran on over the next block is
//     counted up to this block's end only);
//   - its own block header (below the guard header) or the layer's view of
//     it broken: `corruption` of this block;
//   - no intact guard header, but a block starts right before where it would
//     be: that block's headers were overwritten (`corruption`, naming the
//     pointer), unless the block holds its allocation further on (an aligned
//     one: `invalid-free`, interior);
//   - otherwise what the layers say (`double-free` for a released block,
//     `invalid-free` with its reason).
//
// free() poisons the payload and puts the block in a FIFO quarantine instead
// of freeing it. Only when the quarantine holds more than its limit (bytes)
// is the oldest block really freed, after checking its poison: a write after
// free is reported then. The quarantine's links live in the header, outside
// the payload, and the header is verified before a link is followed. A freed
// block still in quarantine is recognised at once: a second free, or realloc
// of it, is a double free, whatever happened in between.
//
// Out of memory: before an allocation returns 0, the quarantine is released,
// oldest first (each block's poison checked as usual), and the allocation
// retried; 0 only once the quarantine is empty.
//
// A report made while releasing quarantined blocks is about an older block,
// not about the call: free() and realloc(p, 0) go ahead and stay unrejected
// (they are traced); an allocating call stops before it allocates and
// returns 0 (a host that throws would otherwise lose the new block). One
// report per call: releasing stops at the first.
//
// The C functions of the checked build (checked.ts) call these instead of
// calls.ts's; nothing below the API knows of them.
//
// Invariants (checked by guardCheck, run after heapCheck in this build):
//   - every in-use raw block holds a guarded allocation with a valid magic;
//   - live allocations have intact canaries; quarantined ones intact poison;
//   - the quarantine list holds exactly STAT_QUARANTINED blocks.

import {
  MAX_REQUEST, MAX_ALIGNMENT, PAGE_SIZE, PAGE_BITS, PAGE_HEAP, PAGE_SLAB, PAGE_LARGE,
  BLOCK_HEADER, MIN_BLOCK, TAG_IN_USE, TAG_QUICK, TAG_MARK, TAG_MASK, SEGMENT_PROLOGUE,
} from "../base/constants";
import {
  shared, heap, H_QUARANTINE_HEAD, H_QUARANTINE_TAIL, H_QUARANTINE_BYTES, H_QUARANTINE_LIMIT,
  S_TOP, S_BASE_PAGE, H_SEGMENT0, statAdd, statSub, statGet, STAT_QUARANTINED, STAT_FAILED,
} from "../base/state";
import { pageKind } from "../pages/pagemap";
import {
  report, beginCall, ERR_DOUBLE_FREE, ERR_INVALID_FREE, ERR_OVERFLOW, ERR_UNDERFLOW, ERR_USE_AFTER_FREE,
  ERR_CORRUPTION, REASON_INTERIOR, REASON_NONE, OP_FREE,
} from "../base/report";
import { allocateCall, validate, releaseRaw, rawUsable, countRaw } from "./calls";
import { classify } from "../engines/engine";
import { slabMagicOk, slabFirst, slabObjSize, spanOf } from "../slabs/slab";
import { largePages, largeUsable } from "../runs/large";
import { walkFirst, walkEnd, walkEntry, walk_state, walk_payload, walk_usable, walk_error, walk_error_address, STATE_IN_USE } from "../inspect/walk";

export const GUARD_HEADER: u32 = 32;
export const GUARD_TAIL: u32 = 16;
export const CANARY: u8 = 0xCB;
export const POISON: u8 = 0xDF;
export const GUARD_MAGIC: u32 = 0x47415244; // "GARD"
@inline const FREED: u32 = 1;
@inline const ALIGNED: u32 = 2;
/** Farthest a payload lies from the start of its raw block (an alignment of 64 KiB). */
@inline const MAX_OFFSET: usize = <usize>MAX_ALIGNMENT + GUARD_HEADER;
// What releasing the oldest quarantined block did (evictOldest).
@inline const EVICT_EMPTY: u32 = 0;    // nothing held
@inline const EVICT_CLEAN: u32 = 1;    // the oldest block was released
@inline const EVICT_REPORTED: u32 = 2; // it had to be reported (and was released if it could be)

@inline function headerOf(p: usize): usize { return p - GUARD_HEADER; }
@inline function rawOf(h: usize): usize { return load<u32>(h) & ~15; }
@inline function sizeOf(h: usize): u32 { return load<u32>(h, 4); }
@inline function heldBytes(h: usize): u32 { return load<u32>(h, 16); }
@inline function heapTop(): u64 { return <u64>load<u32>(shared(), S_TOP); }

/** Bytes in [from, to) that differ from `value` (8 at a time while they agree). */
function countChanged(from: usize, to: usize, value: u8): u32 {
  let changed: u32 = 0;
  let at = from;
  let word = <u64>value * 0x0101010101010101;
  while (at + 8 <= to && load<u64>(at) == word) at += 8;
  for (; at < to; at++) if (load<u8>(at) != value) changed++;
  return changed;
}

/**
 * Is the guard header at `h` intact: the magic of its payload h + 32, a raw
 * block start at most 64 KiB before, a size that ends inside the heap? Reads
 * nothing outside the heap, so a smashed link or word cannot make it trap.
 */
function headerSound(h: usize): bool {
  let top = heapTop();
  if (h < heap || <u64>h + GUARD_HEADER > top) return false;
  let p = h + GUARD_HEADER;
  let raw = rawOf(h);
  return load<u32>(h, 12) == (GUARD_MAGIC ^ <u32>p) && raw <= h && p - raw <= MAX_OFFSET &&
    <u64>p + sizeOf(h) <= top;
}

/** The payload of the guarded allocation inside the raw block at `raw`, or 0 if its header is not intact. */
function guardedIn(raw: usize): usize {
  let v: usize = load<u32>(raw);
  let p: usize = (v & ~15) == raw ? raw + GUARD_HEADER : (v & ALIGNED) != 0 ? v & ~15 : 0;
  if (p <= raw || p - raw > MAX_OFFSET || <u64>p > heapTop()) return 0;
  let h = headerOf(p);
  return headerSound(h) && rawOf(h) == raw ? p : 0;
}

/**
 * Usable bytes of the raw block at `raw`, read from its own metadata only
 * (its boundary tag, its slab span, its run), or 0 if that does not describe
 * a live block starting at `raw`. Unlike `classify`, it never looks at the
 * next block, which an overflow of this one may have smashed.
 */
function rawSpan(raw: usize): u32 {
  let kind = pageKind(<u32>(raw >>> PAGE_BITS));
  if (kind == PAGE_SLAB) {
    let span = spanOf(raw);
    let first = span + slabFirst(span);
    let size = slabObjSize(span);
    if (!slabMagicOk(span) || raw < first || size == 0 || (raw - first) % size != 0) return 0;
    return size;
  }
  if (kind == PAGE_LARGE) return (raw & (PAGE_SIZE - 1)) == 0 ? largeUsable(largePages(raw)) : 0;
  if (kind != PAGE_HEAP) return 0;
  let word = load<u32>(raw - BLOCK_HEADER);
  let size = word & ~TAG_MASK;
  let end = <u64>raw - BLOCK_HEADER + size;
  if ((word & (TAG_IN_USE | TAG_QUICK | TAG_MARK)) != TAG_IN_USE || size < MIN_BLOCK || end > heapTop() ||
      pageKind(<u32>((end - 1) >> PAGE_BITS)) != PAGE_HEAP) return 0;
  return size - BLOCK_HEADER;
}

/**
 * Does a boundary-tag block start exactly at `at`? Walks the blocks of the
 * segment holding `at` from its first one (O(blocks): error paths only). A
 * header before `at` that is no header at all ends the walk: false.
 */
function blockStartsAt(at: usize): bool {
  let page = <u32>(at >>> PAGE_BITS);
  if (pageKind(page) != PAGE_HEAP) return false;
  let base = load<u32>(shared(), S_BASE_PAGE);
  // Contiguous boundary-tag pages are one segment; segment 0 starts after the heap state.
  while (page > base && pageKind(page - 1) == PAGE_HEAP) page--;
  let cursor: u64 = (page == base ? <u64>load<u32>(heap, H_SEGMENT0) : <u64>page << PAGE_BITS) + SEGMENT_PROLOGUE;
  while (cursor < <u64>at) {
    let size = load<u32>(<usize>cursor) & ~TAG_MASK;
    if (size < MIN_BLOCK) return false;
    cursor += size;
  }
  return cursor == <u64>at;
}

// ── Allocating ──────────────────────────────────────────────────────────────

/** A guarded allocation of `size` bytes aligned to `align` (≤ 16 or a power of two); 0 if none. */
export function guardAlloc(size: usize, align: usize): usize {
  if (<u64>size + GUARD_HEADER + GUARD_TAIL + align > <u64>MAX_REQUEST) return 0;
  let extra: usize = align > 16 ? align : 0;
  let want = size + GUARD_HEADER + GUARD_TAIL + extra;
  let raw = allocateCall(want);
  if (raw == 0) raw = allocateReleasing(want);
  if (raw == 0) return 0;
  countRaw(raw, size);
  let p = raw + GUARD_HEADER;
  if (align > 16) {
    p = (raw + GUARD_HEADER + align - 1) & ~(align - 1);
    if (p != raw + GUARD_HEADER) store<u32>(raw, <u32>p | ALIGNED);
  }
  let h = headerOf(p);
  store<u32>(h, <u32>raw);
  store<u32>(h, <u32>size, 4);
  store<u32>(h, 0, 8);
  store<u32>(h, GUARD_MAGIC ^ <u32>p, 12);
  memory.fill(h + 16, CANARY, 16);
  let end = raw + rawUsable(raw);
  memory.fill(p + size, CANARY, end - (p + size));
  return p;
}

/**
 * Out of memory while freed blocks are held back: release the quarantine,
 * oldest first, and retry, until the allocation succeeds or nothing is held.
 * Each round releases at least twice the bytes of the one before (from
 * `want` on), so a large quarantine costs a few retries, not one per block.
 * 0 when the quarantine is empty and it still fails, or when a released
 * block had to be reported (the call is rejected: nothing was allocated).
 */
function allocateReleasing(want: usize): usize {
  let target: u64 = want;
  while (load<u32>(heap, H_QUARANTINE_HEAD) != 0) {
    let released: u64 = 0;
    while (released < target) {
      let before = load<u32>(heap, H_QUARANTINE_BYTES);
      let result = evictOldest();
      if (result == EVICT_EMPTY) break;
      if (result == EVICT_REPORTED) return 0;
      released += before - load<u32>(heap, H_QUARANTINE_BYTES);
    }
    let raw = allocateCall(want);
    if (raw != 0) return raw;
    target <<= 1;
  }
  return 0;
}

// ── Finding the allocation a pointer names ──────────────────────────────────

/**
 * The header of the live guarded allocation at `p`, or 0 after reporting
 * what is wrong with it. Changes nothing either way.
 */
function locate(p: usize, op: u32): usize {
  if (p & 15) { validate(p, op); return 0; }
  let h = headerOf(p);
  let kind = pageKind(<u32>(h >>> PAGE_BITS));
  if (kind != PAGE_HEAP && kind != PAGE_SLAB && kind != PAGE_LARGE) { validate(p, op); return 0; }
  if (!headerSound(h)) { diagnose(p, op); return 0; }
  let size = sizeOf(h);
  if ((load<u32>(h) & FREED) != 0) { report(ERR_DOUBLE_FREE, REASON_NONE, op, p, p, size); return 0; }
  let under = countChanged(h + 16, p, CANARY);
  if (under) { report(ERR_UNDERFLOW, under, op, p, p, size); return 0; }
  let raw = rawOf(h);
  let span = rawSpan(raw);
  // Its own block header (before the guard header) overwritten: an overflow of the block before it.
  if (span == 0 || <u64>p + size > <u64>raw + span) { report(ERR_CORRUPTION, REASON_NONE, op, p, p, size); return 0; }
  let over = countChanged(p + size, raw + span, CANARY);
  if (over) { report(ERR_OVERFLOW, over, op, p, p, size); return 0; }
  // Canaries intact, yet the layer disowns the block (e.g. the next block's P bit flipped).
  if (classify(raw) != 0) { report(ERR_CORRUPTION, REASON_NONE, op, p, p, size); return 0; }
  return h;
}

/** Report what `p` is, when no intact guard header precedes it. */
function diagnose(p: usize, op: u32): void {
  let h = headerOf(p);
  let code = classify(h);
  let freed = (code >> 8) == ERR_DOUBLE_FREE;
  // A block starts right where p's raw block would: a live one by the layer's
  // own account, or a boundary-tag block reached by walking its segment
  // (whose header the layer no longer recognises: it was overwritten).
  if (code == 0 || (!freed && pageKind(<u32>(h >>> PAGE_BITS)) == PAGE_HEAP && blockStartsAt(h - BLOCK_HEADER))) {
    let inside = guardedIn(h);
    if (inside != 0 && inside != p) report(ERR_INVALID_FREE, REASON_INTERIOR, op, p, inside, sizeOf(headerOf(inside)));
    else report(ERR_CORRUPTION, REASON_NONE, op, p, p, 0);
    return;
  }
  // Freed and released already (its raw block, or the stale header it left, is free).
  if (freed) { report(ERR_DOUBLE_FREE, REASON_NONE, op, p, p, 0); return; }
  if (classify(p) != 0) { validate(p, op); return; }
  report(ERR_INVALID_FREE, REASON_INTERIOR, op, p, 0, 0);
}

// ── The quarantine ──────────────────────────────────────────────────────────

/** Poison the located allocation at `h` and put it at the end of the quarantine. */
function retire(h: usize): void {
  let p = h + GUARD_HEADER;
  let raw = rawOf(h);
  let bytes = rawUsable(raw);
  store<u32>(h, <u32>raw | FREED);
  store<u32>(h, 0, 8);
  store<u32>(h, bytes, 16);
  memory.fill(p, POISON, sizeOf(h));
  let tail: usize = load<u32>(heap, H_QUARANTINE_TAIL);
  if (tail) store<u32>(tail, <u32>h, 8);
  else store<u32>(heap, <u32>h, H_QUARANTINE_HEAD);
  store<u32>(heap, <u32>h, H_QUARANTINE_TAIL);
  store<u32>(heap, load<u32>(heap, H_QUARANTINE_BYTES) + bytes, H_QUARANTINE_BYTES);
  statAdd(STAT_QUARANTINED, 1);
}

/**
 * Really free the oldest quarantined block, after checking its poison and
 * its raw block. Reports come before anything changes. A block whose raw
 * block the layer disowns is taken off the list but not freed (freeing it
 * could spread the damage); a smashed header breaks the list, which is then
 * rebuilt from the heap itself.
 */
function evictOldest(): u32 {
  let h: usize = load<u32>(heap, H_QUARANTINE_HEAD);
  if (h == 0) return EVICT_EMPTY;
  let p = h + GUARD_HEADER;
  if (!headerSound(h) || (load<u32>(h) & FREED) == 0) {
    report(ERR_CORRUPTION, REASON_NONE, OP_FREE, p, p, 0);
    quarantineRebuild();
    return EVICT_REPORTED;
  }
  let size = sizeOf(h);
  let raw = rawOf(h);
  let sound = classify(raw) == 0;
  let changed = countChanged(p, p + size, POISON);
  if (!sound) report(ERR_CORRUPTION, REASON_NONE, OP_FREE, p, p, size);
  else if (changed) report(ERR_USE_AFTER_FREE, changed, OP_FREE, p, p, size);
  let next: usize = load<u32>(h, 8);
  store<u32>(heap, <u32>next, H_QUARANTINE_HEAD);
  if (next == 0) store<u32>(heap, 0, H_QUARANTINE_TAIL);
  let bytes = load<u32>(heap, H_QUARANTINE_BYTES);
  let held = heldBytes(h);
  store<u32>(heap, held < bytes ? bytes - held : 0, H_QUARANTINE_BYTES);
  statSub(STAT_QUARANTINED, 1);
  store<u32>(h, 0, 12); // no longer a guarded header
  if (sound) releaseRaw(raw);
  return sound && changed == 0 ? EVICT_CLEAN : EVICT_REPORTED;
}

/**
 * The quarantine list, rebuilt from a walk of the heap after a smashed
 * header broke it: every raw block whose intact guard header says freed, in
 * address order. The smashed block itself is no longer recognised: it stays
 * allocated (and heapCheck names it), everything else is kept.
 */
function quarantineRebuild(): void {
  let head: usize = 0;
  let tail: usize = 0;
  let bytes: u32 = 0;
  let count: u64 = 0;
  let cursor = walkFirst();
  let end = walkEnd();
  while (cursor < end) {
    let next = walkEntry(cursor);
    if (walk_error != 0 || next <= cursor) break; // a smashed size: the walk stops there
    cursor = next;
    if (walk_state != STATE_IN_USE) continue;
    let p = guardedIn(walk_payload);
    if (p == 0) continue;
    let h = headerOf(p);
    if ((load<u32>(h) & FREED) == 0) continue;
    store<u32>(h, 0, 8);
    if (tail) store<u32>(tail, <u32>h, 8);
    else head = h;
    tail = h;
    bytes += heldBytes(h);
    count++;
  }
  store<u32>(heap, <u32>head, H_QUARANTINE_HEAD);
  store<u32>(heap, <u32>tail, H_QUARANTINE_TAIL);
  store<u32>(heap, bytes, H_QUARANTINE_BYTES);
  statSub(STAT_QUARANTINED, statGet(STAT_QUARANTINED));
  statAdd(STAT_QUARANTINED, count);
}

/**
 * Release the oldest quarantined blocks until `incoming` more bytes fit
 * under the limit (or nothing is held). False if a release had to be
 * reported: it stops there, one report per call.
 */
function makeRoom(incoming: u32): bool {
  while (<u64>load<u32>(heap, H_QUARANTINE_BYTES) + incoming > <u64>load<u32>(heap, H_QUARANTINE_LIMIT)) {
    let result = evictOldest();
    if (result == EVICT_EMPTY) return true;
    if (result == EVICT_REPORTED) return false;
  }
  return true;
}

/**
 * After a block went into quarantine: back under the limit. A report made
 * here is about an older block; this call went ahead, so it is not marked
 * rejected (its free is traced).
 */
function settleQuarantine(): void {
  if (!makeRoom(0)) beginCall();
}

// ── The C functions of the checked build ────────────────────────────────────

export function guardFree(p: usize): bool {
  let h = locate(p, OP_FREE);
  if (h == 0) return false;
  retire(h);
  settleQuarantine();
  return true;
}

export function guardRealloc(p: usize, size: usize, op: u32): usize {
  let h = locate(p, op);
  if (h == 0) return 0;
  if (size == 0) { retire(h); settleQuarantine(); return 0; }
  // Room in quarantine for the old block first: a report while making it
  // rejects the call before anything of the caller's has changed.
  if (!makeRoom(rawUsable(rawOf(h)))) return 0;
  let q = guardAlloc(size, 16);
  if (q == 0) { statAdd(STAT_FAILED, 1); return 0; } // the old block is untouched
  let old = <usize>sizeOf(h);
  memory.copy(q, p, old < size ? old : size);
  // Always moves: the old block goes to quarantine, so stale pointers to it are caught.
  retire(h);
  // Only the old block can be over the limit now (a limit below its size):
  // it was just poisoned, so releasing it reports nothing.
  settleQuarantine();
  return q;
}

/** True if `p` is a live guarded allocation (reported otherwise). */
export function guardIsLive(p: usize, op: u32): bool { return locate(p, op) != 0; }

/** Requested size of a live guarded allocation, 0 (reported) otherwise. */
export function guardUsable(p: usize, op: u32): usize {
  let h = locate(p, op);
  return h == 0 ? 0 : sizeOf(h);
}

export function guardSetQuarantine(bytes: u32): void {
  store<u32>(heap, bytes, H_QUARANTINE_LIMIT);
  makeRoom(0);
}

// ── The heap check's part ───────────────────────────────────────────────────

export const CHECK_GUARD: u32 = 28;       // an in-use block holds no guarded allocation
export const CHECK_CANARY: u32 = 29;      // a live allocation's canary is broken
export const CHECK_POISON: u32 = 30;      // a quarantined block was written after free
export const CHECK_QUARANTINE: u32 = 31;  // quarantine list and counter disagree

export let guardCheckAddress: usize = 0;

/** Scan every allocation: canaries of live ones, poison of quarantined ones. */
export function guardCheck(): u32 {
  let cursor = walkFirst();
  let end = walkEnd();
  let quarantined: u64 = 0;
  while (cursor < end) {
    cursor = walkEntry(cursor);
    if (walk_error != 0) { guardCheckAddress = walk_error_address; return walk_error; }
    if (walk_state != STATE_IN_USE) continue;
    let raw = walk_payload;
    let p = guardedIn(raw);
    let h = headerOf(p);
    if (p == 0 || <u64>p + sizeOf(h) > <u64>raw + walk_usable) { guardCheckAddress = raw; return CHECK_GUARD; }
    let size = sizeOf(h);
    if (load<u32>(h) & FREED) {
      quarantined++;
      if (countChanged(p, p + size, POISON)) { guardCheckAddress = p; return CHECK_POISON; }
    } else if (countChanged(h + 16, p, CANARY) || countChanged(p + size, raw + walk_usable, CANARY)) {
      guardCheckAddress = p;
      return CHECK_CANARY;
    }
  }
  if (quarantined != statGet(STAT_QUARANTINED)) { guardCheckAddress = heap; return CHECK_QUARANTINE; }
  return 0;
}
