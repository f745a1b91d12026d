// AssemblyScript on wasm-malloc: the runtime file (AssemblyScript's GC over
// wasm-malloc instead of TLSF), `import { malloc, free } from
// "wasm-malloc/assembly"`, and JS through @assemblyscript/loader. Programs
// are compiled with asc from a throwaway project whose node_modules holds
// this package, as a user's would.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import binaryen from "binaryen";
import loader from "@assemblyscript/loader";
import { repo, userProject, asc, run } from "./embed/toolchain.mjs";
import { linkAllocator, allocatorImports } from "../dist/index.js";

const project = userProject("wasm-malloc-as-");
after(() => fs.rmSync(project, { recursive: true, force: true })); // symlinks are removed, never followed
const RUNTIME = "node_modules/wasm-malloc/assembly/runtime/incremental";
const example = (name) => path.join(repo, "examples", "assemblyscript", name);

// Two compilers at a time (asc is single-threaded; the machine has 2 cores).
const queue = [];
let running = 0;
function limited(job) {
  return new Promise((resolve, reject) => {
    const start = () => { running++; job().then(resolve, reject).finally(() => { running--; queue.shift()?.(); }); };
    if (running < 2) start(); else queue.push(start);
  });
}
const compile = (args) => limited(() => asc(args, project));
fs.writeFileSync(path.join(project, "stub.ts"), `import { malloc } from "wasm-malloc/assembly";\nexport function f(): usize { return malloc(8); }\n`);
const builds = {
  // All four start now, two at a time; each test waits for the ones it needs.
  tlsf: compile([example("churn.ts"), "-o", "churn-tlsf.wasm"]),
  wasmMalloc: compile([example("churn.ts"), "--runtime", RUNTIME, "--importMemory", "-o", "churn-wm.wasm"]),
  greet: compile([example("greet.ts"), "--runtime", RUNTIME, "--importMemory", "--exportRuntime", "-o", "greet.wasm"]),
  stub: limited(() => run(process.execPath, [path.join(repo, "node_modules", "assemblyscript", "bin", "asc.js"), "stub.ts", "--runtime", "stub", "-o", "stub.wasm"], { cwd: project })),
};
const file = (name) => path.join(project, name);
// A failed build fails the tests that need it, not the file.
for (const build of Object.values(builds)) build.catch(() => {});

const decode = (memory, ptr, length) => new TextDecoder("utf-16le").decode(new Uint8Array(memory.buffer, ptr, length * 2));

function disassemble(bytes) {
  const module = binaryen.readBinary(bytes);
  const text = module.emitText();
  module.dispose();
  return text;
}

test("churn.ts prints the same on TLSF and on wasm-malloc's runtime, and leaves a heap that passes the check", async () => {
  await Promise.all([builds.tlsf, builds.wasmMalloc]);
  // TLSF (AssemblyScript's default runtime); raw malloc is wasm-malloc compiled in beside it.
  const tlsfLines = [];
  const reports = [];
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(file("churn-tlsf.wasm")), {
    env: {
      line: (ptr, length) => tlsfLines.push(decode(instance.exports.memory, ptr, length)),
      abort: () => { throw new Error("abort"); },
      ...allocatorImports({ onReport: (r) => reports.push(r) }),
    },
  });
  instance.exports.run();
  // wasm-malloc's runtime: the program linked with the embed build over one memory.
  const lines = [];
  const linked = await linkAllocator(fs.readFileSync(file("churn-wm.wasm")), {
    imports: { env: { line: (ptr, length) => lines.push(decode(linked.memory, ptr, length)) } },
  });
  linked.client.exports.run();
  assert.equal(lines.at(-1), "churn: ok");
  assert.match(lines[0], /^raw: 5000 nodes, sum 12497500, buffer 32768 bytes, heap check 0$/);
  assert.deepEqual(lines, tlsfLines);
  assert.deepEqual(reports, []);
  linked.heap.check();
  const stats = linked.heap.stats();
  assert.ok(stats.mallocs > 100000, `the program's objects came from wasm-malloc (${stats.mallocs} allocations)`);
  assert.ok(stats.frees > 100000, "and the GC gave them back");
  assert.equal(stats.errors, 0);
});

test("on wasm-malloc's runtime the program never grows memory itself: no TLSF, no second allocator", async () => {
  await Promise.all([builds.tlsf, builds.wasmMalloc]);
  // TLSF (and wasm-malloc compiled in beside it) grow memory: the check can fail.
  assert.match(disassemble(fs.readFileSync(file("churn-tlsf.wasm"))), /memory\.grow/);
  const text = disassemble(fs.readFileSync(file("churn-wm.wasm")));
  assert.doesNotMatch(text, /memory\.grow/);
  assert.match(text, /\(import "env" "memory" /);
  for (const name of ["wasm_malloc", "wasm_free", "wasm_realloc", "wasm_heap_check"]) assert.match(text, new RegExp(`\\(import "env" "${name}" `));
  assert.match(text, /\(export "__heap_base" /);
});

test("wasm-malloc/assembly refuses the stub runtime at compile time, saying why", async () => {
  const result = await builds.stub;
  assert.notEqual(result.status, 0);
  assert.match(result.stdout + result.stderr, /wasm-malloc\/assembly cannot share memory with the stub runtime/);
});

test("JS through @assemblyscript/loader: strings and arrays of a linked AssemblyScript program live on wasm-malloc", async () => {
  await builds.greet;
  const { exports, heap } = await linkAllocator(fs.readFileSync(file("greet.wasm")), { instantiate: loader.instantiate });
  const { __newString, __getString, __getArray, __pin, __unpin, __collect } = exports;
  const name = __pin(__newString("wasm-malloc"));
  assert.ok(heap.walk().some((b) => b.state === "in-use" && b.pointer + 32 === name), "the string is a wasm-malloc block (payload 32 bytes in)");
  const greeting = __pin(exports.greet(name));
  assert.equal(__getString(greeting), "Hello, wasm-malloc!");
  assert.deepEqual(__getArray(exports.squares(6)), [0, 1, 4, 9, 16, 25]);
  assert.ok(heap.stats().live >= 3);
  __unpin(name);
  __unpin(greeting);
  __collect();
  assert.equal(heap.stats().live, 0, "after a collection nothing is left");
  heap.check();
});
