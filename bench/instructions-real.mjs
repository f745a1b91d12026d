#!/usr/bin/env node
// Exact instructions per operation on the real programs' traces (traces/real/),
// wasm-malloc's embed build beside dlmalloc, as a markdown table:
// bench/instructions.mjs for each trace and allocator (callgrind; see there).
// Timings of these traces move by ±25% on a shared machine; these counts repeat
// exactly. Traces of fewer than MIN_OPS operations are left out: start-up noise
// swamps their per-operation figure (zstd-mime's 200 operations gave dlmalloc
// -459 instructions per operation, python-json's 5,723 the bump allocator 343).
// TLSF and the bump floor are left out too: the method replays a trace in
// passes, and neither holds still over passes (the bump allocator never frees,
// so later passes grow memory, and it measured -76 on cc1-pngtest; TLSF
// measured 65 on perl-index against dlmalloc's 232, unexplained), so their
// per-pass difference is not their cost.
//   node bench/instructions-real.mjs [TRACE...]      (after npm run bench built bench/build/)
// About 2 minutes per trace and allocator; the driver's own cost, the same for
// both, is included.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { realTraceFiles, realTraceName } from "../tests/host/traces.mjs";
import { realTraceWorkload } from "./lib/workloads.mjs";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const MIN_OPS = 50000;
const ALLOCATORS = [
  { name: "wasm-malloc", file: path.join(BENCH, "..", "build", "embed.wasm") },
  { name: "dlmalloc", file: path.join(BENCH, "build", "dlmalloc-shared.wasm") },
];

const wanted = process.argv.slice(2);
const files = realTraceFiles().filter((f) => wanted.length === 0 || wanted.includes(realTraceName(f)));
const rows = [];
for (const file of files) {
  const name = realTraceName(file);
  const ops = realTraceWorkload(file).count;
  if (ops < MIN_OPS) { console.error(`${name}: ${ops} operations, left out (fewer than ${MIN_OPS})`); continue; }
  const cells = {};
  for (const a of ALLOCATORS) {
    const r = spawnSync(process.execPath, [path.join(BENCH, "instructions.mjs"), name, a.file], { encoding: "utf8" });
    const m = /(-?\d+) instructions\/op/.exec(r.stdout);
    if (r.status !== 0 || !m) throw new Error(`${name} on ${a.name}: ${r.stderr.slice(-400)}`);
    cells[a.name] = Number(m[1]);
    console.error(`${name} ${a.name} ${cells[a.name]}`);
  }
  rows.push({ name, ops, cells });
}
const geo = (xs) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
console.log("| trace | ops | wasm-malloc | dlmalloc | × dlmalloc |");
console.log("|---|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.name} | ${r.ops.toLocaleString("en-US")} | ${r.cells["wasm-malloc"]} | ${r.cells.dlmalloc} | ${(r.cells["wasm-malloc"] / r.cells.dlmalloc).toFixed(2)}× |`);
}
if (rows.length) console.log(`| **geometric mean** | | | | **${geo(rows.map((r) => r.cells["wasm-malloc"] / r.cells.dlmalloc)).toFixed(2)}×** |`);
