// The malloc tracer (tools/malloc-tracer/): built with make and the machine's C
// compiler, run under LD_PRELOAD on a C program that makes every traced call
// (tests/fixtures/malloc-tracer-exercise.c) and on a real one (sort). Needs
// Linux with glibc, make and cc: skipped (saying why) where they are missing,
// except under CI=true, where they must be there.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseTrace, replayTrace } from "../dist/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tracerDir = path.join(repo, "tools", "malloc-tracer");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-tracer-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const has = (command) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
const compiler = ["cc", "gcc", "clang"].find(has);
const missing = process.platform !== "linux" ? "not Linux" : !has("make") ? "make is missing" : !compiler ? "no C compiler (cc, gcc, clang)" : null;
const skip = missing && process.env.CI !== "true" ? { skip: `the tracer needs ${missing}` } : {};

let built = null;
/** The tracer library and the exercise program, built once. */
function build() {
  if (built) return built;
  const make = spawnSync("make", ["-C", tracerDir, "--no-print-directory", `CC=${compiler}`], { encoding: "utf8" });
  assert.equal(make.status, 0, `make failed:\n${make.stdout}${make.stderr}`);
  const exercise = path.join(tmp, "exercise");
  const cc = spawnSync(compiler, ["-O0", "-fno-builtin", "-pthread", "-o", exercise, path.join(repo, "tests", "fixtures", "malloc-tracer-exercise.c")], { encoding: "utf8" });
  assert.equal(cc.status, 0, `compiling the exercise failed:\n${cc.stderr}`);
  built = { library: path.join(tracerDir, "libmalloc-tracer.so"), exercise };
  return built;
}

/** Run `argv` under the tracer in a fresh folder; its files, by name. */
function traced(name, argv, env = {}, stdin = "ignore") {
  const { library } = build();
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const run = spawnSync(argv[0], argv.slice(1), {
    cwd: dir,
    env: { ...process.env, LD_PRELOAD: library, WASM_MALLOC_TRACE: "%e.%p.rep", ...env },
    stdio: [stdin, "pipe", "pipe"],
    encoding: "utf8",
  });
  assert.equal(run.status, 0, `${argv.join(" ")} exited with ${run.status ?? run.signal}: ${run.stderr}`);
  const files = fs.readdirSync(dir).sort();
  return { dir, files, read: (f) => fs.readFileSync(path.join(dir, f), "utf8") };
}

function stats(text) {
  return Object.fromEntries(text.trim().split("\n").map((line) => {
    const at = line.indexOf(" ");
    return [line.slice(0, at), /^\d+$/.test(line.slice(at + 1)) ? Number(line.slice(at + 1)) : line.slice(at + 1)];
  }));
}

test("every traced call is written in order, ids of freed blocks are reused, and the trace replays", skip, async () => {
  const { exercise } = build();
  const run = traced("calls", [exercise]);
  const parent = run.files.filter((f) => /^exercise\.\d+\.rep$/.test(f));
  assert.equal(parent.length, 2, `one trace per process (parent and fork child): ${run.files.join(", ")}`);
  assert.ok(!run.files.some((f) => f.endsWith(".partial")), "no file left unfinished");
  // Which is which: the child's trace opens with the blocks it inherited.
  const traces = parent.map((f) => ({ f, trace: parseTrace(run.read(f), f), stats: stats(run.read(`${f}.stats`)) }));
  const main = traces.find((t) => t.stats.inherited_from_parent === 0);
  const child = traces.find((t) => t.stats.inherited_from_parent > 0);
  assert.ok(main && child, "a parent trace and a child trace");

  const ops = main.trace.ops;
  const marker = ops.findIndex((op) => op.kind === "a" && op.size === 54321);
  assert.ok(marker >= 0, "the marker block is in the trace");
  const expected = ["a M 54321", "f M", "a p 10", "a q 24", "r p 100", "a r 7", "f r", "a d 200", "a e 512", "a f 33", "a v 5", "f q", "a g 0",
    "f d", "f e", "f f", "f v", "f g", "f p"];
  const ids = new Map();
  expected.forEach((line, i) => {
    const [kind, name, size] = line.split(" ");
    const op = ops[marker + i];
    assert.equal(op.kind, kind, `operation ${i} after the marker: ${line}`);
    if (size !== undefined) assert.equal(op.size, Number(size), `operation ${i}: ${line}`);
    if (!ids.has(name)) ids.set(name, op.id);
    assert.equal(op.id, ids.get(name), `operation ${i}: ${line} has the id of its block`);
  });
  assert.equal(ids.get("d"), ids.get("r"), "posix_memalign took the id realloc(r, 0) freed");
  assert.equal(ids.get("g"), ids.get("q"), "malloc(0) took q's id");

  // The threads: 4,000 malloc+free pairs, interleaved, each free after its malloc.
  const s = main.stats;
  assert.ok(s.malloc >= 4000 + 4 && s.free >= 4000 + 6, `the threads' calls are counted (${s.malloc} malloc, ${s.free} free)`);
  assert.equal(s.aligned, 4, "posix_memalign, aligned_alloc, memalign and valloc are aligned allocations");
  assert.ok(s.calloc >= 1);
  assert.equal(s.realloc_from_null, 1);
  assert.equal(s.realloc_to_zero, 1);
  assert.equal(s.malloc_usable_size_calls, 1);
  assert.equal(s.operations_written, ops.length);
  assert.equal(main.trace.ids, Math.max(...ops.map((op) => op.id)) + 1, "the header's id count");
  assert.ok(main.trace.ids < 100, `ids are reused: ${main.trace.ids} ids for ${ops.length} operations`);
  const replayed = await replayTrace(main.trace, { check: true });
  assert.equal(replayed.ops, ops.length);

  // The child: the parent's live blocks first (4242 among them), then its own free and malloc.
  const c = child.trace.ops;
  const inherited = c.slice(0, child.stats.inherited_from_parent);
  assert.ok(inherited.every((op) => op.kind === "a"));
  const kept = inherited.find((op) => op.size === 4242);
  assert.ok(kept, "the block allocated before the fork is inherited");
  const rest = c.slice(inherited.length).map((op) => `${op.kind} ${op.kind === "f" ? op.id : op.size}`);
  assert.deepEqual(rest.slice(0, 2), [`f ${kept.id}`, "a 77"]);
  await replayTrace(child.trace, { check: true });
});

test("WASM_MALLOC_TRACE_MAX_OPS ends the trace there and still counts the run; _ONLY leaves other programs untraced", skip, () => {
  const { exercise } = build();
  const cut = traced("cut", [exercise], { WASM_MALLOC_TRACE_MAX_OPS: "25" });
  for (const f of cut.files.filter((f) => f.endsWith(".rep"))) {
    const trace = parseTrace(cut.read(f), f);
    const s = stats(cut.read(`${f}.stats`));
    assert.equal(trace.ops.length, s.operations_written);
    if (s.inherited_from_parent === 0) {
      assert.equal(trace.ops.length, 25);
      assert.ok(s.operations_in_run > 8000, `the whole run is counted (${s.operations_in_run})`);
    }
  }
  const none = traced("only", [exercise], { WASM_MALLOC_TRACE_ONLY: "cc1,python3.11" });
  assert.deepEqual(none.files, [], "nothing written for a program not named");
  const named = traced("named", [exercise], { WASM_MALLOC_TRACE_ONLY: "cc1,exercise" });
  assert.equal(named.files.filter((f) => f.endsWith(".rep")).length, 2);
});

test("a real program (sort) traced: a valid trace that replays with the heap check", skip, async () => {
  const input = path.join(tmp, "lines.txt");
  fs.writeFileSync(input, Array.from({ length: 20000 }, (_, i) => `line ${(i * 7919) % 20000}`).join("\n"));
  const sort = traced("sort", ["sort", "-S", "1M", input]);
  const files = sort.files.filter((f) => f.endsWith(".rep"));
  assert.equal(files.length, 1, sort.files.join(", "));
  const trace = parseTrace(sort.read(files[0]), files[0]);
  assert.ok(trace.ops.length > 10);
  const s = stats(sort.read(`${files[0]}.stats`));
  assert.equal(s.executable, fs.realpathSync(spawnSync("sh", ["-c", "command -v sort"], { encoding: "utf8" }).stdout.trim()));
  const result = await replayTrace(trace, { check: true });
  assert.equal(result.peakLivePayload, s.peak_live_bytes_in_run);
});
