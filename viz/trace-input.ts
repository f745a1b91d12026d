// Where a trace comes from: a bundled example, a file the user picks or drops on the
// page, or a URL in the query string (what `wasm-malloc viz FILE` gives the page).
// Every path ends in parseTrace, so a bad file reads the same here as in the CLI.

import { parseTrace, type Trace } from "../src/trace.js";
import { churnTrace, exampleTrace } from "../src/workloads.js";
import shortRep from "../tests/fixtures/short.rep?raw";

export interface Example {
  id: string;
  label: string;
  make(): Trace;
}

/** Bundled into the page, so it works with no files at hand and from any static host. */
export const EXAMPLES: readonly Example[] = [
  { id: "example", label: "example: every layer (14 ops)", make: exampleTrace },
  { id: "short", label: "short.rep: split and coalesce (12 ops)", make: () => parseTrace(shortRep, "short.rep") },
  { id: "churn", label: "churn: seeded mixed sizes (601 ops)", make: () => ({ ...churnTrace(600), file: "churn" }) },
  { id: "empty", label: "empty heap: operate by hand", make: () => ({ file: "by hand", suggestedHeapSize: 0, ids: 0, weight: 1, ops: [] }) },
];

export function exampleById(id: string): Trace {
  return (EXAMPLES.find((e) => e.id === id) ?? EXAMPLES[0]).make();
}

export async function traceFromUrl(url: string): Promise<Trace> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load the trace ${url} (HTTP ${response.status})`);
  const name = decodeURIComponent(new URL(url, location.href).pathname.split("/").pop() || url);
  return parseTrace(await response.text(), name);
}

export async function traceFromFile(file: File): Promise<Trace> {
  return parseTrace(await textOf(file), file.name);
}

/** A file's text; a gzipped one (traces/real/*.rep.gz), known by its first two bytes, unpacked. */
async function textOf(file: Blob): Promise<string> {
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  if (head[0] !== 0x1f || head[1] !== 0x8b) return file.text();
  return new Response(file.stream().pipeThrough(new DecompressionStream("gzip"))).text();
}

/** Call `onFile` for a file dropped anywhere on `target`. */
export function acceptDroppedTraces(target: HTMLElement, onFile: (file: File) => void): void {
  target.addEventListener("dragover", (event) => {
    event.preventDefault();
    target.classList.add("dropping");
  });
  target.addEventListener("dragleave", () => target.classList.remove("dropping"));
  target.addEventListener("drop", (event) => {
    event.preventDefault();
    target.classList.remove("dropping");
    const file = event.dataTransfer?.files[0];
    if (file) onFile(file);
  });
}
