#!/usr/bin/env node
// Run a program linked with `wasm-malloc link --inspect` under node:wasi, then
// read its heap through the exports --inspect keeps: the raw heap_check and
// heap_policy, and a Heap attached over them (walk, stats, check). Prints one
// JSON line: { exit, heapCheck, policy, live, inUse, mallocs, check }.
//
//   node --no-turbo-fast-api-calls tests/embed/run-inspected.mjs program.wasm POLICY
import fs from "node:fs";
import { WASI } from "node:wasi";
import { Heap } from "../../dist/index.js";

const [file, policy] = process.argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [file], env: {}, returnOnExit: true });
const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), wasi.getImportObject());
const exit = wasi.start(instance);
const heap = Heap.attach(instance.exports, { policy, build: "release" });
let check = "ok";
try { heap.check(); } catch (error) { check = error.message; }
const stats = heap.stats();
console.log(JSON.stringify({
  exit, heapCheck: instance.exports.heap_check(), policy: instance.exports.heap_policy(),
  live: stats.live, inUse: heap.walk().filter((block) => block.state === "in-use").length, mallocs: stats.mallocs, check,
}));
