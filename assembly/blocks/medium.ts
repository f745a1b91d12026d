// The boundary-tag layer: medium sizes, split and coalesce, any placement policy.
//
// Blocks live in segments (see block.ts for both diagrams). A segment grows
// by pages taken from the page layer; pages taken next to a segment extend
// it, so the segment that reaches the top of memory simply gets longer and a
// free block at its end grows in place. When the page layer runs out of
// free pages (before it grows memory), every free block that covers at least
// TRIM_MIN_PAGES whole pages gives them back (mediumTrimFree), so slabs and
// large runs can use them: memory never shrinks, so pages must move between
// layers instead. At the memory limit every whole free page goes back
// (reclaim.ts), empty segments whole. Not at free time: a heap that frees and refills the same
// space (a trace replayed in passes) would hand pages back and take them
// again each time (random-bal: about 1.5x the time). Except a whole segment
// that a free leaves empty, other than the first and the top one: its pages
// go back at once (segmentAllFree).
//
// Costs: allocate = policy search + O(1) split; free = O(1) coalesce + list
// insert (O(1) for segregated fit; O(1) after a merge for the address-ordered
// list, otherwise a walk).

import { notice, ERR_CORRUPTION, REASON_NONE, OP_MALLOC } from "../base/report";
import {
  PAGE_SIZE, PAGE_BITS, PAGE_HEAP, PAGE_FREE, MIN_BLOCK, TAG_IN_USE, TAG_PREV_FREE, TAG_MASK,
  SEGMENT_PROLOGUE, SEGMENT_EPILOGUE, TRIM_MIN_PAGES, BLOCK_HEADER, POLICY_SEGREGATED, QUICK_MAX, SMALL, THREADS,
} from "../base/constants";
import { shared, heap, H_POLICY, H_SEGMENT0, S_TOP, S_BASE_PAGE, H_SMALL_LIVE, SMALL_LIVE_MAX, H_FREE_HEAD, statAdd, STAT_TRIMMED_PAGES } from "../base/state";
import { pageKind, pageIsMine, setPageKinds } from "../pages/pagemap";
import { pagesLock, pagesUnlock } from "../base/lock";
import { pagesAlloc, pagesAllocLowest, pagesAvailable, pagesRelease, pagesTakeAt, reachesTop } from "../pages/pages";
import { quickBytes, quickCheckLinks, quickTakeList, quickEmptied } from "./quick";
import {
  blockSize, blockSizeFor, header, setHeader, setFooter, isPrevFree, prevFreeBlock,
  setPrevFree, clearPrevFree, linkNext,
} from "./block";
import {
  listInsert, listRemove, listReplace, listInsertHot, listRemoveHot, listReplaceHot, listFind, segFindOrReserve, roverAfterTake, isSegregated,
  searchableSize, reserveBlock, mappingInsert, listHead, FL_COUNT, SL_BITS,
} from "./freelists";
import { startMark, startClear, startsBytesFor, startsBytesExact, startsInstall, startsMap, STARTS_FIRST_BYTES } from "./starts";

@inline function alignUp(x: usize, a: usize): usize { return (x + a - 1) & ~(a - 1); }
@inline function alignDown(x: usize, a: usize): usize { return x & ~(a - 1); }

// ── Free, coalesce, trim ────────────────────────────────────────────────────

/**
 * Make [block, block+size) one free block merged with its free neighbours and
 * put it on a list. `block` is on no list.
 * `prevFreeTag` is TAG_PREV_FREE if the block before it is free.
 * `hot` (free(), where it is inlined): the list operations inlined too, and a
 * segment left empty goes back to the page layer; otherwise they are calls
 * (one copy of them for the other paths: 1.1 KB less code).
 */
@inline function releaseBlockHot(block: usize, size: u32, prevFreeTag: u32, seg: bool, hot: bool): void {
  // Mark it free first: if it merges into its left neighbour this header
  // stays behind as a stale word, and a second free of the same pointer must
  // find "free" there, not "in use".
  setHeader(block, size);
  let hint: usize = 0;
  let next = block + size;
  let nextHeader = header(next);
  if ((nextHeader & TAG_IN_USE) == 0) {
    let nextSize = nextHeader & ~TAG_MASK;
    hint = hot ? listRemoveHot(next, nextSize, seg) : listRemove(next, nextSize);
    size += nextSize;
  }
  if (prevFreeTag) {
    let prev = prevFreeBlock(block);
    let prevSize = blockSize(prev);
    hint = hot ? listRemoveHot(prev, prevSize, seg) : listRemove(prev, prevSize);
    block = prev;
    size += prevSize;
  }
  // The block before a free block is never free, so its P bit is clear.
  setHeader(block, size);
  setFooter(block, size);
  setPrevFree(block + size);
  if (hot && size >= PAGE_SIZE - SEGMENT_PROLOGUE - SEGMENT_EPILOGUE && segmentReleased(block, size)) return;
  if (hot) listInsertHot(block, size, hint, seg);
  else listInsert(block, size, hint);
}

/**
 * Is free block `block` of `size` bytes a whole segment that free() gives back
 * to the page layer at once? Not segment 0 (startsSegment never holds there:
 * the heap state before it lies on a PAGE_HEAP page), nor the segment that
 * reaches the top of memory (its free block is the reserve, where a block
 * grows in place, and a program that frees and asks again there would hand
 * pages back and take them each time). A segment
 * of its own is what a big boundary-tag block gets when no free block holds
 * it; once empty, its pages are the page layer's again, for any layer: left
 * to the boundary-tag layer they held s4's 64-256 KiB blocks' holes between
 * page runs (65 pages holding 1.9 MiB live at s4's last growth; s4 82.4% ->
 * 85.4% over 24 seeds, 64-256 KiB blocks alone 83.0% -> 86.2% over 12).
 */
@inline function segmentAllFree(block: usize, size: u32): bool {
  let end = block + size; // the epilogue, if the segment ends here
  return (header(end) & ~TAG_MASK) == 0 && startsSegment(block) && !reachesTop(end + SEGMENT_EPILOGUE);
}

/** If free block `block` of `size` bytes is a whole segment that goes back (segmentAllFree), give its pages back: true. */
@inline function segmentReleased(block: usize, size: u32): bool {
  pagesLock(); // (the top, and the free runs after it, are the page layer's)
  let all = segmentAllFree(block, size);
  if (all) {
    let start = block - SEGMENT_PROLOGUE;
    let pages = <u32>((block + size + SEGMENT_EPILOGUE - start) >>> PAGE_BITS);
    pagesRelease(start, pages);
    statAdd(STAT_TRIMMED_PAGES, pages);
  }
  pagesUnlock();
  return all;
}

/** releaseBlock as a call, for the paths other than free (releaseBlockHot is inlined into mediumFree). */
export function releaseBlock(block: usize, size: u32, prevFreeTag: u32): void {
  releaseBlockHot(block, size, prevFreeTag, isSegregated(), false);
}

/**
 * Release every block held on the quick lists (quick.ts) as an ordinary free:
 * coalesced and listed. True if there was any. Before this layer grows (a
 * search failed: held blocks may merge into what is needed), and when the
 * page layer is short of pages (engines/reclaim.ts).
 */
export function quickFlush(): bool {
  if (SMALL || quickBytes() == 0) return false; // (held bytes > 0: some list holds a block)
  quickCheckLinks();
  quickEmptied();
  for (let size: u32 = 16; size <= QUICK_MAX; size += 16) {
    let block = quickTakeList(size);
    while (block != 0) {
      let next: usize = load<u32>(block, 4);
      let h = header(block);
      startClear(block + BLOCK_HEADER);
      releaseBlock(block, h & ~TAG_MASK, h & TAG_PREV_FREE);
      block = next;
    }
  }
  return true;
}

/** Before growth, blocks of this size or more give their whole pages back (they hold TRIM_MIN_PAGES of them wherever they lie). */
export const TRIM_MIN_BLOCK: u32 = (TRIM_MIN_PAGES + 1) << PAGE_BITS;
/** At the limit, every block that could hold a whole page: one page, less a segment's prologue and epilogue. */
export const TRIM_ANY_BLOCK: u32 = PAGE_SIZE - SEGMENT_PROLOGUE - SEGMENT_EPILOGUE;

/**
 * Give the whole pages inside every free block of at least `minBlock` bytes
 * that holds `minPages` of them or more back to the page layer; true if any.
 * Called by the page layer (reclaim.ts) before it grows memory with
 * TRIM_MIN_BLOCK and TRIM_MIN_PAGES (a block that merely spans a few pages
 * keeps them: the program may well split it again), and at the memory limit
 * with TRIM_ANY_BLOCK and 1: then every whole free page goes back, whole
 * empty segments too, the first one's tail and the top one included.
 */
export function mediumTrimFree(minBlock: u32, minPages: u32): bool {
  let any = false;
  // Links live in free memory: one leading out of the heap, back down the
  // address-ordered list, or more steps than the heap holds blocks (a cycle)
  // ends the walk, reported.
  let top: usize = load<u32>(shared(), S_TOP);
  let low: usize = THREADS ? <usize>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS : heap; // (the threads build's heaps lie anywhere)
  let steps = (top - low) >> 4;
  if (load<u32>(heap, H_POLICY) == POLICY_SEGREGATED) {
    let reserve = reserveBlock();
    if (reserve != 0 && blockSize(reserve) >= minBlock) {
      let size = blockSize(reserve);
      listRemove(reserve, size);
      if (trim(reserve, size, 0, minPages)) any = true;
      else listInsert(reserve, size, 0);
    }
    // Blocks this large sit on lists at and above the one minBlock maps to.
    // A list is walked from the head it had when the walk reached it: a block
    // that stays goes back on its head, behind the walk, and what trim leaves
    // of one holds no whole page, so meeting it again on a later list changes
    // nothing.
    for (let index = mappingInsert(minBlock); index < (FL_COUNT << SL_BITS); index++) {
      let block = listHead(index);
      while (block != 0) {
        let next = linkNext(block);
        if (next != 0 && (next <= low || next >= top || steps-- == 0)) next = trimWalkBroken(block);
        let size = blockSize(block);
        if (size >= minBlock) {
          listRemove(block, size);
          if (trim(block, size, 0, minPages)) any = true;
          else listInsert(block, size, 0);
        }
        block = next;
      }
    }
    return any;
  }
  // The address-ordered list of the other policies (what trim leaves of a
  // block is listed beside it, before `next`: not met again).
  let block: usize = load<u32>(heap, H_FREE_HEAD);
  while (block != 0) {
    let next = linkNext(block);
    if (next != 0 && (next <= block || next >= top)) next = trimWalkBroken(block);
    let size = blockSize(block);
    if (size >= minBlock) {
      let hint = listRemove(block, size);
      if (trim(block, size, hint, minPages)) any = true;
      else listInsert(block, size, hint);
    }
    block = next;
  }
  return any;
}

function trimWalkBroken(block: usize): usize {
  notice(ERR_CORRUPTION, REASON_NONE, OP_MALLOC, block + BLOCK_HEADER, block, blockSize(block));
  return 0;
}

/** True if `block` is the first block of a page-aligned segment. */
function startsSegment(block: usize): bool {
  let start = block - SEGMENT_PROLOGUE;
  return (start & (PAGE_SIZE - 1)) == 0 && !pageIsMine(<u32>(start >>> PAGE_BITS) - 1, PAGE_HEAP);
}

/**
 * Give the whole pages inside free block [block, block+size) to the page
 * layer, splitting its segment. What is left on each side stays a free block
 * of at least MIN_BLOCK, or nothing: at a segment's edge, or where the block
 * starts 4 bytes before a page (the epilogue takes its header's place) or
 * ends 12 bytes after one (a prologue before the in-use block there). Block
 * sizes are multiples of 16 and blocks start at 12 mod 16, so no other
 * remainder can be too small to be a block: every whole page of a free block
 * can go. False if fewer than `minPages` pages would be freed; nothing is
 * changed then.
 */
function trim(block: usize, size: u32, hint: usize, minPages: u32): bool {
  let end = block + size;
  let first = startsSegment(block);
  let lo = first ? block - SEGMENT_PROLOGUE : alignUp(block + SEGMENT_EPILOGUE, PAGE_SIZE);
  let last = blockSize(end) == 0;
  let hi = last ? end + SEGMENT_EPILOGUE : alignDown(end - SEGMENT_PROLOGUE, PAGE_SIZE);
  if (hi <= lo || <u32>((hi - lo) >>> PAGE_BITS) < minPages) return false;
  if (!first) {
    let leftSize = <u32>(lo - SEGMENT_EPILOGUE - block);
    if (leftSize != 0) {
      setHeader(block, leftSize);
      setFooter(block, leftSize);
      setHeader(lo - SEGMENT_EPILOGUE, TAG_IN_USE | TAG_PREV_FREE);
      listInsert(block, leftSize, hint);
      hint = block;
    } else {
      setHeader(block, TAG_IN_USE); // the epilogue, after an in-use block
    }
  }
  if (!last) {
    let right = hi + SEGMENT_PROLOGUE;
    let rightSize = <u32>(end - right);
    if (rightSize != 0) {
      setHeader(right, rightSize);
      setFooter(right, rightSize);
      listInsert(right, rightSize, hint);
    } else {
      clearPrevFree(end); // the in-use block there now starts its segment
    }
  }
  let pages = <u32>((hi - lo) >>> PAGE_BITS);
  pagesLock();
  pagesRelease(lo, pages);
  pagesUnlock();
  statAdd(STAT_TRIMMED_PAGES, pages);
  return true;
}

// ── Segments ─────────────────────────────────────────────────────────────────

/**
 * Hand the pages [start, start + pages) to this layer: they extend the segment
 * just before them and merge with the one just after them, or form a new one.
 * The new space becomes a free block, coalesced and listed.
 */
export function segmentAdd(start: usize, pages: u32): void {
  let end = start + (<usize>pages << PAGE_BITS);
  let first = <u32>(start >>> PAGE_BITS);
  // (Only this heap's pages: in the threads build another heap's segment may
  // touch this one, and this heap's own state may open the page after them.)
  let extendsLeft = pageIsMine(first - 1, PAGE_HEAP);
  let mergesRight = pageIsMine(first + pages, PAGE_HEAP) && !(THREADS && first + pages == <u32>(heap >>> PAGE_BITS));
  setPageKinds(first, pages, PAGE_HEAP);
  let block: usize;
  let prevFreeTag: u32 = 0;
  if (extendsLeft) {
    block = start - SEGMENT_EPILOGUE; // the old epilogue becomes this block's header
    prevFreeTag = header(block) & TAG_PREV_FREE;
  } else {
    block = start + SEGMENT_PROLOGUE;
  }
  let blockEnd = mergesRight ? end + SEGMENT_PROLOGUE : end - SEGMENT_EPILOGUE;
  if (!mergesRight) setHeader(blockEnd, TAG_IN_USE); // new epilogue
  // Not trimmed: these pages were taken to be used.
  releaseBlock(block, <u32>(blockEnd - block), prevFreeTag);
}

/** Make the first segment in [start, end): called once, at initialisation. */
export function segmentInit(start: usize, end: usize): void {
  store<u32>(heap, <u32>start, H_SEGMENT0);
  let block = start + SEGMENT_PROLOGUE;
  let size = <u32>(end - SEGMENT_EPILOGUE - block);
  setHeader(end - SEGMENT_EPILOGUE, TAG_IN_USE | TAG_PREV_FREE);
  setHeader(block, size);
  setFooter(block, size);
  listInsert(block, size, 0);
}

/**
 * Get room for a free block of `size` bytes: a new segment in a free page run
 * if one is long enough; otherwise extend the segment that reaches the top of
 * memory (only the pages its free last block lacks are grown); otherwise a new
 * segment from freshly grown pages.
 */
function grow(size: u32): bool {
  pagesLock();
  let grown = growLocked(size);
  pagesUnlock();
  return grown;
}

@inline function growLocked(size: u32): bool {
  let need = searchableSize(size);
  let pages = <u32>((<u64>need + SEGMENT_PROLOGUE + SEGMENT_EPILOGUE + PAGE_SIZE - 1) >> PAGE_BITS);
  if (!pagesAvailable(pages)) {
    // Where the top segment would end: the top, or the start of the free run
    // that reaches the top.
    let top: usize = load<u32>(shared(), S_TOP);
    let end = top;
    if (pageKind(<u32>(top >>> PAGE_BITS) - 1) == PAGE_FREE) end = load<u32>(top - 4);
    if (pageIsMine(<u32>(end >>> PAGE_BITS) - 1, PAGE_HEAP)) {
      let epilogue = end - SEGMENT_EPILOGUE;
      let have: u32 = isPrevFree(epilogue) ? load<u32>(epilogue - 4) : 0;
      let missing = need > have ? need - have : MIN_BLOCK;
      let more = <u32>((<u64>missing + PAGE_SIZE - 1) >> PAGE_BITS);
      if (pagesTakeAt(end, more)) { segmentAdd(end, more); return true; }
    }
  }
  let start = pagesAlloc(pages);
  if (start == 0) return false;
  segmentAdd(start, pages);
  return true;
}

// ── Census of live blocks by size, up to 4 KiB (when a size class starts using slabs; which freed blocks quick lists hold) ──
@inline export function countSmall(size: u32, delta: i32): void {
  if (size <= SMALL_LIVE_MAX) {
    let at = heap + H_SMALL_LIVE + ((size >> 4) << 2);
    store<u32>(at, load<u32>(at) + delta);
  }
}
/** Live boundary-tag blocks of exactly `size` bytes (size ≤ SMALL_LIVE_MAX). */
@inline export function smallLive(size: u32): u32 { return load<u32>(heap + H_SMALL_LIVE + ((size >> 4) << 2)); }

// ── Allocate ────────────────────────────────────────────────────────────────

/**
 * Turn free, listed `block` into an in-use block of `size` bytes; the rest,
 * if it can hold a block, stays free in the parent's list position.
 */
@inline function takeHot(block: usize, size: u32, seg: bool, hot: bool): void {
  let have = blockSize(block);
  let tags = header(block) & TAG_PREV_FREE;
  if (have - size >= MIN_BLOCK) {
    let rest = block + size;
    let restSize = have - size;
    setHeader(rest, restSize);
    setFooter(rest, restSize);
    if (hot) listReplaceHot(block, have, rest, restSize, seg);
    else listReplace(block, have, rest, restSize);
    setHeader(block, size | TAG_IN_USE | tags);
    countSmall(size, 1);
  } else {
    let next = linkNext(block);
    if (hot) listRemoveHot(block, have, seg);
    else listRemove(block, have);
    if (!seg) roverAfterTake(next);
    setHeader(block, have | TAG_IN_USE | tags);
    clearPrevFree(block + have);
    countSmall(have, 1);
  }
}

/** takeHot as a call, its list operations calls too (takeHot is inlined into mediumAlloc). */
function take(block: usize, size: u32): void { takeHot(block, size, isSegregated(), false); }

/** A live in-use block of exactly `size` bytes (a valid block size), or 0. */
export function mediumAlloc(size: u32): usize {
  let seg = isSegregated();
  let block = seg ? segFindOrReserve(size) : listFind(size);
  if (block == 0) {
    // Held quick blocks may merge into what is needed; else grow.
    if (!quickFlush() || (block = listFind(size)) == 0) {
      if (!grow(size)) return 0;
      block = listFind(size);
      if (block == 0) return 0;
    }
  }
  takeHot(block, size, seg, true);
  // Live from now on (starts.ts); past the map's end, a larger map first
  // (the map's own block is unmarked again by takeMeta).
  if (!startMark(block + BLOCK_HEADER) && !placingStarts && !startsGrowFor(block)) return 0;
  return block;
}

/** Set while takeMeta allocates: a block past the start map's end is not a reason to grow the map. */
let placingStarts = false;

/**
 * In-use `block` starts past the start map: replace the map with one that
 * covers the heap up to its top, then mark `block`. If no memory holds the
 * new map, `block` is freed again and the allocation fails (false).
 */
function startsGrowFor(block: usize): bool {
  if (THREADS) { mediumFree(block); return false; } // (its map never needs to grow: pages.ts)
  let bytes = startsBytesFor(load<u32>(shared(), S_TOP));
  // The map's block has no bit of its own: no pointer to it is ever accepted.
  let map = takeMeta(blockSizeFor(bytes));
  if (map == 0) { mediumFree(block); return false; }
  let old = startsInstall(map + BLOCK_HEADER, bytes);
  if (old != 0) mediumFree(old - BLOCK_HEADER);
  return startMark(block + BLOCK_HEADER);
}

/**
 * Give the heap its first start map, covering its first 512 KiB, at the start
 * of segment 0 (called once, at initialisation; false if memory runs out).
 */
export function mediumStartsInit(): bool {
  if (THREADS) return true; // (one map for every heap, in pages of its own: pages/startbits.ts)
  // A fixed size, which heap setup has made room for (a larger first heap
  // replaces it when a block starts past it).
  let bytes = STARTS_FIRST_BYTES;
  let map = takeMeta(blockSizeFor(bytes));
  if (map == 0) return false;
  startsInstall(map + BLOCK_HEADER, bytes);
  return true;
}

/**
 * At the memory limit, once the free pages went back to the page layer: move
 * the start map to the lowest place that holds a map covering the heap up to
 * `limitTop` (no slack: the heap grows no further): a free block below it, or
 * a segment made in the lowest free page run below it if that lies lower.
 * Out of the way of a large request's run. True if it moved. The slow path
 * of running out of memory only (reclaim.ts); a second call finds nothing
 * lower and only walks the blocks below the map.
 */
export function mediumStartsMoveDown(limitTop: usize): bool {
  if (THREADS) return false;
  let map = startsMap();
  if (map == 0) return false;
  let old = map - BLOCK_HEADER;
  let bytes = startsBytesExact(limitTop);
  let size = blockSizeFor(bytes);
  let block = lowestFreeBlock(size, old);
  let pages = <u32>((<u64>size + SEGMENT_PROLOGUE + SEGMENT_EPILOGUE + PAGE_SIZE - 1) >> PAGE_BITS);
  let run = pagesAllocLowest(pages);
  if (run != 0) {
    if (run < (block != 0 ? block : old)) {
      segmentAdd(run, pages);
      block = lowestFreeBlock(size, old);
    } else {
      pagesRelease(run, pages);
    }
  }
  if (block == 0) return false;
  take(block, size);
  startsInstall(block + BLOCK_HEADER, bytes);
  mediumFree(old);
  return true;
}

/** The free block of at least `size` bytes lowest in memory, below `below`; 0 if none (or the blocks look damaged). */
function lowestFreeBlock(size: u32, below: usize): usize {
  let topPage = <u32>(load<u32>(shared(), S_TOP) >>> PAGE_BITS);
  let block: usize = load<u32>(heap, H_SEGMENT0) + SEGMENT_PROLOGUE;
  while (block < below) {
    let h = header(block);
    let have = h & ~TAG_MASK;
    if (have == 0) {
      // An epilogue: the next segment starts on the next boundary-tag page.
      let page = <u32>((block + SEGMENT_EPILOGUE) >>> PAGE_BITS);
      while (page < topPage && !pageIsMine(page, PAGE_HEAP)) page++;
      if (page >= topPage) return 0;
      block = (<usize>page << PAGE_BITS) + SEGMENT_PROLOGUE;
      continue;
    }
    if (have < MIN_BLOCK) return 0; // a damaged header: no guess is safe
    if ((h & TAG_IN_USE) == 0 && have >= size) return block;
    block += have;
  }
  return 0;
}

/** A block for the allocator's own metadata: taken like any other, never marked live. */
function takeMeta(size: u32): usize {
  placingStarts = true;
  let block = mediumAlloc(size);
  placingStarts = false;
  if (block != 0) startClear(block + BLOCK_HEADER);
  return block;
}
/**
 * An in-use block of `size` bytes whose payload is aligned to `align`
 * (32 … 64 KiB). The gap before it goes back to the free lists as a block.
 */
export function mediumAllocAligned(size: u32, align: u32): usize {
  let block = takeAligned(size, align);
  if (block != 0 && !startMark(block + BLOCK_HEADER) && !startsGrowFor(block)) return 0;
  return block;
}

/** mediumAllocAligned's search and split (the block is not yet marked live). */
function takeAligned(size: u32, align: u32): usize {
  // The payload of any block is 16-aligned, so the gap to the next aligned
  // payload is a multiple of 16: zero, or itself a valid free block.
  let want = <u64>size + align - MIN_BLOCK;
  if (want > 0xFFFF0000) return 0;
  let block = listFind(<u32>want);
  if (block == 0) {
    if (!quickFlush() || (block = listFind(<u32>want)) == 0) {
      if (!grow(<u32>want)) return 0;
      block = listFind(<u32>want);
      if (block == 0) return 0;
    }
  }
  let payload = block + BLOCK_HEADER;
  let gap = <u32>(alignUp(payload, align) - payload);
  if (gap == 0) { take(block, size); return block; }
  // Split off the gap: it stays listed where `block` was, the rest is ours.
  let have = blockSize(block);
  let tags = header(block) & TAG_PREV_FREE;
  let aligned = block + gap;
  let rest = have - gap;
  setHeader(block, gap | tags);
  setFooter(block, gap);
  if (load<u32>(heap, H_POLICY) == POLICY_SEGREGATED) {
    listRemove(block, have);
    listInsert(block, gap, 0);
  }
  // `aligned` is a free block after a free block only for an instant: it is
  // taken at once, and its P bit records the gap.
  setHeader(aligned, rest | TAG_PREV_FREE | TAG_IN_USE);
  if (rest - size >= MIN_BLOCK) {
    let tail = aligned + size;
    setHeader(aligned, size | TAG_PREV_FREE | TAG_IN_USE);
    let tailSize = rest - size;
    setHeader(tail, tailSize);
    setFooter(tail, tailSize);
    listInsert(tail, tailSize, block);
    countSmall(size, 1);
  } else {
    clearPrevFree(aligned + rest);
    countSmall(rest, 1);
  }
  return aligned;
}

// ── Free ────────────────────────────────────────────────────────────────────

/** Free an in-use block (already validated). */
export function mediumFree(block: usize): void {
  startClear(block + BLOCK_HEADER);
  let h = header(block);
  countSmall(h & ~TAG_MASK, -1);
  releaseBlockHot(block, h & ~TAG_MASK, h & TAG_PREV_FREE, isSegregated(), true);
}

// ── Resize in place ─────────────────────────────────────────────────────────

/**
 * Resize in-use `block` to `size` bytes (a valid block size) without moving
 * it: shrink by splitting off the tail; grow into a free right neighbour, or
 * by extending the segment when the block is the last before the top.
 * False if it cannot; nothing changes then.
 */
export function mediumResize(block: usize, size: u32): bool {
  let have = blockSize(block);
  let tags = header(block) & (TAG_PREV_FREE | TAG_IN_USE);
  if (size <= have) {
    if (have - size >= MIN_BLOCK) {
      setHeader(block, size | tags);
      releaseBlock(block + size, have - size, 0);
      countSmall(have, -1);
      countSmall(size, 1);
    }
    return true;
  }
  let next = block + have;
  let nextHeader = header(next);
  let room: u64 = have;
  let after = next;
  if ((nextHeader & TAG_IN_USE) == 0) {
    room += nextHeader & ~TAG_MASK;
    after = next + (nextHeader & ~TAG_MASK);
  }
  if (room < <u64>size && blockSize(after) == 0) {
    // Last block of its segment: grow the segment if it reaches the top.
    let end = after + SEGMENT_EPILOGUE;
    pagesLock();
    if (reachesTop(end)) {
      let missing = <u64>size - room;
      let pages = <u32>((missing + PAGE_SIZE - 1) >> PAGE_BITS);
      if (pagesTakeAt(end, pages)) {
        segmentAdd(end, pages);
        nextHeader = header(next);
        room = <u64>have + (nextHeader & ~TAG_MASK);
      }
    }
    pagesUnlock();
  }
  if (room < <u64>size) return false;
  // Absorb the free neighbour, then give back what is left over.
  let nextSize = blockSize(next);
  listRemove(next, nextSize);
  let total = <u32>room;
  countSmall(have, -1);
  countSmall(total - size >= MIN_BLOCK ? size : total, 1);
  if (total - size >= MIN_BLOCK) {
    setHeader(block, size | tags);
    let rest = block + size;
    let restSize = total - size;
    setHeader(rest, restSize);
    setFooter(rest, restSize);
    setPrevFree(rest + restSize);
    listInsert(rest, restSize, 0);
  } else {
    setHeader(block, total | tags);
    clearPrevFree(block + total);
  }
  return true;
}
