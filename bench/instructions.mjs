#!/usr/bin/env node
// Instructions per operation, exactly: the allocator driven by the Wasm driver
// (no JS per call) under valgrind's callgrind, run for 1 and for R passes of a
// workload; (Ir(R) - Ir(1)) / ((R - 1) * operations) cancels start-up, so two
// builds can be compared to a few instructions, where timings on a shared
// machine move by ±25%. V8's hash and random seeds are fixed: left random,
// they moved a figure by up to 5% between runs of one module (amptjp-bal:
// 209 and 213 on one build, 223 and 232 on the same code with its functions
// in another order); fixed, two runs agree within 1 on the synthetic workloads
// and the CS:APP traces. On the real programs' traces they do not: the same
// binary and trace gave cc1-pngtest on dlmalloc 196, 4 and 152 instructions
// per operation in three runs (xmllint-mime 235, 187, 187), so no figure of
// those is published from it. Needs valgrind; slow (about a minute per figure).
//
//   node bench/instructions.mjs WORKLOAD FILE.wasm...      (after npm run bench built the peers)
//   e.g. node bench/instructions.mjs cccp-bal.rep build/embed.wasm bench/build/tlsf-shared.wasm
//        node bench/instructions.mjs cc1-pngtest build/embed.wasm bench/build/dlmalloc-shared.wasm
//   (WORKLOAD: s1…s5r, a CS:APP trace's file name, or a real trace's name: traces/real/)
//
// Our builds need the `embed` target (the memory is imported), or the
// `threads` target (a shared memory: run by bench/build/threads-driver.wasm,
// the same loop); the peers' `-shared` builds in bench/build/. The driver's own cost is what
// bench/build/bump-shared.wasm measures.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { realTraceWorkload, traceWorkload, synthetic, packed, SYNTHETIC } from "./lib/workloads.mjs";
import { OPS_BASE, CHUNK_OPS, SLOTS_BASE } from "./lib/allocators.mjs";
import { DRIVER_TOP, OUT, importedMemoryPages } from "./lib/build.mjs";
import { realTraceFiles, realTraceName, tracesDir } from "../tests/host/traces.mjs";
import { LAYOUT } from "../dist/layout.js";

const SELF = fileURLToPath(import.meta.url);
const PASSES = 6;

function workload(name) {
  if (SYNTHETIC.includes(name)) return synthetic(name, 0.5);
  const real = realTraceFiles().find((f) => realTraceName(f) === name || path.basename(f) === name);
  if (real) return realTraceWorkload(real);
  const dir = tracesDir();
  if (!dir) throw new Error(`no traces directory for ${name}`);
  return traceWorkload(path.join(dir, name), 200000);
}

/** Does `module` import a shared memory? (Only then does it link over one.) */
function importsSharedMemory(module) {
  const env = { memory: new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }) };
  for (const imp of WebAssembly.Module.imports(module)) if (imp.module === "env" && imp.kind === "function") env[imp.name] = () => {};
  try {
    new WebAssembly.Instance(module, { env, bench: { grow: () => -1 } });
    return true;
  } catch (error) {
    if (error instanceof WebAssembly.LinkError) return false;
    throw error;
  }
}

/** The child: run `passes` passes of the workload through the Wasm driver. */
function child(file, name, passes) {
  const w = workload(name);
  const bytes = fs.readFileSync(file);
  const initial = Math.max(DRIVER_TOP / 65536, importedMemoryPages(bytes));
  const module = new WebAssembly.Module(bytes);
  // A build over a shared memory (the threads build) links only to one, and is driven by the
  // threads benchmark's driver, which imports a shared memory too (the same loop as driver.ts).
  const shared = importsSharedMemory(module);
  const memory = new WebAssembly.Memory(shared ? { initial, maximum: 16384, shared: true } : { initial });
  const env = { memory };
  for (const imp of WebAssembly.Module.imports(module)) if (imp.module === "env" && imp.kind === "function") env[imp.name] = () => {};
  const e = new WebAssembly.Instance(module, { env, bench: { grow: (p) => memory.grow(p) } }).exports;
  if (e.heap_init_with && e.heap_init_with(DRIVER_TOP, 0, LAYOUT.POLICY_DEFAULT, 0) !== 0) throw new Error("heap_init_with failed");
  const driver = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(path.join(OUT, shared ? "threads-driver.wasm" : "driver.wasm"))), {
    env: { memory }, alloc: { malloc: e.malloc, free: e.free, realloc: e.realloc },
  }).exports;
  const ops = packed(w);
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < w.count; i += CHUNK_OPS) {
      const n = Math.min(CHUNK_OPS, w.count - i);
      new Uint32Array(memory.buffer, OPS_BASE, n * 2).set(ops.subarray(i * 2, (i + n) * 2));
      driver.run(OPS_BASE, n, SLOTS_BASE);
    }
  }
}

function collected(file, name, passes) {
  const out = spawnSync("valgrind", [
    "--tool=callgrind", "--callgrind-out-file=/dev/null",
    process.execPath, "--no-liftoff", "--single-threaded", "--predictable-gc-schedule", "--hash-seed=1", "--random-seed=1", SELF, "--child", file, name, String(passes),
  ], { encoding: "utf8", maxBuffer: 1 << 26 });
  // valgrind exits with its client's status: a child that threw (no driver built, say) counted nothing worth reading.
  if (out.status !== 0) throw new Error(`the run of ${file} under valgrind failed (status ${out.status}); did npm run bench build bench/build/? ${(out.stderr ?? "").slice(-600)}`);
  const m = /Collected : (\d+)/.exec(out.stderr ?? "");
  if (!m) throw new Error(`valgrind failed on ${file}: ${(out.stderr ?? out.error?.message ?? "").slice(-400)}`);
  return Number(m[1]);
}

const args = process.argv.slice(2);
if (args[0] === "--child") {
  child(args[1], args[2], Number(args[3]));
} else {
  if (args.length < 2) {
    console.error("usage: node bench/instructions.mjs WORKLOAD FILE.wasm...  (WORKLOAD: s1…s5r, a trace name, or a real trace of traces/real/ such as cc1-pngtest)");
    process.exit(2);
  }
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    console.error("bench/instructions.mjs needs valgrind");
    process.exit(2);
  }
  const [name, ...files] = args;
  const count = workload(name).count;
  for (const file of files) {
    const perOp = (collected(file, name, PASSES) - collected(file, name, 1)) / ((PASSES - 1) * count);
    console.log(`${name.padEnd(16)} ${path.basename(file).padEnd(24)} ${perOp.toFixed(0)} instructions/op`);
  }
}
