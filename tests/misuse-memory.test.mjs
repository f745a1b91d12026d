// Running out of memory under a cap (maxMemory): freed memory is usable memory.
//
// Before malloc returns 0 at the cap, every page the layers hold free goes
// back to the page layer (assembly/reclaim.ts): held quick blocks, whole pages
// of free boundary-tag blocks, empty segments (the first one's tail and the
// top one too), empty slab pages. So any heap serves a block as long as the
// longest stretch of pages that are free in any layer.
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
    test(`${policy} fit, slabs ${slabs ? "on" : "off"}: at the cap, a block as long as the longest stretch of pages free in any layer is served`, async () => {
      const cap = 48 * MiB; // past 32 MiB: the page map has a page of its own
      let reclaimed = 0;
      for (const seed of [3, 4, 5]) {
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
