// The package as a user gets it: `npm pack`, the tarball installed into an empty project
// (from the npm registry for its dependencies), then used the ways the README shows: an
// import of Heap from JS, `npx wasm-malloc --help`, a TypeScript file under --strict,
// `import { malloc } from "wasm-malloc"` in AssemblyScript, and `npx wasm-malloc link`
// (binaryen, a dependency, installed with it). Also what the tarball holds:
// what users need, not the benchmark build or extra copies of the Wasm in dist-viz/.
import test, { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const work = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-package-"));
const project = path.join(work, "project");
after(() => fs.rmSync(work, { recursive: true, force: true }));

// What a user's shell has: under `npm test`, node_modules/.bin comes first on PATH, and a
// dependency of as-pect installs npm 6 there (it knows no --pack-destination), and npm_*
// variables carry the outer npm's settings. Neither is the user's.
const userEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")));
userEnv.PATH = (process.env.PATH ?? "").split(path.delimiter)
  .filter((dir) => !dir.includes(`node_modules${path.sep}.bin`)).join(path.delimiter);

function run(command, args, cwd, timeout = 120_000) {
  const result = spawnSync(command, args, { cwd, env: userEnv, encoding: "utf8", timeout, maxBuffer: 1 << 26 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  assert.equal(result.status, 0, `${command} ${args.join(" ")} (in ${cwd}) exited ${result.status ?? result.signal}:\n${output}`);
  return result.stdout;
}

let tarball;
let listed;
before(() => {
  // prepare runs the build (tools/build.mjs): after `npm run build` it has nothing to do.
  // What the build prints (if anything was stale) comes before npm's JSON.
  const output = run(npm, ["pack", "--json", "--pack-destination", work], repo, 300_000);
  const packed = JSON.parse(output.slice(output.search(/^\[/m)));
  tarball = path.join(work, packed[0].filename);
  listed = packed[0].files.map((file) => file.path);
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "user", private: true, type: "module" }));
  run(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], project, 180_000);
  // What a user adds to compile: TypeScript's Node types and AssemblyScript (the optional
  // peer), taken from this checkout instead of downloaded again.
  fs.mkdirSync(path.join(project, "node_modules", "@types"), { recursive: true });
  fs.symlinkSync(path.join(repo, "node_modules", "@types", "node"), path.join(project, "node_modules", "@types", "node"));
  fs.symlinkSync(path.join(repo, "node_modules", "assemblyscript"), path.join(project, "node_modules", "assemblyscript"));
});

test("the tarball holds the built package, its license and changelog, and not the benchmark build", () => {
  for (const file of ["dist/index.js", "dist/index.d.ts", "dist/cli.js", "dist/link/standalone.js", "build/release.wasm", "build/embed.wasm", "build/link.wasm",
    "build/buddy.wasm", "dist-viz/index.html", "assembly.ts", "index.ts", "include/wasm_malloc.h", "LICENSE", "CHANGELOG.md", "README.md"]) {
    assert.ok(listed.includes(file), `the tarball has ${file}`);
  }
  assert.ok(!listed.some((file) => file.startsWith("build/unchecked.")), "no build/unchecked.* (a benchmark build)");
  assert.ok(!listed.some((file) => file.startsWith("build/layout/")), "no build/layout/ (the layout generator's input)");
  const vizWasm = listed.filter((file) => file.startsWith("dist-viz/") && file.endsWith(".wasm"));
  assert.equal(vizWasm.length, 2, `dist-viz/ holds the two builds the page loads (release, buddy), not every build: ${vizWasm.join(", ")}`);
});

test("an installed package imports Heap and allocates", () => {
  const script = `import { Heap } from "wasm-malloc";
const heap = await Heap.create();
const p = heap.malloc(100);
heap.check();
console.log(p > 0 && heap.stats().live === 1 ? "ok" : "bad");`;
  assert.equal(run(process.execPath, ["--input-type=module", "-e", script], project).trim(), "ok");
});

test("npx wasm-malloc --help prints the usage", () => {
  assert.match(run("npx", ["--no-install", "wasm-malloc", "--help"], project), /Usage: wasm-malloc/);
});

test("a TypeScript file importing the package type-checks under --strict", () => {
  fs.writeFileSync(path.join(project, "use.ts"), `import { Heap, type HeapOptions } from "wasm-malloc";
const options: HeapOptions = { policy: "best" };
const heap: Heap = await Heap.create(options);
const p: number = heap.malloc(16);
heap.free(p);
`);
  run(process.execPath, [path.join(repo, "node_modules", "typescript", "bin", "tsc"), "--strict", "--noEmit",
    "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--types", "node", "use.ts"], project);
});

test("AssemblyScript's import { malloc } from \"wasm-malloc\" compiles", () => {
  fs.writeFileSync(path.join(project, "raw.ts"), `import { malloc, free } from "wasm-malloc";
export function roundTrip(): usize { const p = malloc(32); free(p); return p; }
`);
  run(process.execPath, [path.join(project, "node_modules", "assemblyscript", "bin", "asc.js"), "raw.ts", "-o", "raw.wasm"], project);
  assert.ok(fs.statSync(path.join(project, "raw.wasm")).size > 0);
});

test("npx wasm-malloc link merges the allocator into a program that then runs on node:wasi alone", async () => {
  // A small WASI program as the shim's users build it (imports env.memory and env.wasm_malloc,
  // exports __heap_base), written in the text format: no C compiler needed here.
  const { default: binaryen } = await import(path.join(project, "node_modules", "binaryen", "index.js"));
  const module = binaryen.parseText(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (import "env" "memory" (memory 1))
    (import "env" "wasm_malloc" (func $malloc (param i32) (result i32)))
    (import "env" "wasm_free" (func $free (param i32)))
    (global (export "__heap_base") i32 (i32.const 4096))
    (data (i32.const 16) "malloc gave a block above __heap_base\\n")
    (func (export "_start") (local $p i32)
      (local.set $p (call $malloc (i32.const 100)))
      (if (i32.le_u (local.get $p) (i32.const 4096)) (then (unreachable)))
      (i32.store (local.get $p) (i32.const 16))
      (i32.store offset=4 (local.get $p) (i32.const 38))
      (drop (call $write (i32.const 1) (local.get $p) (i32.const 1) (i32.add (local.get $p) (i32.const 8))))
      (call $free (local.get $p))))`);
  fs.writeFileSync(path.join(project, "program.wasm"), module.emitBinary());
  module.dispose();
  const wrote = run("npx", ["--no-install", "wasm-malloc", "link", "program.wasm", "-o", "linked.wasm"], project);
  assert.match(wrote, /^wrote linked\.wasm: program\.wasm with wasm-malloc/);
  const runner = `import fs from "node:fs";
import { WASI } from "node:wasi";
const wasi = new WASI({ version: "preview1", args: [], env: {}, returnOnExit: true });
const { instance } = await WebAssembly.instantiate(fs.readFileSync("linked.wasm"), wasi.getImportObject());
process.exitCode = wasi.start(instance);`;
  assert.equal(run(process.execPath, ["--no-warnings", "--input-type=module", "-e", runner], project), "malloc gave a block above __heap_base\n");
});
