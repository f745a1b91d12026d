// The page layer's lock in the threads build: one word of the shared part (S_LOCK).
//
// Each thread allocates from its own heap without a lock; what the heaps
// share, the page layer (free page runs, the page map, growth, large runs)
// and the heap registry, is used under this one. A mutex of three states,
// after Drepper's "Futexes are tricky":
//
//   0  free
//   1  held, nobody waiting          acquire: cmpxchg 0 -> 1 (the fast path)
//   2  held, someone may be waiting  release: 1 -> 0, or 2 -> 0 and wake one
//
// A thread that finds it held spins a while (the holder is most likely
// inside a malloc of a few hundred instructions), then sleeps in
// memory.atomic.wait32 if this instance may block; a browser's main thread
// may not (wait32 traps there), so its instance spins until the lock is free
// (heap_set_wait(0)).

import { THREADS } from "./constants";
import { shared, S_LOCK } from "./state";

/** Rounds of spinning before a thread sleeps on the lock. */
const SPIN_ROUNDS: i32 = 100;

/** May this instance sleep in wait32 (false on a browser's main thread)? Per instance: a thread's own. */
let mayWait: bool = true;

export function lockSetWait(allowed: bool): void { mayWait = allowed; }

@inline function lockWord(): usize { return shared() + S_LOCK; }

/** Take the lock: one compare-and-swap when it is free (inlined into each export), else lockContended. */
@inline export function lockAcquire(): void {
  if (!THREADS) return;
  if (atomic.cmpxchg<u32>(lockWord(), 0, 1) != 0) lockContended();
}

function lockContended(): void {
  let at = lockWord();
  for (let i = 0; i < SPIN_ROUNDS; i++) {
    if (atomic.load<u32>(at) == 0 && atomic.cmpxchg<u32>(at, 0, 1) == 0) return;
  }
  if (!mayWait) {
    while (atomic.cmpxchg<u32>(at, 0, 1) != 0) {}
    return;
  }
  // Mark it contended, and sleep until a release wakes us; we then hold it
  // marked contended (we cannot know whether others still wait).
  while (atomic.xchg<u32>(at, 2) != 0) memory.atomic.wait32(at, 2, -1);
}

/** Let the lock go; wake one sleeper if any may wait. */
@inline export function lockRelease(): void {
  if (!THREADS) return;
  let at = lockWord();
  if (atomic.xchg<u32>(at, 0) == 2) atomic.notify(at, 1);
}

/** How many pagesLock calls of this instance are open (the lock is taken by the first). */
let depth: u32 = 0;

/**
 * Hold the page layer's lock around a step that takes or gives pages. It
 * nests: a layer's step (a segment grown and marked) wraps page-layer calls
 * that lock too. Nothing in the builds without threads.
 */
@inline export function pagesLock(): void {
  if (!THREADS) return;
  if (depth++ == 0) lockAcquire();
}
@inline export function pagesUnlock(): void {
  if (!THREADS) return;
  if (--depth == 0) lockRelease();
}
