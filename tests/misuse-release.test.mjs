// Misuse of the release build, as an attacker would try it (see also
// tests/assembly/starts.spec.ts): pointers into blocks whatever they hold,
// free-list links overwritten after free, posix_memalign's out pointer.
// Every case: the call is rejected and changes nothing, or it goes on with a
// sound result and the damage is reported as noticed; check() passes.
import test from "node:test";
import assert from "node:assert/strict";
import { Heap, WasmMallocError } from "../dist/index.js";

const POLICIES = ["segregated", "first", "best"];

/** xorshift32: deterministic words for the patterns. */
function words(seed) {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
}

const PATTERNS = {
  "every word 17": (view, header) => () => 17,
  "small integers": (view, header, seed) => { const r = words(seed); return () => r() % 64; },
  "copies of its own header": (view, header) => () => header,
  "random words": (view, header, seed) => words(seed),
};

for (const policy of POLICIES) {
  for (const [name, pattern] of Object.entries(PATTERNS)) {
    test(`${policy}: no interior pointer of blocks holding ${name} is accepted, and no block changes`, async () => {
      const heap = await Heap.create({ policy, slabs: false, maxMemory: 64 << 20 });
      const blocks = [];
      for (let i = 0; i < 16; i++) blocks.push({ p: heap.malloc(300 + 173 * i), size: 300 + 173 * i });
      const dv = new DataView(heap.memory.buffer);
      for (const [i, b] of blocks.entries()) {
        const next = pattern(dv, dv.getUint32(b.p - 4, true), i + 1);
        for (let at = 0; at + 4 <= b.size; at += 4) dv.setUint32(b.p + at, next(), true);
        b.copy = Buffer.from(new Uint8Array(heap.memory.buffer, b.p, b.size));
      }
      const live = heap.stats().live;
      let rejected = 0;
      for (const b of blocks) {
        for (let q = b.p + 16; q < b.p + b.size; q += 16) {
          for (const call of [() => heap.free(q), () => heap.realloc(q, 64), () => heap.usableSize(q)]) {
            assert.throws(call, WasmMallocError);
            rejected++;
          }
        }
      }
      assert.ok(rejected > 1000);
      assert.equal(heap.stats().live, live);
      heap.check();
      for (const b of blocks) assert.ok(Buffer.from(new Uint8Array(heap.memory.buffer, b.p, b.size)).equals(b.copy), `block at ${b.p} unchanged`);
      // New blocks come from outside every live one.
      for (let n = 0; n < 20; n++) {
        const size = 16 + 97 * n;
        const p = heap.malloc(size);
        for (const b of blocks) assert.ok(p + size <= b.p - 4 || p >= b.p + b.size, "a new block overlaps no live one");
      }
      heap.check();
    });
  }
}

test("a forged header that ends exactly on the next real one passes no longer", async () => {
  const heap = await Heap.create({ slabs: false });
  const a = heap.malloc(1000), b = heap.malloc(1000);
  const dv = new DataView(heap.memory.buffer);
  const end = a - 4 + (dv.getUint32(a - 4, true) & ~15); // b's header
  assert.equal(end, b - 4);
  // At a+512: an in-use header sized to end on b's header, whose P bit is clear.
  dv.setUint32(a + 508, (end - (a + 508)) | 1, true);
  assert.throws(() => heap.free(a + 512), (e) => e instanceof WasmMallocError && e.kind === "invalid-free" && e.reason === "interior");
  assert.throws(() => heap.usableSize(a + 512), WasmMallocError);
  heap.check();
  const c = heap.malloc(8);
  assert.ok(c + 8 <= a - 4 || c >= a + 1000, "malloc(8) is not inside a");
});

test("a quick-list link overwritten after free: the malloc returns its block, the damage is delivered to onError", async () => {
  const errors = [];
  const heap = await Heap.create({ onError: (e) => errors.push(e) });
  const a = heap.malloc(200), b = heap.malloc(200), c = heap.malloc(200);
  heap.free(a); // held on the quick list of 208-byte blocks
  const dv = new DataView(heap.memory.buffer);
  dv.setUint32(b + 28, 208 | 4 | 1, true); // a fake held block inside b (blocks start 12 mod 16)
  dv.setUint32(a, b + 28, true); // a's link names it
  const x = heap.malloc(200);
  assert.equal(x, a, "the malloc goes on with the sound block it took");
  assert.equal(errors.length, 1);
  assert.equal(errors[0].kind, "use-after-free");
  assert.equal(errors[0].block, a - 4);
  const y = heap.malloc(200);
  assert.ok(y + 200 <= b - 4 || y >= b + 200, "never the fake block inside b");
  heap.check();
  for (const p of [x, y, b, c]) heap.free(p);
  heap.check();
});

test("a slab link overwritten after free: the malloc returns its slot, the damage is kept in heap.errors", async () => {
  const heap = await Heap.create({ slabs: "eager" });
  const warn = console.warn;
  const warned = [];
  console.warn = (...args) => warned.push(args.join(" "));
  try {
    const a = heap.malloc(40), b = heap.malloc(40), live = heap.malloc(40);
    heap.free(a); heap.free(b); // list: b -> a
    new DataView(heap.memory.buffer).setUint32(b, live, true); // b's link names a live slot
    const got = [heap.malloc(40), heap.malloc(40), heap.malloc(40)];
    assert.equal(got[0], b);
    assert.equal(heap.errors.length, 1);
    assert.equal(heap.errors[0].kind, "use-after-free");
    assert.equal(warned.length, 1, "printed once");
    assert.ok(!got.includes(live), "a live slot is never handed out");
    assert.equal(new Set(got).size, 3);
    heap.check();
  } finally {
    console.warn = warn;
  }
});

test("posix_memalign checks where the result goes before it allocates", async () => {
  for (const build of ["release", "checked"]) {
    const heap = await Heap.create({ build });
    const e = heap.exports;
    const holder = heap.malloc(64);
    const live = heap.stats().live;
    const bad = {
      "0": 0,
      "misaligned": holder + 2,
      "past memory": heap.memory.buffer.byteLength - 2,
      "the heap state": e.heap_start() + 8,
    };
    for (const [what, out] of Object.entries(bad)) {
      assert.equal(e.posix_memalign(out, 64, 100), 22, `${build}: out at ${what} is EINVAL`);
      assert.equal(heap.stats().live, live, `${build}: nothing allocated for out at ${what}`);
    }
    assert.equal(e.posix_memalign(holder, 64, 100), 0, "out inside a live block is the normal case");
    const p = new DataView(heap.memory.buffer).getUint32(holder, true);
    assert.equal(p % 64, 0);
    heap.free(p);
    heap.check();
  }
});
