// The C API and the module's contract, seen from JS.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { spawnSync } from "node:child_process";
import { Heap, WasmMallocError, HeapCorruptionError, loadAllocator, buildUrl } from "../dist/index.js";

const MiB = 1 << 20;

/** Section ids present in a .wasm binary. */
function sections(bytes) {
  const ids = [];
  let at = 8;
  const leb = () => { let result = 0, shift = 0, b; do { b = bytes[at++]; result |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80); return result >>> 0; };
  while (at < bytes.length) { const id = bytes[at++]; const size = leb(); ids.push(id); at += size; }
  return ids;
}

for (const build of ["release", "checked"]) {
  test(`${build}: instantiating neither touches nor grows memory, has no start function, exports memory`, async () => {
    const bytes = fs.readFileSync(buildUrl(build));
    assert.ok(!sections(bytes).includes(8), "no start section");
    assert.ok(!sections(bytes).includes(11), "no data segments");
    const { exports } = await loadAllocator(bytes, () => {});
    assert.ok(exports.memory instanceof WebAssembly.Memory);
    assert.equal(exports.memory.buffer.byteLength, 0);
    assert.equal(exports.heap_start(), 0, "no heap until the first call");
    assert.equal(exports.__heap_base.value, exports.heap_base(), "__heap_base is exported");
    const p = exports.malloc(10);
    assert.notEqual(p, 0, "the first call sets the heap up with the defaults");
    assert.equal(exports.heap_check(), 0);
  });
}

test("malloc(0) returns a unique pointer that can be freed; free(0) does nothing", async () => {
  const heap = await Heap.create();
  const a = heap.malloc(0), b = heap.malloc(0);
  assert.notEqual(a, 0); assert.notEqual(b, 0); assert.notEqual(a, b);
  heap.free(0);
  heap.free(a); heap.free(b);
  heap.check();
  assert.equal(heap.stats().live, 0);
});

test("sizes whose rounding would pass 2^32 or the memory limit return 0 without a report", async () => {
  const heap = await Heap.create({ maxMemory: 8 * MiB });
  for (const size of [2 ** 32 - 1, 2 ** 32 - 16, 2 ** 32 - 65536, 2 ** 31, 9 * MiB]) {
    assert.equal(heap.malloc(size), 0, `malloc(${size})`);
    assert.equal(heap.alignedAlloc(64, size), 0, `aligned_alloc(64, ${size})`);
  }
  assert.equal(heap.stats().errors, 0);
  heap.check();
  assert.ok(heap.malloc(1000) !== 0, "the heap is still usable");
});

test("calloc returns zeroed memory, and 0 when n * size overflows", async () => {
  const heap = await Heap.create();
  for (const size of [24, 3000, 100000, 400000]) {
    const dirty = heap.malloc(size);
    heap.bytes(dirty, size).fill(0xaa);
    heap.free(dirty);
    const p = heap.calloc(1, size);
    assert.ok(heap.bytes(p, size).every((b) => b === 0), `calloc(1, ${size}) is zeroed`);
    heap.free(p);
  }
  assert.equal(heap.calloc(0x10000, 0x10001), 0);
  assert.equal(heap.calloc(2 ** 31, 2), 0);
  assert.equal(heap.calloc(0xffffffff, 0xffffffff), 0);
  heap.check();
});

test("realloc(0, n) is malloc(n); realloc(p, 0) frees p and returns 0", async () => {
  const heap = await Heap.create();
  const p = heap.realloc(0, 100);
  assert.notEqual(p, 0);
  assert.equal(heap.stats().live, 1);
  assert.equal(heap.realloc(p, 0), 0);
  assert.equal(heap.stats().live, 0);
  assert.throws(() => heap.free(p), (e) => e instanceof WasmMallocError && e.kind === "double-free");
  heap.check();
});

test("realloc keeps the contents up to the smaller size, in every layer and across layers", async () => {
  const heap = await Heap.create();
  const sizes = [1, 17, 200, 256, 300, 5000, 70000, 300000, 1000000, 100, 3];
  let p = heap.malloc(sizes[0]);
  heap.bytes(p, sizes[0]).fill(7);
  for (let i = 1; i < sizes.length; i++) {
    const keep = Math.min(sizes[i - 1], sizes[i]);
    p = heap.realloc(p, sizes[i]);
    assert.ok(heap.bytes(p, keep).every((b) => b === 7), `realloc ${sizes[i - 1]} -> ${sizes[i]}`);
    heap.bytes(p, sizes[i]).fill(7);
    heap.check();
  }
});

test("realloc grows a large block in place at the top, growing only the missing pages", async () => {
  const heap = await Heap.create();
  const p = heap.malloc(300000);
  const pages = heap.stats().pages;
  const q = heap.realloc(p, 300000 + 3 * 65536);
  assert.equal(q, p);
  assert.ok(heap.stats().pages - pages <= 3 + Math.ceil(pages / 16), "grew about the missing pages");
  assert.equal(heap.stats().reallocInPlace, 1);
  heap.check();
});

test("aligned_alloc accepts every power of two up to 64 KiB and wastes no more than the alignment", async () => {
  const heap = await Heap.create();
  for (let align = 1; align <= 65536; align *= 2) {
    const before = heap.stats();
    const p = heap.alignedAlloc(align, 1000);
    assert.equal(p % align, 0, `aligned to ${align}`);
    assert.ok(heap.usableSize(p) >= 1000);
    // The block itself holds at most the size rounded up; the gap went back to the free lists.
    assert.ok(heap.usableSize(p) < 1000 + 16 + 16, `usable ${heap.usableSize(p)} for align ${align}`);
    heap.check();
    void before;
  }
  for (const bad of [0, 3, 24, 48, 131072, 2 ** 31]) assert.equal(heap.alignedAlloc(bad, 100), 0, `alignment ${bad}`);
  heap.check();
});

test("posix_memalign returns 0 and stores the pointer, EINVAL (22) for a bad alignment", async () => {
  const heap = await Heap.create();
  const out = heap.malloc(16);
  const view = () => new DataView(heap.memory.buffer);
  assert.equal(heap.exports.posix_memalign(out, 256, 100), 0);
  const p = view().getUint32(out, true);
  assert.equal(p % 256, 0);
  assert.notEqual(p, 0);
  for (const bad of [0, 2, 3, 12, 131072]) assert.equal(heap.exports.posix_memalign(out, bad, 100), 22, `alignment ${bad}`);
  assert.equal(view().getUint32(out, true), p, "the out pointer is untouched on failure");
  heap.free(p); heap.free(out);
  heap.check();
});

test("malloc_usable_size is at least the request and 0 for a null pointer", async () => {
  const heap = await Heap.create();
  for (const size of [0, 1, 15, 16, 17, 255, 256, 257, 4000, 262143, 262144, 1 << 22]) {
    const p = heap.malloc(size);
    assert.ok(heap.usableSize(p) >= size, `size ${size}`);
  }
  assert.equal(heap.usableSize(0), 0);
});

test("invalid and double frees are reported, thrown from JS, and change nothing", async () => {
  for (const policy of ["first", "segregated"]) {
    const heap = await Heap.create({ policy, slabs: "eager" });
    const small = heap.malloc(40), medium = heap.malloc(1000), large = heap.malloc(400000);
    const before = JSON.stringify(heap.walk());
    const cases = [
      [small + 1, "invalid-free", "misaligned"],
      [medium + 8, "invalid-free", "misaligned"],
      [16, "invalid-free", "not-owned"],
      [heap.stats().memoryBytes + 65536, "invalid-free", "not-owned"],
      [large + 65536, "invalid-free", "interior"],
      [small + 16, "invalid-free", "interior"],
      [small + 48, "invalid-free", "not-allocated"],
    ];
    for (const [ptr, kind, reason] of cases) {
      assert.throws(() => heap.free(ptr), (e) => e instanceof WasmMallocError && e.kind === kind && e.reason === reason && e.address === ptr,
        `free(0x${ptr.toString(16)}) is ${kind}/${reason}`);
      assert.throws(() => heap.realloc(ptr, 10), (e) => e.kind === kind);
      assert.equal(JSON.stringify(heap.walk()), before, "nothing changed");
    }
    for (const p of [small, medium, large]) {
      heap.free(p);
      const after = JSON.stringify(heap.walk());
      assert.throws(() => heap.free(p), (e) => e.kind === "double-free" && /already freed/.test(e.message));
      assert.throws(() => heap.usableSize(p), (e) => e.kind === "double-free");
      assert.equal(JSON.stringify(heap.walk()), after, "a double free changes nothing");
      heap.check();
    }
    assert.ok(heap.stats().errors >= cases.length * 2 + 6);
  }
});

test("the checked build also rejects a pointer into the middle of a medium block", async () => {
  const heap = await Heap.create({ build: "checked", slabs: false });
  const p = heap.malloc(1000);
  heap.malloc(1000);
  // Plant a plausible in-use header inside the payload.
  const view = new DataView(heap.memory.buffer);
  view.setUint32(p + 512 - 4, 64 | 1, true);
  view.setUint32(p + 512 - 4 + 64, 0, true);
  assert.throws(() => heap.free(p + 512), (e) => e.kind === "invalid-free" && e.reason === "interior");
  heap.check();
});

test("out of memory: malloc returns 0 at the limit, the heap stays usable, and after frees the request succeeds", async () => {
  const heap = await Heap.create({ maxMemory: 4 * MiB });
  const blocks = [];
  for (;;) {
    const p = heap.malloc(100000);
    if (p === 0) break;
    blocks.push(p);
  }
  assert.ok(blocks.length >= 30, `${blocks.length} blocks fit in 4 MiB`);
  assert.ok(heap.stats().memoryBytes <= 4 * MiB);
  assert.ok(heap.stats().failed >= 1);
  assert.equal(heap.stats().errors, 0, "out of memory is not misuse");
  heap.check();
  assert.equal(heap.malloc(2 * MiB), 0);
  assert.notEqual(heap.malloc(10), 0, "small requests still succeed");
  for (const p of blocks.splice(0, 25)) heap.free(p);
  assert.notEqual(heap.malloc(2 * MiB), 0, "the same request succeeds after frees");
  heap.check();
});

test("growth is sized by the policy: 100 MiB live does not sit in much more than 100 MiB", async () => {
  for (const size of [3000, 100000, 1 << 20]) {
    const heap = await Heap.create();
    const count = Math.ceil((100 * MiB) / size);
    for (let i = 0; i < count; i++) assert.notEqual(heap.malloc(size), 0);
    const stats = heap.stats();
    assert.ok(stats.memoryBytes < 100 * MiB * 1.12, `${size}-byte blocks: ${(stats.memoryBytes / MiB).toFixed(1)} MiB of memory for 100 MiB`);
    // Exact growth to 16 MiB (at most one call per page: 256), then steps of 1/32 of the
    // heap (16 -> 100 MiB: log(100/16) / log(33/32), about 60 calls).
    assert.ok(stats.grows <= 256 + 70, `${stats.grows} memory.grow calls`);
  }
});

test("a free page run is reused by other layers: memory does not grow for churn across sizes", async () => {
  const heap = await Heap.create();
  for (let round = 0; round < 5; round++) {
    const big = [];
    for (let i = 0; i < 20; i++) big.push(heap.malloc(300000));
    for (const p of big) heap.free(p);
    const small = [];
    for (let i = 0; i < 20000; i++) small.push(heap.malloc(200));
    for (const p of small) heap.free(p);
    const medium = [];
    for (let i = 0; i < 2000; i++) medium.push(heap.malloc(3000));
    for (const p of medium) heap.free(p);
    heap.check();
  }
  const pages = heap.stats().pages;
  assert.ok(pages < 120, `${pages} pages after five rounds of 6 MiB churn`);
});

test("WASM_MALLOC_POLICY chooses the policy under Node; an explicit option wins", () => {
  const script = `import("./dist/index.js").then(async ({ Heap }) => {
    const a = await Heap.create(); const b = await Heap.create({ policy: "first" });
    console.log(a.runningPolicy(), b.runningPolicy());
  })`;
  const run = (env) => spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, ...env } });
  assert.equal(run({ WASM_MALLOC_POLICY: "best" }).stdout.trim(), "best first");
  assert.equal(run({ WASM_MALLOC_POLICY: "" }).stdout.trim(), "segregated first");
  const bad = run({ WASM_MALLOC_POLICY: "fastest" });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /WASM_MALLOC_POLICY is "fastest"; choose one of first, next, best, worst, segregated/);
});

test("a double free names the block the caller freed and the size asked for it, not the free block it has merged into", async () => {
  for (const build of ["release", "traced", "checked"]) {
    const heap = await Heap.create({ build, slabs: false });
    const a = heap.malloc(5000), b = heap.malloc(5000);
    heap.malloc(100); // keeps b from merging into the top
    heap.name(a, "parser buffer");
    heap.free(b);
    heap.free(a); // merges with b: the free block at a is now over 10,000 bytes
    const named = (ptr, size, name) => (e) => {
      assert.equal(e.kind, "double-free");
      assert.equal(e.address, ptr);
      assert.equal(e.size, size, e.message);
      assert.match(e.message, new RegExp(`^double-free in (free|realloc)\\(0x${ptr.toString(16)}\\) \\(block 0x[0-9a-f]+, ${size} bytes${name ? `, "${name}"` : ""}\\)`));
      return true;
    };
    assert.throws(() => heap.free(a), named(a, 5000, "parser buffer"), build);
    assert.throws(() => heap.realloc(a, 10), named(a, 5000, "parser buffer"), build);
    assert.throws(() => heap.free(b), named(b, 5000), `${build}: b, merged into a`);
    // Once the address is handed out again, a later double free there is about the new block.
    const c = heap.malloc(300);
    if (build !== "checked") assert.equal(c, a, build); // (the checked build's quarantine holds a back)
    heap.free(c);
    assert.throws(() => heap.free(c), named(c, 300), build);
    heap.check();
  }
});

test("check() throws HeapCorruptionError naming the violation and the address", async () => {
  const heap = await Heap.create({ slabs: false });
  const a = heap.malloc(100);
  heap.malloc(100);
  heap.free(a);
  const view = new DataView(heap.memory.buffer);
  const footer = a - 4 + 112 - 4;
  view.setUint32(footer, 999, true);
  assert.throws(() => heap.check(), (e) => e instanceof HeapCorruptionError && e.violation === "block-footer" && e.address === a - 4);
  view.setUint32(footer, 112, true);
  heap.check();
});

test("a double free is caught after the block merged into its free left neighbour (found by fuzzing)", async () => {
  for (const policy of ["first", "segregated"]) {
    const heap = await Heap.create({ policy });
    const p = heap.alignedAlloc(65536, 0); // leaves a free gap just before it
    heap.free(p);
    assert.throws(() => heap.free(p), (e) => e.kind === "double-free" && e.address === p);
    assert.throws(() => heap.realloc(p, 10), (e) => e.kind === "double-free");
    heap.check();
    const a = heap.malloc(1000), b = heap.malloc(1000);
    heap.malloc(1000);
    heap.free(a);
    heap.free(b); // merges into a
    assert.throws(() => heap.free(b), (e) => e.kind === "double-free");
    heap.check();
  }
});
