// The randomized model run shared by the model tests: random malloc, calloc,
// realloc, aligned_alloc and free on `heap` against the shadow model, with
// the heap check after every step, then everything freed.
import assert from "node:assert/strict";
import { seededRandom } from "./random.mjs";
import { ShadowHeap } from "./shadow.mjs";

/** Sizes from 0 to 1 MiB, weighted to small; `mid` is the top of the third band. */
export function sizeChooser(mid = 65536) {
  return (rng) => {
    const r = rng.next();
    if (r < 0.6) return rng.int(0, 256);
    if (r < 0.85) return rng.int(257, 4096);
    if (r < 0.97) return rng.int(4097, mid);
    return rng.int(mid + 1, 1 << 20);
  };
}

export function runModel(heap, { seed, ops, label, maxLive = 400, randomSize = sizeChooser() }) {
  const rng = seededRandom(seed);
  const shadow = new ShadowHeap(heap);
  let tag = 1;
  const nextTag = () => (tag = (tag % 255) + 1);
  for (let step = 0; step < ops; step++) {
    const what = `seed ${seed}, ${label}, step ${step}`;
    const live = shadow.blocks;
    const r = rng.next();
    if (live.length > 0 && (live.length >= maxLive || r < 0.3)) {
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
      if (size === 0) assert.equal(ptr, 0, `${what}: realloc(p, 0) returns 0`);
      else {
        const added = shadow.add(ptr, size, 16, block.tag, `${what} realloc`);
        shadow.verify(added, Math.min(block.size, size), `${what} realloc kept contents`);
        added.tag = nextTag();
        shadow.fill(added);
      }
    } else if (r < 0.55) {
      const count = rng.int(0, 64), unit = rng.int(0, 512);
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
      shadow.fill(shadow.add(heap.malloc(size), size, 16, nextTag(), `${what} malloc(${size})`));
    }
    try { heap.check(); } catch (error) { assert.fail(`${what}: ${error.message}`); }
  }
  for (const block of [...shadow.blocks]) { shadow.verify(block); shadow.remove(block); heap.free(block.ptr); }
  heap.check();
  const stats = heap.stats();
  assert.equal(stats.live, 0, "every block freed");
  assert.equal(stats.inUse, 0, "no bytes left in use");
}
