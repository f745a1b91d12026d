// The shape of assembly/ (docs/architecture.md): layers that import downward
// only, no import cycle, no engine-specific code in the shared C API, and a
// release module whose host interface is functions, not a wall of globals.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve("assembly");

/** Every .ts file under assembly/, relative to it. */
function sources(dir = ROOT) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(path.join(dir, d.name)) : d.name.endsWith(".ts") ? [path.relative(ROOT, path.join(dir, d.name))] : []);
}

/** file -> the assembly/ files it imports (relative imports and re-exports). */
function importGraph() {
  const graph = new Map();
  for (const file of sources()) {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    const targets = new Set();
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/gms)) {
      const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), m[1]) + ".ts");
      if (!target.startsWith("..")) targets.add(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph) {
  let index = 0;
  const stack = [], onStack = new Set(), indices = new Map(), low = new Map(), found = [];
  const visit = (v) => {
    indices.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indices.get(w)));
    }
    if (low.get(v) === indices.get(v)) {
      const component = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); component.push(w); } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

// The layers, bottom up. A file may import files of its own folder (no cycle
// among them) and of folders below its own; the four page-taking layers sit
// side by side and import none of each other.
const RANK = {
  base: 0, pages: 1, blocks: 2, slabs: 2, runs: 2, buddy: 2, engines: 3, inspect: 4, api: 5, ".": 6, runtime: 6,
};
const layerOf = (file) => path.dirname(file).split(path.sep)[0];

test("the import graph of assembly/ has no cycle", () => {
  const found = cycles(importGraph());
  assert.deepEqual(found, [], `import cycles:\n${found.map((c) => "  " + c.join(" <-> ")).join("\n")}`);
});

test("every folder of assembly/ is a known layer", () => {
  for (const file of sources()) assert.ok(layerOf(file) in RANK, `${file}: folder ${layerOf(file)} is not a layer in RANK`);
});

test("layers import downward only", () => {
  const wrong = [];
  for (const [file, targets] of importGraph()) {
    const from = layerOf(file);
    for (const target of targets) {
      const to = layerOf(target);
      if (to === from) continue;
      if (RANK[to] >= RANK[from]) wrong.push(`${file} -> ${target} (${from} may not import ${to})`);
    }
  }
  assert.deepEqual(wrong, [], wrong.join("\n"));
});

test("the shared C API has no engine-specific branch", () => {
  const wrong = [];
  for (const file of sources().filter((f) => layerOf(f) === "api")) {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    text.split("\n").forEach((line, i) => {
      if (/\bBUDDY\b|\bbuddy[A-Z_]\w*|from\s+"[^"]*buddy/.test(line.replace(/\/\/.*$/, ""))) wrong.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(wrong, [], wrong.join("\n"));
});

test("every source file opens with a comment that says what it is", () => {
  for (const file of sources()) {
    const first = fs.readFileSync(path.join(ROOT, file), "utf8").split("\n")[0];
    assert.match(first, /^\/\/ \S/, `${file} does not open with a comment`);
  }
});

test("the release module exports at most 10 globals", () => {
  const module = new WebAssembly.Module(fs.readFileSync("build/release.wasm"));
  const globals = WebAssembly.Module.exports(module).filter((e) => e.kind === "global").map((e) => e.name);
  assert.ok(globals.length <= 10, `${globals.length} exported globals: ${globals.join(", ")}`);
});
