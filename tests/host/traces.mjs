// Where the CS:APP malloc-lab traces are: WASM_MALLOC_TRACES if set, else the repo's
// traces/ (shipped with it, see traces/README.md), else ../shared/traces beside the
// checkout. Tests and benchmarks skip them (saying so) only when none of these exists.
// The traces of real programs are the repo's traces/real/*.rep.gz (traces/real/README.md).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The folders looked in, in order (for messages). */
export function traceDirCandidates() {
  if (process.env.WASM_MALLOC_TRACES) return [process.env.WASM_MALLOC_TRACES];
  return [path.join(repo, "traces"), path.resolve(repo, "..", "shared", "traces")];
}

export function tracesDir() {
  return traceDirCandidates().find((dir) => fs.existsSync(dir)) ?? null;
}

export function traceFiles() {
  const dir = tracesDir();
  if (!dir) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(".rep")).sort().map((f) => path.join(dir, f));
}

/** Where traces were looked for, for a "no traces" message. */
export const tracePlaces = () => traceDirCandidates().join(" or ");

/** The traces of real programs, gzipped: traces/real/*.rep.gz, sorted. */
export function realTraceFiles() {
  const dir = path.join(repo, "traces", "real");
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(".rep.gz")).sort().map((f) => path.join(dir, f));
}

/** A real trace's name: its file name without .rep.gz (sqlite-orders). */
export const realTraceName = (file) => path.basename(file).replace(/\.rep\.gz$/, "");
