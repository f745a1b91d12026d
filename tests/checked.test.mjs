// The checked build: canaries, poison, quarantine, and every misuse it names.
import test from "node:test";
import assert from "node:assert/strict";
import { Heap, WasmMallocError } from "../dist/index.js";

const checked = (options = {}) => Heap.create({ build: "checked", ...options });
const raw = (heap, ptr, length) => new Uint8Array(heap.memory.buffer, ptr, length);
const isError = (kind, check = () => true) => (e) => e instanceof WasmMallocError && e.kind === kind && check(e);

for (const size of [1, 24, 100, 3000, 300000]) {
  test(`a one-byte overflow of a ${size}-byte block is reported on free with the block, its size, name and the bytes overwritten`, async () => {
    const heap = await checked();
    const p = heap.malloc(size);
    heap.name(p, "victim");
    raw(heap, p, size + 3).fill(1, size, size + 1);
    assert.throws(() => heap.free(p), isError("overflow", (e) => e.address === p && e.block === p && e.size === size &&
      e.overwritten === 1 && /"victim"/.test(e.message) && /1 byte past the end/.test(e.message)));
    // The block was still taken: reported once, and a second free is a double free.
    assert.throws(() => heap.free(p), isError("double-free"));
    heap.check();
    assert.equal(heap.stats().live, 0);
  });
}

test("an underflow (a write just before the block) is reported with the count", async () => {
  const heap = await checked();
  const p = heap.malloc(64);
  raw(heap, p - 3, 3).fill(0);
  assert.throws(() => heap.free(p), isError("underflow", (e) => e.overwritten === 3 && e.address === p));
  heap.check();
});

test("realloc checks the canaries of the old block too", async () => {
  const heap = await checked();
  const p = heap.malloc(10);
  raw(heap, p, 12).fill(5);
  assert.throws(() => heap.realloc(p, 100), isError("overflow", (e) => e.overwritten === 2 && e.operation === "realloc"));
});

test("check() finds a broken canary on a live block before it is freed", async () => {
  const heap = await checked();
  const p = heap.malloc(40);
  heap.malloc(40);
  heap.check();
  raw(heap, p + 40, 1)[0] = 0;
  assert.throws(() => heap.check(), (e) => e.name === "HeapCorruptionError" && e.violation === "canary" && e.address === p);
  raw(heap, p + 40, 1)[0] = 0xcb;
  heap.check();
});

test("freed payloads are poisoned from first to last byte and held in quarantine before reuse", async () => {
  const heap = await checked({ quarantine: 4096 });
  const p = heap.malloc(100);
  raw(heap, p, 100).fill(7);
  heap.free(p);
  assert.ok(raw(heap, p, 100).every((b) => b === 0xdf), "poisoned");
  assert.equal(heap.stats().quarantined, 1);
  const q = heap.malloc(100);
  assert.notEqual(q, p, "not reused while in quarantine");
  const walk = heap.walk();
  assert.ok(walk.some((b) => b.pointer === p && b.quarantined));
  assert.ok(walk.some((b) => b.pointer === q && !b.quarantined && b.payload === 100));
  // Push it out of quarantine: FIFO, by bytes.
  for (let i = 0; i < 40; i++) heap.free(heap.malloc(100));
  assert.ok(heap.stats().quarantined < 40);
  heap.check();
});

test("a write after free is reported when the block leaves quarantine, and check() finds it before", async () => {
  const heap = await checked({ quarantine: 1000 });
  const p = heap.malloc(200);
  heap.name(p, "session");
  heap.free(p);
  raw(heap, p + 10, 4).fill(0);
  assert.throws(() => heap.check(), (e) => e.violation === "poison" && e.address === p);
  let error = null;
  for (let i = 0; i < 20 && !error; i++) {
    try { heap.free(heap.malloc(200)); } catch (e) { error = e; }
  }
  assert.ok(error && error.kind === "use-after-free" && error.address === p && error.overwritten === 4, String(error));
  heap.check();
});

test("double free, also with other operations between, and realloc of a freed block", async () => {
  const heap = await checked();
  const p = heap.malloc(48);
  heap.free(p);
  heap.malloc(48); heap.malloc(2000); heap.free(heap.malloc(10));
  assert.throws(() => heap.free(p), isError("double-free", (e) => e.address === p));
  assert.throws(() => heap.realloc(p, 10), isError("double-free", (e) => e.operation === "realloc"));
  assert.throws(() => heap.usableSize(p), isError("double-free"));
  heap.check();
  // After it left quarantine too (a tiny quarantine).
  const small = await checked({ quarantine: 0 });
  const q = small.malloc(48);
  small.free(q);
  assert.throws(() => small.free(q), isError("double-free"));
  small.check();
});

test("invalid frees: misaligned, interior, outside the heap, never allocated", async () => {
  const heap = await checked({ slabs: false });
  const p = heap.malloc(1000);
  heap.malloc(1000);
  const before = JSON.stringify(heap.walk());
  for (const [ptr, reason] of [[p + 3, "misaligned"], [p + 64, "interior"], [16, "not-owned"], [(heap.stats().pages + 2) * 65536, "not-owned"]]) {
    assert.throws(() => heap.free(ptr), isError("invalid-free", (e) => e.reason === reason && e.address === ptr), `free(${ptr})`);
  }
  assert.equal(JSON.stringify(heap.walk()), before, "nothing changed");
  heap.check();
});

test("usable size is exactly the size asked for; realloc keeps contents and always moves", async () => {
  const heap = await checked();
  const p = heap.malloc(33);
  assert.equal(heap.usableSize(p), 33);
  raw(heap, p, 33).fill(9);
  const q = heap.realloc(p, 5000);
  assert.notEqual(q, p);
  assert.ok(raw(heap, q, 33).every((b) => b === 9));
  assert.throws(() => heap.free(p), isError("double-free"));
  for (const align of [32, 256, 4096, 65536]) {
    const a = heap.alignedAlloc(align, 100);
    assert.equal(a % align, 0);
    assert.equal(heap.usableSize(a), 100);
    raw(heap, a, 101)[100] = 1;
    assert.throws(() => heap.free(a), isError("overflow", (e) => e.overwritten === 1));
  }
  heap.check();
});

test("when tracing, every report carries the index of the operation in the trace", async () => {
  const { mkdtempSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const heap = await checked({ trace: join(mkdtempSync(join(tmpdir(), "wm-")), "t.rep") });
  const p = heap.malloc(8);
  heap.malloc(8);
  heap.free(p);
  assert.throws(() => heap.free(p), isError("double-free", (e) => e.traceIndex === 3 && /at trace operation 3/.test(e.message)));
  heap.close();
});
