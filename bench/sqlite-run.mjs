#!/usr/bin/env node
// One timed run of the SQLite workload (bench/sqlite.mjs), in a process of its own:
//   plain  a WASI command on node:wasi alone (dlmalloc's build, or one linked by
//          `wasm-malloc link`): instantiate with the WASI imports, then `_start`
//   host   the shim build through linkAllocator (two modules, one memory)
// Writes { ms, cpuMs, memoryBytes, exit } to REPORT: the time of `_start` alone
// (the module compiled and instantiated before), wall-clock and the process's
// CPU time (V8's compiler threads included), and the memory's size after it
// (the peak: Wasm memory never shrinks). The program's stdout passes through.
//
//   node --no-turbo-fast-api-calls bench/sqlite-run.mjs plain|host PROGRAM.wasm REPORT [ARGS...]
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { WASI } from "node:wasi";
import { linkAllocator } from "../dist/index.js";

const [mode, file, report, ...programArgs] = process.argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [file, ...programArgs], env: {}, returnOnExit: true });
const bytes = fs.readFileSync(file);
let run, memory;
if (mode === "host") {
  const linked = await linkAllocator(bytes, { wasi });
  run = () => linked.start();
  memory = linked.memory;
} else {
  const { instance } = await WebAssembly.instantiate(bytes, wasi.getImportObject());
  run = () => wasi.start(instance);
  memory = instance.exports.memory;
}
const cpu = process.cpuUsage();
const start = performance.now();
const exit = run();
const ms = performance.now() - start;
const { user, system } = process.cpuUsage(cpu);
fs.writeFileSync(report, JSON.stringify({ ms, cpuMs: (user + system) / 1000, memoryBytes: memory.buffer.byteLength, exit }));
