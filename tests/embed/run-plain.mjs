#!/usr/bin/env node
// Run a WASI command module as any WASI host would: its imports from node:wasi
// and nothing else, then `_start`. No code of wasm-malloc's here: a program
// linked by `wasm-malloc link` must run on this alone.
//
//   node --no-turbo-fast-api-calls tests/embed/run-plain.mjs program.wasm [args...]
import fs from "node:fs";
import { WASI } from "node:wasi";

const [file, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [file, ...args], env: {}, returnOnExit: true });
const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), wasi.getImportObject());
process.exitCode = wasi.start(instance);
