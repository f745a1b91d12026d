#!/usr/bin/env node
// What placement alone can do for s4: its operation streams replayed over a
// model heap that holds nothing but runs (no headers, no other layers, no
// metadata), under first fit and best fit, with the run reaching the top of
// the heap taken last or not, and with exact growth or steps of 1/32 of the
// heap past 16 MiB. A bound for the real allocator's s4 utilization, which
// adds boundary-tag blocks for the sizes that waste over 1/8 of a page run.
//
//   node bench/s4-placement.mjs [SEEDS] [--granule BYTES]
//
// --granule 65536 (the default): runs of whole 64 KiB pages, as the page
// layer hands out; --granule 16: byte-exact blocks, as dlmalloc's best fit.
// The first column is the benchmark's own seed, then the mean over SEEDS
// (seeds as in bench/seeds.mjs).
import { synthetic } from "./lib/workloads.mjs";

const args = process.argv.slice(2);
const granuleAt = args.indexOf("--granule");
const GRANULE = granuleAt >= 0 ? Number(args.splice(granuleAt, 2)[1]) : 65536;
const SEEDS = Number(args[0] ?? 12);
const GROW_STEP_FROM = (16 << 20) / GRANULE; // granules

/** Index of the free run (sorted [start, length] pairs) to use, or -1 to grow. */
const POLICIES = {
  "first fit": (free, n) => free.findIndex(([, len]) => len >= n),
  "best fit": (free, n) => {
    let best = -1;
    free.forEach(([, len], j) => { if (len >= n && (best < 0 || len < free[best][1])) best = j; });
    return best;
  },
  "best fit, top run last": (free, n, top) => {
    let best = -1, atTop = -1;
    free.forEach(([start, len], j) => {
      if (len < n) return;
      if (start + len === top) atTop = j;
      else if (best < 0 || len < free[best][1]) best = j;
    });
    return best >= 0 ? best : atTop;
  },
};
const GROWTH = {
  exact: () => 0,
  "1/32": (top) => (top >= GROW_STEP_FROM ? top >> 5 : 0),
};

/** Peak live payload / peak heap for stream `w` under `pick` and `step`. */
function replay(w, pick, step) {
  const free = []; // address-ordered [start, length], coalesced
  let top = 0;
  const at = new Float64Array(w.slots), len = new Float64Array(w.slots), size = new Float64Array(w.slots);
  let live = 0, peakLive = 0;
  for (let i = 0; i < w.count; i++) {
    const code = w.codes[i], kind = code >>> 30, slot = code & 0x3fffffff;
    if (kind === 0) {
      const n = Math.ceil(w.sizes[i] / GRANULE);
      size[slot] = w.sizes[i];
      live += w.sizes[i];
      peakLive = Math.max(peakLive, live);
      const j = pick(free, n, top);
      let start;
      if (j < 0) {
        // Grow by what the free run at the top lacks (or the step).
        const last = free.length > 0 && free[free.length - 1][0] + free[free.length - 1][1] === top ? free.pop() : null;
        start = last ? last[0] : top;
        top += Math.max(start + n - top, step(top));
        if (top > start + n) free.push([start + n, top - start - n]);
      } else {
        start = free[j][0];
        free[j][0] += n;
        free[j][1] -= n;
        if (free[j][1] === 0) free.splice(j, 1);
      }
      at[slot] = start;
      len[slot] = n;
    } else if (kind === 1) {
      live -= size[slot];
      let s = at[slot], n = len[slot], k = 0;
      while (k < free.length && free[k][0] < s) k++;
      if (k > 0 && free[k - 1][0] + free[k - 1][1] === s) { k--; s = free[k][0]; n += free[k][1]; free.splice(k, 1); }
      if (k < free.length && s + n === free[k][0]) { n += free[k][1]; free.splice(k, 1); }
      free.splice(k, 0, [s, n]);
    }
  }
  return peakLive / (top * GRANULE);
}

const streams = [synthetic("s4", 1)];
for (let k = 0; k < SEEDS; k++) streams.push(synthetic("s4", 1, 1000 + 7919 * k));
console.log(`s4 over a model heap of ${GRANULE}-byte granules: utilization at the bench's seed, then the mean over ${SEEDS} seeds`);
for (const [policyName, pick] of Object.entries(POLICIES)) {
  for (const [growthName, step] of Object.entries(GROWTH)) {
    const [own, ...rest] = streams.map((w) => replay(w, pick, step));
    const mean = rest.reduce((a, b) => a + b, 0) / rest.length;
    console.log(`${policyName.padEnd(24)} growth ${growthName.padEnd(5)}  ${(100 * own).toFixed(1)}%  mean ${(100 * mean).toFixed(1)}%`);
  }
}
