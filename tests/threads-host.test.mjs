// The host library over the threads build: Heap.create({ shared: true }) in the main
// thread, Heap.join(memory) in a worker (tests/host/threads-join-worker.mjs), blocks
// freed across threads, and the misuse of the shared entry points.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { Heap } from "../dist/index.js";

const WORKER = fileURLToPath(new URL("./host/threads-join-worker.mjs", import.meta.url));

test("Heap.create({ shared: true }) and Heap.join in a worker share one heap", async () => {
  const heap = await Heap.create({ shared: true });
  assert.ok(heap.memory.buffer instanceof SharedArrayBuffer);
  const theirs = [100, 300, 5000, 70000].map((n) => heap.malloc(n));
  const result = await new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: { memory: heap.memory, theirs } });
    w.on("message", resolve);
    w.on("error", reject);
  });
  assert.equal(result.doubleFree, "double-free", "a double free in the worker is reported there");
  for (const b of result.mine) {
    assert.ok(heap.bytes(b.ptr, b.size).every((x) => x === b.pattern), `block at ${b.ptr} intact`);
    heap.free(b.ptr);
  }
  assert.equal(heap.check(), undefined);
  assert.equal(heap.stats().live, 0);
  assert.ok(heap.walk().length > 0);
});

test("Heap.create({ shared: true, maxMemory }) caps the shared memory: malloc returns 0 past it", async () => {
  const heap = await Heap.create({ shared: true, maxMemory: 1 << 20 });
  assert.equal(heap.malloc(2 << 20), 0);
  assert.ok(heap.malloc(1000) > 0);
  heap.check();
});

test("the shared entry points refuse what does not fit", async () => {
  await assert.rejects(Heap.create({ shared: "yes" }), TypeError);
  await assert.rejects(Heap.create({ shared: true, build: "release" }), RangeError);
  await assert.rejects(Heap.create({ shared: true, engine: "buddy" }), RangeError);
  await assert.rejects(Heap.create({ build: "threads" }), RangeError);
  await assert.rejects(Heap.join(new WebAssembly.Memory({ initial: 1 })), TypeError, "a memory that is not shared");
  await assert.rejects(Heap.join(42), TypeError);
  await assert.rejects(Heap.join(new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true })), /no heap has been set up/);
  const plain = await Heap.create();
  assert.throws(() => plain.detach(), TypeError);
  const shared = await Heap.create({ shared: true });
  const joined = await Heap.join(shared.memory);
  joined.detach();
  assert.throws(() => joined.detach(), /detached already/);
});

test("each thread's heap is its own: walk() names every block's owner; the 32nd heap is refused", async () => {
  const heap = await Heap.create({ shared: true });
  const other = await Heap.join(heap.memory); // (a second instance: a thread of its own, here the same one)
  const a = heap.malloc(40), b = other.malloc(40), c = other.malloc(3000);
  const owners = new Map(heap.walk().filter((x) => x.pointer).map((x) => [x.pointer, x.owner]));
  assert.equal(owners.get(a), 1);
  assert.equal(owners.get(b), 2);
  assert.equal(owners.get(c), 2);
  // Freed by the other thread: claimed, then taken back by its heap (a second free is reported).
  heap.free(b);
  assert.equal(heap.check(), undefined);
  assert.throws(() => other.usableSize(b), /double-free/, "b is free: its owner took it back");
  assert.throws(() => heap.free(b), /double-free/, "a second free from the other thread");
  heap.free(c);
  other.free(a);
  assert.equal(heap.check(), undefined);
  const joined = [];
  for (let i = 0; i < 29; i++) joined.push(await Heap.join(heap.memory));
  await assert.rejects(Heap.join(heap.memory), /31 threads have a heap/);
  joined.pop().detach();
  joined.push(await Heap.join(heap.memory)); // a detached thread's heap is taken over
  for (const j of joined) j.detach();
  assert.equal(heap.check(), undefined);
});
