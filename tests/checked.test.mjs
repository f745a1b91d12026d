// The checked build: canaries, poison, quarantine, and every misuse it names.
import test from "node:test";
import assert from "node:assert/strict";
import { Heap, WasmMallocError } from "../dist/index.js";
import { LAYOUT } from "../dist/layout.js";

const checked = (options = {}) => Heap.create({ build: "checked", ...options });
const raw = (heap, ptr, length) => new Uint8Array(heap.memory.buffer, ptr, length);
const isError = (kind, check = () => true) => (e) => e instanceof WasmMallocError && e.kind === kind && check(e);

for (const size of [1, 24, 100, 3000, 300000]) {
  test(`a one-byte overflow of a ${size}-byte block is reported on free with the block, its size, name and the bytes overwritten`, async () => {
    const heap = await checked();
    const p = heap.malloc(size);
    heap.name(p, "victim");
    raw(heap, p, size + 3).fill(1, size, size + 1);
    const before = JSON.stringify(heap.walk());
    assert.throws(() => heap.free(p), isError("overflow", (e) => e.address === p && e.block === p && e.size === size &&
      e.overwritten === 1 && /"victim"/.test(e.message) && /1 byte past the end/.test(e.message)));
    // The call was rejected: nothing changed, and a second free finds the same.
    assert.equal(JSON.stringify(heap.walk()), before, "the block is still live, not quarantined");
    assert.throws(() => heap.free(p), isError("overflow", (e) => e.overwritten === 1));
    // Once the canary is mended, the block frees as usual.
    raw(heap, p, size + 1)[size] = 0xcb;
    heap.free(p);
    heap.check();
    assert.equal(heap.stats().live, 0);
  });
}

test("an underflow (a write just before the block) is reported with the count", async () => {
  const heap = await checked();
  const p = heap.malloc(64);
  raw(heap, p - 3, 3).fill(0);
  assert.throws(() => heap.free(p), isError("underflow", (e) => e.overwritten === 3 && e.address === p));
  assert.throws(() => heap.check(), (e) => e.violation === "canary" && e.address === p, "still live, canary still broken");
  raw(heap, p - 3, 3).fill(0xcb);
  heap.free(p);
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
    raw(heap, a, 101)[100] = 0xcb;
    heap.free(a);
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

// ── Check first: a call that reports changes nothing ────────────────────────

/**
 * Everything a call could change: all of memory but the heap state's counters
 * (a report counts itself), and the counters but that one. (Read from memory,
 * not heap.walk(), which cannot be trusted over a smashed header.)
 */
const snapshot = (heap) => {
  const e = heap.exports;
  const bytes = new Uint8Array(e.memory.buffer).slice();
  // The state's scalars (the quarantine's, top, free runs, …) and counters: the per-heap part's
  // before its class pages, the shared part's before its inline page map (assembly/base/state.ts).
  const state = e.heap_start();
  bytes.fill(0, state, state + LAYOUT.H_CLASS_PAGES);
  bytes.fill(0, state + LAYOUT.SHARED_AT, state + LAYOUT.SHARED_AT + LAYOUT.S_INLINE_MAP);
  // Not compared: errors, and reallocs, which cRealloc (api.ts) counts in the checked build before the
  // pointer is checked (the release build counts after).
  const skipped = [LAYOUT.STAT_ERRORS, LAYOUT.STAT_REALLOCS];
  const counters = Array.from({ length: 16 }, (_, id) => (skipped.includes(id) ? 0 : e.heap_stat(id)));
  return { bytes, counters };
};
const assertUnchanged = (heap, before, message) => {
  const after = snapshot(heap);
  assert.deepEqual(after.counters, before.counters, message);
  assert.ok(Buffer.compare(after.bytes, before.bytes) === 0, `${message}: memory changed`);
};

for (const [what, size, damage] of [
  ["an overflow", 10, (heap, p) => raw(heap, p + 10, 2).fill(5)],
  ["an underflow", 10, (heap, p) => raw(heap, p - 2, 2).fill(5)],
  ["an overflow of a large block", 300000, (heap, p) => raw(heap, p + 300000, 1).fill(5)],
]) {
  const kind = what.includes("under") ? "underflow" : "overflow";
  test(`${what}: free, realloc, realloc(p, 0), malloc_usable_size and malloc_name report it and change nothing`, async () => {
    const heap = await checked();
    const p = heap.malloc(size);
    heap.name(p, "buffer");
    const other = heap.malloc(64);
    damage(heap, p);
    const before = snapshot(heap);
    const calls = [["free", () => heap.free(p)], ["realloc", () => heap.realloc(p, 100)], ["realloc", () => heap.realloc(p, 0)],
      ["malloc_usable_size", () => heap.usableSize(p)],
      // (heap.name checks with malloc_usable_size; the export itself, then the next call throws its report.)
      ["malloc_name", () => { assert.equal(heap.exports.malloc_name(p, 0, 0), -1); heap.usableSize(other); }]];
    for (const [operation, call] of calls) {
      assert.throws(call, isError(kind, (e) => e.address === p && e.block === p && e.size === size && e.overwritten >= 1 &&
        e.operation === operation && /"buffer"/.test(e.message)), operation);
      assertUnchanged(heap, before, `${operation}: nothing allocated, nothing freed`);
    }
    // The block next to it is untouched by all this.
    heap.free(other);
  });
}

test("realloc of an overflowed block allocates nothing and keeps the old block live (it used to leak the new one and free the old)", async () => {
  const heap = await checked();
  const p = heap.malloc(10);
  raw(heap, p, 12).fill(5);
  const { mallocs, live } = heap.stats();
  assert.throws(() => heap.realloc(p, 100), isError("overflow", (e) => e.overwritten === 2 && e.operation === "realloc"));
  assert.equal(heap.stats().mallocs, mallocs, "no new block");
  assert.equal(heap.stats().live, live);
  assert.equal(heap.stats().quarantined, 0, "the old block was not freed");
  assert.ok(heap.walk().some((b) => b.pointer === p && b.state === "in-use" && !b.quarantined));
  raw(heap, p + 10, 2).fill(0xcb);
  const q = heap.realloc(p, 100);
  assert.ok(raw(heap, q, 10).every((b) => b === 5), "contents kept once mended");
  heap.check();
});

// ── An overflow that runs on over the next block ────────────────────────────

for (const [size, slabs] of [[300, true], [300, false], [100, true], [3000, true]]) {
  for (const fill of [0x41, 0xff, 0x00, 0x02]) {
    test(`a 200-byte overflow of a ${size}-byte block${slabs ? "" : " (no slabs)"} with 0x${fill.toString(16)} is an overflow of that block; the next block's smashed header is named corruption of it`, async () => {
      const heap = await checked({ slabs });
      const a = heap.malloc(size);
      const b = heap.malloc(size);
      heap.name(a, "a");
      heap.name(b, "b");
      assert.ok(b > a + size && b < a + size + 200, `b (${b}) follows a (${a}) within 200 bytes`);
      raw(heap, a + size, 200).fill(fill);
      const before = snapshot(heap);
      assert.throws(() => heap.free(a), isError("overflow", (e) => e.address === a && e.block === a && e.size === size &&
        e.overwritten >= 16 && /"a"/.test(e.message)));
      for (const call of [() => heap.free(b), () => heap.realloc(b, 10), () => heap.usableSize(b)]) {
        assert.throws(call, isError("corruption", (e) => e.address === b && e.block === b && /"b"/.test(e.message) &&
          /metadata was overwritten/.test(e.message)));
      }
      assertUnchanged(heap, before, "nothing freed");
    });
  }
}

test("a pointer into the alignment padding of an aligned block is an interior pointer of that block, not corruption", async () => {
  const heap = await checked({ slabs: false });
  const a = heap.alignedAlloc(4096, 100);
  const block = heap.walk().find((b) => b.pointer === a);
  const rawPayload = block.address + 4; // the boundary-tag block's payload, where the padding starts
  assert.ok(rawPayload + 32 < a, "padding before the payload");
  assert.throws(() => heap.free(rawPayload + 32), isError("invalid-free", (e) => e.reason === "interior" && e.block === a));
  heap.free(a);
  heap.check();
});

// ── Out of memory: the quarantine gives its memory back first ───────────────

test("out of memory releases the quarantine before malloc returns 0: malloc(600 KiB), free, malloc(600 KiB) under a 1 MiB limit", async () => {
  const heap = await checked({ maxMemory: 1 << 20 });
  const a = heap.malloc(600 * 1024);
  assert.notEqual(a, 0);
  heap.free(a);
  assert.equal(heap.stats().quarantined, 1);
  const b = heap.malloc(600 * 1024);
  assert.notEqual(b, 0, "the quarantined block made room");
  assert.deepEqual([heap.stats().quarantined, heap.stats().live], [0, 1]);
  // Nothing held back any more, and it does not fit twice: now 0.
  const failed = heap.stats().failed;
  assert.equal(heap.malloc(600 * 1024), 0);
  assert.equal(heap.stats().failed, failed + 1);
  heap.check();
});

test("out of memory releases quarantined blocks oldest first, only as many as needed, and realloc and calloc do too", async () => {
  const heap = await checked({ maxMemory: 1 << 20 });
  const blocks = [];
  for (let p; (p = heap.malloc(300 * 1024)) !== 0;) blocks.push(p);
  assert.ok(blocks.length >= 3, `${blocks.length} blocks of 300 KiB`);
  for (const p of blocks) heap.free(p);
  const held = () => heap.walk().filter((b) => b.quarantined).map((b) => b.pointer);
  assert.deepEqual(held(), blocks);
  const q = heap.malloc(300 * 1024);
  assert.notEqual(q, 0);
  assert.deepEqual(held(), blocks.slice(1), "only the oldest was released");
  const r = heap.realloc(q, 310 * 1024);
  assert.notEqual(r, 0, "realloc made room the same way");
  assert.ok(!held().includes(blocks[1]), "the next oldest went");
  const c = heap.calloc(1, 300 * 1024);
  assert.notEqual(c, 0, "calloc too");
  assert.ok(raw(heap, c, 300 * 1024).every((x) => x === 0));
  heap.check();
});

test("a write after free found while releasing for an allocation is reported, and that allocation is rejected: nothing allocated, nothing lost", async () => {
  const heap = await checked({ maxMemory: 1 << 20 });
  const a = heap.malloc(600 * 1024);
  heap.name(a, "stale");
  heap.free(a);
  raw(heap, a + 100, 4).fill(0);
  const { mallocs } = heap.stats();
  assert.throws(() => heap.malloc(600 * 1024), isError("use-after-free", (e) => e.address === a && e.overwritten === 4));
  assert.equal(heap.stats().mallocs, mallocs, "the call that found it allocated nothing");
  assert.equal(heap.stats().quarantined, 0, "the block was released, as always after its check");
  assert.notEqual(heap.malloc(600 * 1024), 0, "the same request now succeeds");
  heap.check();
});

test("a write after free found while free() settles the quarantine does not undo that free: it happened, and is traced", async () => {
  const { mkdtempSync, readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const file = join(mkdtempSync(join(tmpdir(), "wm-")), "t.rep");
  const heap = await checked({ quarantine: 1000, trace: file });
  const p = heap.malloc(200);
  heap.free(p);
  raw(heap, p, 1)[0] = 0;
  let frees = 1, error = null, last = 0;
  while (!error) {
    last = heap.malloc(200);
    frees++;
    try { heap.free(last); } catch (e) { error = e; }
  }
  assert.equal(error.kind, "use-after-free");
  assert.equal(error.address, p);
  assert.throws(() => heap.free(last), isError("double-free"), "the free that found it went ahead");
  assert.equal(heap.stats().frees, frees);
  heap.close();
  const ops = readFileSync(file, "utf8").trim().split("\n").slice(4);
  assert.equal(ops.filter((l) => l.startsWith("f ")).length, frees, "every free is in the trace");
  heap.check();
});

test("a quarantined block whose guard header is smashed is reported as corruption; the rest of the quarantine is kept and released as usual", async () => {
  const heap = await checked({ quarantine: 4096, slabs: false });
  const blocks = Array.from({ length: 6 }, () => heap.malloc(400));
  for (const p of blocks) heap.free(p);
  assert.equal(heap.stats().quarantined, 6);
  raw(heap, blocks[0] - 20, 4).fill(0x55); // the oldest one's magic
  let error = null;
  for (let i = 0; i < 20 && !error; i++) {
    try { heap.free(heap.malloc(400)); } catch (e) { error = e; }
  }
  assert.ok(error && error.kind === "corruption" && error.address === blocks[0], String(error));
  const held = heap.walk().filter((b) => b.quarantined).map((b) => b.pointer);
  for (const p of blocks.slice(1)) assert.ok(held.includes(p), `${p} still held, not lost`);
  heap.exports.heap_set_quarantine(0);
  assert.equal(heap.stats().quarantined, 0, "and all released");
  // The smashed block cannot be trusted and stays allocated: the heap check names it.
  assert.throws(() => heap.check(), (e) => e.violation === "guard");
});

test("an overflow that smashes just the next block's boundary tag (20 bytes out of a 300-byte block) is an overflow of it; the next block is named corrupted, not invalid", async () => {
  for (const fill of [0x41, 0xff, 0x00, 0x02, 0x01]) {
    const heap = await checked({ slabs: false });
    const a = heap.malloc(300);
    const b = heap.malloc(300);
    heap.name(b, "b");
    const canary = 16;
    raw(heap, a + 300, canary + 4).fill(fill); // the back canary, then b's header word
    assert.throws(() => heap.free(a), isError("overflow", (e) => e.address === a && e.overwritten === canary), `fill ${fill}`);
    assert.throws(() => heap.free(b), isError("corruption", (e) => e.address === b && /"b"/.test(e.message)), `fill ${fill}`);
  }
});
