// Free lists of the boundary-tag layer, one placement policy each.
//
// first / next / best / worst fit share ONE doubly linked list kept in
// ADDRESS order. Address order is what makes first fit behave nearly like best
// fit (it packs the low end and leaves large blocks at the top), and it makes
// the four policies comparable: they differ only in which fitting block they
// pick, never in how the list was shaped by earlier frees. The price is an
// O(n) insert, softened by a hint: after coalescing, the merged neighbour's
// list position is known, so the common case is O(1).
//
// segregated fit (the default) is the TLSF mapping: a first level per power
// of two and 16 second-level lists per level, with a bitmap for each level,
// so insert, remove and search are O(1). Lists are LIFO.
//
//   size  →  first level fl, second level sl
//   < 256        fl = 0,          sl = size / 16      (16-byte steps)
//   ≥ 256        fl = msb - 7,    sl = next 4 bits    (2^msb / 16 steps)
//   ┌────┬──────────────────┬──────────────────────┐
//   │ fl │ sizes            │ step between lists   │
//   │  0 │ 0 … 255          │ 16                   │
//   │  1 │ 256 … 511        │ 16                   │
//   │  2 │ 512 … 1023       │ 32                   │
//   │  n │ 2^(n+7) …        │ 2^(n+3)              │
//   │ 24 │ 2^31 … 2^32-1    │ 2^27                 │
//   └────┴──────────────────┴──────────────────────┘
// A search rounds the request up to the next list start, so any block found
// in a list at or above it fits without walking the list (good fit, O(1)).
// Before rounding up, the head of the request's own list is tried: it often
// fits and saves splitting a larger block.
//
// The reserve (segregated fit only, as dlmalloc's "top chunk"): the free
// block that ends its segment where the segment reaches the top of memory is
// kept off the lists and used only when no listed block fits. Otherwise a
// good-fit search happily carves small blocks out of it, and a block at the
// end of the heap can no longer grow in place (realloc-bal: 32% → 90%+).
//
// Invariants (checked by heapCheck):
//   - every free block is on exactly one list, the one its size maps to;
//   - links agree both ways; the single list is in increasing address order;
//   - a bitmap bit is set exactly when its list is non-empty;
//   - next fit's rover is 0 or a block on the list;
//   - the reserve is 0 or a free block on no list (segregated fit).

import {
  POLICY_FIRST, POLICY_NEXT, POLICY_BEST, POLICY_WORST, POLICY_SEGREGATED, SMALL,
} from "../base/constants";
import {
  shared, heap, H_POLICY, H_FREE_HEAD, H_ROVER, H_FL_BITMAP, H_SL_BITMAP, H_HEADS, H_RESERVE,
} from "../base/state";
import { blockSize, linkNext, linkPrev, setLinkNext, setLinkPrev } from "./block";
import { reachesTop } from "../pages/pages";
import { notice, ERR_CORRUPTION, REASON_NONE, OP_MALLOC } from "../base/report";
import { S_TOP } from "../base/state";

export const SL_BITS: u32 = 4;
export const SL_COUNT: u32 = 1 << SL_BITS;
export const FL_COUNT: u32 = 25;
export const LINEAR_LIMIT: u32 = 256;

// ── Segregated fit mapping (TLSF's mapping_insert / mapping_search) ──────────

/** The list index (fl * 16 + sl) a block of `size` bytes belongs to. */
@inline export function mappingInsert(size: u32): u32 {
  if (size < LINEAR_LIMIT) return size >> 4;
  let msb = 31 - clz<u32>(size);
  return ((msb - 7) << SL_BITS) | ((size >> (msb - SL_BITS)) & (SL_COUNT - 1));
}

/** The first list whose every block holds `size` bytes; FL_COUNT*16 if none. */
@inline export function mappingSearch(size: u32): u32 {
  if (size < LINEAR_LIMIT) return size >> 4;
  let msb = 31 - clz<u32>(size);
  let rounded = <u64>size + (<u64>1 << (msb - SL_BITS)) - 1;
  if (rounded >= (<u64>1 << 32)) return FL_COUNT << SL_BITS;
  return mappingInsert(<u32>rounded);
}

/** Bytes to grow by so that a search for `size` finds the new block. */
export function searchableSize(size: u32): u32 {
  if (load<u32>(heap, H_POLICY) != POLICY_SEGREGATED || size < LINEAR_LIMIT) return size;
  let msb = 31 - clz<u32>(size);
  let rounded = <u64>size + (<u64>1 << (msb - SL_BITS)) - 1;
  let step = <u64>1 << (msb - SL_BITS);
  return <u32>min<u64>(rounded & ~(step - 1), 0xFFFFFFF0);
}

@inline function headAt(index: u32): usize { return load<u32>(heap + H_HEADS + (index << 2)); }
@inline function setHeadAt(index: u32, block: usize): void { store<u32>(heap + H_HEADS + (index << 2), <u32>block); }
@inline function slBitmap(fl: u32): u32 { return load<u16>(heap + H_SL_BITMAP + (fl << 1)); }
@inline function setSlBitmap(fl: u32, bits: u32): void { store<u16>(heap + H_SL_BITMAP + (fl << 1), <u16>bits); }

@inline function segInsert(block: usize, size: u32): void {
  let index = mappingInsert(size);
  let head = headAt(index);
  setLinkNext(block, head);
  setLinkPrev(block, 0);
  if (head) setLinkPrev(head, block);
  setHeadAt(index, block);
  let fl = index >> SL_BITS;
  store<u32>(heap, load<u32>(heap, H_FL_BITMAP) | (1 << fl), H_FL_BITMAP);
  setSlBitmap(fl, slBitmap(fl) | (1 << (index & (SL_COUNT - 1))));
}

@inline function segRemove(block: usize, size: u32): void {
  let next = linkNext(block);
  let prev = linkPrev(block);
  if (next) setLinkPrev(next, prev);
  if (prev) { setLinkNext(prev, next); return; }
  let index = mappingInsert(size);
  setHeadAt(index, next);
  if (next == 0) {
    let fl = index >> SL_BITS;
    let sl = slBitmap(fl) & ~(1 << (index & (SL_COUNT - 1)));
    setSlBitmap(fl, sl);
    if (sl == 0) store<u32>(heap, load<u32>(heap, H_FL_BITMAP) & ~(1 << fl), H_FL_BITMAP);
  }
}

@inline function segFind(size: u32): usize {
  // The head of the exact list first: it fits often, and is the tightest.
  let exact = headAt(mappingInsert(size));
  if (exact != 0 && blockSize(exact) >= size) return exact;
  let index = mappingSearch(size);
  let fl = index >> SL_BITS;
  if (fl >= FL_COUNT) return 0;
  let sl = slBitmap(fl) & (~0 << (index & (SL_COUNT - 1)));
  if (sl == 0) {
    let fls = load<u32>(heap, H_FL_BITMAP) & (~0 << (fl + 1));
    if (fls == 0) return 0;
    fl = ctz<u32>(fls);
    sl = slBitmap(fl);
  }
  return headAt((fl << SL_BITS) | ctz<u32>(sl));
}

// ── The single address-ordered list (first, next, best, worst fit) ──────────

/**
 * The block after `block` on the address-ordered list, 0 at its end. Links
 * live in free memory, where a use after free can reach them: a link that
 * does not lead up the memory (a cycle, a wild pointer) ends the walk and is
 * reported, so no walk loops or reads past the memory. One compare a step.
 */
function nextListed(block: usize): usize {
  let next: usize = linkNext(block);
  if (next != 0 && (next <= block || next >= <usize>load<u32>(shared(), S_TOP))) return listBroken(block);
  return next;
}

function listBroken(block: usize): usize {
  notice(ERR_CORRUPTION, REASON_NONE, OP_MALLOC, block + 4, block, blockSize(block));
  return 0;
}

/** Insert in address order, starting the walk at `hint` (a listed block below `block`) if nonzero. */
function singleInsert(block: usize, hint: usize): void {
  let prev: usize = 0;
  let next: usize = load<u32>(heap, H_FREE_HEAD);
  if (hint != 0 && hint < block) { prev = hint; next = nextListed(hint); }
  while (next != 0 && next < block) { prev = next; next = nextListed(next); }
  setLinkNext(block, next);
  setLinkPrev(block, prev);
  if (next) setLinkPrev(next, block);
  if (prev) setLinkNext(prev, block);
  else store<u32>(heap, <u32>block, H_FREE_HEAD);
}

/** Unlink; returns the block before it (a good insert hint), or 0. */
function singleRemove(block: usize): usize {
  let next = linkNext(block);
  let prev = linkPrev(block);
  if (next) setLinkPrev(next, prev);
  if (prev) setLinkNext(prev, next);
  else store<u32>(heap, <u32>next, H_FREE_HEAD);
  if (<usize>load<u32>(heap, H_ROVER) == block) store<u32>(heap, <u32>next, H_ROVER);
  return prev;
}

function firstFit(size: u32): usize {
  let block: usize = load<u32>(heap, H_FREE_HEAD);
  while (block != 0) {
    if (blockSize(block) >= size) return block;
    block = nextListed(block);
  }
  return 0;
}

/** Next fit: first fit starting where the last search ended, wrapping once. */
function nextFit(size: u32): usize {
  let start: usize = load<u32>(heap, H_ROVER);
  let block = start;
  while (block != 0) {
    if (blockSize(block) >= size) return block;
    block = nextListed(block);
  }
  block = load<u32>(heap, H_FREE_HEAD);
  while (block != 0 && block != start) {
    if (blockSize(block) >= size) return block;
    block = nextListed(block);
  }
  return 0;
}

/**
 * Best fit, except that the free block ending at the top of memory (the
 * "wilderness") is taken only when nothing else fits: it is the one block
 * that can grow, so carving small blocks off it ratchets memory up. On
 * realloc-bal (a block grown by realloc while small blocks come and go after
 * it) plain best fit put each small block at the top, the grown block's old
 * places stayed empty below, and 62.6% of the memory held live data (94.0%
 * with the wilderness kept for last; random2-bal 91.8% -> 94.5%).
 */
function bestFit(size: u32): usize {
  let best: usize = 0;
  let bestSize: u32 = 0xFFFFFFFF;
  let top: usize = 0;
  let block: usize = load<u32>(heap, H_FREE_HEAD);
  while (block != 0) {
    let s = blockSize(block);
    if (s >= size && s < bestSize) {
      if (endsAtTop(block, s)) top = block;
      else {
        best = block;
        bestSize = s;
        if (s == size) break;
      }
    }
    block = nextListed(block);
  }
  return best != 0 ? best : top;
}

function worstFit(size: u32): usize {
  let worst: usize = 0;
  let worstSize: u32 = 0;
  let block: usize = load<u32>(heap, H_FREE_HEAD);
  while (block != 0) {
    let s = blockSize(block);
    if (s > worstSize) { worst = block; worstSize = s; }
    block = nextListed(block);
  }
  return worstSize >= size ? worst : 0;
}

// ── The reserve (segregated fit) ──────────────────────────────────────────

/** Does free block `block` of `size` bytes end its segment at the top of memory? */
@inline function endsAtTop(block: usize, size: u32): bool {
  let next = block + size;
  return (load<u32>(next) & ~15) == 0 && reachesTop(next + 4);
}

@inline export function reserveBlock(): usize { return load<u32>(heap, H_RESERVE); }

@inline function segPut(block: usize, size: u32): void {
  if (endsAtTop(block, size)) {
    // One reserve at a time: a previous one goes back to the lists.
    let old = reserveBlock();
    if (old != 0 && old != block) segInsert(old, blockSize(old));
    store<u32>(heap, <u32>block, H_RESERVE);
    return;
  }
  segInsert(block, size);
}

@inline function segTake(block: usize, size: u32): void {
  if (block == reserveBlock()) store<u32>(heap, 0, H_RESERVE);
  else segRemove(block, size);
}

// ── Policy dispatch ─────────────────────────────────────────────────────────

/** Is the policy segregated fit? The hot paths ask once and pass the answer down as `seg`. */
@inline export function isSegregated(): bool { return SMALL || load<u32>(heap, H_POLICY) == POLICY_SEGREGATED; }

/** Put a free block on its list. `hint`: see singleInsert (ignored by segregated fit). */
@inline export function listInsertHot(block: usize, size: u32, hint: usize, seg: bool): void {
  if (SMALL || seg) segPut(block, size);
  else singleInsert(block, hint);
}

/** Take a free block off its list; returns an insert hint for what replaces it. */
@inline export function listRemoveHot(block: usize, size: u32, seg: bool): usize {
  if (SMALL || seg) { segTake(block, size); return 0; }
  return singleRemove(block);
}

// The same as calls, for the paths that are not hot (the *Hot versions are
// inlined into releaseBlock and take, which every malloc and free goes through).
export function listInsert(block: usize, size: u32, hint: usize): void { listInsertHot(block, size, hint, isSegregated()); }
export function listRemove(block: usize, size: u32): usize { return listRemoveHot(block, size, isSegregated()); }
export function listReplace(old: usize, oldSize: u32, block: usize, size: u32): void { listReplaceHot(old, oldSize, block, size, isSegregated()); }

/** Segregated fit: a listed block of at least `size` bytes, else the reserve if it is large enough, else 0. */
@inline export function segFindOrReserve(size: u32): usize {
  let block = segFind(size);
  if (block != 0) return block;
  let reserve = reserveBlock();
  return reserve != 0 && blockSize(reserve) >= size ? reserve : 0;
}

/** A listed free block of at least `size` bytes chosen by the policy, or 0. It stays listed. */
export function listFind(size: u32): usize {
  if (SMALL) return segFindOrReserve(size);
  switch (load<u32>(heap, H_POLICY)) {
    case POLICY_SEGREGATED: return segFindOrReserve(size);
    case POLICY_FIRST: return firstFit(size);
    case POLICY_NEXT: return nextFit(size);
    case POLICY_BEST: return bestFit(size);
    case POLICY_WORST: return worstFit(size);
  }
  return 0;
}

/**
 * Replace listed block `old` by `block` at the same position (the remainder of
 * a split keeps its parent's place in address order). Segregated fit moves it
 * to the list of its new size instead.
 */
@inline export function listReplaceHot(old: usize, oldSize: u32, block: usize, size: u32, seg: bool): void {
  if (SMALL || seg) {
    // A piece split off the reserve ends where it did: it is the reserve now.
    if (old == reserveBlock() && endsAtTop(block, size)) { store<u32>(heap, <u32>block, H_RESERVE); return; }
    segTake(old, oldSize);
    segPut(block, size);
    return;
  }
  let next = linkNext(old);
  let prev = linkPrev(old);
  setLinkNext(block, next);
  setLinkPrev(block, prev);
  if (next) setLinkPrev(next, block);
  if (prev) setLinkNext(prev, block);
  else store<u32>(heap, <u32>block, H_FREE_HEAD);
  // Next fit goes on from where the last allocation ended.
  store<u32>(heap, <u32>block, H_ROVER);
}

/** Next fit resumes after a block taken whole. */
export function roverAfterTake(next: usize): void {
  if (load<u32>(heap, H_POLICY) == POLICY_NEXT) store<u32>(heap, <u32>next, H_ROVER);
}

// ── For inspection and the checker ──────────────────────────────────────────
/** Number of list heads the policy uses. */
export function listCount(): u32 {
  return load<u32>(heap, H_POLICY) == POLICY_SEGREGATED ? FL_COUNT << SL_BITS : 1;
}
export function listHead(index: u32): usize {
  if (load<u32>(heap, H_POLICY) == POLICY_SEGREGATED) return headAt(index);
  return index == 0 ? <usize>load<u32>(heap, H_FREE_HEAD) : 0;
}
export function listBitmapBit(index: u32): bool {
  let fl = index >> SL_BITS;
  let flSet = (load<u32>(heap, H_FL_BITMAP) >> fl) & 1;
  let slSet = (slBitmap(fl) >> (index & (SL_COUNT - 1))) & 1;
  return flSet != 0 && slSet != 0;
}
export function listFlBitmap(): u32 { return load<u32>(heap, H_FL_BITMAP); }
export function listSlBitmap(fl: u32): u32 { return slBitmap(fl); }
