// Every bad input the README's table lists, in both builds: each gets the
// documented result, and the heap check passes afterwards.
import test from "node:test";
import assert from "node:assert/strict";
import { Heap, WasmMallocError } from "../dist/index.js";

const rejects = (kind, reason) => ({ kind, reason });
const MAX = 64 << 20;

// [input, action(heap) -> value, expected] ; expected: a number, "pointer", or rejects(kind, reason)
const CASES = [
  ["malloc(0)", (h) => h.malloc(0), "pointer"],
  ["malloc(1)", (h) => h.malloc(1), "pointer"],
  ["malloc(65535)", (h) => h.malloc(65535), "pointer"],
  ["malloc(65536)", (h) => h.malloc(65536), "pointer"],
  ["malloc(65537)", (h) => h.malloc(65537), "pointer"],
  ["malloc(2^31) past a 64 MiB limit", (h) => h.malloc(2 ** 31), 0],
  ["malloc(2^32-1)", (h) => h.malloc(2 ** 32 - 1), 0],
  ["calloc(65536, 65537) (overflows)", (h) => h.calloc(65536, 65537), 0],
  ["calloc(2^31, 2) (overflows)", (h) => h.calloc(2 ** 31, 2), 0],
  ["calloc(0, 100)", (h) => h.calloc(0, 100), "pointer"],
  ["aligned_alloc(0, 8)", (h) => h.alignedAlloc(0, 8), 0],
  ["aligned_alloc(3, 8)", (h) => h.alignedAlloc(3, 8), 0],
  ["aligned_alloc(24, 8)", (h) => h.alignedAlloc(24, 8), 0],
  ["aligned_alloc(2^17, 8)", (h) => h.alignedAlloc(2 ** 17, 8), 0],
  ["posix_memalign(out, 3, 8)", (h) => h.exports.posix_memalign(h.malloc(16), 3, 8), 22],
  ["posix_memalign(out, 2^17, 8)", (h) => h.exports.posix_memalign(h.malloc(16), 2 ** 17, 8), 22],
  ["free(0)", (h) => h.free(0), undefined],
  ["free(1)", (h) => h.free(1), rejects("invalid-free", "misaligned")],
  ["free(4)", (h) => h.free(4), rejects("invalid-free", "misaligned")],
  ["free(8)", (h) => h.free(8), rejects("invalid-free", "misaligned")],
  ["free(15)", (h) => h.free(15), rejects("invalid-free", "misaligned")],
  ["free(16) (below the heap)", (h) => h.free(16), rejects("invalid-free", "not-owned")],
  ["free(inside a small block)", (h) => { const p = h.malloc(100); return h.free(p + 32); }, rejects("invalid-free", "interior")],
  ["free(inside a medium block, zeroed)", (h) => { const p = h.calloc(1, 3000); return h.free(p + 1024); }, rejects("invalid-free", "interior")],
  ["free(inside a large block)", (h) => { const p = h.malloc(400000); return h.free(p + 65536); }, rejects("invalid-free", "interior")],
  ["free(last byte of memory)", (h) => h.free(h.memory.buffer.byteLength - 1), rejects("invalid-free", "misaligned")],
  ["free(beyond memory)", (h) => h.free(h.memory.buffer.byteLength + 65536), rejects("invalid-free", "not-owned")],
  ["free(p) twice", (h) => { const p = h.malloc(40); h.free(p); return h.free(p); }, rejects("double-free", "")],
  ["free(p) twice, operations between", (h) => {
    const p = h.malloc(3000); h.malloc(3000); h.free(p); h.free(h.malloc(100)); h.malloc(20000); return h.free(p);
  }, rejects("double-free", "")],
  ["realloc(freed p, 10)", (h) => { const p = h.malloc(40); h.free(p); return h.realloc(p, 10); }, rejects("double-free", "")],
  ["malloc_usable_size(freed p)", (h) => { const p = h.malloc(500000); h.free(p); return h.usableSize(p); }, rejects("double-free", "")],
];

for (const build of ["release", "checked"]) {
  for (const [input, action, expected] of CASES) {
    test(`${build}: ${input} → ${typeof expected === "object" ? `${expected.kind}${expected.reason ? ` (${expected.reason})` : ""}` : expected === "pointer" ? "a pointer" : expected}`, async () => {
      const heap = await Heap.create({ build, maxMemory: MAX });
      heap.malloc(10); // the heap is set up
      if (typeof expected === "object" && expected !== null) {
        const live = heap.stats().live;
        assert.throws(() => action(heap), (e) => e instanceof WasmMallocError && e.kind === expected.kind && (e.reason === expected.reason || !expected.reason));
        assert.ok(heap.stats().live <= live + 2, "nothing changed beyond the set-up");
        assert.equal(heap.stats().failed, 0);
      } else {
        const value = action(heap);
        if (expected === "pointer") { assert.ok(value > 0 && value % 16 === 0, `got ${value}`); heap.free(value); }
        else assert.equal(value, expected);
        if (expected === 0) assert.equal(heap.stats().errors, 0, "out of memory and bad sizes are not misuse");
      }
      heap.check();
    });
  }
}
