#!/usr/bin/env node
// The threads benchmark: allocator throughput with 1, 2, … worker threads
// over one shared memory (issue 21), printed as a markdown table.
//
//   node bench/threads.mjs [--allocators ID,…] [--workloads churn,mixed,pc] [--workers 1,2,…]
//                          [--driver wasm|js] [--scale F] [--rounds N] [--seed N] [--check] [--no-baseline]
//
// Each measurement is fresh: a new shared memory and new workers, each with
// its own instance of the allocator (bench/lib/threads-run.mjs). Every worker
// runs the same amount of work (its own seeded part), so perfect scaling
// doubles the throughput from 1 to 2 workers. A figure is the median over the
// rounds; rounds interleave allocators and worker counts, so a noisy spell
// of the machine spreads over all of them. The baseline row (an arithmetic
// loop, no allocator) shows how far the machine itself scaled meanwhile: on
// a shared machine, less than 2×.
//
// Drivers: wasm (the default: each worker's loop is peers/threads-driver.ts,
// calling the allocator Wasm to Wasm) or js (a JS loop calling the exports).
// Allocators: bench/lib/threads-allocators.mjs (the locked peers; a build of
// ours joins there with its module path and init/attach calls). --check
// fills and verifies every block and checks alignment (JS driver; slower, the
// figures then measure the checks too).
import fs from "node:fs";
import os from "node:os";
import { buildThreadPeers } from "./lib/build.mjs";
import { threadAllocators } from "./lib/threads-allocators.mjs";
import { compileThreadAllocator, runThreads } from "./lib/threads-run.mjs";
import { THREAD_WORKLOADS } from "./lib/threads-workloads.mjs";

const USAGE = "usage: node bench/threads.mjs [--allocators ID,…] [--workloads churn,mixed,pc] [--workers 1,2,…] [--driver wasm|js] [--scale F] [--rounds N] [--seed N] [--check] [--no-baseline]";

function parseArgs(argv) {
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const opts = {
    allocators: null,
    workloads: ["churn", "mixed", "pc"],
    // 1 and 2 always; more where there are more cores (up to 4).
    workers: Array.from({ length: Math.max(2, Math.min(cpus, 4)) }, (_, i) => i + 1),
    driver: null, scale: 1, rounds: 3, seed: 1, check: false, baseline: true,
  };
  const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => { if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`); return argv[++i]; };
    if (arg === "--allocators") opts.allocators = list(value());
    else if (arg === "--workloads") opts.workloads = list(value());
    else if (arg === "--workers") opts.workers = list(value()).map(Number);
    else if (arg === "--driver") opts.driver = value();
    else if (arg === "--scale") opts.scale = Number(value());
    else if (arg === "--rounds") opts.rounds = Number(value());
    else if (arg === "--seed") opts.seed = Number(value());
    else if (arg === "--check") opts.check = true;
    else if (arg === "--no-baseline") opts.baseline = false;
    else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  for (const w of opts.workloads) if (!THREAD_WORKLOADS[w] || w === "spin") throw new Error(`no workload '${w}' (churn, mixed, pc)`);
  opts.driver ??= opts.check ? "js" : "wasm";
  if (!["js", "wasm"].includes(opts.driver)) throw new Error("--driver: wasm or js");
  if (opts.check && opts.driver !== "js") throw new Error("--check runs under the JS driver");
  if (!opts.workers.every((n) => Number.isInteger(n) && n >= 1)) throw new Error("--workers: positive integers");
  if (!(opts.scale > 0) || !(opts.rounds >= 1) || !Number.isInteger(opts.seed)) throw new Error(USAGE);
  return opts;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/**
 * Runs every (allocator, workload, workers) `rounds` times; returns rows
 * { workload, allocator, byWorkers: {n: median ops/µs}, faults } in table order.
 */
export async function measure({ files, allocators, workloads, workers, driver = "js", scale, rounds, seed, check, log = () => {} }) {
  const driverModule = driver === "wasm" ? await WebAssembly.compile(fs.readFileSync(files["threads-driver"])) : null;
  const compiled = new Map();
  for (const a of allocators) compiled.set(a.id, await compileThreadAllocator(fs.readFileSync(a.file)));
  const rows = [];
  for (const workload of workloads) {
    const ops = Math.max(1, Math.round(THREAD_WORKLOADS[workload].ops * scale));
    // The baseline needs some module to instantiate; it never calls it.
    const runners = workload === "spin" ? [allocators[0]] : allocators;
    const samples = new Map(runners.map((a) => [a.id, new Map(workers.map((n) => [n, []]))]));
    const faults = new Map(runners.map((a) => [a.id, { nulls: 0, misaligned: 0, corrupt: 0, heapCheck: 0 }]));
    for (let round = 0; round < rounds; round++) {
      for (const a of runners) {
        for (const n of workers) {
          const r = await runThreads({ files, alloc: a, compiled: compiled.get(a.id), driver, driverModule, workload, ops, seed: seed + round, workers: n, check });
          samples.get(a.id).get(n).push(r.opsPerUs);
          const f = faults.get(a.id);
          for (const k of ["nulls", "misaligned", "corrupt"]) f[k] += r.faults[k];
          if (r.heapCheck) f.heapCheck++;
          log(`${workload} ${a.id} ${n}w round ${round + 1}: ${fmt(r.opsPerUs)} ops/µs`);
        }
      }
    }
    for (const a of runners) {
      rows.push({
        workload,
        allocator: workload === "spin" ? "(no allocator)" : a.id,
        byWorkers: Object.fromEntries(workers.map((n) => [n, median(samples.get(a.id).get(n))])),
        faults: faults.get(a.id),
      });
    }
  }
  return rows;
}

/** The markdown table: throughput per worker count, then each count's ratio to 1 worker. */
export function table(rows, workers) {
  const scaled = workers.filter((n) => n !== 1);
  const head = ["workload", "allocator", ...workers.map((n) => `ops/µs ${n}w`), ...(workers.includes(1) ? scaled.map((n) => `${n}w/1w`) : [])];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`];
  for (const r of rows) {
    const cells = [r.workload === "spin" ? "baseline" : r.workload, r.allocator, ...workers.map((n) => fmt(r.byWorkers[n]))];
    if (workers.includes(1)) cells.push(...scaled.map((n) => `${(r.byWorkers[n] / r.byWorkers[1]).toFixed(2)}×`));
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { files, notes } = await buildThreadPeers((line) => console.error(line));
  for (const note of notes) console.error(note);
  const known = threadAllocators(files);
  const allocators = opts.allocators
    ? opts.allocators.map((id) => known.find((a) => a.id === id) ?? (() => { throw new Error(`no allocator '${id}' (have ${known.map((a) => a.id).join(", ")})`); })())
    : known;
  if (allocators.length === 0) throw new Error("no allocator to run");
  const started = new Date();
  const load0 = os.loadavg();
  const workloads = opts.baseline ? ["spin", ...opts.workloads] : opts.workloads;
  const rows = await measure({ ...opts, files, allocators, workloads, log: (line) => console.error(line) });
  const load1 = os.loadavg();
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const out = [
    "## Threads: throughput over one shared memory",
    "",
    `\`${["node bench/threads.mjs", ...process.argv.slice(2)].join(" ")}\` · ${started.toISOString().replace(/\.\d+Z$/, "Z")} · ${opts.driver === "wasm" ? "Wasm driver" : "JS driver"} · ${opts.rounds} round(s), median · scale ${opts.scale} · seed ${opts.seed}${opts.check ? " · --check (patterns verified: the figures include the checks)" : ""}`,
    "",
    `Machine: ${cpu}, ${os.cpus().length} CPUs, Node ${process.version}. Load average (1 min): ${load0[0].toFixed(2)} at the start, ${load1[0].toFixed(2)} at the end: a shared machine's figures are noisy, the baseline row says how far it scaled.`,
    "",
    "Per worker: " + opts.workloads.map((w) => `${w}: ${THREAD_WORKLOADS[w].text}, ${Math.round(THREAD_WORKLOADS[w].ops * opts.scale).toLocaleString("en-US")} operations`).join("; ") + ". ops/µs: every worker's operations over the wall time of the run.",
    "",
    table(rows, opts.workers),
  ];
  const bad = rows.filter((r) => r.faults.nulls || r.faults.misaligned || r.faults.corrupt || r.faults.heapCheck);
  for (const r of bad) out.push("", `**${r.allocator} on ${r.workload}:** ${JSON.stringify(r.faults)}`);
  console.log(out.join("\n"));
  if (bad.length) process.exitCode = 1;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname)) {
  main().catch((err) => { console.error(err.message); process.exit(2); });
}
