// The Heap class: views, names, strings, page map, snapshots, trace logging.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { Heap, OutOfMemoryError, WasmMallocError, TraceError, parseTrace, replay, buildUrl } from "../dist/index.js";
import { LAYOUT } from "../dist/layout.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-test-"));
const layout = (heap) => heap.walk().map(({ address, size, state, layer }) => ({ address, size, state, layer }));

test("Heap.create takes the module as bytes, a URL or a Response", async () => {
  const bytes = fs.readFileSync(buildUrl("release"));
  for (const wasm of [bytes, buildUrl("release"), new Response(bytes)]) {
    const heap = await Heap.create({ wasm });
    assert.notEqual(heap.malloc(10), 0);
    heap.check();
  }
});

test("an unknown engine or policy is a clear error", async () => {
  await assert.rejects(Heap.create({ engine: "turbo" }), /engine "turbo" is not available; choose one of default, buddy/);
  await assert.rejects(Heap.create({ policy: "fastest" }), /the policy option is "fastest"; choose one of first, next, best, worst, segregated/);
  await assert.rejects(Heap.create({ trace: path.join(tmp, "x.rep"), build: "release" }), /tracing needs the "traced" or "checked" build/);
});

test("bytes() and view() are live views over the block that stay valid after the memory grows", async () => {
  const heap = await Heap.create();
  const p = heap.malloc(100);
  const bytes = heap.bytes(p);
  const view = heap.view(p);
  assert.equal(bytes.length, 100, "the requested bytes");
  const before = heap.memory.buffer;
  heap.malloc(8 << 20); // grows the memory: the old ArrayBuffer is detached
  assert.notEqual(heap.memory.buffer, before);
  assert.equal(before.byteLength, 0, "the old buffer is detached");
  bytes[0] = 7;
  bytes.fill(9, 1, 10);
  view.setUint32(96, 0xdeadbeef, true);
  const fresh = new Uint8Array(heap.memory.buffer, p, 100);
  assert.equal(fresh[0], 7);
  assert.equal(fresh[5], 9);
  assert.equal(new DataView(heap.memory.buffer).getUint32(p + 96, true), 0xdeadbeef);
  assert.equal(bytes.length, 100);
  assert.equal(view.getUint32(96, true), 0xdeadbeef);
});

test("writeString and readString round-trip UTF-8", async () => {
  const heap = await Heap.create();
  const text = "heap → Wasm ✓ 日本語";
  const p = heap.writeString(text);
  assert.equal(heap.readString(p), text);
  assert.equal(heap.readString(p, 4), "heap");
});

test("named blocks appear in walk, snapshots and error messages, follow realloc, and go away with the block", async () => {
  const heap = await Heap.create();
  const p = heap.malloc(300);
  heap.name(p, "parser buffer");
  let entry = heap.walk().find((b) => b.pointer === p);
  assert.equal(entry.name, "parser buffer");
  const q = heap.realloc(p, 5000);
  assert.equal(heap.nameOf(q), "parser buffer");
  heap.free(q);
  assert.equal(heap.nameOf(q), undefined);
  assert.ok(!heap.walk().some((b) => b.name === "parser buffer"));
  const r = heap.malloc(64);
  heap.name(r, "node <7>");
  heap.free(r);
  heap.name(heap.malloc(64), "other");
  const s = heap.malloc(2000);
  heap.name(s, "table");
  heap.free(s);
  assert.throws(() => heap.name(s, "again"), (e) => e instanceof WasmMallocError && e.kind === "double-free");
  const t = heap.malloc(2000);
  heap.name(t, "table 2");
  heap.free(t);
  assert.throws(() => heap.free(t), (e) => e.kind === "double-free");
});

test("a block named from Wasm (malloc_name export) shows in walk and in error messages", async () => {
  const heap = await Heap.create({ slabs: false });
  const p = heap.malloc(200);
  const label = heap.writeString("from wasm");
  assert.equal(heap.exports.malloc_name(p, label, 9), 0);
  assert.equal(heap.nameOf(p), "from wasm");
  assert.equal(heap.walk().find((b) => b.pointer === p).name, "from wasm");
  assert.equal(heap.exports.malloc_name(p + 16, label, 9), -1);
  assert.throws(() => heap.free(p + 16), (e) => e.kind === "invalid-free");
  heap.free(p);
  assert.throws(() => heap.free(p), (e) => e.kind === "double-free" && e.message.includes("0x"));
});

test("walk, freeLists, stats, pageMap and snapshot are plain JSON-ready data", async () => {
  const heap = await Heap.create({ slabs: "eager" });
  const ptrs = [40, 1000, 3000, 300000, 200].map((n) => heap.malloc(n));
  heap.free(ptrs[1]);
  const snap = heap.snapshot({ title: "t", step: 3 });
  assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
  for (const value of [snap.blocks, snap.freeLists, snap.pageMap]) assert.ok(Array.isArray(value));
  const kinds = new Set(heap.pageMap().map((p) => p.kind));
  for (const kind of ["heap", "slab", "large", "large-tail"]) assert.ok(kinds.has(kind), `page map has ${kind}`);
  const walk = heap.walk();
  assert.ok(walk.some((b) => b.layer === "slab" && b.state === "in-use" && b.payload === 40));
  assert.ok(walk.some((b) => b.layer === "large" && b.payload === 300000));
  // (The only 1,008-byte block: not held on a quick list, see quick.ts.)
  const lists = heap.freeLists();
  assert.ok(lists.some((l) => l.blocks.some((b) => b.address === ptrs[1] - 4)), "the freed block is on a list");
  const stats = heap.stats();
  assert.equal(stats.live, 4);
  assert.ok(stats.free > 0 && stats.metadata >= 2560 && stats.fragmentation >= 0 && stats.fragmentation < 1);
  // Every byte from the heap state to the top is accounted for (blocks tile the heap, give or take segment edges).
  const covered = walk.reduce((s, b) => s + b.size, 0);
  assert.ok(covered <= heap.exports.heap_top() - heap.exports.heap_start());
});

test("allocate() throws OutOfMemoryError with the request, the limit and what is in use", async () => {
  const heap = await Heap.create({ maxMemory: 2 << 20 });
  assert.throws(() => heap.allocate(3 << 20), (e) => e instanceof OutOfMemoryError && e.kind === "out-of-memory" &&
    e.requested === 3 << 20 && e.limit === 2 << 20 && /larger maxMemory/.test(e.message));
  assert.notEqual(heap.allocate(1000), 0);
});

test("trace logging writes a .rep file that replays to the same final heap", async () => {
  const file = path.join(tmp, "log.rep");
  const heap = await Heap.create({ trace: file, policy: "best" });
  assert.equal(heap.build, "traced");
  const live = [];
  let seed = 7;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  for (let i = 0; i < 3000; i++) {
    const r = rand(10);
    if (r < 4 || live.length === 0) live.push(heap.malloc(rand(3) === 0 ? rand(70000) : rand(300)));
    else if (r < 5) live.push(heap.calloc(rand(10), rand(100)));
    else if (r < 7) { const at = rand(live.length); live[at] = heap.realloc(live[at], rand(5000) + 1); }
    else if (r < 8) live.push(heap.exports.malloc(rand(500)) >>> 0); // as another module would, not through Heap
    else { const at = rand(live.length); heap.free(live[at]); live.splice(at, 1); }
  }
  const p = heap.realloc(0, 77);
  heap.realloc(p, 0);
  heap.close();
  const trace = parseTrace(fs.readFileSync(file, "utf8"), file);
  assert.equal(trace.ops.length, heap.trace.operations);
  assert.ok(trace.ops.some((op) => op.kind === "r"));
  const again = await Heap.create({ policy: "best" });
  replay(again, trace);
  assert.deepEqual(layout(again), layout(heap));
  assert.equal(again.stats().inUse, heap.stats().inUse);
});

test("the trace header is written at process exit even without close()", () => {
  const file = path.join(tmp, "exit.rep");
  const script = `import("./dist/index.js").then(async ({ Heap }) => {
    const heap = await Heap.create({ trace: ${JSON.stringify(file)} });
    const a = heap.malloc(10); heap.malloc(20); heap.free(a);
  })`;
  const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const trace = parseTrace(fs.readFileSync(file, "utf8"), file);
  assert.equal(trace.ops.length, 3);
  assert.equal(trace.ids, 2);
});

test("the checked build can trace too", async () => {
  const file = path.join(tmp, "checked.rep");
  const heap = await Heap.create({ trace: file, build: "checked" });
  heap.free(heap.malloc(10));
  heap.close();
  assert.equal(parseTrace(fs.readFileSync(file, "utf8")).ops.length, 2);
});

test("a malformed trace or an operation on an id that is not live gets file:line", () => {
  const cases = [
    ["1\n2\n1\n1\nx 0 10\n", 5, /unknown operation "x"/],
    ["1\n2\n1\n1\na 0\n", 5, /malformed "a 0"/],
    ["1\n2\n3\n1\na 0 10\nf 0\nf 0\n", 7, /free of id 0, which was already freed/],
    ["1\n2\n1\n1\nf 1\n", 5, /free of id 1, which was never allocated/],
    ["1\n2\n3\n1\na 0 10\nf 0\nr 0 5\n", 7, /realloc of id 0, which was already freed/],
    ["1\n2\n2\n1\na 0 10\n", 3, /header says 2 operations, the file has 1/],
    ["1\n2\nz\n", 3, /expected header number 3 of 4/],
  ];
  for (const [text, line, message] of cases) {
    assert.throws(() => parseTrace(text, "t.rep"), (e) => e instanceof TraceError && e.line === line && e.message.startsWith(`t.rep:${line}: `) && message.test(e.message), text);
  }
});

test("replay with check stops at the operation that broke the heap, naming its line", async () => {
  const heap = await Heap.create({ slabs: false });
  const trace = parseTrace("1\n3\n3\n1\na 0 100\na 1 100\nf 0\n", "t.rep");
  replay(heap, trace, { limit: 2 });
  // Corrupt block 1's header between operations, as a buggy program would.
  const block1 = heap.walk().find((b) => b.state === "in-use" && b.layer === "medium" && b.address > heap.walk().find((x) => x.state === "in-use" && x.layer === "medium").address);
  new DataView(heap.memory.buffer).setUint32(block1.address, 0x12345677, true);
  assert.throws(() => replay(heap, { ...trace, ops: trace.ops.slice(2) }, { check: true }), (e) => e instanceof TraceError && e.line === 7);
});

test("the module works through asc's generated ESM bindings (build/release.js)", async () => {
  const { instantiate } = await import("../build/release.js");
  const reports = [];
  // asc's adapter calls the env imports by their global names.
  globalThis.wasm_malloc_report = (...args) => reports.push(args);
  globalThis.wasm_malloc_named = () => {};
  try {
    const exports = await instantiate(await WebAssembly.compile(fs.readFileSync(buildUrl("release"))), {});
    const p = exports.malloc(100);
    assert.equal(p % 16, 0);
    assert.ok(p > 0, "pointers come back unsigned");
    exports.free(p);
    exports.free(p);
    assert.equal(reports.length, 1);
    assert.equal(reports[0][0], LAYOUT.ERR_DOUBLE_FREE);
    assert.equal(exports.heap_check(), 0);
  } finally {
    delete globalThis.wasm_malloc_report;
    delete globalThis.wasm_malloc_named;
  }
});

test("replayTrace(trace, { policy, check }) replays on a new heap and returns it", async () => {
  const { replayTrace } = await import("../dist/index.js");
  const text = fs.readFileSync("tests/fixtures/short.rep", "utf8");
  const result = await replayTrace({ text, file: "short.rep" }, { policy: "worst", check: true });
  assert.equal(result.heap.policy, "worst");
  assert.equal(result.ops, 12);
  assert.equal(result.peakLivePayload, 8144);
  await assert.rejects(replayTrace({ text: "1\n1\n2\n1\na 0 5\nf 1\n", file: "x.rep" }), /x\.rep:6: free of id 1, which was never allocated/);
});

test("quickLists() lists freed small blocks held for reuse; walks show them free; a second free is a double free", async () => {
  const heap = await Heap.create();
  const a = heap.malloc(100), b = heap.malloc(100), guard = heap.malloc(100);
  heap.free(a);
  heap.free(b);
  assert.deepEqual(heap.quickLists(), [{ size: 112, blocks: [b - 4, a - 4] }]);
  const held = heap.walk().filter((blk) => blk.address === a - 4 || blk.address === b - 4);
  assert.deepEqual(held.map((blk) => [blk.state, blk.layer, blk.size]), [["free", "medium", 112], ["free", "medium", 112]]);
  assert.throws(() => heap.free(a), (e) => e.kind === "double-free");
  heap.check();
  assert.equal(heap.malloc(100), b, "taken back at its size, last freed first");
  assert.deepEqual(heap.quickLists(), [{ size: 112, blocks: [a - 4] }]);
  const first = await Heap.create({ policy: "first" });
  first.free(first.malloc(100));
  assert.deepEqual(first.quickLists(), [], "none under first fit");
  heap.free(guard);
});
