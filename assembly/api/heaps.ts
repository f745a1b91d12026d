// Threads build: a heap per thread, over one shared memory.
//
// The first instance's heap_init sets the memory up with heap 1 (api/init.ts);
// every other instance's heap_attach takes a heap of its own: one a detached
// thread left (HEAP_ABANDONED), or a new one. A new heap is a page from the
// page layer: its per-heap part first, then its segment 0.
//
//   shared part:  heaps[1] ─> ┌ heap 1: per-heap part │ shared part │ segment 0 ...   (the first page)
//                 heaps[2] ─> ┌ heap 2: per-heap part │ segment 0 ...                  (a page of its own)
//                 ...            its segments, slab pages: anywhere, its index in their map entries
//
// A heap keeps its pages, blocks and counters when its thread detaches: its
// blocks stay valid, any thread may free them (api/remote.ts), and the next
// thread to attach carries on with it. At most MAX_HEAPS heaps (the owner
// bits of a page-map entry); heap_attach says so when they are all attached.

import { PAGE_SIZE, PAGE_BITS, PAGE_HEAP, THREADS } from "../base/constants";
import {
  heap, setHeap, shared, heapAt, HEAP_PART_SIZE, MAX_HEAPS, S_HEAPS, H_INDEX, H_ATTACHED, H_POLICY, H_OPTIONS,
  HEAP_ATTACHED, HEAP_ABANDONED,
} from "../base/state";
import { pagesLock, pagesUnlock } from "../base/lock";
import { setPageKinds } from "../pages/pagemap";
import { pagesAlloc, pagesAllowGrowth, GROWTH_ALLOWED, GROWTH_NONE } from "../pages/pages";
import { segmentInit } from "../blocks/medium";
import { engineSetUp, engineSegment0Ready } from "../engines/engine";

/** heap_init, once heap 1's state is written: make it the registry's first, attached. */
export function heapsFirst(): void {
  store<u32>(heap, 1, H_INDEX);
  store<u32>(heap, HEAP_ATTACHED, H_ATTACHED);
  atomic.store<u32>(shared() + S_HEAPS + 4, <u32>heap);
}

/**
 * heap_attach, the shared part found: take a heap for this instance. 0, or
 * HEAP_INIT_TOO_MANY (-7), or HEAP_INIT_NO_ROOM (-3: no page for a new heap).
 */
export function heapsJoin(): i32 {
  pagesLock();
  let code = joinLocked();
  pagesUnlock();
  return code; // (blocks freed into a heap taken over wait in its inbox: threads.ts takes them)
}

function joinLocked(): i32 {
  let free: u32 = 0;
  for (let i: u32 = 1; i <= MAX_HEAPS; i++) {
    let at = heapAt(i);
    if (at == 0) { if (free == 0) free = i; continue; }
    if (atomic.cmpxchg<u32>(at + H_ATTACHED, HEAP_ABANDONED, HEAP_ATTACHED) == HEAP_ABANDONED) {
      setHeap(at);
      return 0;
    }
  }
  if (free == 0) return -7; // HEAP_INIT_TOO_MANY (init.ts)
  return heapCreate(free) ? 0 : -3; // HEAP_INIT_NO_ROOM
}

/** A new heap of index `index` on a page of its own, policy and options as heap 1's; false if no page. */
function heapCreate(index: u32): bool {
  pagesAllowGrowth(GROWTH_ALLOWED);
  let page = pagesAlloc(1);
  pagesAllowGrowth(GROWTH_NONE);
  if (page == 0) return false;
  let first = heapAt(1);
  memory.fill(page, 0, HEAP_PART_SIZE);
  setHeap(page);
  store<u32>(page, load<u32>(first, H_POLICY), H_POLICY);
  store<u32>(page, load<u32>(first, H_OPTIONS), H_OPTIONS);
  store<u32>(page, index, H_INDEX);
  store<u32>(page, HEAP_ATTACHED, H_ATTACHED);
  engineSetUp();
  setPageKinds(<u32>(page >>> PAGE_BITS), 1, PAGE_HEAP); // (this heap's index: its page from now on)
  segmentInit(page + HEAP_PART_SIZE, page + PAGE_SIZE);
  engineSegment0Ready();
  atomic.store<u32>(shared() + S_HEAPS + (index << 2), <u32>page);
  return true;
}

/**
 * heap_detach, its inbox taken: this thread is done. Its heap is left for
 * the next thread to attach, its blocks valid; blocks freed into it
 * meanwhile are taken back by the threads that free them (remote.ts).
 * Returns the heap left.
 */
export function heapsLeave(): usize {
  let own = heap;
  atomic.store<u32>(own + H_ATTACHED, HEAP_ABANDONED);
  setHeap(0);
  return own;
}
