// The small build (build/small.wasm): the C API alone, segregated fit, slabs,
// page runs, the O(1) pointer checks and misuse reports, and nothing to
// inspect. It is tested from outside as a program would use it: a randomized
// model against a shadow heap (no overlap, contents kept, alignment, usable
// sizes), the C semantics at their edges, and misuse reported with nothing
// changed.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { LAYOUT } from "../dist/index.js";
import { ShadowHeap } from "./host/shadow.mjs";
import { seededRandom, chooseSeed } from "./host/random.mjs";

const BYTES = fs.readFileSync(new URL("../build/small.wasm", import.meta.url));
const MODULE = new WebAssembly.Module(BYTES);
const C_API = ["malloc", "free", "calloc", "realloc", "aligned_alloc", "posix_memalign", "malloc_usable_size"];

/** A fresh instance; `reports` receives every misuse report. */
function instance() {
  const reports = [];
  const { exports: e } = new WebAssembly.Instance(MODULE, {
    env: { wasm_malloc_report: (kind, reason, op, ptr, block, size) => reports.push({ kind, reason, op, ptr: ptr >>> 0, block: block >>> 0, size: size >>> 0 }) },
  });
  const u = (f) => (...args) => f(...args) >>> 0;
  const heap = {
    e, reports, memory: e.memory,
    malloc: u(e.malloc), calloc: u(e.calloc), realloc: u(e.realloc), alignedAlloc: u(e.aligned_alloc),
    free: e.free, usableSize: u(e.malloc_usable_size),
  };
  return heap;
}

test("the small build exports the C API, its memory and __heap_base, and imports only the misuse report", () => {
  const exports = WebAssembly.Module.exports(MODULE).map((x) => x.name).sort();
  assert.deepEqual(exports, [...C_API, "__heap_base", "memory"].sort());
  assert.deepEqual(WebAssembly.Module.imports(MODULE).map((x) => `${x.module}.${x.name}`), ["env.wasm_malloc_report"]);
  assert.equal(WebAssembly.Module.customSections(MODULE, "name").length, 0);
});

test("the small build against a shadow model: random malloc, calloc, realloc, aligned_alloc, posix_memalign and free", () => {
  const seed = chooseSeed();
  const ops = Number(process.env.OPS ?? 30000);
  console.log(`# small build model: SEED=${seed} OPS=${ops}`);
  const random = seededRandom(seed);
  const heap = instance();
  const shadow = new ShadowHeap(heap);
  const live = [];
  const size = () => {
    const r = random.next();
    if (r < 0.6) return random.int(0, 256);
    if (r < 0.9) return random.int(257, 16384);
    if (r < 0.98) return random.int(16385, 262144);
    return random.int(262145, 1 << 20);
  };
  let tag = 1;
  const nextTag = () => (tag = (tag % 255) + 1);
  for (let i = 0; i < ops; i++) {
    const what = `op ${i} (SEED=${seed})`;
    const r = random.next();
    if (live.length > 0 && (r < 0.42 || live.length > 3000)) {
      const at = random.int(0, live.length - 1);
      const block = live[at];
      shadow.verify(block, block.size, what);
      heap.free(block.ptr);
      shadow.remove(block);
      live[at] = live[live.length - 1];
      live.pop();
    } else if (live.length > 0 && r < 0.55) {
      const at = random.int(0, live.length - 1);
      const block = live[at];
      const n = size();
      const moved = heap.realloc(block.ptr, n);
      if (n === 0) { assert.equal(moved, 0, `${what}: realloc(p, 0) returns 0`); shadow.remove(block); live[at] = live[live.length - 1]; live.pop(); continue; }
      shadow.remove(block);
      const kept = { ...block, ptr: moved, size: Math.min(block.size, n) };
      // The first min(old, new) bytes moved with it.
      kept.end = moved + 1;
      shadow.verify(kept, kept.size, `${what}: realloc kept the contents`);
      const added = shadow.add(moved, n, 16, nextTag(), what);
      shadow.fill(added);
      live[at] = added;
    } else if (r < 0.62) {
      const n = random.int(0, 4096), count = random.int(0, 8);
      const ptr = heap.calloc(count, n);
      const block = shadow.add(ptr, count * n, 16, nextTag(), what);
      const bytes = new Uint8Array(heap.memory.buffer, ptr, count * n);
      assert.ok(bytes.every((b) => b === 0), `${what}: calloc's block is zeroed`);
      shadow.fill(block);
      live.push(block);
    } else if (r < 0.68) {
      const align = 2 ** random.int(5, 16), n = random.int(1, 20000);
      const ptr = heap.alignedAlloc(align, n);
      const block = shadow.add(ptr, n, align, nextTag(), what);
      shadow.fill(block);
      live.push(block);
    } else if (r < 0.7) {
      const align = 2 ** random.int(2, 12), n = random.int(1, 5000);
      const out = heap.malloc(4);
      assert.equal(heap.e.posix_memalign(out, align, n), 0, `${what}: posix_memalign`);
      const ptr = new Uint32Array(heap.memory.buffer, out, 1)[0];
      heap.free(out);
      const block = shadow.add(ptr, n, align, nextTag(), what);
      shadow.fill(block);
      live.push(block);
    } else {
      const n = size();
      const block = shadow.add(heap.malloc(n), n, 16, nextTag(), what);
      shadow.fill(block);
      live.push(block);
    }
  }
  for (const block of live) { shadow.verify(block, block.size, "at the end"); heap.free(block.ptr); }
  assert.deepEqual(heap.reports, [], "no misuse was reported for valid calls");
  // Everything freed: one block as large as the biggest ever asked for fits again without growing much.
  const pages = heap.memory.buffer.byteLength / 65536;
  assert.notEqual(heap.malloc(1 << 20), 0);
  assert.ok(heap.memory.buffer.byteLength / 65536 <= pages + 17, "freed pages were reused");
});

test("the small build keeps C semantics at the edges", () => {
  const heap = instance();
  const a = heap.malloc(0), b = heap.malloc(0);
  assert.ok(a !== 0 && b !== 0 && a !== b, "malloc(0) gives unique pointers");
  heap.free(a); heap.free(b);
  assert.equal(heap.malloc(2 ** 32 - 1), 0, "a size that would wrap gives 0");
  assert.equal(heap.calloc(2 ** 16, 2 ** 16), 0, "calloc overflow gives 0");
  for (const align of [0, 3, 24, 2 ** 17]) assert.equal(heap.alignedAlloc(align, 10), 0, `aligned_alloc(${align}) gives 0`);
  const out = heap.malloc(4);
  new Uint32Array(heap.memory.buffer, out, 1)[0] = 0xdeadbeef;
  assert.equal(heap.e.posix_memalign(out, 2, 10), 22, "posix_memalign: EINVAL below 4");
  assert.equal(heap.e.posix_memalign(out, 64, 2 ** 32 - 1), 12, "posix_memalign: ENOMEM");
  assert.equal(new Uint32Array(heap.memory.buffer, out, 1)[0], 0xdeadbeef, "out untouched on failure");
  const p = heap.malloc(100);
  assert.equal(heap.realloc(p, 0), 0, "realloc(p, 0) frees and gives 0");
  assert.equal(heap.realloc(0, 50) !== 0, true, "realloc(0, n) is malloc");
  assert.equal(heap.usableSize(0), 0);
  assert.deepEqual(heap.reports, []);
});

test("the small build reports misuse and changes nothing", () => {
  const heap = instance();
  const small = heap.malloc(24), medium = heap.malloc(3000), large = heap.malloc(600000);
  const keep = heap.malloc(40);
  new Uint8Array(heap.memory.buffer, keep, 40).fill(9);
  heap.free(medium);
  const cases = [
    ["double free of a boundary-tag block", () => heap.free(medium), LAYOUT.ERR_DOUBLE_FREE, medium],
    ["an interior pointer of a slab slot", () => heap.free(small + 16), LAYOUT.ERR_INVALID_FREE, small + 16],
    ["an interior pointer of a page run", () => heap.free(large + 4096), LAYOUT.ERR_INVALID_FREE, large + 4096],
    ["a misaligned pointer", () => heap.free(small + 4), LAYOUT.ERR_INVALID_FREE, small + 4],
    ["a pointer past the memory", () => heap.free(0xfffffff0), LAYOUT.ERR_INVALID_FREE, 0xfffffff0],
    ["a pointer below the heap", () => heap.free(16), LAYOUT.ERR_INVALID_FREE, 16],
    ["realloc of a freed block", () => assert.equal(heap.realloc(medium, 10), 0), LAYOUT.ERR_DOUBLE_FREE, medium],
    ["malloc_usable_size of an interior pointer", () => assert.equal(heap.usableSize(large + 16), 0), LAYOUT.ERR_INVALID_FREE, large + 16],
  ];
  const before = new Uint8Array(heap.memory.buffer).slice();
  for (const [name, call, kind, ptr] of cases) {
    heap.reports.length = 0;
    call();
    assert.equal(heap.reports.length, 1, `${name}: one report`);
    assert.equal(heap.reports[0].kind, kind, `${name}: kind`);
    assert.equal(heap.reports[0].ptr, ptr, `${name}: the pointer passed`);
  }
  assert.deepEqual(new Uint8Array(heap.memory.buffer), before, "no byte of memory changed");
  // The heap goes on: the blocks are still theirs to free.
  heap.reports.length = 0;
  heap.free(small); heap.free(large); heap.free(keep);
  assert.deepEqual(heap.reports, []);
});
