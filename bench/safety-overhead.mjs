#!/usr/bin/env node
// What the safety checks cost: the same workloads on the release build, on a
// build with its O(1) pointer checks removed (`unchecked`, benchmark only),
// and on the checked build with quarantines of 0, 1 MiB (default) and 16 MiB.
// JS driver, median of 5 interleaved rounds on fresh instances.
// Usage: node bench/safety-overhead.mjs [--quick]
import fs from "node:fs";
import os from "node:os";
import { loadAllocator } from "../dist/index.js";

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 2 : 5;

function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = Math.imul(s ^ (s >>> 15), s | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

const WORKLOADS = {
  "small pairs (malloc+free, 16..256 B)": (e) => {
    const r = rng(1); const n = quick ? 100000 : 1000000;
    const sizes = Int32Array.from({ length: n }, () => 16 + Math.floor(r() * 241));
    return { ops: 2 * n, run: () => { for (let i = 0; i < n; i++) e.free(e.malloc(sizes[i])); } };
  },
  "churn (5,000 live, free one then malloc, 8 B..16 KiB)": (e) => {
    const r = rng(2); const n = quick ? 50000 : 500000; const live = 5000;
    const sizes = Int32Array.from({ length: n + live }, () => Math.floor(8 * Math.pow(2048, r())));
    const picks = Int32Array.from({ length: n }, () => Math.floor(r() * live));
    return { ops: 2 * n + live, run: () => {
      const ptrs = new Int32Array(live);
      for (let i = 0; i < live; i++) ptrs[i] = e.malloc(sizes[i]);
      for (let i = 0; i < n; i++) { const k = picks[i]; e.free(ptrs[k]); ptrs[k] = e.malloc(sizes[live + i]); }
    } };
  },
};

const VARIANTS = [
  { name: "release", build: "release" },
  { name: "unchecked (no pointer checks)", build: "unchecked" },
  { name: "checked, quarantine 0", build: "checked", quarantine: 0 },
  { name: "checked, quarantine 1 MiB", build: "checked", quarantine: 1 << 20 },
  { name: "checked, quarantine 16 MiB", build: "checked", quarantine: 16 << 20 },
];

async function instance(variant) {
  const bytes = fs.readFileSync(new URL(`../build/${variant.build}.wasm`, import.meta.url));
  const { exports } = await loadAllocator(bytes, () => { throw new Error("misuse in the benchmark"); });
  exports.heap_configure(4, 0, 0);
  if (variant.quarantine !== undefined) exports.heap_set_quarantine(variant.quarantine);
  return exports;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (const [workload, make] of Object.entries(WORKLOADS)) {
  const times = Object.fromEntries(VARIANTS.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of VARIANTS) {
      const e = await instance(variant);
      const { ops, run } = make(e);
      const start = performance.now();
      run();
      times[variant.name].push(((performance.now() - start) * 1e6) / ops);
    }
    process.stderr.write(`\r${workload}: round ${round + 1}/${ROUNDS}   `);
  }
  results[workload] = Object.fromEntries(VARIANTS.map((v) => [v.name, median(times[v.name])]));
}
process.stderr.write("\n");

const lines = [`| build | ${Object.keys(WORKLOADS).join(" | ")} |`, `|---|${Object.keys(WORKLOADS).map(() => "---:").join("|")}|`];
for (const v of VARIANTS) {
  lines.push(`| ${v.name} | ${Object.keys(WORKLOADS).map((w) => `${results[w][v.name].toFixed(1)} ns (${(results[w][v.name] / results[w].release).toFixed(2)}x)`).join(" | ")} |`);
}
console.log(`ns per operation (median of ${ROUNDS}), ratio to release; node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cores\n`);
console.log(lines.join("\n"));
