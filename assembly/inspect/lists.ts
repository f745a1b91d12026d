// Following the free lists for inspection: each link is checked before it is followed.
//
// The host lists the boundary-tag layer's free lists and quick lists one block
// at a time (Heap.freeLists, Heap.quickLists). Links live in freed memory a
// program may have written to, so each step first checks the block it is
// given: a block of the layer (12 mod 16, on a segment page below the top, its
// size at least 16 and inside its segment), free, or held at the quick list's
// size. A failed step returns 0 with walk_error (walk.ts) set to
// CHECK_LISTED_NOT_FREE, CHECK_LIST_LINKS or CHECK_QUICK_LIST and
// walk_error_address to the block.
//
// The free lists are doubly linked, and each step also checks that the
// block's back link names the block before it (0 for the head). That ends
// any cycle: if a walk h0, h1, … first met a block twice as hj = hi (i < j),
// hj's back link would have to be both h(j-1) and h(i-1) (or 0 when i = 0,
// which no block is), so h(j-1) = h(i-1) would be an earlier repeat. A list
// walk thus visits each block once, at most (top - heap) / 16 steps. Quick
// lists are singly linked: the host keeps the blocks it has seen.

import { MIN_BLOCK, PAGE_BITS, PAGE_HEAP, TAG_IN_USE, TAG_MASK, TAG_PREV_FREE, TAG_MARK, TAG_QUICK, BLOCK_HEADER, THREADS } from "../base/constants";
import { shared, heap, S_TOP, S_BASE_PAGE } from "../base/state";
import { pageIsMine } from "../pages/pagemap";
import { header, linkNext, linkPrev } from "../blocks/block";
import { CHECK_LISTED_NOT_FREE, CHECK_LIST_LINKS, CHECK_QUICK_LIST } from "./violations";
import { inspectBegin, pagesOfKind, walkStop } from "./walk";

/** Is there a boundary-tag block header at `block` (alignment, page, below the top)? */
@inline function mayBeBlock(block: usize): bool {
  // (The threads build's heaps lie anywhere in the memory: their own pages.)
  let low: usize = THREADS ? <usize>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS : heap;
  return (block & 15) == 12 && block > low && block < <usize>load<u32>(shared(), S_TOP) &&
    pageIsMine(<u32>(block >>> PAGE_BITS), PAGE_HEAP);
}

/** The block after free-list block `block`, whose predecessor on the list is `prev` (0: the head); 0 at the end or on a broken link. */
export function freeListNext(block: usize, prev: usize): usize {
  if (!inspectBegin()) return 0;
  if (!mayBeBlock(block)) { walkStop(CHECK_LISTED_NOT_FREE, block); return 0; }
  let h = header(block);
  let size = h & ~TAG_MASK;
  if ((h & TAG_IN_USE) != 0 || size < MIN_BLOCK || !pagesOfKind(block, <u64>block + size + BLOCK_HEADER, PAGE_HEAP)) {
    walkStop(CHECK_LISTED_NOT_FREE, block);
    return 0;
  }
  if (linkPrev(block) != prev) { walkStop(CHECK_LIST_LINKS, block); return 0; }
  return linkNext(block);
}

/** The block after `block` on the quick list of block size `size`; 0 at the end or on a broken link. */
export function quickListNext(block: usize, size: u32): usize {
  if (!inspectBegin()) return 0;
  if (!mayBeBlock(block) || (header(block) & ~(TAG_PREV_FREE | TAG_MARK)) != (size | TAG_QUICK | TAG_IN_USE)) {
    walkStop(CHECK_QUICK_LIST, block);
    return 0;
  }
  return load<u32>(block, 4);
}
