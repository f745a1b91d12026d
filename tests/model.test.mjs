// Randomized model-based test: for every policy, random malloc / calloc /
// realloc / aligned_alloc / free against a shadow model: no two live blocks
// overlap, every block keeps its bytes, alignment holds, and the heap check
// passes after every step. Replay a failure with SEED=<printed seed>.
// OPS sets the operation count (default 100000 per policy).
import test from "node:test";
import assert from "node:assert/strict";
import { Heap, POLICY_NAMES } from "../dist/index.js";
import { seededRandom, chooseSeed } from "./host/random.mjs";
import { ShadowHeap } from "./host/shadow.mjs";

const OPS = Number(process.env.OPS ?? 100_000);
const MAX_LIVE = 400;

/** Sizes from 0 to 1 MiB, weighted to small. */
function randomSize(rng) {
  const r = rng.next();
  if (r < 0.6) return rng.int(0, 256);
  if (r < 0.85) return rng.int(257, 4096);
  if (r < 0.97) return rng.int(4097, 65536);
  return rng.int(65537, 1 << 20);
}

async function run(policy, slabs, seed, ops, build = "release") {
  const rng = seededRandom(seed);
  const heap = await Heap.create({ policy, slabs, build });
  const shadow = new ShadowHeap(heap);
  let tag = 1;
  const nextTag = () => (tag = (tag % 255) + 1);
  for (let step = 0; step < ops; step++) {
    const what = `seed ${seed}, ${policy}${slabs ? "" : " without slabs"}, step ${step}`;
    const live = shadow.blocks;
    const r = rng.next();
    const wantFree = live.length > 0 && (live.length >= MAX_LIVE || r < 0.3);
    if (wantFree) {
      const block = rng.pick(live);
      shadow.verify(block, block.size, what);
      shadow.remove(block);
      heap.free(block.ptr);
    } else if (live.length > 0 && r < 0.45) {
      const block = rng.pick(live);
      const size = randomSize(rng);
      shadow.verify(block, block.size, what);
      const ptr = heap.realloc(block.ptr, size);
      shadow.remove(block);
      if (size === 0) {
        assert.equal(ptr, 0, `${what}: realloc(p, 0) returns 0`);
      } else {
        const moved = { ...block, ptr, size };
        const added = shadow.add(ptr, size, 16, block.tag, `${what} realloc`);
        shadow.verify(added, Math.min(block.size, size), `${what} realloc kept contents`);
        added.tag = nextTag();
        shadow.fill(added);
        void moved;
      }
    } else if (r < 0.55) {
      const count = rng.int(0, 64);
      const unit = rng.int(0, 512);
      const ptr = heap.calloc(count, unit);
      const block = shadow.add(ptr, count * unit, 16, nextTag(), `${what} calloc`);
      const bytes = new Uint8Array(heap.memory.buffer, ptr, count * unit);
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) assert.fail(`${what}: calloc byte ${i} is ${bytes[i]}`);
      shadow.fill(block);
    } else if (r < 0.62) {
      const align = 2 ** rng.int(0, 16);
      const size = randomSize(rng);
      const ptr = heap.alignedAlloc(align, size);
      shadow.fill(shadow.add(ptr, size, align, nextTag(), `${what} aligned_alloc(${align}, ${size})`));
    } else {
      const size = randomSize(rng);
      const ptr = heap.malloc(size);
      shadow.fill(shadow.add(ptr, size, 16, nextTag(), `${what} malloc(${size})`));
    }
    try { heap.check(); } catch (error) { assert.fail(`${what}: ${error.message}`); }
  }
  for (const block of [...shadow.blocks]) { shadow.verify(block); shadow.remove(block); heap.free(block.ptr); }
  heap.check();
  const stats = heap.stats();
  assert.equal(stats.live, 0, "every block freed");
  assert.equal(stats.inUse, 0, "no bytes left in use");
}

for (const policy of POLICY_NAMES) {
  test(`${policy} fit: ${OPS} random operations keep blocks apart, contents intact, aligned, heap checked`, async (t) => {
    const seed = chooseSeed();
    t.diagnostic(`seed ${seed}`);
    console.log(`# model ${policy}: SEED=${seed}`);
    await run(policy, true, seed, OPS);
  });
}

for (const policy of POLICY_NAMES) {
  test(`${policy} fit without slabs: ${OPS / 5} random operations, every size through the policy`, async (t) => {
    const seed = chooseSeed();
    t.diagnostic(`seed ${seed}`);
    console.log(`# model ${policy} without slabs: SEED=${seed}`);
    await run(policy, false, seed, OPS / 5);
  });
}

for (const policy of ["first", "segregated"]) {
  test(`checked build, ${policy} fit: ${OPS / 20} random operations with canaries and quarantine`, async (t) => {
    const seed = chooseSeed();
    t.diagnostic(`seed ${seed}`);
    console.log(`# model checked ${policy}: SEED=${seed}`);
    await run(policy, true, seed, OPS / 20, "checked");
  });
}
