// The benchmark harness, smoke-tested: `bench/run.mjs --quick` on one small
// workload builds its peers, runs every allocator under both drivers, and
// writes RESULTS.md with a row of numbers per allocator. (The figures of a
// quick run mean nothing; only that they are there.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const out = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-bench-"));
const NUMBER = String.raw`[\d,]+(?:\.\d+)?`;

test("bench --quick on s5 writes a row of numbers per allocator and driver", { timeout: 60_000 }, () => {
  const run = spawnSync(process.execPath, ["bench/run.mjs", "--quick", "--only", "s5", "--out", out], { encoding: "utf8" });
  assert.equal(run.status, 0, `bench/run.mjs failed:\n${run.stdout}\n${run.stderr}`);

  const json = JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8"));
  const md = fs.readFileSync(path.join(out, "RESULTS.md"), "utf8");
  const ids = json.allocators.map((a) => a.id);
  for (const id of ["wasm-malloc", "wasm-malloc first", "TLSF", "bump"]) assert.ok(ids.includes(id), `${id} is benchmarked`);

  for (const driver of ["js", "wasm"]) {
    const title = driver === "js" ? "## JS driver" : "## Wasm driver";
    const section = md.slice(md.indexOf(title), md.indexOf("\n## ", md.indexOf(title) + 1));
    assert.ok(section.length > title.length, `RESULTS.md has a section for the ${driver} driver`);
    // Everything but the checked build (measured apart) and best fit (traces only).
    const expected = json.allocators.filter((a) => a.drivers.includes(driver) && !/checked|best/.test(a.id));
    assert.ok(expected.length >= 4);
    for (const a of expected) {
      const cell = json.results[driver].s5[a.id];
      assert.ok(cell && !cell.error, `${a.id} ran s5 under the ${driver} driver: ${cell?.error ?? "no result"}`);
      assert.ok(cell.medianNs > 0 && Number.isFinite(cell.medianNs), `${a.id}: ns/op is a number`);
      assert.ok(cell.ratio > 0, `${a.id}: a ratio to TLSF`);
      assert.ok(cell.peakMemory > cell.heapStart, `${a.id}: the memory grew past the heap start`);
      // (bump overwrites its arena: its utilization means nothing)
      if (a.id !== "bump") assert.ok(cell.utilization > 0 && cell.utilization <= 1, `${a.id}: utilization ${cell.utilization} in (0, 1]`);
      const escaped = a.id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      // The detail table: | s5 | id | median | min | × TLSF | less grow time | peak memory | ...
      const row = new RegExp(`^\\| s5 \\| ${escaped} \\| ${NUMBER} \\| ${NUMBER} \\| ${NUMBER}× \\| ${NUMBER} \\| ${NUMBER} MiB \\|`, "m");
      assert.match(section, row, `a detail row for ${a.id} (${driver} driver)`);
    }
  }
  // Our allocator's grow count, seen by the harness's hook, is close to its own counter.
  const ours = json.results.js.s5["wasm-malloc"];
  assert.ok(Math.abs(ours.grows - ours.statGrows) <= 1, `grows seen ${ours.grows}, STAT_GROWS ${ours.statGrows}`);

  if (ids.includes("wasm-malloc checked")) assert.match(md, new RegExp(`^\\| s5 \\| ${NUMBER} \\| ${NUMBER} \\| ${NUMBER} \\| ${NUMBER}× \\|`, "m"), "the checked build's slowdown row");
  assert.match(md, /^## Against the targets of issue 6/m);
  assert.match(md, /Machine: .+ CPUs \(nproc\)/);
  if (fs.existsSync("dist/index.js")) {
    for (const f of ["speed-js.svg", "speed-wasm.svg", "utilization.svg"]) {
      assert.match(fs.readFileSync(path.join(out, f), "utf8"), /^<svg [^>]*>/, `${f} is an SVG`);
    }
  }
  fs.rmSync(out, { recursive: true, force: true });
});

test("bench --quick on a real trace runs it first, against dlmalloc and TLSF only, and reports it with issue 19's targets", { timeout: 60_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-bench-real-"));
  const run = spawnSync(process.execPath, ["bench/run.mjs", "--quick", "--only", "python-json,s1", "--no-checked", "--out", dir], { encoding: "utf8" });
  assert.equal(run.status, 0, `bench/run.mjs failed:\n${run.stdout}\n${run.stderr}`);
  const json = JSON.parse(fs.readFileSync(path.join(dir, "results.json"), "utf8"));
  const md = fs.readFileSync(path.join(dir, "RESULTS.md"), "utf8");
  assert.deepEqual(json.workloads.map((w) => w.name), ["python-json", "s1"], "the real trace comes first");
  const real = json.workloads[0];
  assert.equal(real.real, true);
  assert.equal(real.calls.malloc, real.calls.free, "blocks the trace leaves live are freed after it");
  const peers = ["wasm-malloc", "TLSF", ...(json.allocators.some((a) => a.id === "dlmalloc") ? ["dlmalloc"] : [])];
  for (const driver of ["js", "wasm"]) {
    const row = json.results[driver]["python-json"];
    assert.deepEqual(Object.keys(row).sort(), [...peers].sort(), `${driver} driver: only wasm-malloc and the peers run the real trace`);
    for (const id of peers) assert.ok(row[id].utilization > 0.5 && row[id].utilization <= 1 && row[id].medianNs > 0, `${id}: ${JSON.stringify(row[id])}`);
    assert.ok(Object.keys(json.results[driver].s1).length > peers.length, "the synthetic workloads still run every allocator");
  }
  assert.ok(md.indexOf("## Real programs") < md.indexOf("## What is measured"), "the real programs are reported first");
  assert.match(md, /^\| python-json \| [\d,]+ \| [\d.]+ MiB \| [\d.]+% \|/m);
  if (peers.includes("dlmalloc")) assert.match(md, /^\| mean utilization ≥ dlmalloc's \+ 3 points \| [✓✗] [+−][\d.]+ points \|/m);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a seed draws another stream of a synthetic workload; the benchmark's own is the default", async () => {
  const { synthetic } = await import("../bench/lib/workloads.mjs");
  const own = synthetic("s4", 0.01), again = synthetic("s4", 0.01, 0x5404), other = synthetic("s4", 0.01, 1000);
  assert.deepEqual(Array.from(again.sizes), Array.from(own.sizes));
  assert.notDeepEqual(Array.from(other.sizes), Array.from(own.sizes));
});

test("bench/seeds.mjs gives a build's utilization per seed and their mean; bad arguments exit 2", { timeout: 60_000 }, () => {
  const run = spawnSync(process.execPath, ["bench/seeds.mjs", "s5", "2", "build/release.wasm"], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const m = /^s5 build\/release\.wasm: mean (\d+\.\d)% over 2 seeds \[(\d+\.\d) (\d+\.\d)\]$/m.exec(run.stdout);
  assert.ok(m, run.stdout);
  const [mean, a, b] = m.slice(1).map(Number);
  assert.ok(a > 50 && a <= 100 && b > 50 && b <= 100, run.stdout);
  assert.ok(Math.abs(mean - (a + b) / 2) <= 0.1, run.stdout);
  const bad = spawnSync(process.execPath, ["bench/seeds.mjs", "s9", "2", "build/release.wasm"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage: node bench\/seeds\.mjs/);
});

test("bench/s4-placement.mjs bounds s4: best fit with the top run last at least as tight as first fit", { timeout: 120_000 }, () => {
  const run = spawnSync(process.execPath, ["bench/s4-placement.mjs", "1"], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const figure = (policy) => {
    const m = new RegExp(`^${policy}\\s+growth exact\\s+(\\d+\\.\\d)%\\s+mean (\\d+\\.\\d)%$`, "m").exec(run.stdout);
    assert.ok(m, `${policy} in:\n${run.stdout}`);
    return Number(m[1]);
  };
  const first = figure("first fit"), best = figure("best fit, top run last");
  assert.ok(first > 50 && first < 100 && best > 50 && best < 100, run.stdout);
  assert.ok(best >= first, run.stdout);
});
