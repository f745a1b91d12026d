// wasm-malloc as the malloc of C programs: clang + wasi-libc, the shim in
// c/wasm_malloc.c, linked by the host (linkAllocator), run under node:wasi.
// Needs clang, lld and wasi-libc: skipped (saying why) where they are missing,
// except under CI=true, where they must be there.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repo, clang, needsClang, run, runWasi } from "./embed/toolchain.mjs";
import { parseTrace, replayTrace } from "../dist/index.js";

const skip = needsClang();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-c-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true })); // symlinks are removed, never followed
const EXAMPLES = ["hashtable", "strbuild", "tree"];

// Each example twice: with the shim (wasm-malloc) and plain (wasi-libc's dlmalloc).
let built = null;
function buildAll() {
  built ??= Promise.all(EXAMPLES.flatMap((name) => {
    const source = path.join(repo, "examples", "c", `${name}.c`);
    return [clang([source], path.join(tmp, `${name}.wasm`)), clang([source], path.join(tmp, `${name}-plain.wasm`), { shim: false })];
  }));
  return built;
}

/** A module's function names and its text (binaryen, the disassembler asc ships with). */
async function disassemble(file) {
  const { default: binaryen } = await import("binaryen");
  const module = binaryen.readBinary(fs.readFileSync(file));
  const names = [];
  for (let i = 0; i < module.getNumFunctions(); i++) names.push(binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name);
  const text = module.emitText();
  module.dispose();
  return { names, text };
}

test("a client linked with the shim has no second allocator: no dlmalloc, no sbrk, no memory.grow", skip, async () => {
  await buildAll();
  const secondAllocator = ["dlmalloc", "dlfree", "sbrk", "internal_memalign", "dispose_chunk"];
  // The plain build shows what the check looks for (so the check can fail).
  const plain = await disassemble(path.join(tmp, "hashtable-plain.wasm"));
  assert.ok(plain.names.includes("dlmalloc") && plain.names.includes("sbrk"),
    `the plain build has dlmalloc and sbrk (${plain.names.length} functions: ${plain.names.slice(0, 12).join(", ")}, …)`);
  assert.match(plain.text, /memory\.grow/, "the plain build grows memory");
  for (const name of EXAMPLES) {
    const linked = await disassemble(path.join(tmp, `${name}.wasm`));
    assert.ok(linked.names.includes("malloc") && linked.names.includes("__libc_malloc"), `${name}: names are there to check`);
    assert.deepEqual(linked.names.filter((n) => secondAllocator.includes(n)), [], `${name}: a second allocator was linked`);
    assert.doesNotMatch(linked.text, /memory\.grow/, `${name}: the client grows memory itself`);
    assert.match(linked.text, /\(import "env" "memory" \(memory /, `${name}: imports its memory`);
    assert.match(linked.text, /\(import "env" "wasm_malloc" /);
    assert.match(linked.text, /\(export "__heap_base" \(global /);
  }
});

for (const name of EXAMPLES) {
  test(`examples/c/${name}.c prints the same on wasm-malloc as on wasi-libc's dlmalloc, and leaves a clean heap`, skip, async () => {
    await buildAll();
    const [linked, plain] = await Promise.all([runWasi(path.join(tmp, `${name}.wasm`)), runWasi(path.join(tmp, `${name}-plain.wasm`), { plain: true })]);
    assert.equal(plain.report?.exit, 0, plain.stderr);
    assert.equal(linked.report?.exit, 0, `${linked.stderr}${JSON.stringify(linked.report?.error)}`);
    assert.match(plain.stdout, /: ok\n$/, "the example checked itself");
    assert.equal(linked.stdout, plain.stdout);
    assert.equal(linked.stderr, "");
    const { check, stats, inUse } = linked.report;
    assert.equal(check, "ok");
    assert.ok(stats.mallocs > 1000, `the allocations went through wasm-malloc (${stats.mallocs} mallocs)`);
    assert.ok(stats.frees > 0);
    assert.equal(stats.live, 0, "everything freed");
    assert.equal(inUse, 0);
    assert.equal(stats.errors, 0);
  });
}

test("the malloc family from C: results, errno, alignment, libc's own allocations, names and the heap check", skip, async () => {
  const wasm = path.join(tmp, "api.wasm");
  await clang([path.join(repo, "tests", "embed", "c", "api.c")], wasm, { extra: ["-fno-builtin"] });
  const { stdout, stderr, report } = await runWasi(wasm, { maxMemory: 32 << 20 });
  assert.equal(report?.exit, 0, stderr);
  assert.equal(stdout, [
    "malloc aligned: 1", "usable >= 100: 1", "realloc keeps contents: 1", "calloc zeroed: 1",
    "calloc overflow: 0 errno ENOMEM 1", "malloc past the limit: 0 errno ENOMEM 1", "reallocarray overflow: 0 errno ENOMEM 1",
    "aligned_alloc 4096: 1", "aligned_alloc bad alignment: 0 errno EINVAL 1", "memalign 256: 1",
    "posix_memalign 64: 0 1", "posix_memalign bad alignment: 22", "realloc(p, 0): 0",
    "asprintf: 25 duplicated by libc and 42", "fopen missing: 1", "heap check: 0", "",
  ].join("\n"));
  assert.equal(report.check, "ok");
  assert.deepEqual(report.names, ["asprintf result"], "the block named from C, still live");
  assert.equal(report.stats.live, 1);
  assert.ok(report.stats.failed >= 3, "the failed requests are counted");
  assert.equal(report.stats.memoryBytes <= 32 << 20, true, "the memory stayed under maxMemory");
  for (const name of ["wasm_malloc", "wasm_free", "wasm_heap_check", "wasm_malloc_name"]) assert.ok(name in report.routed, name);
});

test("a double free in C is thrown as a WasmMallocError naming the block; with onMisuse the program goes on", skip, async () => {
  const wasm = path.join(tmp, "double-free.wasm");
  await clang([path.join(repo, "tests", "embed", "c", "double-free.c")], wasm);
  const thrown = await runWasi(wasm);
  assert.equal(thrown.stdout, "first free\n", "the program stopped at the double free");
  assert.equal(thrown.report.error?.name, "WasmMallocError");
  assert.equal(thrown.report.error.kind, "double-free");
  assert.match(thrown.report.error.message, /^double-free in free\(0x[0-9a-f]+\) \(block 0x[0-9a-f]+, \d+ bytes, "parser buffer"\)/);
  assert.equal(thrown.report.check, "ok", "the heap is unchanged by the rejected call");
  const recorded = await runWasi(wasm, { misuse: "record" });
  assert.equal(recorded.stdout, "first free\nafter the double free\n");
  assert.equal(recorded.report.exit, 0);
  assert.deepEqual(recorded.report.misuse.map((m) => m.kind), ["double-free"]);
  assert.equal(recorded.report.stats.errors, 1);
});

test("tracing a C program logs every call to a .rep file that replays cleanly", skip, async () => {
  await buildAll();
  const rep = path.join(tmp, "tree.rep");
  const { report, stdout } = await runWasi(path.join(tmp, "tree.wasm"), { trace: rep, policy: "best" });
  assert.equal(report.exit, 0);
  assert.match(stdout, /tree: \d+ aligned leaves: ok/);
  const trace = parseTrace(fs.readFileSync(rep, "utf8"), rep);
  const { stats } = report;
  const count = (kind) => trace.ops.filter((op) => op.kind === kind).length;
  assert.equal(count("f"), stats.frees, "one 'f' per free");
  assert.equal(count("r"), stats.reallocs, "one 'r' per realloc");
  assert.equal(count("a"), count("f"), "every block allocated was freed");
  assert.ok(count("a") > 10000);
  assert.ok(trace.ops.some((op) => op.kind === "r"), "reallocs are logged");
  const replayed = await replayTrace(trace, { policy: "best", check: false });
  assert.equal(replayed.ops, trace.ops.length);
  assert.equal(replayed.heap.stats().live, 0, "the replay ends with every block freed, as the program did");
  replayed.heap.check();
});
