// Where the CS:APP malloc-lab traces are: WASM_MALLOC_TRACES, else ../shared/traces
// beside the checkout. Tests and benchmarks skip them (saying so) when absent.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export function tracesDir() {
  const dir = process.env.WASM_MALLOC_TRACES ?? path.resolve(repo, "..", "shared", "traces");
  return fs.existsSync(dir) ? dir : null;
}

export function traceFiles() {
  const dir = tracesDir();
  if (!dir) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(".rep")).sort().map((f) => path.join(dir, f));
}
