// Misuse of the host library from JS: every value JS hands the allocator is
// checked before the Wasm call (a wrong one throws, naming the method, the
// argument and the value, and the heap is unchanged), and a call whose Wasm
// call succeeded never throws its result away (a problem the module noticed
// and worked around goes to onError or heap.errors; see docs/errors.md).
import test from "node:test";
import assert from "node:assert/strict";
import { assemble } from "./host/wat.mjs";
import { Heap, WasmMallocError, linkAllocator, allocatorImports } from "../dist/index.js";

const U32_MAX = 2 ** 32 - 1;
const NOTICED = 0x100;

// ── Bad values ─────────────────────────────────────────────────────────────
// [value, error class, how the message shows it]
const NUMBERS = [
  [2 ** 32, RangeError, "4294967296"],
  [2 ** 32 + 64, RangeError, "4294967360"],
  [-1, RangeError, "-1"],
  [NaN, RangeError, "NaN"],
  [Infinity, RangeError, "Infinity"],
  [-Infinity, RangeError, "-Infinity"],
  [2.5, RangeError, "2.5"],
  ["8", TypeError, '"8"'],
  [null, TypeError, "null"],
  [undefined, TypeError, "undefined"],
  [8n, TypeError, "8n"],
  [{}, TypeError, "an object"],
];
// An optional argument (a view's length) may be left undefined.
const OPTIONAL_NUMBERS = NUMBERS.filter(([value]) => value !== undefined);
const STRINGS = [[5, TypeError, "5"], [null, TypeError, "null"], [undefined, TypeError, "undefined"], [8n, TypeError, "8n"]];

/** What must not change when a call is refused. */
function fingerprint(heap) {
  const s = heap.stats();
  return {
    live: s.live, inUse: s.inUse, mallocs: s.mallocs, frees: s.frees, callocs: s.callocs, reallocs: s.reallocs,
    aligned: s.aligned, failed: s.failed, errors: s.errors, memoryBytes: s.memoryBytes,
  };
}

/** A heap with two live blocks, one named, filled with a pattern that must survive. */
async function setUp(build) {
  const heap = await Heap.create({ build });
  const a = heap.malloc(100);
  const b = heap.calloc(4, 50);
  heap.name(a, "kept");
  heap.bytes(a).fill(0xa5);
  return { heap, a, b };
}

function assertUnchanged(heap, before, a) {
  assert.deepEqual(fingerprint(heap), before, "the heap is unchanged");
  assert.ok(heap.bytes(a).every((x) => x === 0xa5), "the live block's bytes are intact");
  assert.equal(heap.nameOf(a), "kept");
  heap.check();
}

// Every public method of Heap. Those that take a value from JS into the module
// are driven below with each bad value for each of their arguments; the
// others take no argument the module sees.
// [method, argument name, bad values, call(heap, blocks, value)]
const ENTRY_POINTS = [
  ["malloc", "size", NUMBERS, (h, _, v) => h.malloc(v)],
  ["allocate", "size", NUMBERS, (h, _, v) => h.allocate(v)],
  ["calloc", "count", NUMBERS, (h, _, v) => h.calloc(v, 16)],
  ["calloc", "size", NUMBERS, (h, _, v) => h.calloc(4, v)],
  ["realloc", "pointer", NUMBERS, (h, _, v) => h.realloc(v, 16)],
  ["realloc", "size", NUMBERS, (h, { a }, v) => h.realloc(a, v)],
  ["alignedAlloc", "alignment", NUMBERS, (h, _, v) => h.alignedAlloc(v, 16)],
  ["alignedAlloc", "size", NUMBERS, (h, _, v) => h.alignedAlloc(64, v)],
  ["free", "pointer", NUMBERS, (h, _, v) => h.free(v)],
  ["usableSize", "pointer", NUMBERS, (h, _, v) => h.usableSize(v)],
  ["bytes", "pointer", NUMBERS, (h, _, v) => h.bytes(v)],
  ["bytes", "length", OPTIONAL_NUMBERS, (h, { a }, v) => h.bytes(a, v)],
  ["view", "pointer", NUMBERS, (h, _, v) => h.view(v)],
  ["view", "length", OPTIONAL_NUMBERS, (h, { a }, v) => h.view(a, v)],
  ["readString", "pointer", NUMBERS, (h, _, v) => h.readString(v)],
  ["readString", "length", OPTIONAL_NUMBERS, (h, { a }, v) => h.readString(a, v)],
  ["name", "pointer", NUMBERS, (h, _, v) => h.name(v, "x")],
  ["name", "label", STRINGS, (h, { b }, v) => h.name(b, v)],
  ["nameOf", "pointer", NUMBERS, (h, _, v) => h.nameOf(v)],
  ["writeString", "text", STRINGS, (h, _, v) => h.writeString(v)],
];
const NO_MODULE_ARGUMENTS = [
  "stats", "check", "walk", "freeLists", "quickLists", "pageMap", "buddyinfo", "slabinfo", "snapshot", "runningPolicy", "close",
  "notice", "memory", "detach", // (detach's misuse: tests/threads-host.test.mjs)
];
const PRIVATE = [
  "constructor", "observe", "forget", "raise", "deliver", "remember", "allocated", "span", "guarded", "walkRaw",
  "outOfMemory", "walkError", "walkBound", "nameAt", "walkTop", "walkCorruption", "followList",
];

test("the list of entry points covers every method of Heap", () => {
  const listed = new Set([...ENTRY_POINTS.map(([method]) => method), ...NO_MODULE_ARGUMENTS, ...PRIVATE]);
  const methods = Object.getOwnPropertyNames(Heap.prototype);
  assert.deepEqual(methods.filter((m) => !listed.has(m)), [], "a method nobody checked");
  assert.deepEqual([...listed].filter((m) => !methods.includes(m)), [], "a listed method that is gone");
});

for (const build of ["release", "checked"]) {
  for (const [method, argument, values, call] of ENTRY_POINTS) {
    test(`${build}: ${method} refuses a bad ${argument} (${values.map(([, , shown]) => shown).join(", ")}) before calling the module`, async () => {
      const { heap, a, b } = await setUp(build);
      for (const [value, ErrorClass, shown] of values) {
        const before = fingerprint(heap);
        assert.throws(() => call(heap, { a, b }, value), (e) => {
          assert.ok(e instanceof ErrorClass, `${method}(${shown}): ${e.constructor.name} ${e.message}`);
          assert.ok(e.message.startsWith(`${method}: ${argument} ${shown} `), `names the method, argument and value: ${e.message}`);
          assert.match(e.message, /from 0 to 4294967295|not a string/, "says what is accepted");
          return true;
        });
        assertUnchanged(heap, before, a);
      }
    });
  }
}

test("-0 is taken as 0", async () => {
  const { heap, a } = await setUp("release");
  const p = heap.malloc(-0);
  assert.ok(p > 0 && p % 16 === 0);
  assert.equal(heap.calloc(-0, 8) > 0, true);
  heap.free(-0);
  assert.equal(heap.usableSize(-0), 0);
  assert.equal(heap.bytes(a, -0).length, 0);
  heap.check();
});

test("the largest sizes C accepts are not refused: they return 0 as C does, without a report", async () => {
  const { heap, a } = await setUp("release");
  const before = fingerprint(heap);
  assert.equal(heap.malloc(U32_MAX), 0);
  assert.equal(heap.calloc(U32_MAX, U32_MAX), 0);
  assert.equal(heap.alignedAlloc(U32_MAX, 16), 0, "not a power of two");
  assert.equal(heap.alignedAlloc(0, 16), 0);
  assert.equal(heap.realloc(a, U32_MAX), 0, "out of memory: the old block stays");
  const after = fingerprint(heap);
  assert.deepEqual([after.live, after.inUse, after.errors], [before.live, before.inUse, before.errors]);
  assert.equal(after.failed, before.failed + 5, "each counted as a failed allocation");
  assert.ok(heap.bytes(a).every((x) => x === 0xa5), "the old block keeps its bytes and requested size");
  assert.equal(heap.nameOf(a), "kept", "and its name");
  heap.check();
});

// ── The cases seen on main ─────────────────────────────────────────────────
test("malloc(2**32 + 64) and malloc(NaN) return no block (they used to wrap to 64 and 0)", async () => {
  const { heap, a } = await setUp("release");
  const before = fingerprint(heap);
  assert.throws(() => heap.malloc(2 ** 32 + 64), { name: "RangeError", message: "malloc: size 4294967360 is not a byte count from 0 to 4294967295" });
  assert.throws(() => heap.malloc(NaN), RangeError);
  assertUnchanged(heap, before, a);
});

test("calloc(2.9, 100) is refused; calloc records count * size, so bytes(p) never spans past the block", async () => {
  const { heap, a } = await setUp("release");
  assert.throws(() => heap.calloc(2.9, 100), { name: "RangeError", message: /^calloc: count 2\.9 is not a count from 0 to 4294967295/ });
  const p = heap.calloc(3, 100);
  assert.equal(heap.bytes(p).length, 300);
  assert.ok(heap.bytes(p).length <= heap.usableSize(p));
  heap.bytes(p).fill(0xff);
  heap.check();
  assert.ok(heap.bytes(a).every((x) => x === 0xa5));
});

test("realloc(p, 2**32) is refused and p stays live (it used to free p and return 0)", async () => {
  const { heap, a } = await setUp("release");
  const before = fingerprint(heap);
  assert.throws(() => heap.realloc(a, 2 ** 32), { name: "RangeError", message: /^realloc: size 4294967296 is not a byte count/ });
  assertUnchanged(heap, before, a);
  assert.equal(heap.usableSize(a) >= 100, true);
  heap.free(a);
  heap.check();
});

test("a realloc that fails for lack of memory keeps the old block's name and requested size", async () => {
  const heap = await Heap.create({ maxMemory: 4 << 20 });
  const p = heap.malloc(100);
  heap.name(p, "kept");
  assert.equal(heap.realloc(p, 8 << 20), 0);
  assert.equal(heap.nameOf(p), "kept");
  assert.equal(heap.bytes(p).length, 100);
  const q = heap.realloc(p, 5000);
  assert.equal(heap.nameOf(q), "kept", "the name follows a move");
  assert.equal(heap.bytes(q).length, 5000);
});

// ── Views: never past the block ────────────────────────────────────────────
for (const build of ["release", "checked"]) {
  test(`${build}: bytes, view and readString refuse a length past the block's usable size, and a null pointer`, async () => {
    const { heap, a } = await setUp(build);
    const usable = heap.usableSize(a);
    assert.equal(heap.bytes(a, usable).length, usable, "the whole usable size is allowed");
    const before = fingerprint(heap);
    for (const [method, call] of [["bytes", (n) => heap.bytes(a, n)], ["view", (n) => heap.view(a, n)], ["readString", (n) => heap.readString(a, n)]]) {
      assert.throws(() => call(usable + 1), (e) => e instanceof RangeError &&
        e.message.startsWith(`${method}: length ${usable + 1} runs past the block at 0x${a.toString(16)} ("kept"), whose usable size is ${usable} bytes`));
      assert.throws(() => call(heap.memory.buffer.byteLength), RangeError);
    }
    for (const method of ["bytes", "view", "readString"]) {
      assert.throws(() => heap[method](0), { name: "RangeError", message: new RegExp(`^${method}: pointer 0 is null`) });
    }
    assertUnchanged(heap, before, a);
    assert.equal(heap.view(a).byteLength, 100, "the default is the requested size");
  });
}

// ── Pointers the module refuses (its job; they already throw) ──────────────
for (const build of ["release", "checked"]) {
  for (const [what, pointer] of [["inside a block", (a) => a + 16], ["misaligned", (a) => a + 4]]) {
    test(`${build}: a pointer ${what} is refused by every entry point that takes one, and the heap check passes`, async () => {
      const { heap, a } = await setUp(build);
      const p = pointer(a);
      const calls = {
        free: () => heap.free(p), realloc: () => heap.realloc(p, 10), usableSize: () => heap.usableSize(p),
        bytes: () => heap.bytes(p), view: () => heap.view(p, 4), readString: () => heap.readString(p), name: () => heap.name(p, "x"),
      };
      for (const [method, call] of Object.entries(calls)) {
        const before = fingerprint(heap);
        assert.throws(call, (e) => e instanceof WasmMallocError && e.kind === "invalid-free" && e.address === p && !e.noticed, method);
        const after = fingerprint(heap);
        assert.deepEqual({ live: after.live, inUse: after.inUse }, { live: before.live, inUse: before.inUse }, method);
        heap.check();
      }
      assert.ok(heap.bytes(a).every((x) => x === 0xa5));
    });
  }
}

// ── Heap.create's options ──────────────────────────────────────────────────
// [option, bad values as [value, class, shown], extra options]
const BYTES_OR_NO_LIMIT = [[-1, RangeError, "-1"], [NaN, RangeError, "NaN"], [Infinity, RangeError, "Infinity"], [2.5, RangeError, "2.5"],
  [2 ** 32 + 65536, RangeError, "4295032832"], ["8MB", TypeError, '"8MB"'], [null, TypeError, "null"], [8n, TypeError, "8n"]];
const CREATE_OPTIONS = [
  ["maxMemory", BYTES_OR_NO_LIMIT, {}],
  ["quarantine", [[-1, RangeError, "-1"], [2 ** 32, RangeError, "4294967296"], [NaN, RangeError, "NaN"], [0.5, RangeError, "0.5"],
    ["1", TypeError, '"1"'], [null, TypeError, "null"], [1n, TypeError, "1n"]], { build: "checked" }],
  ["policy", [[3, TypeError, "3"], [null, TypeError, "null"]], {}],
  ["engine", [[1, TypeError, "1"], [null, TypeError, "null"], ["turbo", RangeError, '"turbo"']], {}],
  ["build", [[5, TypeError, "5"], [null, TypeError, "null"], ["fast", RangeError, '"fast"']], {}],
  ["slabs", [["yes", RangeError, '"yes"'], [1, TypeError, "1"], [null, TypeError, "null"]], {}],
  ["trace", [[5, TypeError, "5"], [null, TypeError, "null"]], {}],
  ["wasm", [[5, TypeError, "5"], [null, TypeError, "null"], [{}, TypeError, "an object"]], {}],
  ["onError", [["log", TypeError, '"log"'], [null, TypeError, "null"], [1, TypeError, "1"]], {}],
];

for (const [option, values, extra] of CREATE_OPTIONS) {
  test(`Heap.create refuses a bad ${option} (${values.map(([, , shown]) => shown).join(", ")}), naming it`, async () => {
    for (const [value, ErrorClass, shown] of values) {
      await assert.rejects(Heap.create({ ...extra, [option]: value }), (e) => {
        assert.ok(e instanceof ErrorClass, `${option}: ${shown}: ${e.constructor.name} ${e.message}`);
        assert.ok(e.message.startsWith(`Heap.create: option ${option} ${shown} `), e.message);
        return true;
      });
    }
  });
}

test("Heap.create refuses options that are not an object, an empty trace file name, and a quarantine outside the checked build", async () => {
  for (const [options, shown] of [[null, "null"], [5, "5"], ["checked", '"checked"']]) {
    await assert.rejects(Heap.create(options), { name: "TypeError", message: `Heap.create: options ${shown} is not an object; pass { ... } or nothing` });
  }
  await assert.rejects(Heap.create({ build: "traced", trace: "" }), { name: "RangeError", message: /^Heap.create: option trace is the empty string/ });
  await assert.rejects(Heap.create({ quarantine: 4096 }), { name: "RangeError", message: /^Heap.create: option quarantine 4096: the quarantine exists only in the "checked" build/ });
});

test("Heap.create accepts maxMemory 0 and -0 (no limit), 2**32, and a quarantine of 0", async () => {
  for (const maxMemory of [0, -0, 2 ** 32, 1 << 20]) {
    const heap = await Heap.create({ maxMemory });
    assert.notEqual(heap.malloc(100), 0);
    assert.equal(Object.is(heap.maxMemory, -0), false);
  }
  const small = await Heap.create({ maxMemory: 1 << 20 });
  assert.equal(small.malloc(2 << 20), 0, "the cap holds");
  const heap = await Heap.create({ build: "checked", quarantine: 0, onError: () => {} });
  const p = heap.malloc(10);
  heap.free(p);
  assert.equal(heap.stats().quarantined, 0);
});

// ── Reports: rejected (thrown) or noticed (delivered) ──────────────────────

// A stand-in allocator module: the exports Heap and linkAllocator use, and a
// malloc that reports through env.wasm_malloc_report exactly as the real
// module does, with a kind and op the test sets (up to two reports per call),
// then goes on: it writes 0x600d at the block and returns it. The marker
// shows whether the module's call ran to its end.
const BLOCK = 4096;
const FAKE_ALLOCATOR = (memory) => assemble(`(module
  (import "env" "wasm_malloc_report" (func $report (param i32 i32 i32 i32 i32 i32)))
  ${memory}
  (global $kind1 (mut i32) (i32.const 0)) (global $op1 (mut i32) (i32.const 0))
  (global $kind2 (mut i32) (i32.const 0)) (global $op2 (mut i32) (i32.const 0))
  (global (export "ERR_DOUBLE_FREE") i32 (i32.const 1))
  (global (export "ERR_USE_AFTER_FREE") i32 (i32.const 5))
  (global (export "ERR_CORRUPTION") i32 (i32.const 7))
  (global (export "OP_FREE") i32 (i32.const 1))
  (global (export "OP_MALLOC") i32 (i32.const 5))
  (global (export "POLICY_FIRST") i32 (i32.const 0)) (global (export "POLICY_NEXT") i32 (i32.const 1))
  (global (export "POLICY_BEST") i32 (i32.const 2)) (global (export "POLICY_WORST") i32 (i32.const 3))
  (global (export "POLICY_SEGREGATED") i32 (i32.const 4))
  (global (export "OPTION_NO_SLABS") i32 (i32.const 1)) (global (export "OPTION_EAGER_SLABS") i32 (i32.const 2))
  (func (export "set_reports") (param i32 i32 i32 i32)
    (global.set $kind1 (local.get 0)) (global.set $op1 (local.get 1)) (global.set $kind2 (local.get 2)) (global.set $op2 (local.get 3)))
  (func (export "malloc") (param $size i32) (result i32)
    (i32.store (i32.const ${BLOCK}) (i32.const 0))
    (if (global.get $op1) (then (call $report (global.get $kind1) (i32.const 0) (global.get $op1) (i32.const ${BLOCK}) (i32.const ${BLOCK - 16}) (local.get $size))))
    (if (global.get $op2) (then (call $report (global.get $kind2) (i32.const 0) (global.get $op2) (i32.const ${BLOCK}) (i32.const ${BLOCK - 16}) (local.get $size))))
    (i32.store (i32.const ${BLOCK}) (i32.const 0x600d))
    (i32.const ${BLOCK}))
  (func (export "free") (param i32))
  (func (export "calloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "realloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "aligned_alloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "posix_memalign") (param i32 i32 i32) (result i32) (i32.const 12))
  (func (export "malloc_usable_size") (param i32) (result i32) (i32.const 64))
  (func (export "malloc_name") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "heap_check") (result i32) (i32.const 0))
  (func (export "heap_stat") (param i32) (result f64) (f64.const 0))
  (func (export "heap_configure") (param i32 i32 f64) (result i32) (i32.const 0))
  (func (export "heap_init_with") (param i32 i32 i32 i32) (result i32) (i32.const 0)))`);
const standalone = () => FAKE_ALLOCATOR(`(memory (export "memory") 1)`);
const marker = (memory) => new DataView(memory.buffer).getUint32(BLOCK, true);

test("allocatorImports splits the op argument: bit 0x100 is 'noticed', the low 8 bits the OP_* code", () => {
  const reports = [];
  const env = allocatorImports({ onReport: (r) => reports.push(r) });
  env.wasm_malloc_report(7, 0, 5 | NOTICED, 0x1000, 0xff0, 32);
  env.wasm_malloc_report(1, 0, 1, -16, 0, 0);
  assert.deepEqual(reports, [
    { kind: 7, reason: 0, op: 5, ptr: 0x1000, block: 0xff0, size: 32, noticed: true },
    { kind: 1, reason: 0, op: 1, ptr: 2 ** 32 - 16, block: 0, size: 0, noticed: false },
  ]);
});

test("a noticed report does not throw: malloc returns its block and onError gets the error", async () => {
  const seen = [];
  const heap = await Heap.create({ wasm: standalone(), onError: (e) => seen.push(e) });
  heap.exports.set_reports(5, 5 | NOTICED, 0, 0);
  const p = heap.malloc(24);
  assert.equal(p, BLOCK, "the result is returned");
  assert.equal(marker(heap.memory), 0x600d, "the module's call ran to its end");
  assert.equal(heap.bytes(p).length, 24, "and it is remembered like any block");
  assert.equal(seen.length, 1);
  const [error] = seen;
  assert.ok(error instanceof WasmMallocError);
  assert.equal(error.kind, "use-after-free");
  assert.equal(error.noticed, true);
  assert.equal(error.operation, "malloc");
  assert.equal(error.address, BLOCK);
  assert.equal(error.block, BLOCK - 16);
  assert.match(error.message, /^use-after-free in malloc\(0x1000\) \(block 0xff0, 24 bytes\); malloc went on and its result is valid; something wrote/);
  assert.deepEqual(heap.errors, [], "delivered to onError only");
});

test("without onError, noticed errors go to heap.errors (the last 100) and one console.warn", async (t) => {
  const warn = t.mock.method(console, "warn", () => {});
  const heap = await Heap.create({ wasm: standalone() });
  heap.exports.set_reports(7, 5 | NOTICED, 0, 0);
  for (let i = 0; i < 150; i++) assert.equal(heap.malloc(i), BLOCK);
  assert.equal(heap.errors.length, 100);
  assert.equal(heap.errors[0].size, 50, "the oldest went first");
  assert.equal(heap.errors[99].size, 149);
  assert.ok(heap.errors.every((e) => e.kind === "corruption" && e.noticed));
  assert.equal(warn.mock.callCount(), 1);
  assert.match(warn.mock.calls[0].arguments[0], /^wasm-malloc: corruption in malloc\(0x1000\).*heap\.errors/);
});

test("a report without the bit still throws: the call was rejected", async () => {
  const seen = [];
  const heap = await Heap.create({ wasm: standalone(), onError: (e) => seen.push(e) });
  heap.exports.set_reports(1, 5, 0, 0);
  assert.throws(() => heap.malloc(24), (e) => e instanceof WasmMallocError && e.kind === "double-free" && !e.noticed &&
    !/went on/.test(e.message));
  assert.deepEqual(seen, []);
  assert.equal(heap.nameOf(BLOCK), undefined);
});

test("a call with noticed and rejecting reports delivers the noticed ones, then throws the first rejection", async () => {
  for (const order of [[5 | NOTICED, 5], [5, 5 | NOTICED]]) {
    const seen = [];
    const heap = await Heap.create({ wasm: standalone(), onError: (e) => seen.push(e) });
    const [op1, op2] = order;
    heap.exports.set_reports(op1 & NOTICED ? 7 : 1, op1, op2 & NOTICED ? 7 : 1, op2);
    assert.throws(() => heap.malloc(24), (e) => e.kind === "double-free" && !e.noticed);
    assert.deepEqual(seen.map((e) => [e.kind, e.noticed]), [["corruption", true]]);
  }
});

test("an onError that throws propagates, after the call's effect was recorded", async () => {
  const heap = await Heap.create({ wasm: standalone(), onError: () => { throw new Error("stop"); } });
  heap.exports.set_reports(5, 5 | NOTICED, 0, 0);
  assert.throws(() => heap.malloc(24), /^Error: stop$/);
  assert.equal(heap.bytes(BLOCK).length, 24, "the block's requested size was kept");
});

test("Heap.attach wires env.wasm_malloc_report through heap.hooks.onReport", async () => {
  let heap;
  const { instance } = await WebAssembly.instantiate(standalone(), { env: allocatorImports({ onReport: (r) => heap.hooks.onReport(r) }) });
  const seen = [];
  heap = Heap.attach(instance.exports, { policy: "segregated", build: "release", onError: (e) => seen.push(e.kind) });
  instance.exports.set_reports(5, 5 | NOTICED, 0, 0);
  assert.equal(heap.malloc(10), BLOCK);
  assert.deepEqual(seen, ["use-after-free"]);
});

// ── linkAllocator ──────────────────────────────────────────────────────────
const CLIENT = assemble(`(module
  (import "env" "memory" (memory 2))
  (import "env" "malloc" (func $malloc (param i32) (result i32)))
  (global $heap_base i32 (i32.const 70000))
  (export "__heap_base" (global $heap_base))
  (func (export "alloc") (param i32) (result i32) (call $malloc (local.get 0))))`);
const linkedFake = () => FAKE_ALLOCATOR(`(import "env" "memory" (memory 1))`);

test("linkAllocator: a noticed report does not unwind the client's call; a rejecting one still does", async () => {
  const seen = [];
  const linked = await linkAllocator(CLIENT, { allocator: linkedFake(), policy: "segregated", onError: (e) => seen.push(e) });
  linked.allocator.set_reports(5, 5 | NOTICED, 0, 0);
  assert.equal(linked.exports.alloc(24), BLOCK);
  assert.equal(marker(linked.memory), 0x600d, "the allocator's call ran to its end");
  assert.deepEqual(seen.map((e) => [e.kind, e.noticed]), [["use-after-free", true]]);
  linked.allocator.set_reports(1, 5, 0, 0);
  assert.throws(() => linked.exports.alloc(24), (e) => e instanceof WasmMallocError && e.kind === "double-free");
  assert.equal(marker(linked.memory), 0, "a throw unwinds the allocator mid-call: why noticed reports must not throw");
  const quiet = await linkAllocator(CLIENT, { allocator: linkedFake(), policy: "segregated" });
  const warn = test.mock.method(console, "warn", () => {});
  try {
    quiet.allocator.set_reports(7, 5 | NOTICED, 0, 0);
    assert.equal(quiet.exports.alloc(24), BLOCK);
    assert.deepEqual(quiet.heap.errors.map((e) => e.kind), ["corruption"]);
    assert.equal(warn.mock.callCount(), 1);
  } finally {
    warn.mock.restore();
  }
});

const LINK_OPTIONS = [
  ["maxMemory", BYTES_OR_NO_LIMIT],
  ["heapBase", [[-1, RangeError, "-1"], [2 ** 32, RangeError, "4294967296"], [2.5, RangeError, "2.5"], [NaN, RangeError, "NaN"],
    ["8", TypeError, '"8"'], [null, TypeError, "null"], [8n, TypeError, "8n"]]],
  ["policy", [[3, TypeError, "3"], [null, TypeError, "null"]]],
  ["slabs", [["eager", TypeError, '"eager"'], [1, TypeError, "1"], [null, TypeError, "null"]]],
  ["trace", [[5, TypeError, "5"], [null, TypeError, "null"]]],
  ["imports", [[5, TypeError, "5"], [null, TypeError, "null"]]],
  ["wasi", [[5, TypeError, "5"], [null, TypeError, "null"]]],
  ["allocator", [[5, TypeError, "5"], [null, TypeError, "null"]]],
  ["onMisuse", [["throw", TypeError, '"throw"'], [null, TypeError, "null"]]],
  ["onError", [[1, TypeError, "1"], [null, TypeError, "null"]]],
  ["instantiate", [[{}, TypeError, "an object"], [null, TypeError, "null"]]],
];

for (const [option, values] of LINK_OPTIONS) {
  test(`linkAllocator refuses a bad ${option} (${values.map(([, , shown]) => shown).join(", ")}), naming it`, async () => {
    for (const [value, ErrorClass, shown] of values) {
      await assert.rejects(linkAllocator(CLIENT, { [option]: value }), (e) => {
        assert.ok(e instanceof ErrorClass, `${option}: ${shown}: ${e.constructor.name} ${e.message}`);
        assert.ok(e.message.startsWith(`linkAllocator: option ${option} ${shown} `), e.message);
        return true;
      });
    }
  });
}

test("linkAllocator refuses a client or options of the wrong type, a wasi without start(), and an empty trace name", async () => {
  for (const [client, shown] of [[5, "5"], [null, "null"], [{}, "an object"]]) {
    await assert.rejects(linkAllocator(client), { name: "TypeError", message: new RegExp(`^linkAllocator: client ${shown} is not a Wasm source`) });
  }
  await assert.rejects(linkAllocator(CLIENT, null), { name: "TypeError", message: /^linkAllocator: options null is not an object/ });
  await assert.rejects(linkAllocator(CLIENT, { wasi: {} }), { name: "TypeError", message: /^linkAllocator: option wasi has no start\(\)/ });
  await assert.rejects(linkAllocator(CLIENT, { trace: "" }), { name: "RangeError", message: /^linkAllocator: option trace is the empty string/ });
});

test("the linked heap checks its arguments like any Heap", async () => {
  const linked = await linkAllocator(CLIENT, { maxMemory: 2 ** 32, heapBase: 70000 });
  const p = linked.exports.alloc(40);
  const before = fingerprint(linked.heap);
  assert.throws(() => linked.heap.malloc(2 ** 32 + 64), { name: "RangeError", message: /^malloc: size 4294967360/ });
  assert.throws(() => linked.heap.free(-0.5), { name: "RangeError", message: /^free: pointer -0.5/ });
  assert.throws(() => linked.heap.bytes(p, 1000), { name: "RangeError", message: /^bytes: length 1000 runs past the block/ });
  assert.deepEqual(fingerprint(linked.heap), before);
  linked.heap.check();
});
