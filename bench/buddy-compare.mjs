#!/usr/bin/env node
// The buddy engine against the default engine (segregated fit + slabs) on every
// CS:APP trace: utilization, rounding, and speed.
//   utilization = peak live payload / (peak memory - __heap_base)
//   usable/asked = bytes the blocks offer / bytes asked, over every malloc and
//                  realloc of the trace (the cost of rounding to size classes,
//                  16-byte units or powers of two)
//   kops/s       = best of RUNS replays (default 5), each on a fresh heap
// Usage: node bench/buddy-compare.mjs [--markdown] [TRACE...]   (npm run build first)
import path from "node:path";
import { Heap, replay } from "../dist/index.js";
import { parseTraceFile } from "../dist/trace-file.js";
import { traceFiles, tracePlaces } from "../tests/host/traces.mjs";

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith("--"));
const traces = files.length ? files : traceFiles();
const RUNS = Number(process.env.RUNS ?? 5);
if (traces.length === 0) {
  // Nothing measured is a failure, not an empty table.
  console.error(`no traces: pass .rep files, or set WASM_MALLOC_TRACES (looked in ${tracePlaces()})`);
  process.exit(1);
}
const ENGINES = [["default", {}], ["buddy", { engine: "buddy" }]];

/** Usable bytes over asked bytes, summed over every allocation of the trace. */
async function rounding(trace, options) {
  const heap = await Heap.create(options);
  const ptrs = new Map();
  let asked = 0, usable = 0;
  for (const op of trace.ops) {
    if (op.kind === "f") { heap.free(ptrs.get(op.id)); ptrs.delete(op.id); continue; }
    const p = op.kind === "a" ? heap.malloc(op.size) : heap.realloc(ptrs.get(op.id), op.size);
    ptrs.set(op.id, p);
    if (op.size > 0) { asked += op.size; usable += heap.usableSize(p); }
  }
  return usable / asked;
}

const rows = [];
for (const file of traces) {
  const trace = await parseTraceFile(file, path.basename(file));
  const row = { trace: trace.file, ops: trace.ops.length };
  for (const [name, options] of ENGINES) {
    let best = 0, result = null;
    for (let run = 0; run < RUNS; run++) {
      const r = replay(await Heap.create(options), trace);
      result = r;
      best = Math.max(best, r.seconds > 0 ? r.ops / r.seconds : 0);
    }
    row[name] = { utilization: result.utilization, heapBytes: result.heapBytes, opsPerSecond: best, rounding: await rounding(trace, options) };
  }
  rows.push(row);
}

const pct = (x) => `${(x * 100).toFixed(1)}%`;
const k = (x) => Math.round(x / 1000).toLocaleString("en-US");
const mean = (f) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
const header = ["trace", "ops", "default util", "buddy util", "default usable/asked", "buddy usable/asked", "default kops/s", "buddy kops/s", "buddy speed"];
const body = rows.map((r) => [r.trace, r.ops.toLocaleString("en-US"), pct(r.default.utilization), pct(r.buddy.utilization),
  r.default.rounding.toFixed(2), r.buddy.rounding.toFixed(2), k(r.default.opsPerSecond), k(r.buddy.opsPerSecond),
  `${(r.buddy.opsPerSecond / r.default.opsPerSecond).toFixed(2)}×`]);
body.push([`mean of ${rows.length}`, "", pct(mean((r) => r.default.utilization)), pct(mean((r) => r.buddy.utilization)),
  mean((r) => r.default.rounding).toFixed(2), mean((r) => r.buddy.rounding).toFixed(2), "", "",
  `${mean((r) => r.buddy.opsPerSecond / r.default.opsPerSecond).toFixed(2)}×`]);

console.log(`Default engine (segregated fit, slabs) vs buddy engine, release builds, Node ${process.versions.node}; kops/s best of ${RUNS}.\n`);
if (args.includes("--markdown")) {
  console.log(`| ${header.join(" | ")} |\n|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const r of body) console.log(`| ${r.join(" | ")} |`);
} else {
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  for (const r of all) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));
}
