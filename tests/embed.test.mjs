// linkAllocator: the host links wasm-malloc's embed build with a client module
// over one memory. Clients here are written in WAT (binaryen assembles them),
// so these tests need no C or AssemblyScript toolchain.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { assemble } from "./host/wat.mjs";
import { linkAllocator, moduleInfo, linkableName, parseTrace, WasmMallocError } from "../dist/index.js";
import { LAYOUT, constant } from "../dist/layout.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-embed-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true })); // symlinks are removed, never followed


// A client as clang would make one: imported memory, __heap_base exported, static data below it.
const CLIENT = (heapBase = 70000, memory = "(memory 2)") => assemble(`(module
  (import "env" "memory" ${memory})
  (import "env" "malloc" (func $malloc (param i32) (result i32)))
  (import "env" "wasm_free" (func $free (param i32)))
  (import "env" "wasm_realloc" (func $realloc (param i32 i32) (result i32)))
  (import "env" "wasm_heap_check" (func $check (result i32)))
  (import "env" "host_value" (func $host (result i32)))
  (global $heap_base i32 (i32.const ${heapBase}))
  (export "__heap_base" (global $heap_base))
  (data (i32.const 1024) "static data of the client")
  (func (export "alloc") (param i32) (result i32) (call $malloc (local.get 0)))
  (func (export "release") (param i32) (call $free (local.get 0)))
  (func (export "resize") (param i32 i32) (result i32) (call $realloc (local.get 0) (local.get 1)))
  (func (export "check") (result i32) (call $check))
  (func (export "host") (result i32) (call $host)))`);

const HOST = { env: { host_value: () => 42 } };
const link = (bytes, options = {}) => linkAllocator(bytes, { imports: HOST, ...options });

const staticText = (memory) => new TextDecoder().decode(new Uint8Array(memory.buffer, 1024, 25));

test("moduleInfo reads a client's memory import and __heap_base from its binary", () => {
  const info = moduleInfo(CLIENT(70000, "(memory 3 300)"));
  assert.deepEqual(info.memoryImport, { module: "env", name: "memory", initial: 3, maximum: 300, shared: false });
  assert.equal(info.heapBase, 70000);
  assert.equal(info.definesMemory, false);
  const own = moduleInfo(assemble(`(module (memory 1) (global $g i32 (i32.const 5)) (export "__heap_base" (global $g)))`));
  assert.equal(own.memoryImport, undefined);
  assert.equal(own.definesMemory, true);
  assert.equal(own.heapBase, 5);
  assert.equal(moduleInfo(assemble(`(module (import "env" "memory" (memory 1)))`)).heapBase, undefined);
  assert.throws(() => moduleInfo(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /not a WebAssembly binary/);
});

test("linkableName routes both malloc and wasm_malloc spellings, and nothing else", () => {
  assert.equal(linkableName("malloc"), "malloc");
  assert.equal(linkableName("wasm_malloc"), "malloc");
  assert.equal(linkableName("wasm_malloc_usable_size"), "malloc_usable_size");
  assert.equal(linkableName("wasm_heap_check"), "heap_check");
  assert.equal(linkableName("wasm_malloc_report"), undefined, "the allocator's own imports are not a client's");
  assert.equal(linkableName("printf"), undefined);
});

test("the client's malloc-family imports reach the allocator; its heap starts at __heap_base; the memory below is never written", async () => {
  const linked = await linkAllocator(CLIENT(), { imports: { env: { host_value: () => 42 } } });
  const { client, heap, memory } = linked;
  assert.equal(linked.heapBase, 70000);
  assert.deepEqual(linked.routed, { malloc: "malloc", wasm_free: "free", wasm_realloc: "realloc", wasm_heap_check: "heap_check" });
  assert.equal(client.exports.host(), 42, "the client's own imports are passed through");
  assert.equal(staticText(memory), "static data of the client");
  // Everything between the static data and __heap_base is the client's: paint it, allocate a lot, look again.
  new Uint8Array(memory.buffer, 2048, 70000 - 2048).fill(0xab);
  const pointers = [];
  for (let i = 0; i < 3000; i++) pointers.push(client.exports.alloc(1 + (i * 37) % 5000) >>> 0);
  for (let i = 0; i < pointers.length; i += 2) client.exports.release(pointers[i]);
  const big = client.exports.resize(pointers[1], 1 << 20) >>> 0;
  assert.notEqual(big, 0);
  assert.ok(memory.buffer.byteLength > 2 << 16, "the memory grew");
  assert.ok(pointers.every((p) => p >= 70000 && p % 16 === 0), "every pointer above __heap_base, 16-aligned");
  assert.ok(new Uint8Array(memory.buffer, 2048, 70000 - 2048).every((b) => b === 0xab), "nothing below __heap_base changed");
  assert.equal(staticText(memory), "static data of the client");
  assert.equal(client.exports.check(), 0, "the heap check, called from the client");
  heap.check();
  const stats = heap.stats();
  assert.equal(stats.heapBase, 70000, "stats count from the client's __heap_base");
  assert.equal(stats.live, 1500);
  assert.equal(heap.walk().filter((b) => b.state === "in-use").length, 1500);
  assert.equal(heap.walk()[0].address, 70000, "the heap state sits at __heap_base");
  // The JS side uses the same heap: a block from JS, freed by the client.
  const fromJs = heap.malloc(200);
  client.exports.release(fromJs);
  assert.equal(heap.stats().live, 1500);
});

test("a start function that allocates runs after the heap is set up", async () => {
  const bytes = assemble(`(module
    (import "env" "memory" (memory 1))
    (import "env" "malloc" (func $malloc (param i32) (result i32)))
    (global $first (mut i32) (i32.const 0))
    (global $heap_base i32 (i32.const 4096))
    (export "__heap_base" (global $heap_base))
    (export "first" (global $first))
    (func $init (global.set $first (call $malloc (i32.const 100))))
    (start $init))`);
  const { client, heap } = await linkAllocator(bytes);
  const first = client.exports.first.value >>> 0;
  assert.ok(first >= 4096 && first % 16 === 0, `malloc in the start function gave ${first}`);
  assert.equal(heap.walk().find((b) => b.pointer === first)?.state, "in-use");
});

test("misuse by the client throws a WasmMallocError out of the client's call; onMisuse may take it instead", async () => {
  const linked = await link(CLIENT());
  const p = linked.client.exports.alloc(64);
  linked.heap.name(p, "request");
  linked.client.exports.release(p);
  assert.throws(() => linked.client.exports.release(p), (error) => {
    assert.ok(error instanceof WasmMallocError);
    assert.equal(error.kind, "double-free");
    assert.match(error.message, /^double-free in free\(0x[0-9a-f]+\)/);
    return true;
  });
  assert.throws(() => linked.client.exports.release(p + 8), { kind: "invalid-free" });
  assert.throws(() => linked.heap.free(p), { name: "WasmMallocError", kind: "double-free" }, "from JS too");
  linked.heap.check();
  const seen = [];
  const tolerant = await link(CLIENT(), { onMisuse: (error) => seen.push(error.kind) });
  const q = tolerant.client.exports.alloc(64);
  tolerant.client.exports.release(q);
  tolerant.client.exports.release(q);
  assert.equal(tolerant.client.exports.resize(q, 100), 0, "realloc of a freed block returns 0");
  assert.deepEqual(seen, ["double-free", "double-free"]);
  assert.equal(tolerant.heap.stats().errors, 2);
});

test("maxMemory caps the shared memory: past it the client's malloc returns 0 and the heap stays usable", async () => {
  const { client, heap, memory } = await link(CLIENT(), { maxMemory: 1 << 20 });
  assert.equal(client.exports.alloc(2 << 20), 0);
  const kept = [];
  for (let p; (p = client.exports.alloc(50000)) !== 0;) kept.push(p);
  assert.ok(kept.length >= 10 && kept.length < 21, `${kept.length} blocks of 50,000 bytes in 1 MiB`);
  assert.ok(memory.buffer.byteLength <= 1 << 20);
  assert.ok(heap.stats().failed >= 2);
  client.exports.release(kept.pop());
  assert.notEqual(client.exports.alloc(50000), 0, "after a free the same request succeeds");
  heap.check();
  await assert.rejects(link(CLIENT(70000, "(memory 4)"), { maxMemory: 2 << 16 }), /below the 262144 bytes the client starts with/);
});

test("policy and slabs options reach the linked heap", async () => {
  const layers = (linked) => {
    const pointers = new Set(Array.from({ length: 600 }, () => linked.client.exports.alloc(24)));
    return new Set(linked.heap.walk().filter((b) => pointers.has(b.pointer)).map((b) => b.layer));
  };
  const noSlabs = await link(CLIENT(), { policy: "first", slabs: false });
  assert.equal(noSlabs.heap.runningPolicy(), "first");
  assert.deepEqual([...layers(noSlabs)], ["medium"], "no slabs: small sizes go to the policy");
  const slabs = await link(CLIENT());
  assert.equal(slabs.heap.runningPolicy(), "segregated");
  assert.ok(layers(slabs).has("slab"), "with slabs, small sizes use them");
  await assert.rejects(link(CLIENT(), { policy: "fastest" }), /choose one of first, next, best, worst, segregated/);
});

test("a client given as a compiled Module links with heapBase given (its __heap_base is read after instantiation otherwise)", async () => {
  const module = await WebAssembly.compile(CLIENT(80000, "(memory 3)"));
  const given = await link(module, { heapBase: 90000 });
  assert.equal(given.heapBase, 90000);
  assert.ok(given.client.exports.alloc(10) >= 90000);
  const read = await link(module);
  assert.ok(read.memory.buffer.byteLength >= 3 << 16, "the memory grew until the client linked");
  assert.equal(read.heapBase, 80000);
  assert.ok(read.client.exports.alloc(10) >= 80000);
});

test("a client that does not import its memory, or exports no __heap_base, is refused with the flag to use", async () => {
  await assert.rejects(linkAllocator(assemble(`(module (memory 1) (global $g i32 (i32.const 5)) (export "__heap_base" (global $g)))`)),
    /defines its own memory; link it with an imported env.memory \(clang: -Wl,--import-memory; asc: --importMemory\)/);
  await assert.rejects(linkAllocator(assemble(`(module (import "env" "memory" (memory 1)))`)), /exports no constant __heap_base; build it with -Wl,--export=__heap_base/);
});

test("trace logs the client's operations to a .rep file", async () => {
  const file = path.join(tmp, "client.rep");
  const { client, heap } = await link(CLIENT(), { trace: file });
  const a = client.exports.alloc(100);
  const b = client.exports.alloc(5000);
  const c = client.exports.resize(a, 300);
  client.exports.release(b);
  client.exports.release(c);
  heap.close();
  const trace = parseTrace(fs.readFileSync(file, "utf8"), file);
  assert.deepEqual(trace.ops.map((op) => op.kind), ["a", "a", "r", "f", "f"]);
  assert.equal(heap.build, "embed-traced");
});

// ── heap_init checks what it is given ───────────────────────────────────────
// Straight through the embed build's exports, over a memory of our own.

const embedModule = new WebAssembly.Module(fs.readFileSync(new URL("../build/embed.wasm", import.meta.url)));

/** An embed instance over `memory`; its misuse reports are collected in `reports`. */
function embedInstance(memory) {
  const reports = [];
  const env = { memory, wasm_malloc_report: (...report) => reports.push(report), wasm_malloc_op() {}, wasm_malloc_named() {} };
  const e = new WebAssembly.Instance(embedModule, { env }).exports;
  return { e, reports, code: (name) => constant(`HEAP_INIT_${name}`) };
}
const bytesOf = (memory) => new Uint8Array(memory.buffer).slice();

test("heap_init refuses what cannot work with a distinct code, changing nothing, and the instance can still be set up", () => {
  const cases = [
    ["a base past 4 GiB - 64 KiB", 0xFFFF0000, 0, "NO_ROOM"],
    ["a base that would wrap when aligned", 0xFFFFFFF8, 0, "NO_ROOM"],
    ["a limit below the first page's worth of state", 70000, 72000, "NO_ROOM"],
    ["limit == base", 70000, 70000, "BAD_RANGE"],
    ["limit < base", 70000, 1000, "BAD_RANGE"],
  ];
  for (const [what, base, limit, expected] of cases) {
    const memory = new WebAssembly.Memory({ initial: 2 });
    new Uint8Array(memory.buffer).fill(0xab);
    const before = bytesOf(memory);
    const { e, code, reports } = embedInstance(memory);
    assert.equal(e.heap_init(base, limit), code(expected), what);
    assert.equal(e.heap_start(), 0, `${what}: no heap`);
    assert.equal(memory.buffer.byteLength, 2 << 16, `${what}: the memory did not grow`);
    assert.ok(Buffer.compare(bytesOf(memory), before) === 0, `${what}: nothing written`);
    assert.equal(e.heap_init(70000, 0), code("OK"), `${what}: usable afterwards`);
    const p = e.malloc(100) >>> 0;
    assert.ok(p >= 70000 && p % 16 === 0, `${what}: malloc after it gave ${p}`);
    assert.equal(e.heap_check(), 0);
    assert.equal(e.heap_init(70000, 0), code("ALREADY"), "a second heap_init on the same instance");
    assert.deepEqual(reports, []);
  }
  const { e, code } = embedInstance(new WebAssembly.Memory({ initial: 2 }));
  assert.equal(e.heap_init_with(70000, 0, 99, 0), code("BAD_POLICY"));
  assert.equal(e.heap_start(), 0);
});

test("heap_init fails (no trap) when the memory's maximum cannot hold the first page", () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const { e, code } = embedInstance(memory);
  assert.equal(e.heap_init(63000, 0), code("NO_ROOM"));
  assert.equal(e.heap_start(), 0);
  assert.equal(e.heap_init(1024, 0), code("OK"), "a base with room works");
  assert.notEqual(e.malloc(1000), 0);
});

test("heap_init(0, 0) sets a working heap up at 16, never touching address 0", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  new Uint8Array(memory.buffer, 0, 16).fill(0x5a);
  const { e, code, reports } = embedInstance(memory);
  assert.equal(e.heap_init(0, 0), code("OK"));
  assert.equal(e.heap_start(), 16);
  const pointers = Array.from({ length: 100 }, (_, i) => e.malloc(1 + i * 50) >>> 0);
  assert.ok(pointers.every((p) => p > 16 && p % 16 === 0), "every malloc succeeds");
  assert.ok(new Uint8Array(memory.buffer, 0, 16).every((b) => b === 0x5a), "bytes below the heap untouched");
  assert.equal(e.heap_check(), 0);
  assert.deepEqual(reports, []);
});

test("a second allocator instance set up at the base of another's heap gets HEAP_INIT_IN_USE; disjoint ranges share one memory", () => {
  const memory = new WebAssembly.Memory({ initial: 16 });
  const first = embedInstance(memory);
  const second = embedInstance(memory);
  assert.equal(first.e.heap_init(70000, 0), first.code("OK"));
  const p = first.e.malloc(100) >>> 0;
  const before = bytesOf(memory);
  for (const base of [70000, 69990]) {
    assert.equal(second.e.heap_init(base, 0), second.code("IN_USE"), `base ${base} (aligned to 70000)`);
    assert.equal(second.e.heap_start(), 0);
  }
  assert.ok(Buffer.compare(bytesOf(memory), before) === 0, "the first heap untouched");
  assert.equal(first.e.heap_check(), 0);
  assert.notEqual(first.e.malloc(100) >>> 0, p, "and still handing out distinct blocks");

  // The documented way: disjoint [base, limit) ranges, the highest one may have limit 0.
  const shared = new WebAssembly.Memory({ initial: 16 });
  const low = embedInstance(shared);
  const high = embedInstance(shared);
  assert.equal(low.e.heap_init(1 << 16, 8 << 16), low.code("OK"));
  assert.equal(high.e.heap_init(8 << 16, 0), high.code("OK"));
  const blocks = [];
  for (let i = 0; i < 2000; i++) {
    const size = 16 + (i * 97) % 3000;
    for (const [who, inst] of [["low", low], ["high", high]]) {
      const q = inst.e.malloc(size) >>> 0;
      if (q) blocks.push([q, size, who]);
    }
  }
  blocks.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < blocks.length; i++) assert.ok(blocks[i - 1][0] + blocks[i - 1][1] <= blocks[i][0], "no two blocks overlap");
  assert.ok(blocks.filter((b) => b[2] === "low").every((b) => b[0] >= 1 << 16 && b[0] + b[1] <= 8 << 16), "low stays in [64 KiB, 512 KiB)");
  assert.ok(blocks.filter((b) => b[2] === "high").every((b) => b[0] >= 8 << 16), "high stays above 512 KiB");
  assert.equal(low.e.heap_check(), 0);
  assert.equal(high.e.heap_check(), 0);
});

test("heap_init's statuses are distinct, 0 for success and negative for each failure", () => {
  const codes = Object.entries(LAYOUT).filter(([name]) => name.startsWith("HEAP_INIT_"));
  assert.equal(LAYOUT.HEAP_INIT_OK, 0);
  assert.ok(codes.every(([name, value]) => name === "HEAP_INIT_OK" || value < 0), JSON.stringify(codes));
  assert.equal(new Set(codes.map(([, value]) => value)).size, codes.length, "each code distinct");
});
