// The heap checker: every invariant written in the layer files, executed.
//
// `heapCheck()` returns 0, or the CHECK_* code of the first violation found
// with its address in `checkAddress`. It walks the page map, the free page
// runs, every segment block by block, every free list, every slab page and
// every large run, then compares the counters with what it saw: O(heap).
// Pointers read from the heap are bounded before they are followed, so a
// corrupted heap yields a code, not a trap.
// The buddy build also checks every buddy page, list and bitmap (buddyCheck);
// the checked build's guard layer adds its own (api/guard.ts, guardCheck,
// run after this one by heap_check). The codes: violations.ts.

import { startsMap, startsEnd, startsBlock, startIsLive, startBitsSet } from "../blocks/starts";
import {
  PAGE_SIZE, PAGE_BITS, PAGE_NONE, PAGE_FREE, PAGE_HEAP, PAGE_SLAB, PAGE_LARGE, PAGE_LARGE_TAIL,
  MIN_BLOCK, TAG_IN_USE, TAG_PREV_FREE, TAG_MARK, TAG_MASK, SEGMENT_PROLOGUE, SEGMENT_EPILOGUE,
  POLICY_SEGREGATED, SLAB_CLASSES, BLOCK_HEADER, SLAB_SPAN, SPANS_PER_PAGE, THREADS,
} from "../base/constants";
import {
  setHeap, heapAt, MAX_HEAPS, H_INDEX,
  shared, heap, H_QUICK_BYTES, H_SMALL_LIVE, SMALL_LIVE_MAX, S_TOP, S_BASE_PAGE, H_SEGMENT0, S_FREE_RUNS, H_ROVER, H_POLICY, S_PAGE_MAP_CAP,
  H_SLAB_CLASSES, statGet, STAT_IN_USE, STAT_LIVE,
} from "../base/state";
import { pageKind, pageEntry, pageIsMine, pageOwner } from "../pages/pagemap";
import { listCount, listHead, listBitmapBit, mappingInsert, FL_COUNT, listFlBitmap, listSlBitmap, reserveBlock } from "../blocks/freelists";
import { linkNext, linkPrev } from "../blocks/block";
import { SLAB_MAGIC, SLAB_HEADER, SPAN_FREE_MAGIC, slabClassSize, freeSpans, spanPageCount } from "../slabs/slab";
import { largePages } from "../runs/large";
import { walkStateOk, slabHeaderOk } from "./walk";
import {
  CHECK_OK, CHECK_PAGE_KIND, CHECK_PAGE_BEYOND_TOP, CHECK_RUN_LINKS, CHECK_RUN_ORDER, CHECK_RUN_PAGES, CHECK_RUN_FOOTER,
  CHECK_RUN_COUNT, CHECK_BLOCK_SIZE, CHECK_BLOCK_FOOTER, CHECK_PREV_FREE_BIT, CHECK_ADJACENT_FREE, CHECK_EPILOGUE,
  CHECK_FREE_NOT_LISTED, CHECK_LISTED_NOT_FREE, CHECK_LIST_LINKS, CHECK_LIST_ORDER, CHECK_WRONG_LIST, CHECK_BITMAP,
  CHECK_LIST_DUPLICATE, CHECK_ROVER, CHECK_SLAB_HEADER, CHECK_SLAB_COUNT, CHECK_SLAB_FREE_LIST, CHECK_SLAB_LIST,
  CHECK_LARGE, CHECK_COUNTERS, CHECK_STATE, CHECK_QUICK_LIST, CHECK_WALK_CURSOR, CHECK_START_MAP, CHECK_SPANS,
} from "./violations";
import { quickHead, isQuick, quickBytes } from "../blocks/quick";
import { smallLive } from "../blocks/medium";
import { TAG_QUICK, QUICK_MAX } from "../base/constants";
// Buddy pages exist in the buddy build only; their checks compile out elsewhere.
import { BUDDY, PAGE_KIND_MAX } from "../base/constants";
import { buddyCheck, buddyCheckAddress, buddySeenInUse, buddySeenLive } from "../buddy/buddy";

export let checkAddress: usize = 0;

/** Set bits in the start map (starts.ts). */
function startsSetBits(): u32 {
  let map = startsMap();
  if (map == 0) return 0;
  let bytes = (startsEnd() - (<usize>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS) + 127) >> 7;
  let bits: u32 = 0;
  for (let i: usize = 0; i < bytes; i++) bits += popcnt<u32>(load<u8>(map + i));
  return bits;
}

@inline function fail(code: u32, at: usize): u32 { checkAddress = at; return code; }
/** Record a violation found by a check outside this file (the checked build's guardCheck); its code. */
export function checkFailed(code: u32, at: usize): u32 { return fail(code, at); }

/** The lowest address a block of this heap may have: its state's, or in the threads build (heaps anywhere) the memory's first page. */
@inline function heapLow(): usize { return THREADS ? <usize>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS : heap; }

/** True if [at, at+bytes) lies in one of our HEAP pages up to the top. */
@inline function inHeapPage(at: usize): bool {
  return at >= heapLow() && at < <usize>load<u32>(shared(), S_TOP) && pageIsMine(<u32>(at >>> PAGE_BITS), PAGE_HEAP);
}

// Running totals of the page walk.
let seenInUse: u64 = 0;
let seenLive: u64 = 0;
let seenFreePages: u32 = 0;
let seenFreeBlocks: u32 = 0;
let seenPartialSlabs: u32 = 0;
let seenQuick: u32 = 0;
let seenSmall: u32 = 0;   // in-use boundary-tag blocks the census counts (size ≤ SMALL_LIVE_MAX)
let quickListed: u32 = 0;
let seenStarts: u32 = 0;  // blocks whose start bit must be set (in use or held, not the map's own)

export function heapCheck(): u32 {
  checkAddress = 0;
  if (heap == 0) return CHECK_OK;
  let top: usize = load<u32>(shared(), S_TOP);
  let basePage = load<u32>(shared(), S_BASE_PAGE);
  // Within memory too (walkStateOk): every bound below is then one no load can trap past.
  if ((top & (PAGE_SIZE - 1)) != 0 || (<u32>(top >>> PAGE_BITS)) <= basePage || !walkStateOk()) return fail(CHECK_STATE, heap);
  seenInUse = 0; seenLive = 0; seenStarts = 0;

  let code = checkPageMap(basePage, <u32>(top >>> PAGE_BITS));
  if (code) return code;
  code = checkFreeRuns(top);
  if (code) return code;
  let inUse: u64 = 0;
  let live: u64 = 0;
  if (THREADS) {
    // Every heap's own structures and pages in turn; the counters and the start map over them all.
    let own = heap;
    for (let i: u32 = 1; i <= MAX_HEAPS && code == 0; i++) {
      let at = heapAt(i);
      if (at == 0) continue;
      setHeap(at);
      if (load<u32>(at, H_INDEX) != i || !walkStateOk()) code = fail(CHECK_STATE, at);
      else code = checkHeap(basePage, <u32>(top >>> PAGE_BITS), i == 1);
      inUse += statGet(STAT_IN_USE);
      live += statGet(STAT_LIVE);
    }
    setHeap(own);
    if (code) return code;
  } else {
    code = checkHeap(basePage, <u32>(top >>> PAGE_BITS), true);
    if (code) return code;
    inUse = statGet(STAT_IN_USE);
    live = statGet(STAT_LIVE);
  }
  if (seenInUse != inUse || seenLive != live) return fail(CHECK_COUNTERS, heap);
  // Every set bit of the start map belongs to a block the walk met.
  if (THREADS) {
    if (startBitsSet() != seenStarts) return fail(CHECK_START_MAP, 0);
  } else if (startsSetBits() != seenStarts) return fail(CHECK_START_MAP, startsMap());
  return CHECK_OK;
}

/**
 * Check this heap's lists and its pages (`countShared`: and the large runs,
 * which no heap owns), adding what it saw to the running totals.
 */
function checkHeap(basePage: u32, topPage: u32, countShared: bool): u32 {
  seenFreeBlocks = 0; seenPartialSlabs = 0; seenQuick = 0; seenSmall = 0;
  // Mark every listed block, then the segment walk checks and clears marks.
  let listed: u32 = 0;
  let listCode = checkFreeLists();
  let listAddress = checkAddress;
  listed = listedBlocks;
  let roverCode: u32 = 0;
  let rover: usize = load<u32>(heap, H_ROVER);
  if (listCode == 0 && rover != 0 && load<u32>(heap, H_POLICY) != POLICY_SEGREGATED) {
    if (!inHeapPage(rover) || (load<u32>(rover) & TAG_MARK) == 0) roverCode = fail(CHECK_ROVER, rover);
  }
  let slabListCode = checkSlabLists();
  let spanListCode = checkFreeSpans();
  let quickCode = checkQuickLists();
  let quickAddress = checkAddress;
  let code = walkPages(basePage, topPage, countShared);
  // The segment walk stops at a broken block; clear whatever marks it left.
  clearListMarks();
  if (listCode) return fail(listCode, listAddress);
  if (quickCode) return fail(quickCode, quickAddress);
  if (roverCode) return roverCode;
  if (code) return code;
  if (slabListCode) return slabListCode;
  if (spanListCode) return spanListCode;
  if (listed != seenFreeBlocks) return fail(CHECK_FREE_NOT_LISTED, 0);
  if (quickListed != seenQuick) return fail(CHECK_QUICK_LIST, 0);
  if (BUDDY) { // the buddy layer's pages, lists and bitmap (buddy/buddy.ts)
    let buddyCode = buddyCheck();
    if (buddyCode) return fail(buddyCode, buddyCheckAddress);
    seenInUse += buddySeenInUse;
    seenLive += buddySeenLive;
  }
  // The census of boundary-tag blocks by size (medium.ts) adds up to the walk's count.
  let census: u32 = 0;
  for (let size: u32 = MIN_BLOCK; size <= SMALL_LIVE_MAX; size += 16) census += smallLive(size);
  if (census != seenSmall) return fail(CHECK_COUNTERS, heap + H_SMALL_LIVE);
  return CHECK_OK;
}

function checkPageMap(basePage: u32, topPage: u32): u32 {
  let free: u32 = 0;
  for (let page = basePage; page < topPage; page++) {
    let kind = pageKind(page);
    if (kind > PAGE_KIND_MAX) return fail(CHECK_PAGE_KIND, <usize>page << PAGE_BITS);
    if (kind == PAGE_FREE) free++;
    // Threads build: a heap's own kinds name a heap that exists, the shared kinds none.
    if (THREADS) {
      let owner = pageOwner(page);
      if ((kind == PAGE_HEAP || kind == PAGE_SLAB) ? owner == 0 || heapAt(owner) == 0 : owner != 0) {
        return fail(CHECK_PAGE_KIND, <usize>page << PAGE_BITS);
      }
    }
  }
  if (pageKind(basePage) != PAGE_HEAP) return fail(CHECK_PAGE_KIND, <usize>basePage << PAGE_BITS);
  // Past the top nothing is ours (checked over a bounded window: the map
  // can hold 64K entries and this runs after every step of the tests).
  let cap = load<u32>(shared(), S_PAGE_MAP_CAP);
  let limit = min<u32>(cap, topPage - basePage + 64);
  for (let index = topPage - basePage; index < limit; index++) {
    if (pageKind(basePage + index) != PAGE_NONE) return fail(CHECK_PAGE_BEYOND_TOP, <usize>(basePage + index) << PAGE_BITS);
  }
  seenFreePages = free;
  return CHECK_OK;
}

function checkFreeRuns(top: usize): u32 {
  let run: usize = load<u32>(shared(), S_FREE_RUNS);
  let prev: usize = 0;
  let pages: u32 = 0;
  while (run != 0) {
    if ((run & (PAGE_SIZE - 1)) != 0 || run >= top || pageKind(<u32>(run >>> PAGE_BITS)) != PAGE_FREE) return fail(CHECK_RUN_PAGES, run);
    let n = load<u32>(run);
    let end = <u64>run + (<u64>n << PAGE_BITS);
    if (n == 0 || end > <u64>top) return fail(CHECK_RUN_PAGES, run);
    for (let p: u32 = 0; p < n; p++) {
      if (pageKind(<u32>(run >>> PAGE_BITS) + p) != PAGE_FREE) return fail(CHECK_RUN_PAGES, run + (<usize>p << PAGE_BITS));
    }
    if (load<u32>(<usize>end - 4) != <u32>run) return fail(CHECK_RUN_FOOTER, run);
    if (load<u32>(run, 8) != <u32>prev) return fail(CHECK_RUN_LINKS, run);
    if (prev != 0 && (run <= prev || run == prev + (<usize>load<u32>(prev) << PAGE_BITS))) return fail(CHECK_RUN_ORDER, run);
    if (pageKind(<u32>(run >>> PAGE_BITS) + n) == PAGE_FREE) return fail(CHECK_RUN_ORDER, run);
    pages += n;
    if (pages > seenFreePages) return fail(CHECK_RUN_COUNT, run);
    prev = run;
    run = load<u32>(run, 4);
  }
  if (pages != seenFreePages) return fail(CHECK_RUN_COUNT, 0);
  return CHECK_OK;
}

let listedBlocks: u32 = 0;

/** Walk every free list, marking each block (TAG_MARK); the segment walk clears the marks. */
function checkFreeLists(): u32 {
  listedBlocks = 0;
  let segregated = load<u32>(heap, H_POLICY) == POLICY_SEGREGATED;
  let count = listCount();
  let bound = <u32>((<usize>load<u32>(shared(), S_TOP) - heapLow()) / MIN_BLOCK);
  for (let index: u32 = 0; index < count; index++) {
    let block = listHead(index);
    if (segregated && (block != 0) != listBitmapBit(index)) return fail(CHECK_BITMAP, block);
    let prev: usize = 0;
    while (block != 0) {
      if ((block & 15) != 12 || !inHeapPage(block)) return fail(CHECK_LISTED_NOT_FREE, block);
      let h = load<u32>(block);
      if ((h & TAG_IN_USE) != 0) return fail(CHECK_LISTED_NOT_FREE, block);
      if ((h & TAG_MARK) != 0) return fail(CHECK_LIST_DUPLICATE, block);
      if (linkPrev(block) != prev) return fail(CHECK_LIST_LINKS, block);
      if (segregated && mappingInsert(h & ~TAG_MASK) != index) return fail(CHECK_WRONG_LIST, block);
      if (!segregated && prev != 0 && block <= prev) return fail(CHECK_LIST_ORDER, block);
      store<u32>(block, h | TAG_MARK);
      listedBlocks++;
      if (listedBlocks > bound) return fail(CHECK_LIST_LINKS, block);
      prev = block;
      block = linkNext(block);
    }
  }
  if (segregated) {
    // The reserve counts as listed: free, on no list, marked once.
    let reserve = reserveBlock();
    if (reserve != 0) {
      if ((reserve & 15) != 12 || !inHeapPage(reserve)) return fail(CHECK_LISTED_NOT_FREE, reserve);
      let h = load<u32>(reserve);
      if ((h & TAG_IN_USE) != 0) return fail(CHECK_LISTED_NOT_FREE, reserve);
      if ((h & TAG_MARK) != 0) return fail(CHECK_LIST_DUPLICATE, reserve);
      store<u32>(reserve, h | TAG_MARK);
      listedBlocks++;
    }
    // No stray bits outside the lists either.
    let fl = listFlBitmap();
    for (let f: u32 = 0; f < 32; f++) {
      let sl = f < FL_COUNT ? listSlBitmap(f) : 0;
      if (((fl >> f) & 1) != (sl != 0 ? 1 : 0)) return fail(CHECK_BITMAP, 0);
    }
  }
  return CHECK_OK;
}

/** Clear TAG_MARK on every listed block the list pass could reach. */
/** Walk the quick lists, marking each held block (TAG_MARK; the segment walk clears it). */
function checkQuickLists(): u32 {
  quickListed = 0;
  let bytes: u64 = 0;
  for (let size: u32 = MIN_BLOCK; size <= QUICK_MAX; size += 16) {
    let block = quickHead(size);
    while (block != 0) {
      if ((block & 15) != 12 || !inHeapPage(block)) return fail(CHECK_QUICK_LIST, block);
      let h = load<u32>(block);
      if (!isQuick(h) || (h & ~TAG_MASK) != size || (h & TAG_MARK) != 0) return fail(CHECK_QUICK_LIST, block);
      store<u32>(block, h | TAG_MARK);
      quickListed++;
      bytes += size;
      block = load<u32>(block, 4);
    }
  }
  if (bytes != <u64>quickBytes()) return fail(CHECK_QUICK_LIST, heap + H_QUICK_BYTES);
  return CHECK_OK;
}

function clearListMarks(): void {
  for (let size: u32 = MIN_BLOCK; size <= QUICK_MAX; size += 16) {
    let block = quickHead(size);
    let bound = quickListed;
    while (block != 0 && bound > 0 && (block & 15) == 12 && inHeapPage(block)) {
      store<u32>(block, load<u32>(block) & ~TAG_MARK);
      bound--;
      block = load<u32>(block, 4);
    }
  }
  let reserve = reserveBlock();
  if (reserve != 0 && (reserve & 15) == 12 && inHeapPage(reserve)) store<u32>(reserve, load<u32>(reserve) & ~TAG_MARK);
  let count = listCount();
  let bound = listedBlocks;
  for (let index: u32 = 0; index < count && bound > 0; index++) {
    let block = listHead(index);
    while (block != 0 && bound > 0) {
      if ((block & 15) != 12 || !inHeapPage(block)) break;
      store<u32>(block, load<u32>(block) & ~TAG_MARK);
      bound--;
      block = linkNext(block);
    }
  }
}

/** Is `span` a span of a slab page below the top (then its header can be read and marked)? */
@inline function onSlabPage(span: usize): bool {
  return (span & (SLAB_SPAN - 1)) == 0 && span < <usize>load<u32>(shared(), S_TOP) &&
    pageIsMine(<u32>(span >>> PAGE_BITS), PAGE_SLAB);
}

/** Walk each class's list of spans with room, marking them (header word 10). */
function checkSlabLists(): u32 {
  for (let cls: u32 = 0; cls < SLAB_CLASSES; cls++) {
    let span: usize = load<u32>(heap + H_SLAB_CLASSES + (cls << 4));
    let prev: usize = 0;
    let bound: u32 = 65536 * SPANS_PER_PAGE;
    while (span != 0) {
      if (!onSlabPage(span)) return fail(CHECK_SLAB_LIST, span);
      if (load<u32>(span) != (SLAB_MAGIC | cls)) return fail(CHECK_SLAB_LIST, span);
      if (load<u32>(span, 4) >= load<u32>(span, 32)) return fail(CHECK_SLAB_LIST, span);
      if (load<u32>(span, 20) != <u32>prev) return fail(CHECK_SLAB_LIST, span);
      if (load<u32>(span, 40) == 1) return fail(CHECK_SLAB_LIST, span);
      store<u32>(span, 1, 40);
      seenPartialSlabs++;
      if (--bound == 0) return fail(CHECK_SLAB_LIST, span);
      prev = span;
      span = load<u32>(span, 16);
    }
  }
  return CHECK_OK;
}

/** Walk the heap's free spans, marking them (header word 10): each a free span of a slab page. */
function checkFreeSpans(): u32 {
  let span = freeSpans();
  let prev: usize = 0;
  let bound: u32 = 65536 * SPANS_PER_PAGE;
  while (span != 0) {
    if (!onSlabPage(span) || load<u32>(span) != SPAN_FREE_MAGIC) return fail(CHECK_SPANS, span);
    if (load<u32>(span, 20) != <u32>prev || load<u32>(span, 40) == 1) return fail(CHECK_SPANS, span);
    store<u32>(span, 1, 40);
    if (--bound == 0) return fail(CHECK_SPANS, span);
    prev = span;
    span = load<u32>(span, 16);
  }
  return CHECK_OK;
}

/**
 * Walk the memory page by page: this heap's segments and slabs, and with
 * `countShared` the large runs (the threads build's other heaps' pages are
 * theirs to check). Clears all marks.
 */
function walkPages(basePage: u32, topPage: u32, countShared: bool): u32 {
  let first: u32 = CHECK_OK;
  let partial: u32 = 0;
  let page = basePage;
  let statePage = <u32>(heap >>> PAGE_BITS);
  while (page < topPage) {
    let kind = pageKind(page);
    let at = <usize>page << PAGE_BITS;
    if (THREADS && (kind == PAGE_HEAP || kind == PAGE_SLAB) && !pageIsMine(page, kind)) { page++; continue; }
    if (kind == PAGE_HEAP) {
      let end = page + 1;
      // (A threads build's heap state opens a page of its own: a segment before it ends there.)
      if (THREADS) while (end < topPage && pageEntry(end) == pageEntry(page) && end != statePage) end++;
      else while (end < topPage && pageKind(end) == PAGE_HEAP) end++;
      let start = page == statePage ? <usize>load<u32>(heap, H_SEGMENT0) : at;
      let code = walkSegment(start, <usize>end << PAGE_BITS);
      if (first == 0) first = code;
      page = end;
      continue;
    }
    if (kind == PAGE_SLAB) {
      // Each span a slab or free; free ones listed (marked), span 0 counting the slabs.
      let slabs: u32 = 0;
      for (let i: u32 = 0; i < SPANS_PER_PAGE; i++) {
        let span = at + i * SLAB_SPAN;
        if (load<u32>(span) == SPAN_FREE_MAGIC) {
          if (load<u32>(span, 40) != 1 && first == 0) first = fail(CHECK_SPANS, span);
        } else {
          slabs++;
          let code = checkSlabPage(span);
          if (first == 0) first = code;
          if (load<u32>(span, 4) < load<u32>(span, 32)) {
            partial++;
            if (load<u32>(span, 40) != 1 && first == 0) first = fail(CHECK_SLAB_LIST, span);
          }
        }
        store<u32>(span, 0, 40);
      }
      if (first == 0 && (slabs == 0 || spanPageCount(at) != slabs)) first = fail(CHECK_SPANS, at);
    } else if (kind == PAGE_LARGE) {
      // The run is its page-map entries (large.ts): they must end below the top.
      let n = largePages(at);
      if (page + n > topPage) {
        if (first == 0) first = fail(CHECK_LARGE, at);
      } else {
        if (countShared) {
          seenInUse += <u64>n << PAGE_BITS;
          seenLive++;
        }
        page += n;
        continue;
      }
    } else if (kind == PAGE_LARGE_TAIL) {
      if (first == 0) first = fail(CHECK_LARGE, at);
    }
    page++;
  }
  if (first == 0 && partial != seenPartialSlabs) first = fail(CHECK_SLAB_LIST, 0);
  return first;
}

/** Check the blocks of the segment [start, end); clears every TAG_MARK it meets. */
function walkSegment(start: usize, end: usize): u32 {
  let first: u32 = CHECK_OK;
  let block = start + SEGMENT_PROLOGUE;
  let prevFree = false;
  while (block < end - SEGMENT_EPILOGUE) {
    let h = load<u32>(block);
    let size = h & ~TAG_MASK;
    if (size < MIN_BLOCK || ((h & TAG_QUICK) != 0 && (h & TAG_IN_USE) == 0) || <u64>block + size > <u64>(end - SEGMENT_EPILOGUE)) {
      return first ? first : fail(CHECK_BLOCK_SIZE, block);
    }
    let free = (h & TAG_IN_USE) == 0;
    // The start map marks exactly the live and held blocks (not its own).
    let marked = !free && block != startsBlock();
    if (marked) seenStarts++;
    if (first == 0 && startIsLive(block + BLOCK_HEADER) != marked) first = fail(CHECK_START_MAP, block);
    if (isQuick(h)) {
      // Held on a quick list: in use to its neighbours, counted nowhere.
      if (first == 0 && ((h & TAG_PREV_FREE) != 0) != prevFree) first = fail(CHECK_PREV_FREE_BIT, block);
      if ((h & TAG_MARK) == 0) { if (first == 0) first = fail(CHECK_QUICK_LIST, block); }
      else store<u32>(block, h & ~TAG_MARK);
      seenQuick++;
      prevFree = false;
      block += size;
      continue;
    }
    if (first == 0 && ((h & TAG_PREV_FREE) != 0) != prevFree) first = fail(CHECK_PREV_FREE_BIT, block);
    if (free) {
      if (first == 0 && prevFree) first = fail(CHECK_ADJACENT_FREE, block);
      if (first == 0 && load<u32>(block + size - 4) != size) first = fail(CHECK_BLOCK_FOOTER, block);
      if ((h & TAG_MARK) == 0) { if (first == 0) first = fail(CHECK_FREE_NOT_LISTED, block); }
      else store<u32>(block, h & ~TAG_MARK);
      seenFreeBlocks++;
    } else {
      if (first == 0 && (h & TAG_MARK) != 0) first = fail(CHECK_STATE, block);
      if (marked) { // (the map's block is the allocator's: counted in the census only)
        seenInUse += size - BLOCK_HEADER;
        seenLive++;
      }
      if (size <= SMALL_LIVE_MAX) seenSmall++;
    }
    prevFree = free;
    block += size;
  }
  if (block != end - SEGMENT_EPILOGUE) return first ? first : fail(CHECK_EPILOGUE, block);
  let epilogue = load<u32>(block);
  if (first == 0 && (epilogue & ~(TAG_PREV_FREE)) != TAG_IN_USE) first = fail(CHECK_EPILOGUE, block);
  if (first == 0 && ((epilogue & TAG_PREV_FREE) != 0) != prevFree) first = fail(CHECK_PREV_FREE_BIT, block);
  return first;
}

/** Check the slab span at `page`. */
function checkSlabPage(page: usize): u32 {
  let magic = load<u32>(page);
  let cls = magic & 0xFF;
  if ((magic & ~0xFF) != SLAB_MAGIC || cls >= SLAB_CLASSES) return fail(CHECK_SLAB_HEADER, page);
  let classAt = heap + H_SLAB_CLASSES + (cls << 4);
  let size = load<u32>(page, 24);
  let capacity = load<u32>(page, 32);
  let inUse = load<u32>(page, 4);
  let bump = load<u32>(page, 12);
  let firstSlot = page + load<u32>(page, 28);
  // slabHeaderOk: the first slot's offset too (where the walk starts the slots).
  if (size != slabClassSize(cls) || size != load<u32>(classAt, 4) || capacity != load<u32>(classAt, 8) ||
      bump > capacity || inUse > bump || firstSlot + capacity * size > page + SLAB_SPAN || !slabHeaderOk(page)) {
    return fail(CHECK_SLAB_HEADER, page);
  }
  let bits: u32 = 0;
  for (let i: u32 = 0; i < bump; i += 32) {
    let word = load<u32>(page + SLAB_HEADER + ((i >> 5) << 2));
    if (bump - i < 32) word &= (1 << (bump - i)) - 1;
    bits += popcnt<u32>(word);
  }
  if (bits != inUse) return fail(CHECK_SLAB_COUNT, page);
  let expected = bump - inUse;
  let seen: u32 = 0;
  let slot: usize = load<u32>(page, 8);
  while (slot != 0) {
    let offset = slot - firstSlot;
    if (slot < firstSlot || offset >= <usize>(bump * size) || offset % size != 0) return fail(CHECK_SLAB_FREE_LIST, slot);
    let index = <u32>(offset / size);
    if ((load<u32>(page + SLAB_HEADER + ((index >> 5) << 2)) >> (index & 31)) & 1) return fail(CHECK_SLAB_FREE_LIST, slot);
    if (++seen > expected) return fail(CHECK_SLAB_FREE_LIST, slot);
    slot = load<u32>(slot);
  }
  if (seen != expected) return fail(CHECK_SLAB_FREE_LIST, page);
  seenInUse += <u64>inUse * size;
  seenLive += inUse;
  return CHECK_OK;
}
