// Threads build: blocks freed by a thread other than their heap's.
//
// A boundary-tag or slab page belongs to one heap (its owner's index is in
// the page map: pages/pagemap.ts), and only that heap's thread changes its
// blocks. Another thread that frees one of them does not touch the owner's
// lists: it claims the block by clearing its live bit with one atomic
// read-modify-write (the start map's bit for a boundary-tag block,
// blocks/starts.ts; the span's bitmap bit for a slot, slabs/slab.ts), then
// pushes it on the owner's inbox, a list linked through the blocks' first
// words (the block is the freeing thread's to write once it is claimed):
//
//   freeing thread                          owner (its next malloc)
//   clear the live bit (atomic)  ──┐        take the whole inbox (atomic exchange)
//   link the block to the inbox    │        for each block: set its bit again,
//   head, compare-and-swap   ──────┴──>     free it as its own (checked again)
//
// The claim is what catches misuse across threads: a second free of the
// block, from any thread, finds its bit clear and is reported, nothing
// changed. A pointer inside a block, or one held on the owner's quick list,
// is rejected the same way, and the claim given back. Nothing else of the
// owner's is written, so its fast paths take no lock. The inbox is a stack
// only ever emptied whole, so it has no ABA problem.
//
// A heap whose thread detached (api/heaps.ts) has no one to take its
// inbox: the thread that pushed onto it takes it over while it does
// (HEAP_ABANDONED -> HEAP_BUSY) and frees the blocks there.

import { PAGE_BITS, PAGE_SLAB, MIN_BLOCK, TAG_IN_USE, TAG_MASK, BLOCK_HEADER } from "../base/constants";
import {
  heap, setHeap, heapAt, H_INBOX, H_ATTACHED, HEAP_ABANDONED, HEAP_BUSY, statAdd, STAT_REALLOCS,
} from "../base/state";
import {
  report, ERR_DOUBLE_FREE, ERR_INVALID_FREE, ERR_CORRUPTION, REASON_NONE, REASON_INTERIOR, REASON_NOT_OWNED,
  REASON_NOT_ALLOCATED, OP_FREE, OP_REALLOC,
} from "../base/report";
import { pageKind } from "../pages/pagemap";
import { header } from "../blocks/block";
import { isQuick } from "../blocks/quick";
import { startClaim, startUnclaim, startIsLive } from "../blocks/starts";
import {
  slabClaim, slabUnclaim, slabMagicOk, slabFirst, slabObjSize, slabIndex, slabBump, slabBit, spanOf,
} from "../slabs/slab";
import { cFree, cMalloc } from "./calls";

/** Slot index of `ptr` on its span, or -1 reported (not a slot boundary below the bump mark). */
function slotOf(ptr: usize, op: u32): i32 {
  let span = spanOf(ptr);
  let first = span + slabFirst(span);
  if (!slabMagicOk(span) || ptr < first) { report(ERR_INVALID_FREE, REASON_NOT_OWNED, op, ptr, span, 0); return -1; }
  let size = slabObjSize(span);
  let offset = <u32>(ptr - first);
  let index = slabIndex(span, offset);
  if (index * size != offset) { report(ERR_INVALID_FREE, REASON_INTERIOR, op, ptr, first + index * size, size); return -1; }
  if (index >= slabBump(span)) { report(ERR_INVALID_FREE, REASON_NOT_ALLOCATED, op, ptr, ptr, size); return -1; }
  return <i32>index;
}

/** Is the header before `ptr` a live block's, as far as it can be read from here? */
@inline function liveHeader(h: u32): bool { return (h & (TAG_IN_USE | 12)) == TAG_IN_USE && (h & ~TAG_MASK) >= MIN_BLOCK; }

/**
 * Written into a boundary-tag block's second payload word when it is pushed
 * on its owner's inbox (the block is the pusher's then), so a second free
 * before the owner takes it back is named a double free, not an interior
 * pointer. Only the message depends on it.
 */
const PENDING_MARK: u32 = 0x544D4552; // "REMT"

/**
 * Report `ptr`, on another heap's boundary-tag page, whose start bit is clear:
 * a header that reads as a block's (free, or freed by another thread and not
 * yet taken back) says a second free; anything else, a pointer into a block.
 * (Only the message depends on this guess.)
 */
function notLive(ptr: usize, op: u32): void {
  let block = ptr - BLOCK_HEADER;
  let h = header(block);
  let freed = (h & (TAG_IN_USE | 12)) == 0 && (h & ~TAG_MASK) >= MIN_BLOCK;
  let pending = liveHeader(h) && load<u32>(ptr, 4) == PENDING_MARK;
  if (freed || pending) report(ERR_DOUBLE_FREE, REASON_NONE, op, ptr, block, h & ~TAG_MASK);
  else report(ERR_INVALID_FREE, REASON_INTERIOR, op, ptr, 0, 0);
}

/**
 * Claim `ptr` (16-aligned, on another heap's page of `kind`) for its owner:
 * true if it was live and is now the caller's to hand back; else reported
 * (misuse of `op`) and nothing changed.
 */
function claim(ptr: usize, kind: u8, op: u32): bool {
  if (kind == PAGE_SLAB) {
    let index = slotOf(ptr, op);
    if (index < 0) return false;
    let span = spanOf(ptr);
    if (slabClaim(span, <u32>index)) return true;
    report(ERR_DOUBLE_FREE, REASON_NONE, op, ptr, ptr, slabObjSize(span));
    return false;
  }
  let block = ptr - BLOCK_HEADER;
  if (!startClaim(ptr)) { notLive(ptr, op); return false; }
  let h = header(block);
  if (liveHeader(h)) return true;
  startUnclaim(ptr);
  // Held on the owner's quick list (freed already), or a header overwritten.
  report(isQuick(h) ? ERR_DOUBLE_FREE : ERR_CORRUPTION, REASON_NONE, op, ptr, block, h & ~TAG_MASK);
  return false;
}

/** Give a claim back (the caller keeps the block after all). */
function unclaim(ptr: usize, kind: u8): void {
  if (kind == PAGE_SLAB) {
    let span = spanOf(ptr);
    slabUnclaim(span, slabIndex(span, <u32>(ptr - span - slabFirst(span))));
  } else {
    startUnclaim(ptr);
  }
}

/** Push claimed `ptr`, on a page of `kind`, on heap `owner`'s inbox; if that heap has no thread, take its inbox now. */
function push(ptr: usize, kind: u8, owner: usize): void {
  if (kind != PAGE_SLAB) store<u32>(ptr, PENDING_MARK, 4);
  let at = owner + H_INBOX;
  let head: u32;
  do {
    head = atomic.load<u32>(at);
    store<u32>(ptr, head);
  } while (atomic.cmpxchg<u32>(at, head, <u32>ptr) != head);
  drainAbandoned(owner);
}

/**
 * Free `ptr`, a block on a page of heap `index` (not this thread's): claimed,
 * then handed to its owner. `kind` is the page's (HEAP or SLAB).
 */
export function remoteFree(ptr: usize, kind: u8, index: u32): void {
  let owner = heapAt(index);
  if (owner == 0) { report(ERR_INVALID_FREE, REASON_NOT_OWNED, OP_FREE, ptr, 0, 0); return; }
  if (claim(ptr, kind, OP_FREE)) push(ptr, kind, owner);
}

/** realloc of `ptr`, a block of heap `index` (not this thread's): it moves into this thread's heap. */
export function remoteRealloc(ptr: usize, size: usize, kind: u8, index: u32): usize {
  let owner = heapAt(index);
  if (owner == 0) { report(ERR_INVALID_FREE, REASON_NOT_OWNED, OP_REALLOC, ptr, 0, 0); return 0; }
  if (!claim(ptr, kind, OP_REALLOC)) return 0;
  statAdd(STAT_REALLOCS, 1);
  if (size == 0) { push(ptr, kind, owner); return 0; } // (as realloc(p, 0) of this heap's blocks: freed)
  let usable: usize = kind == PAGE_SLAB ? slabObjSize(spanOf(ptr)) : (header(ptr - BLOCK_HEADER) & ~TAG_MASK) - BLOCK_HEADER;
  let moved = cMalloc(size);
  if (moved == 0) { unclaim(ptr, kind); return 0; } // the old block is untouched
  memory.copy(moved, ptr, min<usize>(usable, size));
  push(ptr, kind, owner);
  return moved;
}

/**
 * Usable bytes of `ptr`, a block of another heap (malloc_usable_size,
 * malloc_name's check): read, not claimed; 0 reported if it is not live.
 */
export function remoteUsable(ptr: usize, kind: u8, op: u32): usize {
  if (kind == PAGE_SLAB) {
    let index = slotOf(ptr, op);
    if (index < 0) return 0;
    let span = spanOf(ptr);
    if (slabBit(span, <u32>index)) return slabObjSize(span);
    report(ERR_DOUBLE_FREE, REASON_NONE, op, ptr, ptr, slabObjSize(span));
    return 0;
  }
  if (!startIsLive(ptr)) { notLive(ptr, op); return 0; }
  let h = header(ptr - BLOCK_HEADER);
  if (liveHeader(h)) return (h & ~TAG_MASK) - BLOCK_HEADER;
  // Held on the owner's quick list (freed already), or a header overwritten.
  report(isQuick(h) ? ERR_DOUBLE_FREE : ERR_CORRUPTION, REASON_NONE, op, ptr, ptr - BLOCK_HEADER, h & ~TAG_MASK);
  return 0;
}

/** Does this heap's inbox hold blocks? One atomic load: the threads build's malloc asks it first. */
@inline export function inboxWaiting(): bool { return atomic.load<u32>(heap + H_INBOX) != 0; }

/** Take back every block other threads freed into this heap: each freed as this heap's own, checked again. */
export function drainInbox(): void {
  let block: usize = atomic.xchg<u32>(heap + H_INBOX, 0);
  while (block != 0) {
    let next: usize = load<u32>(block);
    unclaim(block, pageKind(<u32>(block >>> PAGE_BITS)));
    cFree(block);
    block = next;
  }
}

/**
 * If heap `owner` has no thread (detached) and blocks wait in its inbox, take
 * it over while freeing them. Safe against a thread attaching meanwhile: it
 * takes the heap only from HEAP_ABANDONED, and finds the inbox then.
 */
export function drainAbandoned(owner: usize): void {
  let own = heap;
  while (atomic.load<u32>(owner + H_INBOX) != 0) {
    // Attached: its thread takes them. Busy: the thread draining it looks again when done.
    if (atomic.cmpxchg<u32>(owner + H_ATTACHED, HEAP_ABANDONED, HEAP_BUSY) != HEAP_ABANDONED) return;
    setHeap(owner);
    drainInbox();
    setHeap(own);
    atomic.store<u32>(owner + H_ATTACHED, HEAP_ABANDONED);
  }
}
