#!/usr/bin/env node
// SQLite 3.53.2 (tests/embed/sqlite.mjs) under the workload of
// tests/embed/c/sqlite-workload.c, three ways on the same node:wasi host:
//
//   dlmalloc            built with wasi-libc's malloc (clang -O2)
//   wasm-malloc link    the shim build merged with the allocator by `wasm-malloc
//                       link` (default options: -O1 over the whole, segregated fit)
//   wasm-malloc link -O3 the same at -O3, which inlines the allocator into SQLite
//   linkAllocator       the shim build and build/embed.wasm linked by the host
//
// Time: `_start` alone (bench/sqlite-run.mjs), wall-clock and the process's CPU
// time, median of ROUNDS fresh processes, the ways interleaved and rotated in
// each round. On a shared machine the CPU time is the steadier of the two: it
// leaves out the time spent waiting for a core. Peak memory: the memory's
// size after the run. Every run's output is checked against the dlmalloc
// run's, byte for byte. Writes RESULTS.md's "sqlite" section.
//
//   node bench/sqlite.mjs [--rounds N] [--rows N]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BENCH, REPO } from "./lib/build.mjs";
import { writeKept } from "./lib/kept.mjs";
import { buildSqliteWorkload, SQLITE_PACKAGE, SQLITE_VERSION } from "../tests/embed/sqlite.mjs";
import { linkStandalone } from "../dist/index.js";

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i < 0 ? fallback : Number(args[i + 1]); };
const ROUNDS = option("--rounds", 7);
const ROWS = option("--rows", 100000);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-bench-sqlite-"));
try {
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");
  const loadBefore = load();
  console.log("building SQLite at -O2 …");
  const { dlmalloc, shim } = await buildSqliteWorkload(dir, "-O2");
  const link = async (optimize) => {
    console.log(`linking with wasm-malloc link${optimize ? ` -O ${optimize}` : ""} …`);
    const started = Date.now();
    const linked = await linkStandalone(fs.readFileSync(shim), optimize ? { optimize } : {});
    const file = path.join(dir, `sqlite-linked${optimize ? `-O${optimize}` : ""}.wasm`);
    fs.writeFileSync(file, linked.wasm);
    return { file, seconds: (Date.now() - started) / 1000 };
  };
  const standalone = await link();
  const inlined = await link("3");

  const ways = [
    { name: "dlmalloc (wasi-libc)", mode: "plain", file: dlmalloc },
    { name: "wasm-malloc link", mode: "plain", file: standalone.file },
    { name: "wasm-malloc link -O3", mode: "plain", file: inlined.file },
    { name: "linkAllocator", mode: "host", file: shim },
  ];
  const runOnce = (way, round) => new Promise((resolve, reject) => {
    const report = path.join(dir, `report-${round}.json`);
    const child = spawn(process.execPath, ["--no-turbo-fast-api-calls", "--no-warnings", path.join(BENCH, "sqlite-run.mjs"), way.mode, way.file, report, String(ROWS)],
      { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk) => { stdout += chunk; });
    child.on("close", (code) => {
      if (code !== 0 || !fs.existsSync(report)) return reject(new Error(`${way.name}: exit ${code}`));
      const result = JSON.parse(fs.readFileSync(report, "utf8"));
      if (result.exit !== 0) return reject(new Error(`${way.name}: the program exited ${result.exit}`));
      resolve({ ...result, stdout });
    });
  });
  const results = ways.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round, so no way always runs first (or right after another).
    for (let k = 0; k < ways.length; k++) {
      const i = (k + round) % ways.length;
      const result = await runOnce(ways[i], round);
      results[i].push(result);
    }
    console.log(`round ${round + 1}/${ROUNDS}: ${ways.map((w, i) => `${w.name} ${results[i].at(-1).ms.toFixed(0)} ms (CPU ${results[i].at(-1).cpuMs.toFixed(0)})`).join(", ")}`);
  }
  const reference = results[0][0].stdout;
  for (const [i, runs] of results.entries()) {
    for (const run of runs) if (run.stdout !== reference) throw new Error(`${ways[i].name} printed something else than dlmalloc`);
  }
  if (!/sqlite-workload: ok\n$/.test(reference)) throw new Error("the workload did not finish");

  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const figures = results.map((runs) => ({
    median: median(runs.map((r) => r.ms)), min: Math.min(...runs.map((r) => r.ms)), cpu: median(runs.map((r) => r.cpuMs)),
    memory: Math.max(...runs.map((r) => r.memoryBytes)),
  }));
  const base = figures[0];
  const size = (file) => fs.statSync(file).size.toLocaleString("en-US");
  const md = [
    "## SQLite: wasm-malloc link against dlmalloc and linkAllocator",
    "",
    `\`node bench/sqlite.mjs --rounds ${ROUNDS}\` · ${new Date().toISOString().replace(/\.\d+Z$/, "Z")} · SQLite ${SQLITE_VERSION} (the amalgamation in ${SQLITE_PACKAGE}), clang -O2 · ${ROWS.toLocaleString("en-US")} rows · Node ${process.version} · load average ${loadBefore} at the start, ${load()} at the end.`,
    "",
    "The workload (tests/embed/c/sqlite-workload.c): an in-memory database, rows of random text inserted in one transaction, two indexes, aggregates, 2,000 index range counts, a sort of the whole table, a self-join, updates that grow a third of the rows, deletes of a fifth, a checksum of what is left across VACUUM, integrity_check. Every run prints the same bytes as the dlmalloc run (checked).",
    `Time: \`_start\` alone, wall-clock median (minimum) and CPU time median of ${ROUNDS} fresh processes per way, interleaved; the ratios are of CPU time, the steadier figure on a shared machine. Peak memory: the memory's size after the run (memory.buffer.byteLength). Module sizes: dlmalloc's ${size(dlmalloc)} B, the shim build ${size(shim)} B, linked ${size(standalone.file)} B (${standalone.seconds.toFixed(0)} s to link), at -O3 ${size(inlined.file)} B (${inlined.seconds.toFixed(0)} s).`,
    "",
    "| way | wall, median (min) | CPU, median | × dlmalloc | peak memory | × dlmalloc |",
    "|---|---:|---:|---:|---:|---:|",
    ...ways.map((way, i) => `| ${way.name} | ${figures[i].median.toFixed(0)} ms (${figures[i].min.toFixed(0)}) | ${figures[i].cpu.toFixed(0)} ms | ${(figures[i].cpu / base.cpu).toFixed(2)}× | ${mib(figures[i].memory)} | ${(figures[i].memory / base.memory).toFixed(2)}× |`),
  ];
  console.log(`\n${md.join("\n")}`);
  writeKept(path.join(BENCH, "RESULTS.md"), "sqlite", md.join("\n"));
  console.log(`\nwrote the "sqlite" section of ${path.relative(REPO, path.join(BENCH, "RESULTS.md"))}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
