#!/usr/bin/env node
// Run a wasm32-wasi program, linked with wasm-malloc (default) or plain (its own
// wasi-libc malloc), and write what the host saw to a JSON report.
//
//   node --no-turbo-fast-api-calls tests/embed/run-wasi.mjs --report out.json
//        [--plain] [--trace run.rep] [--policy P] [--max-memory BYTES]
//        [--misuse throw|record] program.wasm
//
// The program's stdout and stderr pass through. Report: { exit, error?,
// misuse: [...], check, stats, names, inUse } (linked), or { exit } (plain).
// Run in its own process: node:wasi wants --no-turbo-fast-api-calls.
import fs from "node:fs";
import { WASI } from "node:wasi";
import { parseArgs } from "node:util";
import { linkAllocator } from "../../dist/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    report: { type: "string" }, plain: { type: "boolean" }, trace: { type: "string" },
    policy: { type: "string" }, "max-memory": { type: "string" }, misuse: { type: "string" },
  },
});
const file = positionals[0];
const wasi = new WASI({ version: "preview1", args: [file], env: {}, returnOnExit: true });
const report = {};
const write = () => { if (values.report) fs.writeFileSync(values.report, JSON.stringify(report)); };

if (values.plain) {
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), wasi.getImportObject());
  report.exit = wasi.start(instance);
  write();
  process.exit(0);
}

report.misuse = [];
const linked = await linkAllocator(fs.readFileSync(file), {
  wasi, trace: values.trace, policy: values.policy,
  maxMemory: values["max-memory"] ? Number(values["max-memory"]) : undefined,
  onMisuse: values.misuse === "record" ? (error) => report.misuse.push({ kind: error.kind, message: error.message }) : undefined,
});
try {
  report.exit = linked.start();
} catch (error) {
  report.error = { name: error.name, kind: error.kind, message: error.message };
}
try { linked.heap.check(); report.check = "ok"; } catch (error) { report.check = error.message; }
report.stats = linked.heap.stats();
report.inUse = linked.heap.walk().filter((b) => b.state === "in-use").length;
report.names = linked.heap.walk().filter((b) => b.name).map((b) => b.name);
report.routed = linked.routed;
write();
