#!/usr/bin/env node
// Utilization over seeds: how much a synthetic workload's memory figure moves
// with its random draw, for one or more builds of the allocator. s4's moves by
// about ±4 points from seed to seed (any change of placement reshuffles its
// holes), so a change is judged by the mean over many seeds, not by the
// benchmark's one.
//
//   node bench/seeds.mjs WORKLOAD SEEDS FILE.wasm...
//   e.g. node bench/seeds.mjs s4 24 build/release.wasm /tmp/other.wasm
//
// Seeds 1000 + 7919·k, k = 0 … SEEDS-1 (s3 has none: it is the same stream
// each time); s2 runs at 1/4 of its size. Each build runs in a fresh instance
// (its own memory, the default policy, or --policy NAME). Prints per build the
// mean utilization, peak live payload / (memory − __heap_base), then each
// seed's.
import fs from "node:fs";
import { synthetic, SYNTHETIC } from "./lib/workloads.mjs";
import { LAYOUT } from "../dist/layout.js";

const args = process.argv.slice(2);
const policyAt = args.indexOf("--policy");
const policy = policyAt >= 0 ? args.splice(policyAt, 2)[1] : null;
const [name, seedsArg, ...files] = args;
if (!SYNTHETIC.includes(name) || !(Number(seedsArg) > 0) || files.length === 0) {
  console.error("usage: node bench/seeds.mjs WORKLOAD SEEDS FILE.wasm... [--policy first|next|best|worst|segregated]");
  process.exit(2);
}

function utilization(module, w) {
  const env = {};
  for (const imp of WebAssembly.Module.imports(module)) if (imp.kind === "function") env[imp.name] = () => 0;
  const e = new WebAssembly.Instance(module, { env }).exports;
  if (policy !== null) {
    const id = LAYOUT[`POLICY_${policy.toUpperCase()}`];
    if (id === undefined || e.heap_configure(id, 0, 0) !== 0) throw new Error(`unknown policy '${policy}'`);
  }
  const slots = new Int32Array(w.slots);
  for (let i = 0; i < w.count; i++) {
    const code = w.codes[i], kind = code >>> 30, slot = code & 0x3fffffff;
    if (kind === 0) slots[slot] = e.malloc(w.sizes[i]);
    else if (kind === 1) e.free(slots[slot]);
    else slots[slot] = e.realloc(slots[slot], w.sizes[i]);
  }
  return w.peakLive / (e.memory.buffer.byteLength - e.heap_base());
}

const modules = files.map((f) => new WebAssembly.Module(fs.readFileSync(f)));
const figures = files.map(() => []);
for (let k = 0; k < Number(seedsArg); k++) {
  const w = synthetic(name, name === "s2" ? 0.25 : 1, 1000 + 7919 * k);
  modules.forEach((m, j) => figures[j].push(utilization(m, w)));
}
const pct = (x) => (100 * x).toFixed(1);
files.forEach((f, j) => {
  const mean = figures[j].reduce((a, b) => a + b, 0) / figures[j].length;
  console.log(`${name} ${f}: mean ${pct(mean)}% over ${figures[j].length} seeds [${figures[j].map(pct).join(" ")}]`);
});
