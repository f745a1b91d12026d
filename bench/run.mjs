#!/usr/bin/env node
// The benchmark: wasm-malloc against AssemblyScript's TLSF, wasi-libc's
// dlmalloc and a bump allocator, under a JS driver and a Wasm driver, on the
// traces of real programs (traces/real/, first), the synthetic workloads
// s1..s5 and the CS:APP traces. Writes RESULTS.md, the
// figures as JSON, and SVG charts. See bench/RESULTS.md for what is measured.
//
//   node bench/run.mjs [--quick] [--only real,s1,s2,traces,amptjp-bal] [--rounds N]
//                      [--drivers js,wasm] [--policies segregated,first,best]
//                      [--out DIR]
//
// `npm run bench` builds the allocator first, then runs this.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { BENCH, REPO, buildPeers } from "./lib/build.mjs";
import { allocatorList, compileAll, runOnce } from "./lib/allocators.mjs";
import { SYNTHETIC, realTraceWorkload, synthetic, traceWorkload } from "./lib/workloads.mjs";
import { aggregate, writeReport } from "./lib/report.mjs";
import { realTraceFiles, realTraceName, traceFiles, tracePlaces } from "../tests/host/traces.mjs";

const USAGE = `usage: node bench/run.mjs [options]
  --quick              small workloads, 2 rounds, traces once each: a smoke test
  --only LIST          workloads to run, comma-separated: "real" (every trace of
                       traces/real/) or one of them (sqlite-orders), s1 s2 s3 s4
                       s5 s5r, "traces" (every CS:APP trace) or one (amptjp-bal)
  --rounds N           fresh instances per allocator and workload (default 7; quick 2)
  --drivers LIST       js,wasm (default both)
  --policies LIST      wasm-malloc placement policies (default segregated,first,best;
                       best, next and worst run on the CS:APP traces only; the real
                       traces run the default policy, TLSF and dlmalloc)
  --no-checked         leave out the checked build
  --out DIR            where RESULTS.md, results.json and the charts go (default bench/)
  --help               this text`;

function parseArgs(argv) {
  const o = { quick: false, only: null, rounds: null, drivers: ["js", "wasm"], policies: ["segregated", "first", "best"], checked: true, out: BENCH };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--quick") o.quick = true;
    else if (a === "--only") o.only = value().split(",").map((s) => s.trim()).filter(Boolean);
    else if (a === "--rounds") o.rounds = Number(value());
    else if (a === "--drivers") o.drivers = value().split(",").map((s) => s.trim());
    else if (a === "--policies") o.policies = value().split(",").map((s) => s.trim());
    else if (a === "--no-checked") o.checked = false;
    else if (a === "--out") o.out = path.resolve(value());
    else if (a === "--help" || a === "-h") { console.log(USAGE); process.exit(0); }
    else usage(`unknown option '${a}'`);
  }
  if (o.rounds !== null && !(Number.isInteger(o.rounds) && o.rounds >= 1)) usage("--rounds takes a whole number >= 1");
  if (o.rounds === null) o.rounds = o.quick ? 2 : 7;
  for (const d of o.drivers) if (d !== "js" && d !== "wasm") usage(`unknown driver '${d}'`);
  for (const p of o.policies) if (!["segregated", "first", "next", "best", "worst"].includes(p)) usage(`unknown policy '${p}'`);
  if (!o.policies.includes("segregated")) o.policies.unshift("segregated");
  return o;
}

function usage(message) {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

// A full collection before each measurement (outside the timing), so garbage
// of the previous instance (its memory) does not land on the next one.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc");

const opts = parseArgs(process.argv.slice(2));
const loadAtStart = os.loadavg().map((x) => x.toFixed(2)).join(" ");
const commitAtStart = (() => {
  const git = (...args) => spawnSync("git", args, { cwd: REPO, encoding: "utf8" }).stdout?.trim();
  const head = git("rev-parse", "--short", "HEAD");
  const dirty = git("status", "--porcelain", "--", "assembly", "asconfig.json");
  return head ? `${head}${dirty ? " + uncommitted changes in assembly/" : ""}` : "unknown";
})();
const started = Date.now();
const scale = opts.quick ? 0.01 : 1;
const traceMinOps = opts.quick ? 0 : 200_000;
const tty = process.stderr.isTTY;
// On a terminal one line, rewritten; in a log, a line per workload and round.
const progress = (line, done = false) => {
  if (tty) process.stderr.write(`\r\x1b[K${line}${done ? "\n" : ""}`);
  else if (done) process.stderr.write(`${line}\n`);
};
const say = (line) => { if (tty) process.stderr.write("\r\x1b[K"); console.log(line); };

// ── Builds ──────────────────────────────────────────────────────────────────
for (const f of ["release.wasm", "embed.wasm", ...(opts.checked ? ["checked.wasm"] : [])]) {
  if (!fs.existsSync(path.join(REPO, "build", f))) {
    console.error(`bench: build/${f} is missing: run \`npm run build\` first (\`npm run bench\` does)`);
    process.exit(1);
  }
}
const built = await buildPeers((line) => say(line));
for (const note of built.notes) say(note);

// ── Workloads ───────────────────────────────────────────────────────────────
const wanted = (name) => !opts.only || opts.only.includes(name);
const workloads = [];
// The real programs first: the yardstick (issue 19). Replayed whole, --quick too.
const realTraces = realTraceFiles();
for (const file of realTraces) if (wanted("real") || wanted(realTraceName(file))) workloads.push(realTraceWorkload(file));
for (const name of SYNTHETIC) if (wanted(name)) workloads.push(synthetic(name, scale));
const traces = traceFiles();
if (opts.only) {
  const known = new Set([...SYNTHETIC, "traces", ...traces.map((f) => path.basename(f, ".rep")), "real", ...realTraces.map(realTraceName)]);
  for (const name of opts.only) if (!known.has(name)) usage(`unknown workload '${name}'${traces.length ? "" : " (no traces found)"}`);
}
const tracesWanted = !opts.only || opts.only.includes("traces") || traces.some((f) => opts.only.includes(path.basename(f, ".rep")));
if (tracesWanted) {
  if (traces.length === 0) say(`traces: skipped (no .rep files in ${tracePlaces()})`);
  for (const file of traces) {
    if (opts.only && !opts.only.includes("traces") && !opts.only.includes(path.basename(file, ".rep"))) continue;
    workloads.push(traceWorkload(file, traceMinOps));
  }
}
if (workloads.length === 0) usage("no workloads selected");
say(`workloads: ${workloads.map((w) => `${w.name} (${w.count.toLocaleString("en-US")} ops)`).join(", ")}`);

// ── Allocators ──────────────────────────────────────────────────────────────
const allocators = allocatorList({ files: built.files, policies: opts.policies, checked: opts.checked });
// The real traces run against the two peers only: the list-walking policies take
// tens of µs per operation with 10^5 live blocks, and the rest is not what they ask.
const REAL_PEERS = new Set(["wasm-malloc", "TLSF", "dlmalloc"]);
for (const a of allocators) {
  if (REAL_PEERS.has(a.id)) continue;
  const skip = a.skip;
  a.skip = (w) => !!w.real || (skip ? skip(w) : false);
}
const driverCompiled = await compileAll(allocators, built.files.driver);
const runs = (a, w, driver) => !!a.compiled[driver] && !(a.skip && a.skip(w));

// The checked build is slower by design (tens of times on churn, more on
// large blocks, which it poisons and quarantines): it runs against the
// release build, JS driver, within the same rounds, on smaller versions of
// the workloads: 1/10 of s1, s3, s5 and s5r, 1/50 of s2 and s4 (minutes per
// round otherwise), traces replayed to 20,000 operations.
const CHECKED_SCALE = { s1: 0.1, s2: 0.02, s3: 0.1, s4: 0.02, s5: 0.1, s5r: 0.1 };
const release = allocators.find((a) => a.id === "wasm-malloc");
const checkedBuild = allocators.find((a) => a.checkedBuild);
const checkedPair = checkedBuild && opts.drivers.includes("js") ? [release, { ...checkedBuild, skip: null }] : null;
const checkedWorkloads = checkedPair
  ? workloads.filter((w) => !w.real).map((w) => (w.trace ? traceWorkload(w.file, opts.quick ? 0 : 20_000) : synthetic(w.name, opts.quick ? scale : CHECKED_SCALE[w.name])))
  : [];

// Warm-up: every allocator under every driver on small mixed workloads, so
// that no measured round pays for the engine's tier-up of the allocator code.
{
  const warm = [synthetic("s2", 0.005), synthetic("s3", 0.004), synthetic("s5r", 0.01)];
  for (const driver of opts.drivers) {
    for (const a of checkedPair && driver === "js" ? [...allocators.filter((x) => !x.checkedBuild), checkedPair[1]] : allocators) {
      if (!a.compiled[driver]) continue;
      progress(`warm-up: ${driver} driver, ${a.id}`);
      for (const w of warm) runOnce(a, w, driver, driverCompiled);
    }
  }
}

// ── Rounds ──────────────────────────────────────────────────────────────────
// Each round gives every allocator one fresh instance per workload and
// driver. The allocator order rotates from round to round, so drift (heat,
// other load, the engine's state) hits them all alike.
const passes = [{ workloads, allocators, drivers: opts.drivers, samples: [] }];
if (checkedPair) passes.push({ workloads: checkedWorkloads, allocators: checkedPair, drivers: ["js"], samples: [], label: "checked vs release, " });
const total = opts.rounds * passes.reduce((s, p) => s + p.workloads.reduce((t, w) => t + p.drivers.reduce((u, d) => u + p.allocators.filter((a) => runs(a, w, d)).length, 0), 0), 0);
let done = 0;
const t0 = Date.now();
for (let round = 0; round < opts.rounds; round++) {
  for (const pass of passes) {
    for (const w of pass.workloads) {
      for (const driver of pass.drivers) {
        const order = pass.allocators.filter((a) => runs(a, w, driver));
        const k = round % Math.max(1, order.length);
        for (const a of [...order.slice(k), ...order.slice(0, k)]) {
          const elapsed = (Date.now() - t0) / 1000;
          const eta = done ? ` · ${Math.round((elapsed / done) * (total - done))} s left` : "";
          progress(`round ${round + 1}/${opts.rounds} · ${pass.label ?? ""}${w.name} · ${driver} driver · ${a.id} · ${done}/${total}${eta}`);
          gc();
          let sample;
          try {
            sample = runOnce(a, w, driver, driverCompiled);
          } catch (err) {
            sample = { error: String(err?.message ?? err).split("\n")[0] };
          }
          pass.samples.push({ round, driver, workload: w.name, alloc: a.id, ...sample });
          done++;
        }
      }
      if (!tty) progress(`round ${round + 1}/${opts.rounds} · ${pass.label ?? ""}${w.name} · ${done}/${total} runs · ${Math.round((Date.now() - t0) / 1000)} s`, true);
    }
  }
  progress(`round ${round + 1}/${opts.rounds} done (${Math.round((Date.now() - t0) / 1000)} s)`, true);
}

// ── Results ─────────────────────────────────────────────────────────────────
const cpu = (() => {
  try {
    return /model name\s*:\s*(.*)/.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? os.cpus()[0]?.model;
  } catch { return os.cpus()[0]?.model ?? "unknown"; }
})();
const machine = {
  node: process.version,
  nproc: os.availableParallelism?.() ?? os.cpus().length,
  cpu,
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  os: `${os.type()} ${os.release()}`,
  clang: built.clang,
  date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  load: `${loadAtStart} at the start, ${os.loadavg().map((x) => x.toFixed(2)).join(" ")} at the end`,
  commit: commitAtStart,
  seconds: Math.round((Date.now() - started) / 1000),
};
const command = `node bench/run.mjs${process.argv.slice(2).length ? " " + process.argv.slice(2).join(" ") : ""}`;
const results = aggregate({ samples: passes[0].samples, workloads, allocators, drivers: opts.drivers });
const checked = checkedPair
  ? { results: aggregate({ samples: passes[1].samples, workloads: checkedWorkloads, allocators: checkedPair, drivers: ["js"] }).js, workloads: checkedWorkloads, smaller: !opts.quick }
  : null;
const written = await writeReport({ results, checked, workloads, allocators, drivers: opts.drivers, machine, command, opts, notes: built.notes, outDir: opts.out });
say(written.summary);
say(`wrote ${written.files.map((f) => path.relative(process.cwd(), f) || f).join(", ")} (${machine.seconds} s)`);
