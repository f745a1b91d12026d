// The threads benchmark's workloads (bench/threads.mjs): what one worker
// does, seeded by (seed, worker index), generated before the clock starts.
//
//   churn   small-object churn: 16–256 B, each worker on its own blocks
//   mixed   8 B–64 KiB log-uniform, a live set of about half its slots, 1 in 5 of the
//           operations on a live block a realloc
//   pc      producer-consumer: worker i mallocs 16–256 B blocks and hands them to worker
//           i+1 (mod N), which frees them: every free is remote (threads-worker.mjs)
//   spin    no allocator: an arithmetic loop, to show how far the machine itself
//           scales during a run (the threads harness's baseline row)
//
// churn and mixed are operation streams in the single-threaded benchmark's
// encoding (codes[i] = kind << 30 | slot, sizes[i]; workloads.mjs), over a
// fixed slot table, ending with a free of every block still live: a run
// leaves the heap empty. pc is the list of sizes the worker mallocs; its
// operations are those mallocs and as many frees.
import { FREE, MALLOC, REALLOC, logUniform, rng, uniform } from "./workloads.mjs";

/** Per workload: operations per worker at scale 1, and the slot table's size. */
export const THREAD_WORKLOADS = {
  churn: { ops: 2_000_000, slots: 512, text: "small-object churn, 16–256 B, own blocks" },
  mixed: { ops: 500_000, slots: 1024, text: "mixed sizes, 8 B–64 KiB log-uniform, live set, 20% realloc" },
  pc: { ops: 2_000_000, slots: 0, text: "producer-consumer, 16–256 B, every free by the next worker (with 1 worker: itself)" },
  spin: { ops: 2_000_000, slots: 0, text: "no allocator: an arithmetic loop (the machine's own scaling)" },
};

/** The seed of worker `index`'s stream: streams differ per worker, and repeat per (seed, index). */
export const workerSeed = (seed, index) => (Math.imul(seed ^ 0x5bd1e995, 31) + Math.imul(index + 1, 0x9e3779b1)) >>> 0;

/**
 * Worker `index`'s part of workload `name`, about `ops` operations:
 * { codes, sizes, count, slots } (churn, mixed) or { sizes, count: mallocs } (pc).
 */
export function threadWorkload(name, ops, seed, index) {
  const spec = THREAD_WORKLOADS[name];
  if (!spec) throw new Error(`no threads workload '${name}' (have ${Object.keys(THREAD_WORKLOADS).join(", ")})`);
  const rand = rng(workerSeed(seed, index));
  if (name === "spin") return { count: ops * 20 }; // (iterations; about as long as churn's run)
  if (name === "pc") {
    const mallocs = Math.max(1, ops >>> 1);
    const sizes = new Uint32Array(mallocs);
    for (let i = 0; i < mallocs; i++) sizes[i] = uniform(rand, 16, 256);
    return { sizes, count: mallocs };
  }
  const size = name === "churn" ? () => uniform(rand, 16, 256) : () => logUniform(rand, 8, 65536);
  const reallocShare = name === "mixed" ? 0.2 : 0;
  const codes = new Uint32Array(ops + spec.slots);
  const sizes = new Uint32Array(ops + spec.slots);
  const live = new Uint8Array(spec.slots);
  let count = 0;
  const push = (kind, slot, bytes) => { codes[count] = ((kind << 30) | slot) >>> 0; sizes[count++] = bytes; };
  for (let i = 0; i < ops; i++) {
    // A random slot: empty → malloc, live → free (or realloc): the live set hovers at half the slots.
    const slot = Math.floor(rand() * spec.slots);
    if (!live[slot]) { push(MALLOC, slot, size()); live[slot] = 1; }
    else if (rand() < reallocShare) push(REALLOC, slot, size());
    else { push(FREE, slot, 0); live[slot] = 0; }
  }
  for (let slot = 0; slot < spec.slots; slot++) if (live[slot]) push(FREE, slot, 0);
  return { codes: codes.subarray(0, count), sizes: sizes.subarray(0, count), count, slots: spec.slots };
}
