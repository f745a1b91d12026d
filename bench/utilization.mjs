#!/usr/bin/env node
// Utilization of every policy on every CS:APP trace:
//   peak live payload / (peak memory - __heap_base)
// Memory never shrinks, so peak memory is the memory size after the replay.
// Usage: node bench/utilization.mjs [--no-slabs] [--markdown] [TRACE...]
import path from "node:path";
import { Heap, POLICY_NAMES, replay } from "../dist/index.js";
import { parseTraceFile } from "../dist/trace-file.js";
import { traceFiles, tracePlaces } from "../tests/host/traces.mjs";

const args = process.argv.slice(2);
const slabs = !args.includes("--no-slabs");
const files = args.filter((a) => !a.startsWith("--"));
const traces = files.length ? files : traceFiles();
if (traces.length === 0) {
  // Nothing measured is a failure, not an empty table.
  console.error(`no traces: pass .rep files, or set WASM_MALLOC_TRACES (looked in ${tracePlaces()})`);
  process.exit(1);
}

const rows = [];
const sums = Object.fromEntries(POLICY_NAMES.map((p) => [p, { all: 0, big: 0 }]));
let bigCount = 0;
for (const file of traces) {
  const trace = await parseTraceFile(file, path.basename(file));
  const row = { trace: trace.file, peak: 0, cells: {} };
  for (const policy of POLICY_NAMES) {
    const heap = await Heap.create({ policy, slabs });
    const result = replay(heap, trace);
    row.peak = result.peakLivePayload;
    row.cells[policy] = result.utilization;
    sums[policy].all += result.utilization;
    if (result.peakLivePayload >= 512 * 1024) sums[policy].big += result.utilization;
  }
  if (row.peak >= 512 * 1024) bigCount++;
  rows.push(row);
}

const pct = (x) => `${(x * 100).toFixed(1)}%`;
const header = ["trace", "peak live", ...POLICY_NAMES];
const lines = [
  `| ${header.join(" | ")} |`,
  `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ...rows.map((r) => `| ${r.trace} | ${r.peak.toLocaleString("en-US")} | ${POLICY_NAMES.map((p) => pct(r.cells[p])).join(" | ")} |`),
  `| **mean, all ${rows.length}** | | ${POLICY_NAMES.map((p) => pct(sums[p].all / rows.length)).join(" | ")} |`,
];
if (bigCount) lines.push(`| **mean, the ${bigCount} with peak ≥ 512 KiB** | | ${POLICY_NAMES.map((p) => `**${pct(sums[p].big / bigCount)}**`).join(" | ")} |`);
console.log(`Utilization = peak live payload / (peak memory - __heap_base), release build, slabs ${slabs ? "on" : "off"}.\n`);
console.log(lines.join("\n"));
