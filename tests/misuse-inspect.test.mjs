// Inspection of a corrupted heap ends: walk, stats, snapshot, the free and quick
// lists, the page map, buddyinfo/slabinfo, check, the dump and map the CLI
// prints, and allocate()'s out-of-memory message each return or throw
// HeapCorruptionError naming the violation and the address, on the release,
// checked and buddy builds. The scenarios of each build run in a child process
// (tests/host/corrupt-heap.mjs) killed when an inspection has not ended after
// 10 s, so a hang fails its test instead of stalling the run.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SCENARIOS, INSPECTIONS } from "./host/corrupt-heap.mjs";

const CHILD = fileURLToPath(new URL("./host/corrupt-heap.mjs", import.meta.url));
const KILL_AFTER_MS = 10_000;
/** The inspections that walk the heap, and those of them that read each block (walk()). */
const WALKS = ["walk", "stats", "snapshot", "slabinfo", "dump", "map"];
const BLOCK_READS = ["walk", "snapshot", "dump", "map"];
const hex = (n) => `0x${n.toString(16)}`;

/**
 * Run every scenario of `build` in a child; resolves with scenario → { expect, results }, and
 * `killed` naming the scenario and inspection that had not ended 10 s after the one before.
 */
function runChild(build) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, build], { stdio: ["ignore", "pipe", "pipe"] });
    const scenarios = new Map();
    let pending = "";
    let err = "";
    let last = null;
    let killed = null;
    let timer;
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const names = Object.keys(INSPECTIONS);
        killed = last ? `${last.scenario}: ${names[last.expect ? 0 : names.indexOf(last.name) + 1] ?? "the next scenario's set-up"}` : "the first scenario's set-up";
        child.kill("SIGKILL");
      }, KILL_AFTER_MS);
    };
    watch();
    child.stdout.on("data", (chunk) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const line of lines) {
        const r = JSON.parse(line);
        if (!scenarios.has(r.scenario)) scenarios.set(r.scenario, { expect: {}, results: new Map() });
        if (r.expect) scenarios.get(r.scenario).expect = r.expect;
        else scenarios.get(r.scenario).results.set(r.name, r);
        last = r;
        watch();
      }
    });
    child.stderr.on("data", (chunk) => { err += chunk; });
    child.on("close", (code) => { clearTimeout(timer); resolve({ scenarios, killed, code, err }); });
  });
}

const children = new Map(["release", "checked", "buddy"].map((build) => [build, runChild(build)]));

const describeResult = (r) => r.outcome === "returned" ? "returned" : `threw ${r.error}: ${r.message}`;

function assertCorruption(r, expected, label) {
  assert.equal(r.outcome, "threw", `${label} should throw HeapCorruptionError, ${describeResult(r)}`);
  assert.equal(r.error, "HeapCorruptionError", `${label}: ${r.message}`);
  assert.equal(r.corruption.violation, expected.violation, `${label}: ${r.message}`);
  if (expected.address !== undefined) assert.equal(r.corruption.address, expected.address, `${label}: ${r.message}`);
  assert.match(r.message, new RegExp(`${expected.violation} at ${expected.address !== undefined ? hex(expected.address) : "0x"}`), label);
  if (expected.name) assert.match(r.message, new RegExp(`block "${expected.name}"`), `${label} names the block`);
  if (expected.before) assert.match(r.message, new RegExp(`\\("${expected.before}"\\), may have been written past its end`), `${label} names the block before it`);
}

for (const [scenario, { builds }] of Object.entries(SCENARIOS)) {
  for (const build of builds) {
    test(`${build}: ${scenario}: every inspection ends, with HeapCorruptionError where it meets the damage`, async () => {
      const { scenarios, killed, code, err } = await children.get(build);
      const ran = scenarios.get(scenario);
      const missing = Object.keys(INSPECTIONS).filter((name) => !ran?.results.has(name));
      assert.ok(missing.length === 0, killed ? `killed: ${killed} did not end in ${KILL_AFTER_MS / 1000} s (missing: ${missing.join(", ")})` : `the child failed (exit ${code}): ${err}`);
      const { expect, results } = ran;
      for (const [name, r] of results) {
        // Ends either way, and never with an unrelated error (a trap, a RangeError).
        if (name === "allocate") assert.equal(r.error, "OutOfMemoryError", `allocate: ${describeResult(r)}`);
        else assert.ok(r.outcome === "returned" || r.error === "HeapCorruptionError", `${name} ${describeResult(r)}`);
      }
      assert.equal(results.get("check").error, "HeapCorruptionError", `check() finds the corruption: ${describeResult(results.get("check"))}`);
      if (expect.walks) {
        for (const name of WALKS) assertCorruption(results.get(name), expect.walks, name);
        assert.equal(results.get("walk").corruption.during, "heap walk");
        const oom = results.get("allocate");
        assert.match(oom.message, /the heap is corrupted, which may be why: heap walk failed/, "the out-of-memory message says the heap is corrupted");
        assert.equal(oom.corruption.violation, expect.walks.violation);
      }
      if (expect.blocks) for (const name of BLOCK_READS) assertCorruption(results.get(name), expect.blocks, name);
      for (const [name, expected] of Object.entries(expect.lists ?? {})) assertCorruption(results.get(name), expected, name);
    });
  }
}

test("a sound heap walks, lists and checks as before: the bounds reject nothing real", async () => {
  const { Heap } = await import("../dist/index.js");
  for (const options of [{}, { build: "checked" }, { engine: "buddy" }, { policy: "first", slabs: "eager" }]) {
    const heap = await Heap.create(options);
    const kept = [];
    for (let i = 0; i < 300; i++) {
      const p = heap.malloc([24, 100, 300, 5000, 70000, 1 << 20][i % 6]);
      if (i % 3 === 0) heap.free(p); else kept.push(p);
    }
    heap.check();
    const blocks = heap.walk();
    assert.ok(blocks.length > 100);
    heap.stats();
    heap.snapshot();
    heap.quickLists();
    heap.buddyinfo();
    heap.slabinfo();
    for (const p of kept) heap.free(p);
    heap.check();
    assert.equal(heap.stats().live, 0, JSON.stringify(options));
  }
});

// ── The host's own bounds: whatever the module answers, a walk ends ─────────
// In a child with a 10 s kill each: a regression here would hang in this process otherwise.
const DIST = JSON.stringify(new URL("../dist/index.js", import.meta.url).href);

/** Run `body` (module code; `Heap` and `renderHeapSvg` in scope) in a child; what it printed, or a failure if killed. */
function inChild(body) {
  const code = `const { Heap, renderHeapSvg } = await import(${DIST});\n${body}`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: KILL_AFTER_MS });
  assert.equal(run.signal, null, `killed after ${KILL_AFTER_MS / 1000} s: it did not end`);
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
}

/** Module code: a heap over the same module with some exports replaced or removed (a misbehaving or older module), then `body`. */
const withExports = (overrides, remove, body) => `
  const real = await Heap.create({ policy: "first" });
  const exports = { ...real.exports, ${overrides} };
  for (const name of ${JSON.stringify(remove)}) delete exports[name];
  const heap = Heap.attach(exports, { policy: "first", build: "release" });
  const report = (e) => JSON.stringify({ name: e.name, violation: e.violation, address: e.address, during: e.during, message: e.message });
  try { ${body}; console.log("{}"); } catch (e) { console.log(report(e)); }`;

test("a walk whose cursor does not move forward stops with walk-cursor", () => {
  const e = JSON.parse(inChild(withExports("walk_entry: (cursor) => cursor", [], "heap.walk()")));
  assert.equal(e.name, "HeapCorruptionError");
  assert.equal(e.violation, "walk-cursor");
  assert.equal(e.during, "heap walk");
  assert.match(e.message, /walk-cursor at 0x[0-9a-f]+: the walk reached an address where no entry starts/);
});

test("a walk of more steps than the memory could hold 16-byte blocks stops with walk-steps", () => {
  const e = JSON.parse(inChild(withExports("walk_entry: (cursor) => cursor + 1", [], "heap.stats()")));
  assert.equal(e.name, "HeapCorruptionError");
  assert.equal(e.violation, "walk-steps");
});

test("without the module's checked list step, a free-list cycle is still found by the blocks already seen", () => {
  const e = JSON.parse(inChild(withExports("", ["free_list_next", "walk_error", "walk_error_address"], `
    const blocks = [500, 300, 500, 300, 500].map((n) => real.malloc(n));
    real.free(blocks[1]);
    real.free(blocks[3]);
    const [first, second] = real.freeLists()[0].blocks.map((b) => b.address);
    new DataView(real.memory.buffer).setUint32(second + 4, first, true);
    heap.freeLists()`)));
  assert.equal(e.name, "HeapCorruptionError");
  assert.equal(e.violation, "list-links");
  assert.equal(e.during, "free-list walk");
  assert.match(e.message, /list-links at 0x[0-9a-f]+: .*it is linked from 0x[0-9a-f]+ on free list 0, which goes round in a cycle/);
});

// ── The renderer: a snapshot it could not draw in bounded time is refused ───
for (const [what, change, message] of [
  ["a page size of 0", { pageSize: 0 }, /pageSize 0 is not a positive whole number/],
  ["a top 2^40 bytes up", { top: 2 ** 40 }, /is not a range of at most 65536 pages/],
  ["a block past the top", { blocks: [{ address: 1024, size: 2 ** 40, state: "free", layer: "medium", pointer: 0, usable: 0, payload: 0 }] }, /block at 1024 \(1099511627776 bytes\) is not inside the heap/],
]) {
  test(`renderHeapSvg refuses a snapshot with ${what} (RangeError, within 10 s)`, () => {
    const out = inChild(`
      const heap = await Heap.create();
      heap.malloc(100);
      try { renderHeapSvg({ ...heap.snapshot(), ...${JSON.stringify(change)} }); console.log("drawn"); }
      catch (error) { console.log(error.name + ": " + error.message); }`);
    assert.match(out, /^RangeError: snapshot /);
    assert.match(out, message);
  });
}
