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
//   p     payload (size bytes)            poisoned with POISON when freed
//   p+size … raw end: CANARY              back canary (≥ 16 bytes): overflow
// ╘═══════════════════════════════════════════════════════════════════════╛
//
// free() checks both canaries (an overflow or underflow is reported with how
// many bytes were overwritten, and the block is still taken), poisons the
// payload and puts the block in a FIFO quarantine instead of freeing it. Only
// when the quarantine holds more than its limit (bytes) is the oldest block
// really freed, after checking its poison: a write after free is reported
// then. The quarantine's links live in the header, outside the payload, and
// the magic is verified before a link is followed. A freed block still in
// quarantine is recognised at once: a second free, or realloc of it, is a
// double free, whatever happened in between.
//
// Invariants (checked by guardCheck, part of heapCheck in this build):
//   - every in-use raw block holds a guarded allocation with a valid magic;
//   - live allocations have intact canaries; quarantined ones intact poison;
//   - the quarantine list holds exactly STAT_QUARANTINED blocks.

import { MAX_REQUEST, PAGE_BITS, PAGE_HEAP, PAGE_SLAB, PAGE_LARGE } from "./constants";
import {
  heap, H_QUARANTINE_HEAD, H_QUARANTINE_TAIL, H_QUARANTINE_BYTES, H_QUARANTINE_LIMIT,
  statAdd, statSub, statGet, STAT_QUARANTINED, STAT_FAILED,
} from "./state";
import { pageKind } from "./pagemap";
import {
  report, ERR_DOUBLE_FREE, ERR_INVALID_FREE, ERR_OVERFLOW, ERR_UNDERFLOW, ERR_USE_AFTER_FREE,
  ERR_CORRUPTION, REASON_INTERIOR, REASON_NONE, OP_FREE,
} from "./report";
import { allocateCall, classify, validate, releaseRaw, rawUsable, countRaw } from "./api";
import { walkFirst, walkEnd, walkEntry, walk_state, walk_payload, STATE_IN_USE } from "./walk";

export const GUARD_HEADER: u32 = 32;
export const GUARD_TAIL: u32 = 16;
export const CANARY: u8 = 0xCB;
export const POISON: u8 = 0xDF;
export const GUARD_MAGIC: u32 = 0x47415244; // "GARD"
export const QUARANTINE_DEFAULT: u32 = 1 << 20;
@inline const FREED: u32 = 1;
@inline const ALIGNED: u32 = 2;

@inline function headerOf(p: usize): usize { return p - GUARD_HEADER; }
@inline function rawOf(h: usize): usize { return load<u32>(h) & ~15; }
@inline function sizeOf(h: usize): u32 { return load<u32>(h, 4); }

/** Bytes in [from, to) that differ from `value` (8 at a time while they agree). */
function countChanged(from: usize, to: usize, value: u8): u32 {
  let changed: u32 = 0;
  let at = from;
  let word = <u64>value * 0x0101010101010101;
  while (at + 8 <= to && load<u64>(at) == word) at += 8;
  for (; at < to; at++) if (load<u8>(at) != value) changed++;
  return changed;
}

/** A guarded allocation of `size` bytes aligned to `align` (≤ 16 or a power of two); 0 if none. */
export function guardAlloc(size: usize, align: usize): usize {
  if (<u64>size + GUARD_HEADER + GUARD_TAIL + align > <u64>MAX_REQUEST) return 0;
  let extra: usize = align > 16 ? align : 0;
  let raw = allocateCall(size + GUARD_HEADER + GUARD_TAIL + extra);
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
 * The header of the live guarded allocation at `p`, or 0 after reporting
 * what `p` is instead (invalid, or a double free).
 */
function locate(p: usize, op: u32): usize {
  if (p & 15) { validate(p, op); return 0; }
  let h = headerOf(p);
  let kind = pageKind(<u32>(h >>> PAGE_BITS));
  if (kind != PAGE_HEAP && kind != PAGE_SLAB && kind != PAGE_LARGE) { validate(p, op); return 0; }
  let raw = rawOf(h);
  if (load<u32>(h, 12) != (GUARD_MAGIC ^ <u32>p) || raw > h || p - raw > 65536 + GUARD_HEADER) {
    // Not the start of a guarded payload. Freed and released already?
    if ((classify(h) >> 8) == ERR_DOUBLE_FREE) { report(ERR_DOUBLE_FREE, REASON_NONE, op, p, p, 0); return 0; }
    if (classify(p) != 0) { validate(p, op); return 0; }
    report(ERR_INVALID_FREE, REASON_INTERIOR, op, p, 0, 0);
    return 0;
  }
  if ((load<u32>(h) & FREED) != 0) { report(ERR_DOUBLE_FREE, REASON_NONE, op, p, p, sizeOf(h)); return 0; }
  if (classify(raw) != 0) { validate(raw, op); return 0; }
  return h;
}

/** Report broken canaries (overflow past the size, underflow before the payload). */
function checkCanaries(h: usize, p: usize, op: u32): void {
  let size = sizeOf(h);
  let raw = rawOf(h);
  let under = countChanged(h + 16, p, CANARY);
  if (under) report(ERR_UNDERFLOW, under, op, p, p, size);
  let over = countChanged(p + size, raw + rawUsable(raw), CANARY);
  if (over) report(ERR_OVERFLOW, over, op, p, p, size);
}

/** Free the guarded allocation whose header is `h`: check, poison, quarantine. */
function retire(h: usize, op: u32): void {
  let p = h + GUARD_HEADER;
  checkCanaries(h, p, op);
  let raw = rawOf(h);
  store<u32>(h, <u32>raw | FREED);
  store<u32>(h, 0, 8);
  memory.fill(p, POISON, sizeOf(h));
  let tail: usize = load<u32>(heap, H_QUARANTINE_TAIL);
  if (tail) store<u32>(tail, <u32>h, 8);
  else store<u32>(heap, <u32>h, H_QUARANTINE_HEAD);
  store<u32>(heap, <u32>h, H_QUARANTINE_TAIL);
  store<u32>(heap, load<u32>(heap, H_QUARANTINE_BYTES) + rawUsable(raw), H_QUARANTINE_BYTES);
  statAdd(STAT_QUARANTINED, 1);
  while (load<u32>(heap, H_QUARANTINE_BYTES) > load<u32>(heap, H_QUARANTINE_LIMIT) && evictOldest()) {}
}

/** Really free the oldest quarantined block, after checking its poison. False if empty. */
function evictOldest(): bool {
  let h: usize = load<u32>(heap, H_QUARANTINE_HEAD);
  if (h == 0) return false;
  let p = h + GUARD_HEADER;
  if (load<u32>(h, 12) != (GUARD_MAGIC ^ <u32>p) || (load<u32>(h) & FREED) == 0) {
    // The header was overwritten: the rest of the list cannot be trusted.
    report(ERR_CORRUPTION, REASON_NONE, OP_FREE, p, h, 0);
    store<u32>(heap, 0, H_QUARANTINE_HEAD);
    store<u32>(heap, 0, H_QUARANTINE_TAIL);
    store<u32>(heap, 0, H_QUARANTINE_BYTES);
    statSub(STAT_QUARANTINED, statGet(STAT_QUARANTINED));
    return false;
  }
  let next: usize = load<u32>(h, 8);
  store<u32>(heap, <u32>next, H_QUARANTINE_HEAD);
  if (next == 0) store<u32>(heap, 0, H_QUARANTINE_TAIL);
  let size = sizeOf(h);
  let changed = countChanged(p, p + size, POISON);
  if (changed) report(ERR_USE_AFTER_FREE, changed, OP_FREE, p, p, size);
  let raw = rawOf(h);
  let bytes = rawUsable(raw);
  store<u32>(heap, load<u32>(heap, H_QUARANTINE_BYTES) - bytes, H_QUARANTINE_BYTES);
  statSub(STAT_QUARANTINED, 1);
  store<u32>(h, 0, 12); // no longer a guarded header
  releaseRaw(raw);
  return true;
}

// ── The C functions of the checked build ────────────────────────────────────

export function guardFree(p: usize): bool {
  let h = locate(p, OP_FREE);
  if (h == 0) return false;
  retire(h, OP_FREE);
  return true;
}

export function guardRealloc(p: usize, size: usize, op: u32): usize {
  let h = locate(p, op);
  if (h == 0) return 0;
  if (size == 0) { retire(h, op); return 0; }
  let q = guardAlloc(size, 16);
  if (q == 0) { statAdd(STAT_FAILED, 1); return 0; } // the old block is untouched
  let old = <usize>sizeOf(h);
  memory.copy(q, p, old < size ? old : size);
  // Always moves: the old block goes to quarantine, so stale pointers to it are caught.
  retire(h, op);
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
  while (load<u32>(heap, H_QUARANTINE_BYTES) > bytes && evictOldest()) {}
}

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
    let v: usize = load<u32>(raw);
    let p: usize = (v & ~15) == raw ? raw + GUARD_HEADER : (v & ALIGNED) ? v & ~15 : 0;
    let h = p - GUARD_HEADER;
    // p comes from the block's first word: inside the block, or it is not followed.
    if (p < raw + GUARD_HEADER || p > raw + walkUsable() || load<u32>(h, 12) != (GUARD_MAGIC ^ <u32>p) || rawOf(h) != raw) {
      guardCheckAddress = raw;
      return CHECK_GUARD;
    }
    let size = sizeOf(h);
    if (<u64>p + size > <u64>(raw + walkUsable())) { guardCheckAddress = raw; return CHECK_GUARD; }
    if (load<u32>(h) & FREED) {
      quarantined++;
      if (countChanged(p, p + size, POISON)) { guardCheckAddress = p; return CHECK_POISON; }
    } else if (countChanged(h + 16, p, CANARY) || countChanged(p + size, raw + walkUsable(), CANARY)) {
      guardCheckAddress = p;
      return CHECK_CANARY;
    }
  }
  if (quarantined != statGet(STAT_QUARANTINED)) { guardCheckAddress = heap; return CHECK_QUARANTINE; }
  return 0;
}

import { walk_usable, walk_error, walk_error_address } from "./walk";
@inline function walkUsable(): usize { return walk_usable; }
