// The threads benchmark's harness (bench/threads.mjs), on tiny workloads:
// every allocator of the registry (the locked peers, and issue 21's threads
// build when build/threads.wasm exists) completes each workload with 2
// workers under both drivers, and in a checked run (JS driver) every block it
// hands out is 16-byte aligned and keeps the pattern its worker wrote until
// it is freed (by another worker, for pc). The checks are shown to bite on
// allocators that break them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildThreadPeers, DRIVER_TOP, THREADS_MAX_PAGES } from "../bench/lib/build.mjs";
import { RINGS, RING_ENTRIES, memoryFor, threadAllocators } from "../bench/lib/threads-allocators.mjs";
import { threadWorkload, workerSeed } from "../bench/lib/threads-workloads.mjs";
import { compileThreadAllocator, runThreads } from "../bench/lib/threads-run.mjs";

const { files, notes } = await buildThreadPeers();
const peers = threadAllocators(files);
const OPS = { churn: 20_000, mixed: 4_000, pc: 20_000 };
const clean = { nulls: 0, misaligned: 0, corrupt: 0 };

test("the locked peers are built (dlmalloc+lock needs clang and wasi-libc)", () => {
  assert.ok(peers.some((a) => a.id === "TLSF+lock"), "TLSF+lock is built");
  if (!peers.some((a) => a.id === "dlmalloc+lock")) assert.match(notes.join("\n"), /dlmalloc-locked: skipped/);
});

for (const alloc of peers) {
  test(`${alloc.id}: 2 workers complete churn, mixed and pc with every block aligned and intact`, { timeout: 20_000 }, async () => {
    const compiled = await compileThreadAllocator(fs.readFileSync(alloc.file));
    for (const [workload, ops] of Object.entries(OPS)) {
      const r = await runThreads({ files, alloc, compiled, workload, ops, seed: 7, workers: 2, check: true });
      assert.deepEqual(r.faults, clean, `${alloc.id} on ${workload}`);
      // pc: each worker mallocs ops/2 blocks and frees as many of its neighbour's.
      if (workload === "pc") assert.equal(r.ops, 2 * ops);
      else assert.ok(r.ops >= 2 * ops, `${workload}: ${r.ops} operations`);
      assert.ok(r.opsPerUs > 0);
    }
  });

  test(`${alloc.id}: 2 workers complete churn, mixed and pc under the Wasm driver`, { timeout: 20_000 }, async () => {
    const compiled = await compileThreadAllocator(fs.readFileSync(alloc.file));
    const driverModule = await WebAssembly.compile(fs.readFileSync(files["threads-driver"]));
    for (const [workload, ops] of Object.entries(OPS)) {
      const r = await runThreads({ files, alloc, compiled, driver: "wasm", driverModule, workload, ops, seed: 7, workers: 2 });
      if (workload === "pc") assert.equal(r.ops, 2 * ops);
      else assert.ok(r.ops >= 2 * ops, `${workload}: ${r.ops} operations`);
    }
  });
}

test("the checks catch overlapping blocks and misaligned ones", { timeout: 20_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-threads-"));
  const overlapping = path.join(dir, "threads-overlap.wasm");
  const { main } = await import("assemblyscript/asc");
  const { error } = await main(["tests/fixtures/threads-overlap.ts", "--runtime", "stub", "-O3", "--noAssert", "--use", "abort=", "--enable", "threads",
    "--importMemory", "--sharedMemory", "--maximumMemory", String(THREADS_MAX_PAGES), "--memoryBase", String(DRIVER_TOP), "-o", overlapping]);
  assert.ifError(error);
  const registry = new URL("./fixtures/threads-registry.mjs", import.meta.url).href;
  const all = { ...files, overlapping };
  const { threadAllocators: fixtures } = await import(registry);
  const find = (id) => fixtures(all).find((a) => a.id === id);

  const bad = find("overlapping");
  const r1 = await runThreads({ registry, files: all, alloc: bad, compiled: await compileThreadAllocator(fs.readFileSync(overlapping)), workload: "churn", ops: 2_000, seed: 7, workers: 2, check: true });
  assert.ok(r1.faults.corrupt > 0, `overlapping blocks reported: ${JSON.stringify(r1.faults)}`);

  const claim = find("TLSF+lock claiming 32");
  const r2 = await runThreads({ registry, files: all, alloc: claim, compiled: await compileThreadAllocator(fs.readFileSync(claim.file)), workload: "churn", ops: 2_000, seed: 7, workers: 2, check: true });
  assert.ok(r2.faults.misaligned > 0, `misaligned blocks reported: ${JSON.stringify(r2.faults)}`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("bench/threads.mjs prints a row per workload and peer, with the 2w/1w ratio", { timeout: 20_000 }, () => {
  const run = spawnSync(process.execPath, ["bench/threads.mjs", "--scale", "0.005", "--rounds", "1", "--workers", "1,2", "--check"], { encoding: "utf8" });
  assert.equal(run.status, 0, `bench/threads.mjs failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /\| workload \| allocator \| ops\/µs 1w \| ops\/µs 2w \| 2w\/1w \|/);
  assert.match(run.stdout, /\| baseline \| \(no allocator\) \| [\d.]+ \| [\d.]+ \| [\d.]+× \|/);
  for (const workload of ["churn", "mixed", "pc"]) {
    for (const alloc of peers) {
      const row = new RegExp(`\\| ${workload} \\| ${alloc.id.replace(/[+]/g, "\\+")} \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+× \\|`);
      assert.match(run.stdout, row, `a row for ${alloc.id} on ${workload}`);
    }
  }
});

test("the Wasm driver's pc mallocs the sizes the JS driver's does", async () => {
  const module = await WebAssembly.compile(fs.readFileSync(files["threads-driver"]));
  const memory = memoryFor(0);
  const asked = [];
  const drv = new WebAssembly.Instance(module, { env: { memory }, alloc: { malloc: (n) => { asked.push(n); return 16 * asked.length; }, free: () => {}, realloc: () => 0 } }).exports;
  // One worker: its ring is both its out and its in.
  assert.equal(drv.pc(RINGS, RINGS, RINGS, 5000, RING_ENTRIES, workerSeed(7, 0)), 10_000);
  assert.deepEqual(asked, Array.from(threadWorkload("pc", 10_000, 7, 0).sizes));
});
