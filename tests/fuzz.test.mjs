// Property-based fuzzing (fast-check): random sequences mixing valid and
// invalid operations, for every policy and both builds. Valid operations
// never corrupt the heap or other blocks; invalid ones are reported (thrown,
// with the right kind) and change nothing. fast-check prints the seed and
// the shrunk failing sequence; FUZZ_SEED=<seed> replays it.
// FUZZ_RUNS / FUZZ_LENGTH scale it (npm run fuzz runs a long version).
import test from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Heap, POLICY_NAMES, WasmMallocError } from "../dist/index.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const LENGTH = Number(process.env.FUZZ_LENGTH ?? 60);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

const size = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 301, max: 20000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 20001, max: 600000 }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 2 ** 32 - 1, 65535, 65536, 65537, 262144) },
);
const pick = fc.nat();
const action = fc.oneof(
  fc.record({ op: fc.constant("malloc"), size }),
  fc.record({ op: fc.constant("calloc"), count: fc.integer({ min: 0, max: 70000 }), size: fc.integer({ min: 0, max: 70000 }) }),
  fc.record({ op: fc.constant("realloc"), which: pick, size }),
  fc.record({ op: fc.constant("aligned"), align: fc.constantFrom(0, 1, 3, 16, 24, 64, 4096, 65536, 131072), size }),
  fc.record({ op: fc.constant("free"), which: pick }),
  fc.record({ op: fc.constant("double-free"), which: pick }),
  fc.record({ op: fc.constant("realloc-freed"), which: pick }),
  fc.record({ op: fc.constant("misaligned"), which: pick, offset: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ op: fc.constant("interior"), which: pick, offset: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant("wild"), address: fc.nat() }),
);

/** Run one action sequence; throws an assertion error on any broken property. */
async function execute(build, policy, actions, slabs = true) {
  const heap = await Heap.create({ build, policy, slabs, maxMemory: 32 << 20 });
  const live = [];   // { ptr, size, tag, layer }
  const freed = [];  // pointers freed (stale)
  let tag = 1;
  const view = (ptr, n) => new Uint8Array(heap.memory.buffer, ptr, n);
  const overlapsLive = (a, b) => live.some((x) => a < x.ptr + Math.max(x.size, 16) + 16 && x.ptr - 48 < b);
  const expectRejected = (fn, kinds, what) => {
    const before = JSON.stringify(heap.walk());
    assert.throws(fn, (e) => e instanceof WasmMallocError && kinds.includes(e.kind), what);
    assert.equal(JSON.stringify(heap.walk()), before, `${what} changed nothing`);
  };
  const add = (ptr, n, what) => {
    if (ptr === 0) return;
    assert.equal(ptr % 16, 0, `${what}: aligned`);
    const block = { ptr, size: n, tag: (tag = (tag % 250) + 1) };
    view(ptr, n).fill(block.tag);
    live.push(block);
  };
  const intact = (b, what) => {
    const bytes = view(b.ptr, b.size);
    for (let i = 0; i < bytes.length; i += Math.max(1, bytes.length >> 6)) assert.equal(bytes[i], b.tag, `${what}: byte ${i} of 0x${b.ptr.toString(16)}`);
  };
  for (const [step, a] of actions.entries()) {
    const what = `${build} ${policy} step ${step} ${JSON.stringify(a)}`;
    const target = live.length ? live[a.which % live.length] : null;
    const stale = freed.length ? freed[a.which % freed.length] : null;
    switch (a.op) {
      case "malloc": add(heap.malloc(a.size), a.size, what); break;
      case "calloc": {
        const p = heap.calloc(a.count, a.size);
        if (a.count * a.size > 2 ** 32 - 1) assert.equal(p, 0, `${what}: overflow gives 0`);
        if (p) assert.ok(view(p, a.count * a.size).every((b) => b === 0), `${what}: zeroed`);
        add(p, a.count * a.size, what);
        break;
      }
      case "aligned": {
        const p = heap.alignedAlloc(a.align, a.size);
        if (a.align === 0 || (a.align & (a.align - 1)) !== 0 || a.align > 65536) assert.equal(p, 0, `${what}: bad alignment gives 0`);
        if (p) assert.equal(p % Math.max(a.align, 16), 0, `${what}: aligned`);
        add(p, a.size, what);
        break;
      }
      case "free":
        if (!target) break;
        intact(target, what);
        heap.free(target.ptr);
        live.splice(live.indexOf(target), 1);
        freed.push(target.ptr);
        break;
      case "realloc": {
        if (!target) break;
        intact(target, what);
        const p = heap.realloc(target.ptr, a.size);
        if (a.size === 0) { live.splice(live.indexOf(target), 1); freed.push(target.ptr); break; }
        if (p === 0) { intact(target, `${what}: failed realloc keeps the block`); break; }
        const keep = Math.min(target.size, a.size);
        const bytes = view(p, keep);
        for (let i = 0; i < keep; i += Math.max(1, keep >> 6)) assert.equal(bytes[i], target.tag, `${what}: kept byte ${i}`);
        live.splice(live.indexOf(target), 1);
        if (p !== target.ptr) freed.push(target.ptr);
        add(p, a.size, what);
        break;
      }
      case "double-free":
      case "realloc-freed": {
        // A stale pointer that is live again (reused) would be a valid call; the
        // release build cannot vouch for one that now lands inside a live block.
        if (stale === null || live.some((x) => x.ptr === stale)) break;
        if (build === "release" && overlapsLive(stale - 16, stale + 16)) break;
        const call = a.op === "double-free" ? () => heap.free(stale) : () => heap.realloc(stale, 10);
        expectRejected(call, ["double-free", "invalid-free"], what);
        break;
      }
      case "misaligned":
        if (!target) break;
        expectRejected(() => heap.free(target.ptr + a.offset), ["invalid-free"], what);
        break;
      case "interior": {
        if (!target || target.size <= a.offset * 16) break;
        const layer = heap.walk().find((b) => b.pointer === target.ptr)?.layer;
        // Interior pointers of boundary-tag blocks are caught by the checked build only.
        if (build === "release" && layer === "medium") break;
        expectRejected(() => heap.free(target.ptr + a.offset * 16), ["invalid-free"], what);
        break;
      }
      case "wild": {
        const top = heap.memory.buffer.byteLength;
        const address = a.address % (top + 1 << 20);
        if (live.some((x) => x.ptr === address) || address === 0) break;
        const inHeap = address >= heap.exports.heap_start() && address < top;
        if (build === "release" && inHeap && address % 16 === 0) break;
        if (build === "checked" && overlapsLive(address - 48, address + 48) && address % 16 === 0 && inHeap) {
          // inside a live guarded block: still rejected, as interior
        }
        expectRejected(() => heap.free(address), ["invalid-free", "double-free"], what);
        break;
      }
    }
    heap.check();
  }
  for (const b of live) intact(b, "at the end");
}

for (const build of ["release", "checked"]) {
  for (const policy of POLICY_NAMES) {
    test(`fuzz ${build} ${policy}: valid operations never corrupt, invalid ones are reported and change nothing`, async () => {
      const seed = SEED ?? Date.now() ^ (Math.random() * 2 ** 31);
      console.log(`# fuzz ${build} ${policy}: FUZZ_SEED=${seed}`);
      await fc.assert(fc.asyncProperty(fc.array(action, { maxLength: LENGTH }), (actions) => execute(build, policy, actions)),
        { numRuns: RUNS, seed });
    });
  }
}

// Slabs from the first object: the short sequences above rarely reach a class's
// first span (4 KiB live), so here every small size is a slab slot, and frees,
// double frees and interior pointers meet slab spans, free spans included.
for (const build of ["release", "checked"]) {
  test(`fuzz ${build} segregated, eager slabs: the same properties over slab spans`, async () => {
    const seed = SEED ?? Date.now() ^ (Math.random() * 2 ** 31);
    console.log(`# fuzz ${build} eager slabs: FUZZ_SEED=${seed}`);
    await fc.assert(fc.asyncProperty(fc.array(action, { maxLength: LENGTH }), (actions) => execute(build, "segregated", actions, "eager")),
      { numRuns: RUNS, seed });
  });
}
