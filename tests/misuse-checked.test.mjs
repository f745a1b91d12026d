// Misuse through the raw exports, as a C program would call them (no host
// library in between): what each call returns, what it reports, and that a
// refused call changes nothing. Release and checked builds.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { LAYOUT } from "../dist/layout.js";

const EINVAL = 22;

/** A standalone build, instantiated with its reports collected; the heap set up (limit in bytes, 0: none). */
function instance(build, limit = 0) {
  const module = new WebAssembly.Module(fs.readFileSync(new URL(`../build/${build}.wasm`, import.meta.url)));
  const reports = [];
  const env = { wasm_malloc_report: (kind, reason, op, ptr) => reports.push({ kind, reason, op, ptr: ptr >>> 0 }), wasm_malloc_op() {}, wasm_malloc_named() {} };
  const e = new WebAssembly.Instance(module, { env }).exports;
  assert.equal(e.heap_configure(LAYOUT.POLICY_DEFAULT, 0, limit), 0);
  return { e, reports };
}

/** All of memory and every counter: a refused call changes none of them. */
function snapshot(e) {
  return { bytes: new Uint8Array(e.memory.buffer).slice(), counters: Array.from({ length: 16 }, (_, id) => e.heap_stat(id)) };
}
function assertUnchanged(e, before, message) {
  const after = snapshot(e);
  assert.deepEqual(after.counters, before.counters, `${message}: counters`);
  assert.ok(Buffer.compare(after.bytes, before.bytes) === 0, `${message}: memory changed`);
}

for (const build of ["release", "checked"]) {
  // ── posix_memalign(out, align, size) must check `out` before it allocates ──
  // (On 3fa75f8 it allocated, then stored through `out` whatever it was, or
  // trapped past the end of memory with the block allocated: api.ts
  // writableOut now checks first.)
  const badOut = [
    ["0 (the null pointer)", () => 0],
    ["memory size - 2 (no room for the 4-byte pointer)", (e) => e.memory.buffer.byteLength - 2],
    ["the first word of the heap state", (e) => e.heap_start()],
    ["inside the heap state", (e) => e.heap_start() + 128],
    ["the last word of the heap state", (e) => e.heap_start() + LAYOUT.HEAP_STATE_SIZE - 4],
    ["not 4-aligned", (e) => { const p = e.malloc(64) >>> 0; return p + 2; }],
  ];
  for (const [what, where] of badOut) {
    test(`${build}: posix_memalign with out = ${what} returns EINVAL and allocates nothing`, () => {
      const { e, reports } = instance(build);
      const out = where(e) >>> 0;
      const before = snapshot(e);
      let status;
      assert.doesNotThrow(() => { status = e.posix_memalign(out, 64, 100); }, "no trap");
      assert.equal(status, EINVAL);
      assertUnchanged(e, before, what);
      assert.deepEqual(reports, []);
    });
  }

  test(`${build}: posix_memalign with out inside a live block (the caller's struct) stores the pointer there`, () => {
    const { e, reports } = instance(build);
    const struct = e.malloc(64) >>> 0;
    const out = struct + 8;
    assert.equal(e.posix_memalign(out, 256, 100), 0);
    const p = new DataView(e.memory.buffer).getUint32(out, true);
    assert.ok(p !== 0 && p % 256 === 0, `stored ${p}`);
    assert.equal(e.malloc_usable_size(p) >>> 0 >= 100, true);
    e.free(p);
    e.free(struct);
    assert.equal(e.heap_check(), 0);
    assert.deepEqual(reports, []);
  });

  test(`${build}: posix_memalign with a bad alignment returns EINVAL before anything else`, () => {
    const { e } = instance(build);
    const out = e.malloc(16) >>> 0;
    const before = snapshot(e);
    for (const align of [0, 2, 3, 24, 1 << 17]) assert.equal(e.posix_memalign(out, align, 10), EINVAL, `align ${align}`);
    assertUnchanged(e, before, "bad alignments");
  });
}

// ── The checked build, from C: a rejected call returns what C expects ───────

test("checked: realloc of an overflowed block returns 0 with one overflow report, the old block live and nothing allocated", () => {
  const { e, reports } = instance("checked");
  const p = e.malloc(40) >>> 0;
  new Uint8Array(e.memory.buffer, p, 41).fill(7);
  const before = snapshot(e);
  assert.equal(e.realloc(p, 4000) >>> 0, 0);
  assert.deepEqual(reports.map((r) => [r.kind, r.reason, r.ptr]), [[LAYOUT.ERR_OVERFLOW, 1, p]]);
  // Past the per-heap part's scalars and counters (class pages, free lists, then the blocks), no byte changed.
  const from = e.heap_start() + LAYOUT.H_CLASS_PAGES;
  assert.ok(Buffer.compare(snapshot(e).bytes.subarray(from), before.bytes.subarray(from)) === 0, "no list, page or block changed");
  assert.equal(e.heap_stat(LAYOUT.STAT_LIVE), 1, "still exactly one live block");
  assert.equal(e.heap_stat(LAYOUT.STAT_MALLOCS), 1, "no new block");
  assert.equal(e.heap_stat(LAYOUT.STAT_QUARANTINED), 0, "the old block was not freed");
  new Uint8Array(e.memory.buffer, p + 40, 1)[0] = LAYOUT.CANARY;
  const q = e.realloc(p, 4000) >>> 0;
  assert.notEqual(q, 0, "once mended it moves");
  assert.ok(new Uint8Array(e.memory.buffer, q, 40).every((b) => b === 7));
  assert.equal(e.heap_check(), 0);
});

test("checked: malloc under a limit releases the quarantine before it returns 0, and returns 0 once nothing is held", () => {
  const { e, reports } = instance("checked", 1 << 20);
  const a = e.malloc(600 << 10) >>> 0;
  assert.notEqual(a, 0);
  e.free(a);
  assert.notEqual(e.malloc(600 << 10) >>> 0, 0);
  assert.equal(e.malloc(600 << 10) >>> 0, 0);
  assert.equal(e.heap_stat(LAYOUT.STAT_QUARANTINED), 0);
  assert.equal(e.heap_check(), 0);
  assert.deepEqual(reports, [], "out of memory is not misuse");
});
