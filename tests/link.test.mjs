// `wasm-malloc link` and linkStandalone: a program and the allocator merged
// into one module that runs on node:wasi alone (tests/embed/run-plain.mjs, no
// code of this project). Every C example and the C++ one prints what its
// linkAllocator version prints; misuse goes to stderr and traps; the options
// (policy, max memory, inspect, misuse mode, foreign imports) do what they say;
// bad input to the CLI and the API gets a clear error and the documented exit.
// Needs clang, lld, wasi-libc and libc++ for wasm32: skipped (saying why)
// where they are missing, except under CI=true.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  repo, clang, clangxx, needsClang, needsClangxx, run, runOk, runPlain, runWasi, NODE_WASI, CLANG_FLAGS, LINK_FLAGS,
} from "./embed/toolchain.mjs";
import { linkStandalone, LinkError, WasmMallocError, LAYOUT, INSPECTION_EXPORTS } from "../dist/index.js";

const skip = needsClang();
const skipCxx = needsClangxx();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-link-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const file = (name) => path.join(tmp, name);
const cli = (...args) => run(process.execPath, [path.join(repo, "dist", "cli.js"), ...args], { cwd: tmp });
const EXAMPLES = ["hashtable", "strbuild", "tree"];
const WASI = "wasi_snapshot_preview1";

/** Compile once per name: a C test program or example with the shim. */
const built = new Map();
function build(name, source, compile = clang) {
  if (!built.has(name)) built.set(name, compile(source, file(`${name}.wasm`)).then(() => file(`${name}.wasm`)));
  return built.get(name);
}
const example = (name) => build(name, [path.join(repo, "examples", "c", `${name}.c`)]);
const testProgram = (name, extra = []) => build(name, [path.join(repo, "tests", "embed", "c", `${name}.c`)], (sources, out) => clang(sources, out, { extra }));
const cxxExample = () => build("containers", path.join(repo, "examples", "cpp", "containers.cpp"), clangxx);

/** Link `wasm` with the API; the output file's path. */
async function linked(wasm, options = {}, suffix = "linked") {
  const out = wasm.replace(/\.wasm$/, `-${suffix}.wasm`);
  const result = await linkStandalone(fs.readFileSync(wasm), options);
  fs.writeFileSync(out, result.wasm);
  return { out, result };
}

/** What a module imports and exports. */
function surface(wasm) {
  const module = new WebAssembly.Module(fs.readFileSync(wasm));
  return {
    imports: WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`),
    exports: WebAssembly.Module.exports(module).map((e) => e.name),
  };
}

function assertOnlyWasi(wasm) {
  const { imports } = surface(wasm);
  assert.ok(imports.length > 0, "the program writes to stdout through WASI");
  assert.deepEqual(imports.filter((name) => !name.startsWith(`${WASI}.`)), [], `${path.basename(wasm)} imports only WASI`);
}

// ── The examples ────────────────────────────────────────────────────────────

for (const name of EXAMPLES) {
  test(`examples/c/${name}.c, linked, runs on node:wasi alone and prints what its linkAllocator version prints`, skip, async () => {
    const wasm = await example(name);
    const [{ out }, viaHost] = await Promise.all([linked(wasm), runWasi(wasm)]);
    assertOnlyWasi(out);
    assert.deepEqual(surface(out).exports.sort(), ["__heap_base", "_start", "memory"], "the program's exports and the memory, nothing of the allocator's");
    const plain = await runPlain(out);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stderr, "");
    assert.equal(viaHost.report?.exit, 0, viaHost.stderr);
    assert.match(plain.stdout, /: ok\n$/, "the example checked itself");
    assert.equal(plain.stdout, viaHost.stdout);
  });
}

test("examples/cpp/containers.cpp (libc++'s new and delete through malloc), linked, runs on node:wasi alone as on dlmalloc and through linkAllocator", skipCxx, async () => {
  const wasm = await cxxExample();
  const plainBuild = file("containers-dlmalloc.wasm");
  await clangxx(path.join(repo, "examples", "cpp", "containers.cpp"), plainBuild, { shim: false });
  const [{ out }, viaHost, onDlmalloc] = await Promise.all([linked(wasm), runWasi(wasm), runPlain(plainBuild)]);
  assertOnlyWasi(out);
  const plain = await runPlain(out);
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stdout, /^containers: 180000 words: ok\n$/m);
  assert.equal(plain.stdout, onDlmalloc.stdout, "as on wasi-libc's dlmalloc");
  assert.equal(plain.stdout, viaHost.stdout, "as through linkAllocator");
  assert.ok(viaHost.report.stats.mallocs > 100000, `the containers allocated through wasm-malloc (${viaHost.report.stats.mallocs} mallocs)`);
  assert.equal(viaHost.report.stats.live, 0, "and freed everything");
});

test("the CLI links a program as the API does, and says what it wrote", skip, async () => {
  const wasm = await example("tree");
  const { status, stdout, stderr } = await cli("link", wasm, "-o", "tree-cli.wasm");
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^wrote tree-cli\.wasm: tree\.wasm with wasm-malloc \(segregated fit, heap from 0x[0-9a-f]+, misuse: abort\); it imports wasi_snapshot_preview1 (\w+, )*fd_write(, \w+)*\n$/);
  assertOnlyWasi(file("tree-cli.wasm"));
  const ran = await runPlain(file("tree-cli.wasm"));
  assert.equal(ran.status, 0, ran.stderr);
  assert.match(ran.stdout, /tree: \d+ aligned leaves: ok\n$/);
});

// ── Misuse ──────────────────────────────────────────────────────────────────

/** The stderr line of a report, as the host's WasmMallocError would word the same report. */
function expectedLine(line, kind, operation, reason = "") {
  const m = /^wasm-malloc: [\w-]+ in \w+\(0x([0-9a-f]+)\)(?: \(block 0x([0-9a-f]+)(?:, (\d+) bytes)?\))?/.exec(line);
  assert.ok(m, `a report line: ${JSON.stringify(line)}`);
  const [ptr, block, size] = [parseInt(m[1], 16), parseInt(m[2] ?? "0", 16), Number(m[3] ?? 0)];
  return `wasm-malloc: ${new WasmMallocError(kind, operation, reason, ptr, block, size).message}\n`;
}

test("a double free in a linked program prints the report on stderr, worded as WasmMallocError, and traps", skip, async () => {
  const { out } = await linked(await testProgram("double-free"));
  const { status, stdout, stderr } = await runPlain(out);
  assert.notEqual(status, 0, "the trap ends the program");
  assert.equal(stdout, "first free\n", "nothing after the double free ran");
  const line = stderr.split("\n")[0] + "\n";
  assert.match(line, /^wasm-malloc: double-free in free\(0x[0-9a-f]+\) \(block 0x[0-9a-f]+, \d+ bytes\); the block was already freed; free each pointer once and drop it afterwards\n$/);
  assert.equal(line, expectedLine(line, "double-free", "free"));
  assert.match(stderr, /RuntimeError: unreachable/, "a trap, as abort() stops a C program");
});

test("an interior free names its reason; --on-misuse report prints and goes on, ignore goes on silently", skip, async () => {
  const wasm = await testProgram("interior-free");
  const [abort, report, ignore] = await Promise.all(["abort", "report", "ignore"].map((onMisuse) => linked(wasm, { onMisuse }, onMisuse)));
  const stopped = await runPlain(abort.out);
  assert.notEqual(stopped.status, 0);
  assert.equal(stopped.stdout, "before the invalid free\n");
  const line = stopped.stderr.split("\n")[0] + "\n";
  assert.match(line, /^wasm-malloc: invalid-free in free\(0x[0-9a-f]+\)(?: \(block 0x[0-9a-f]+, \d+ bytes\))?: it points inside a block, not at its start; pass only pointers returned by malloc, calloc, realloc or aligned_alloc\n$/);
  assert.equal(line, expectedLine(line, "invalid-free", "free", "interior"));
  const reported = await runPlain(report.out);
  assert.equal(reported.status, 0, reported.stderr);
  assert.equal(reported.stdout, "before the invalid free\nafter the invalid free\n");
  assert.equal(reported.stderr, line, "the same line, and the program went on");
  const ignored = await runPlain(ignore.out);
  assert.equal(ignored.status, 0, ignored.stderr);
  assert.equal(ignored.stdout, "before the invalid free\nafter the invalid free\n");
  assert.equal(ignored.stderr, "");
});

test("damage noticed and worked around (a write after free over a list link) is printed, and the program goes on", skip, async () => {
  const { out } = await linked(await testProgram("use-after-free"));
  const { status, stdout, stderr } = await runPlain(out);
  assert.equal(status, 0, stderr);
  assert.equal(stdout, "wrote after free\nstill works, r is q\n");
  assert.match(stderr, /^wasm-malloc: use-after-free in malloc\(0x[0-9a-f]+\) \(block 0x[0-9a-f]+, 48 bytes\); malloc went on and its result is valid; something wrote to a block after it was freed; find the stale pointer\n$/);
  const m = /\(0x([0-9a-f]+)\) \(block 0x([0-9a-f]+), (\d+) bytes\)/.exec(stderr);
  const error = new WasmMallocError("use-after-free", "malloc", "", parseInt(m[1], 16), parseInt(m[2], 16), Number(m[3]), undefined, 0, undefined, true);
  assert.equal(stderr, `wasm-malloc: ${error.message}\n`, "worded as the host words a noticed error");
});

test("--on-misuse=ignore lets a double free go on (the CLI's spelling)", skip, async () => {
  const wasm = await testProgram("double-free");
  const { status, stderr } = await cli("link", wasm, "-o", "double-free-ignore.wasm", "--on-misuse=ignore");
  assert.equal(status, 0, stderr);
  const ran = await runPlain(file("double-free-ignore.wasm"));
  assert.equal(ran.status, 0, ran.stderr);
  assert.equal(ran.stdout, "first free\nafter the double free\n");
  assert.equal(ran.stderr, "");
});

// ── Options ─────────────────────────────────────────────────────────────────

test("--max-memory: malloc returns NULL past it (ENOMEM), as through linkAllocator; without it the same request succeeds", skip, async () => {
  const wasm = await testProgram("api", ["-fno-builtin"]);
  const [limited, unlimited, viaHost] = await Promise.all([
    linked(wasm, { maxMemory: 32 << 20 }, "32m"), linked(wasm, {}, "unlimited"), runWasi(wasm, { maxMemory: 32 << 20 }),
  ]);
  assert.equal(viaHost.report?.exit, 0, viaHost.stderr);
  const ran = await runPlain(limited.out);
  assert.equal(ran.status, 0, ran.stderr);
  assert.match(ran.stdout, /^malloc past the limit: 0 errno ENOMEM 1$/m);
  assert.equal(ran.stdout, viaHost.stdout, "every line as through linkAllocator");
  const memory = new WebAssembly.Module(fs.readFileSync(limited.out));
  assert.ok(WebAssembly.Module.exports(memory).some((e) => e.name === "memory" && e.kind === "memory"));
  const free = await runPlain(unlimited.out);
  assert.equal(free.status, 0, free.stderr);
  assert.match(free.stdout, /^malloc past the limit: 0x[0-9a-f]+ errno ENOMEM 0$/m, "64 MiB is served without the limit");
});

test("--inspect keeps heap_check and the inspection (a Heap attaches to them); without it they are gone, and so is their code", skip, async () => {
  const wasm = await example("hashtable");
  const [inspected, bare] = await Promise.all([linked(wasm, { inspect: true, policy: "best" }, "inspect"), linked(wasm, { policy: "best" }, "bare")]);
  const exports = surface(inspected.out).exports;
  for (const name of INSPECTION_EXPORTS) assert.ok(exports.includes(name), `--inspect exports ${name}`);
  assert.ok(!surface(bare.out).exports.includes("heap_check"), "no heap_check without --inspect");
  const saved = inspected.result.wasm.length - bare.result.wasm.length;
  assert.ok(saved > 4096, `the inspection's code goes with its exports (${saved} bytes)`);
  assertOnlyWasi(inspected.out);
  const { stdout, stderr, status } = await run(NODE_WASI[0], [...NODE_WASI.slice(1), path.join(repo, "tests", "embed", "run-inspected.mjs"), inspected.out, "best"]);
  assert.equal(status, 0, stderr);
  const seen = JSON.parse(stdout.trim().split("\n").pop());
  assert.equal(seen.exit, 0);
  assert.equal(seen.heapCheck, 0, "heap_check finds every invariant holding");
  assert.equal(seen.check, "ok");
  assert.equal(seen.policy, LAYOUT.POLICY_BEST, "--policy best is the heap's policy");
  assert.ok(seen.mallocs > 1000, `the program's allocations are counted (${seen.mallocs})`);
  assert.equal(seen.live, 0, "everything freed");
});

test("a program's own env imports are refused, naming them; --keep-imports leaves them to the host", skip, async () => {
  const wasm = await testProgram("host-import");
  const refused = await cli("link", wasm, "-o", "host-import-linked.wasm");
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^wasm-malloc: link .*host-import\.wasm: the program imports env\.host_value, which a linked module does not provide .*--keep-imports/);
  assert.ok(!fs.existsSync(file("host-import-linked.wasm")), "nothing written");
  const kept = await cli("link", wasm, "-o", "host-import-linked.wasm", "--keep-imports");
  assert.equal(kept.status, 0, kept.stderr);
  const { imports } = surface(file("host-import-linked.wasm"));
  assert.ok(imports.includes("env.host_value"));
  assert.deepEqual(imports.filter((name) => !name.startsWith(`${WASI}.`)), ["env.host_value"]);
});

// ── Bad input ───────────────────────────────────────────────────────────────

test("the CLI: bad usage is exit 2, a program that cannot be linked or an unwritable output exit 1, each one line", skip, async () => {
  const wasm = await example("strbuild");
  const source = path.join(repo, "examples", "c", "strbuild.c");
  const shim = path.join(repo, "c", "wasm_malloc.c");
  const include = ["-I", path.join(repo, "include")];
  await Promise.all([
    runOk("clang", [...CLANG_FLAGS, ...include, source, shim, "-o", file("own-memory.wasm")]),
    runOk("clang", [...CLANG_FLAGS, ...include, LINK_FLAGS[0], source, shim, "-o", file("no-heap-base.wasm")]),
  ]);
  fs.writeFileSync(file("text.wasm"), "this is not a wasm module\n");
  const cases = [
    { args: ["text.wasm"], exit: 1, message: /not a WebAssembly module/ },
    { args: ["missing.wasm"], exit: 1, message: /cannot read missing\.wasm \(ENOENT\)/ },
    { args: ["own-memory.wasm"], exit: 1, message: /defines its own memory; build it with an imported env\.memory \(clang: -Wl,--import-memory\)/ },
    { args: ["no-heap-base.wasm"], exit: 1, message: /exports no constant __heap_base; build it with -Wl,--export=__heap_base/ },
    { args: [wasm, "--policy", "fastest"], exit: 2, message: /argument 'fastest' is invalid/ },
    { args: [wasm, "--max-memory", "4294967296"], exit: 2, message: /'--max-memory <bytes>' argument '4294967296' is invalid/ },
    { args: [wasm, "--max-memory", "NaN"], exit: 2, message: /argument 'NaN' is invalid/ },
    { args: [wasm, "--max-memory=-1"], exit: 2, message: /argument '-1' is invalid/ },
    { args: [wasm, "--max-memory", "1.5"], exit: 2, message: /argument '1\.5' is invalid/ },
    { args: [wasm, "--max-memory", "65536"], exit: 2, message: /--max-memory\) 65536 bytes is below the \d+ bytes the program starts with/ },
    { args: [wasm, "--on-misuse", "crash"], exit: 2, message: /argument 'crash' is invalid/ },
    { args: [wasm, "-O", "9"], exit: 2, message: /argument '9' is invalid/ },
    { args: [wasm], out: null, exit: 2, message: /required option '-o, --out <file>' not specified/ },
    { args: [wasm], out: "no/such/folder/out.wasm", exit: 1, message: /cannot write no\/such\/folder\/out\.wasm \(ENOENT\); pass a writable path to --out/ },
  ];
  const results = await Promise.all(cases.map(({ args, out = "bad-out.wasm" }) => cli("link", ...args, ...(out ? ["-o", out] : []))));
  cases.forEach(({ args, exit, message }, i) => {
    const { status, stdout, stderr } = results[i];
    assert.equal(status, exit, `link ${args.join(" ")}: exit ${status}\n${stderr}`);
    assert.match(stderr, message, `link ${args.join(" ")}`);
    assert.equal(stdout, "");
    assert.ok(!/\n\s+at /.test(stderr), `no stack trace: ${stderr}`);
  });
  assert.ok(!fs.existsSync(file("bad-out.wasm")), "no output from a failed link");
});

test("linkStandalone: each argument and option is checked, with a TypeError, RangeError or LinkError that says what to pass", async () => {
  const { default: binaryen } = await import("binaryen");
  const wat = (text) => { const module = binaryen.parseText(text); try { return module.emitBinary(); } finally { module.dispose(); } };
  const ownMemory = wat('(module (memory (export "memory") 1) (func (export "_start")))');
  const noHeapBase = wat('(module (import "env" "memory" (memory 1)) (func (export "_start")))');
  const program = wat('(module (import "env" "memory" (memory 1)) (global (export "__heap_base") i32 (i32.const 4096)) (func (export "_start")))');
  await assert.rejects(linkStandalone(42), { name: "TypeError", message: /program 42 is not a Wasm source/ });
  await assert.rejects(linkStandalone(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), { name: "LinkError", message: /not a WebAssembly module/ });
  await assert.rejects(linkStandalone(ownMemory), (error) => error instanceof LinkError && /defines its own memory/.test(error.message));
  await assert.rejects(linkStandalone(noHeapBase), { name: "LinkError", message: /exports no constant __heap_base/ });
  await assert.rejects(linkStandalone(program, null), { name: "TypeError", message: /options null is not an object/ });
  await assert.rejects(linkStandalone(program, { policy: "fastest" }), { name: "RangeError", message: /"fastest"; choose one of first, next, best, worst, segregated/ });
  for (const maxMemory of [2 ** 32, NaN, -1, 1.5]) {
    await assert.rejects(linkStandalone(program, { maxMemory }), { name: "RangeError", message: /option maxMemory .* is not a byte count from 0 \(no limit\) to 4294967295/ }, String(maxMemory));
  }
  await assert.rejects(linkStandalone(program, { maxMemory: "8MB" }), { name: "TypeError", message: /option maxMemory "8MB" is not a number/ });
  await assert.rejects(linkStandalone(program, { onMisuse: "crash" }), { name: "RangeError", message: /option onMisuse "crash" is not one of "abort", "report", "ignore"/ });
  await assert.rejects(linkStandalone(program, { optimize: 3 }), { name: "TypeError", message: /option optimize 3 is not a string/ });
  await assert.rejects(linkStandalone(program, { inspect: "yes" }), { name: "TypeError", message: /option inspect yes is not true or false/ });
  // The smallest program links, and runs with no imports at all.
  const { wasm, imports, exports, heapAt, heapBase } = await linkStandalone(program, { optimize: "1" });
  assert.deepEqual(imports, [], "it writes nothing, so it imports nothing (fd_write went with the unused reports)");
  assert.deepEqual(exports.sort(), ["__heap_base", "_start", "memory"]);
  assert.ok(heapAt > heapBase + 256, "the heap starts above the scratch area and the message text");
  const { instance } = await WebAssembly.instantiate(wasm, {});
  instance.exports._start();
});

// ── The small build (--small) ───────────────────────────────────────────────

test("--small: every C example links with the small build, runs on node:wasi alone with the same output, and adds less to the program", skip, async () => {
  for (const name of EXAMPLES) {
    const wasm = await example(name);
    const [full, small] = await Promise.all([linked(wasm, {}, "full"), linked(wasm, { small: true }, "small")]);
    assertOnlyWasi(small.out);
    const [a, b] = await Promise.all([runPlain(full.out), runPlain(small.out)]);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /: ok\n$/, `${name} checked itself`);
    assert.equal(b.stdout, a.stdout, `${name}: the same output on both builds`);
    const [program, fullSize, smallSize] = [wasm, full.out, small.out].map((f) => fs.statSync(f).size);
    console.log(`# ${name}: program ${program} bytes, linked ${fullSize} (+${fullSize - program}), --small ${smallSize} (+${smallSize - program})`);
    assert.ok(smallSize < fullSize, `${name}: the small build adds less (${smallSize - program} against ${fullSize - program} bytes)`);
  }
});

test("--small: a double free is still reported on stderr and traps", skip, async () => {
  const { out } = await linked(await testProgram("double-free"), { small: true }, "small");
  const { status, stdout, stderr } = await runPlain(out);
  assert.notEqual(status, 0);
  assert.equal(stdout, "first free\n");
  const line = stderr.split("\n")[0] + "\n";
  assert.equal(line, expectedLine(line, "double-free", "free"));
});

test("--small: what the small build cannot do is refused, naming it (exit 2 for options that do not go together)", skip, async () => {
  const wasm = await example("tree");
  for (const [args, message] of [
    [["--small", "--inspect"], /--small and --inspect do not go together/],
    [["--small", "--policy", "best"], /--policy best does not apply with --small/],
  ]) {
    const { status, stderr } = await cli("link", wasm, "-o", "never.wasm", ...args);
    assert.equal(status, 2, stderr);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split("\n").length <= 2, true);
  }
  assert.equal(fs.existsSync(file("never.wasm")), false);
  await assert.rejects(linkStandalone(fs.readFileSync(wasm), { small: true, inspect: true }), /small build has no inspection exports/);
  await assert.rejects(linkStandalone(fs.readFileSync(wasm), { small: "yes" }), /option small yes is not true or false/);
  const api = await testProgram("api");
  const { imports } = surface(api);
  if (imports.includes("env.wasm_heap_check")) {
    await assert.rejects(linkStandalone(fs.readFileSync(api), { small: true }), /imports env\.wasm_heap_check.*small build leaves out/);
  } else assert.fail("tests/embed/c/api.c was expected to call wasm_heap_check");
});
