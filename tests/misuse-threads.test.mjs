// Misuse of the threads build (build/threads.wasm), as an attacker would try it:
// set-up calls given values that do not fit, and every pointer misuse through a
// heap that does not own the block (claimed from another thread: api/remote.ts).
// Every case: the call is rejected with a report naming it, nothing changes,
// every block keeps its contents, and heap_check passes over all heaps.
// Two instances in one thread stand for two threads: the code paths are the
// same, and the order is deterministic.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath } from "node:url";

const MODULE = new WebAssembly.Module(fs.readFileSync(fileURLToPath(new URL("../build/threads.wasm", import.meta.url))));
const DOUBLE_FREE = 1, INVALID_FREE = 2, CORRUPTION = 7, NOT_INITIALIZED = 8;
const OP_FREE = 1, OP_REALLOC = 2, OP_USABLE_SIZE = 3, OP_NAME = 8;

/** Two instances over one shared memory: `a` set it up (heap 1), `b` attached (heap 2). */
function twoThreads(options = 0) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1024, shared: true });
  const reports = [];
  const make = (who) => new WebAssembly.Instance(MODULE, {
    env: { memory, wasm_malloc_report: (kind, reason, op, ptr) => reports.push({ who, kind, reason, op: op & 0xff, ptr: ptr >>> 0 }), wasm_malloc_named() {} },
  }).exports;
  const a = make("a"), b = make("b");
  const base = a.__heap_base.value;
  assert.equal(a.heap_init_with(base, 0, 4, options), 0);
  assert.equal(b.heap_attach(base), 0);
  return { memory, a, b, base, reports };
}

/** Blocks of `owner` filled with patterns; `intact()` says whether they still hold them. */
function filled(memory, owner, sizes) {
  const blocks = sizes.map((size, i) => {
    const p = owner.malloc(size);
    assert.ok(p > 0);
    new Uint8Array(memory.buffer, p, size).fill(i + 1);
    return { p, size, fill: i + 1 };
  });
  return { blocks, intact: () => blocks.every((x) => new Uint8Array(memory.buffer, x.p, x.size).every((v) => v === x.fill)) };
}

test("threads: set-up calls refuse what does not fit, and change nothing", () => {
  const { memory, a, b, base, reports } = twoThreads();
  for (const bad of [0, 2 ** 32 - 16, -16, NaN, 2 ** 32, base + 64.5, base + 65536]) {
    const other = new WebAssembly.Instance(MODULE, { env: { memory, wasm_malloc_report() {}, wasm_malloc_named() {} } }).exports;
    assert.equal(other.heap_attach(bad), -6, `heap_attach(${bad}) finds no heap there`);
    assert.equal(other.malloc(16), 0, "and the instance has none");
  }
  assert.equal(a.heap_init(base, 0), -1, "heap_init twice: HEAP_INIT_ALREADY");
  assert.equal(b.heap_init(base, 0), -1, "heap_init in an attached instance");
  assert.equal(b.heap_attach(base), -1, "heap_attach twice");
  assert.equal(a.heap_check(), 0);
  assert.deepEqual(reports, []);
});

test("threads: another heap's pointers that are not live blocks are reported, and nothing changes", () => {
  const t = twoThreads();
  const { memory, a, b, reports } = t;
  // Slab slots (48 B), boundary-tag blocks, and a block a frees onto its quick list.
  // (Each filled with a byte that makes every word of it read as an in-use header.)
  const { blocks, intact } = filled(memory, a, [48, 48, 300, 3000, 20000]);
  const held = a.malloc(300);
  a.free(held); // held on a's quick list: freed already
  const [slot, , , big] = blocks.map((x) => x.p);
  const cases = [
    ["free of a small block's middle (16-aligned)", () => b.free(slot + 16), INVALID_FREE, OP_FREE],
    ["free of a block's middle", () => b.free(big + 1024), INVALID_FREE, OP_FREE],
    ["free of a block held on its owner's quick list", () => b.free(held), DOUBLE_FREE, OP_FREE],
    ["realloc of a block's middle", () => assert.equal(b.realloc(big + 32, 10), 0), INVALID_FREE, OP_REALLOC],
    ["malloc_usable_size of a block's middle", () => assert.equal(b.malloc_usable_size(big + 48), 0), INVALID_FREE, OP_USABLE_SIZE],
    ["malloc_name of a held block", () => assert.equal(b.malloc_name(held, 0, 0), -1), DOUBLE_FREE, OP_NAME],
    ["free of a misaligned pointer", () => b.free(big + 3), INVALID_FREE, OP_FREE],
    ["free past the memory", () => b.free(2 ** 32 - 16), INVALID_FREE, OP_FREE],
    ["free of a pointer into heap 2's own state", () => a.free(heapState(t, 2) + 64), INVALID_FREE, OP_FREE],
  ];
  for (const [what, call, kind, op] of cases) {
    reports.length = 0;
    call();
    assert.equal(reports.length, 1, `${what}: one report (${JSON.stringify(reports)})`);
    assert.equal(reports[0].kind, kind, `${what}: kind (${JSON.stringify(reports)})`);
    assert.equal(reports[0].op, op, `${what}: op`);
    assert.ok(intact(), `${what}: every block keeps its contents`);
    assert.equal(a.heap_check(), 0, `${what}: heap check`);
  }
  for (const x of blocks) b.free(x.p); // every one freed from the other thread: taken back by a
  assert.equal(a.heap_check(), 0);
  assert.equal(a.heap_stat_all(2), 0, "no block live");
});

/** The per-heap part of heap `index`: the walk's state entry on a page that heap owns. */
function heapState(t, index) {
  const { b } = t;
  assert.equal(b.heap_index(), index);
  let cursor = b.walk_first() >>> 0;
  while (cursor < (b.walk_end() >>> 0)) {
    const next = b.walk_entry(cursor) >>> 0;
    if (b.walk_layer.value === 0 && b.walk_owner.value === index) return b.walk_address.value >>> 0;
    cursor = next;
  }
  throw new Error(`no state entry for heap ${index}`);
}

test("threads: double frees across threads, of slots and of blocks, are reported once each", () => {
  const { memory, a, b, reports } = twoThreads();
  const { blocks, intact } = filled(memory, a, [32, 200, 1000, 5000]);
  const spare = filled(memory, a, [32, 1000]);
  for (const x of blocks) b.free(x.p);        // claimed, pushed on a's inbox
  for (const x of blocks) b.free(x.p);        // the bit is clear: reported, nothing pushed
  assert.equal(reports.filter((r) => r.kind === DOUBLE_FREE && r.who === "b").length, blocks.length);
  assert.equal(a.heap_check(), 0);            // (it takes every inbox back first)
  reports.length = 0;
  for (const x of blocks) a.free(x.p);        // a's own double free, after b's
  assert.equal(reports.length, blocks.length);
  assert.ok(reports.every((r) => r.kind === DOUBLE_FREE || r.kind === INVALID_FREE));
  assert.ok(spare.intact(), "the other blocks keep their contents");
  void intact;
  assert.equal(a.heap_check(), 0);
});

test("threads: a realloc of another heap's block moves it; one that cannot leaves it whole", () => {
  const { memory, a, b, reports } = twoThreads();
  const { blocks, intact } = filled(memory, a, [100, 3000]);
  assert.equal(b.realloc(blocks[1].p, 2 ** 32 - 1), 0, "a size that cannot be had");
  assert.ok(intact(), "the old block is untouched");
  const moved = b.realloc(blocks[1].p, 4000);
  assert.ok(moved > 0);
  assert.ok(new Uint8Array(memory.buffer, moved, 3000).every((v) => v === blocks[1].fill), "contents moved");
  assert.equal(b.realloc(blocks[0].p, 0), 0, "realloc(p, 0) frees it");
  b.free(moved);
  assert.deepEqual(reports, []);
  assert.equal(a.heap_check(), 0);
  assert.equal(a.heap_stat_all(2), 0);
});

test("threads: after heap_detach the instance has no heap; its blocks stay valid and freeable", () => {
  const { memory, a, b, reports } = twoThreads();
  const { blocks, intact } = filled(memory, b, [64, 700, 9000]);
  assert.equal(b.heap_detach(), 0);
  assert.equal(b.malloc(16), 0, "a detached instance allocates nothing");
  b.free(blocks[0].p);
  assert.deepEqual(reports.map((r) => r.kind), [NOT_INITIALIZED, NOT_INITIALIZED]);
  assert.ok(intact(), "the detached heap's blocks keep their contents");
  for (const x of blocks) a.free(x.p);        // pushed on an abandoned heap: a takes it back itself
  assert.equal(a.heap_check(), 0);
  assert.equal(a.heap_stat_all(2), 0);
  assert.equal(b.heap_attach(a.__heap_base.value), 0, "attaching again takes the abandoned heap over");
  assert.equal(b.heap_index(), 2);
  assert.equal(a.heap_count(), 2);
  void CORRUPTION;
});

test("threads: another heap's slab slots: an interior pointer, a slot never handed out, a double free", () => {
  const { memory, a, b, reports } = twoThreads(2); // OPTION_EAGER_SLABS: 48 B from a slab span at once
  const { blocks, intact } = filled(memory, a, [48, 48, 48]);
  const slot = blocks[0].p;
  const cases = [
    ["inside a slot", () => b.free(slot + 16), INVALID_FREE, 3],
    ["a slot never handed out", () => b.free(blocks[2].p + 48 * 4), INVALID_FREE, 4],
    ["usable size inside a slot", () => assert.equal(b.malloc_usable_size(slot + 32), 0), INVALID_FREE, 3],
  ];
  for (const [what, call, kind, reason] of cases) {
    reports.length = 0;
    call();
    assert.deepEqual(reports.map((r) => [r.kind, r.reason]), [[kind, reason]], what);
    assert.ok(intact(), what);
  }
  reports.length = 0;
  b.free(slot);
  b.free(slot);
  assert.deepEqual(reports.map((r) => r.kind), [DOUBLE_FREE], "the second free of a claimed slot");
  assert.equal(a.heap_check(), 0);
});

test("threads: Heap.join refuses options that do not fit, naming them", async () => {
  const { Heap } = await import("../dist/index.js");
  const heap = await Heap.create({ shared: true });
  await assert.rejects(Heap.join(heap.memory, 42), TypeError, "options not an object");
  await assert.rejects(Heap.join(heap.memory, { onError: "log" }), TypeError, "onError not a function");
  await assert.rejects(Heap.join(heap.memory, { wasm: 42 }), /option wasm 42 is not a Wasm source/, "wasm of no usable kind");
  await assert.rejects(Heap.join(heap.memory, { wasm: new Uint8Array([0, 97, 115, 109]) }), Error, "bytes that are no module");
  await assert.rejects(Heap.join(new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true })), /no heap has been set up/);
  assert.equal(heap.check(), undefined);
});
