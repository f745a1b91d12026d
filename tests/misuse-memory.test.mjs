// Running out of memory under a cap (maxMemory): freed memory is usable memory.
//
// Before malloc returns 0 at the cap, every page the layers hold free goes
// back to the page layer (assembly/engines/reclaim.ts): held quick blocks, whole pages
// of free boundary-tag blocks, empty segments (the first one's tail and the
// top one too), empty slab pages; the start map moves down next to the heap
// state, and the page map's page moves down when it parts the run a request
// needs. So an emptied heap serves one block of its whole cap less its
// metadata (two pages and 1/128 of the cap), and any heap serves a block as
// long as the longest stretch of pages that are free in any layer.
import test from "node:test";
import assert from "node:assert/strict";
import { Heap } from "../dist/index.js";

const PAGE = 65536;
const MiB = 2 ** 20;
const POLICIES = ["first", "next", "best", "worst", "segregated"];

/** A seeded generator (LCG), uniform in [0, 1). */
function random(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

/** Sizes from 16 B to 1 MiB, log-uniform: as many small as medium as large blocks. */
const mixedSize = (r) => Math.floor(16 * 2 ** (r() * 16));

/** malloc mixed sizes until malloc returns 0; the live pointers. */
function fill(heap, r) {
  const live = [];
  for (;;) {
    const p = heap.malloc(mixedSize(r));
    if (p === 0) return live;
    live.push(p);
  }
}

/** The largest size malloc serves now (binary search; each success is freed at once). */
function largestMalloc(heap, cap) {
  let lo = 0, hi = cap + 1; // lo succeeds (malloc(0) aside), hi fails
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const p = heap.malloc(mid);
    if (p !== 0) { heap.free(p); lo = mid; } else hi = mid;
  }
  return lo;
}

/**
 * Pages free in any layer, from the walk: a page is free when every entry on
 * it is free (a free page run, a free or held boundary-tag block, a free slab
 * slot) or a slab page's header (its page is free when all its slots are).
 * Returns the longest stretch of such pages, and the longest free page run.
 */
function freePages(heap) {
  const blocked = new Set();
  let first = Infinity, last = 0, longestRun = 0;
  for (const b of heap.walk()) {
    const from = Math.floor(b.address / PAGE), to = Math.ceil((b.address + b.size) / PAGE);
    first = Math.min(first, from);
    last = Math.max(last, to);
    if (b.layer === "pages") longestRun = Math.max(longestRun, b.size / PAGE);
    if (b.state === "free" || b.layer === "slab-header") continue;
    for (let page = from; page < to; page++) blocked.add(page);
  }
  let longest = 0, length = 0;
  for (let page = first; page < last; page++) {
    length = blocked.has(page) ? 0 : length + 1;
    longest = Math.max(longest, length);
  }
  return { longest, longestRun };
}

for (const policy of POLICIES) {
  for (const slabs of [true, false]) {
    test(`${policy} fit, slabs ${slabs ? "on" : "off"}: a heap filled to its 100 MiB cap and emptied serves one block of the cap less its metadata`, async () => {
      const cap = 100 * MiB;
      const heap = await Heap.create({ policy, slabs, maxMemory: cap });
      const live = fill(heap, random(42));
      assert.ok(live.length > 100, `the fill made ${live.length} blocks`);
      for (const p of live) heap.free(p);
      heap.check();
      // What is not the program's: the heap state's page (with the first
      // segment), the page map's (its own page past 32 MiB), and the pages of
      // the start map (1/128 of the cap, moved down next to the heap state).
      const metadata = 2 * PAGE + Math.ceil((cap / 128 + 16) / PAGE) * PAGE;
      const largest = largestMalloc(heap, cap);
      assert.ok(largest >= cap - metadata, `the largest block is ${(largest / MiB).toFixed(3)} MiB of a ${cap / MiB} MiB cap`);
      assert.ok(heap.memory.buffer.byteLength <= cap, "the cap holds");
      heap.check();
      // What is left after the reclaim is a working heap: it fills again.
      const again = fill(heap, random(43));
      assert.ok(again.length > 100, `the second fill made ${again.length} blocks`);
      heap.check();
    });

    test(`${policy} fit, slabs ${slabs ? "on" : "off"}: at the cap, a block as long as the longest stretch of pages free in any layer is served`, async () => {
      const cap = 48 * MiB; // past 32 MiB: the page map has a page of its own
      let reclaimed = 0;
      for (const seed of [3, 4, 5, 6, 7, 8, 9, 10]) {
        const heap = await Heap.create({ policy, slabs, maxMemory: cap });
        const r = random(seed);
        const live = fill(heap, r);
        // Free about two blocks in three, at random: holes in every layer.
        const kept = [];
        for (const p of live) if (r() < 0.65) heap.free(p); else kept.push(p);
        heap.check();
        const { longest, longestRun } = freePages(heap);
        if (longest > longestRun) reclaimed++;
        const p = heap.malloc(longest * PAGE);
        assert.notEqual(p, 0, `seed ${seed}: malloc(${longest} pages) returned 0; free pages in the layers make a stretch of ${longest}, the longest free run is ${longestRun}`);
        heap.check();
        heap.free(p);
        for (const q of kept) heap.free(q);
        heap.check();
      }
      // The case under test: the stretch needed pages the layers held.
      assert.ok(reclaimed > 0, "in some seed the longest stretch was longer than every free page run");
    });
  }
}

test("at the cap, the page map's page moves down only when that joins the run a request needs", async () => {
  const cap = 48 * MiB;
  const heap = await Heap.create({ maxMemory: cap });
  const metaPage = () => heap.pageMap().find((e) => e.kind === "meta")?.page;
  const a = heap.malloc(30 * MiB); // a run from page 1 on
  const b = heap.malloc(4 * MiB);  // past 32 MiB: the map takes the page after the growth
  const before = metaPage();
  assert.ok(before !== undefined && before * PAGE > a, `the map's page (${before}) lies above the first block`);
  // A request that fits without the move leaves the map where it is.
  heap.free(b);
  const c = heap.malloc(4 * MiB);
  assert.notEqual(c, 0);
  assert.equal(metaPage(), before, "no move when a run fits");
  heap.free(c);
  heap.free(a);
  // The whole cap less the heap state's page and the map's: the map moves to page 1.
  const all = heap.malloc(cap - 2 * PAGE);
  assert.notEqual(all, 0, "one block of the cap less two pages");
  assert.equal(metaPage(), 1, "the map's page is the lowest free page");
  assert.equal(all, 2 * PAGE);
  heap.check();
  heap.free(all);
  heap.check();
});
