// The threads benchmark's Wasm driver (bench/threads.mjs --driver wasm): each
// worker's loop in Wasm, calling the allocator's malloc/free/realloc as Wasm
// imports over the shared memory, so no JS runs between two calls (the JS
// driver in bench/lib/threads-worker.mjs spends about 10 ns per call in its
// loop, time in which a lock is not held).
//
// run: an operation stream (churn, mixed), peers/driver.ts's own loop.
// pc:  the producer-consumer loop of threads-worker.mjs, same rings and bells,
//      drawing the same sizes: mulberry32 (workloads.mjs's rng) seeded with
//      the worker's seed, then uniform 16–256 B.
export { run } from "./driver";

@external("alloc", "malloc") declare function malloc(size: usize): usize;
@external("alloc", "free") declare function free(ptr: usize): void;

// A ring's header, as bench/lib/threads-allocators.mjs lays it out.
@inline const HEAD: usize = 0;
@inline const TAIL: usize = 16;
@inline const BELL: usize = 64;
@inline const ENTRY: usize = 128;
@inline const BATCH: u32 = 64;
@inline const SPINS: u32 = 1000;
@inline const SLEEP_NS: i64 = 100_000_000;

let state: u32 = 0;

/** The next of mulberry32's numbers, as an integer in [lo, hi] (exactly what workloads.mjs's uniform gives). */
function draw(lo: u32, hi: u32): u32 {
  state += 0x6d2b79f5;
  let t = state;
  t = (t ^ (t >>> 15)) * (t | 1);
  t ^= t + (t ^ (t >>> 7)) * (t | 61);
  t ^= t >>> 14;
  return lo + <u32>((<u64>t * (hi - lo + 1)) >>> 32);
}

@inline function ding(ring: usize): void {
  atomic.add<i32>(ring, 1, BELL);
  atomic.notify(ring + BELL, 1);
}

/**
 * Mallocs `total` blocks into ring `out` (read by the next worker, whose
 * ring is `next`) and frees as many from ring `inc` (the previous worker's).
 * Returns the operations done (2 × total).
 */
export function pc(out: usize, inc: usize, next: usize, total: u32, entries: u32, seed: u32): u32 {
  state = seed;
  let mask = entries - 1;
  let produced: u32 = 0;
  let consumed: u32 = 0;
  let idle: u32 = 0;
  while (produced < total || consumed < total) {
    let rung = atomic.load<i32>(out, BELL);
    let progress = false;
    let n = min(min(entries - (produced - atomic.load<u32>(out, TAIL)), BATCH), total - produced);
    if (n > 0) {
      for (let k: u32 = 0; k < n; k++, produced++) {
        let size = draw(16, 256);
        let at = out + ENTRY + (<usize>(produced & mask) << 3);
        store<u32>(at, malloc(size));
        store<u32>(at, size, 4);
      }
      atomic.store<u32>(out, produced, HEAD);
      ding(next);
      progress = true;
    }
    n = min(atomic.load<u32>(inc, HEAD) - consumed, BATCH);
    if (n > 0) {
      for (let k: u32 = 0; k < n; k++, consumed++) {
        free(load<u32>(inc + ENTRY + (<usize>(consumed & mask) << 3)));
      }
      atomic.store<u32>(inc, consumed, TAIL);
      ding(inc);
      progress = true;
    }
    if (progress) idle = 0;
    else if (++idle > SPINS) atomic.wait<i32>(out + BELL, rung, SLEEP_NS);
  }
  return produced + consumed;
}
