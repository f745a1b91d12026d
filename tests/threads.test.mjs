// The threads build (build/threads.wasm): several worker_threads, each with its own
// instance over one shared memory, joined to one heap, run random
// malloc/calloc/realloc/free with a pattern in every block (tests/host/threads-worker.mjs),
// hand a share of their blocks to the next worker to free, and leave some live when
// they detach; then the heap check from the main thread's instance. Seeds are printed:
//   THREADS_SEED=123 node --test tests/threads.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { Worker, MessageChannel } from "node:worker_threads";
import { fileURLToPath } from "node:url";

const WASM = fileURLToPath(new URL("../build/threads.wasm", import.meta.url));
const WORKER = fileURLToPath(new URL("./host/threads-worker.mjs", import.meta.url));

/** The main thread's instance over a new shared memory, the heap set up at __heap_base (below `limit`, 0: none). */
function mainInstance(limit = 0, maxPages = 16384) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: maxPages, shared: true });
  const errors = [];
  const env = { memory, wasm_malloc_report: (kind, reason, op, ptr) => errors.push({ kind, ptr: ptr >>> 0 }), wasm_malloc_named() {} };
  const e = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(WASM)), { env }).exports;
  const base = e.__heap_base.value;
  assert.equal(e.heap_init(base, limit), 0, "heap_init");
  return { memory, e, base, errors };
}

/** Run `count` workers of `ops` operations each over `main`'s heap; their results, in order. */
async function runWorkers(main, { count, ops, seed, capped = false, leaveLive = 3 }) {
  const channels = Array.from({ length: count }, () => new MessageChannel());
  const doneFlag = new SharedArrayBuffer(8); // [0]: every thread's ops done; [1]: every thread attached
  let attached = 0;
  const results = [];
  let opsDone = 0;
  const workers = channels.map((_, i) => {
    const toNext = channels[i].port1;                       // worker i sends to i+1
    const fromPrev = channels[(i - 1 + count) % count].port2; // and hears from i-1
    return new Worker(WORKER, {
      workerData: { memory: main.memory, wasm: WASM, base: main.base, seed: seed + i * 7919, ops, index: i, toNext, fromPrev, leaveLive, capped, doneFlag },
      transferList: [toNext, fromPrev],
    });
  });
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    w.on("error", reject);
    w.on("message", (m) => {
      if (m.type === "attached" && ++attached === count) {
        const flag = new Int32Array(doneFlag);
        Atomics.store(flag, 1, 1);
        Atomics.notify(flag, 1);
      }
      if (m.type === "ops-done" && ++opsDone === count) {
        const flag = new Int32Array(doneFlag);
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      }
      if (m.type === "result") results[m.index] = m;
    });
    w.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
  })));
  return results;
}

const seedOf = () => Number(process.env.THREADS_SEED ?? Math.floor(Math.random() * 2 ** 31));

test("threads: workers share one heap; remote frees, detached threads' blocks freed by another, heap check", async (t) => {
  const seed = seedOf();
  t.diagnostic(`seed ${seed}`);
  const main = mainInstance();
  const results = await runWorkers(main, { count: 3, ops: 6000, seed });
  for (const r of results) {
    assert.equal(r.errorCount, 0, `seed ${seed}, worker ${r.index}: ${JSON.stringify(r.errors)}`);
    assert.equal(r.corrupt, 0, `seed ${seed}, worker ${r.index}: a block's pattern changed`);
    assert.equal(r.misaligned, 0);
    assert.equal(r.detached, 0);
    assert.ok(r.mallocs > 1000 && r.remoteFrees > 100, `seed ${seed}: worker ${r.index} did too little (${JSON.stringify(r)})`);
  }
  assert.equal(results.reduce((n, r) => n + r.handed, 0), results.reduce((n, r) => n + r.remoteFrees, 0), "every handed block was freed");
  // The detached threads' blocks: intact, and freed here by the main thread's instance.
  const view = new Uint8Array(main.memory.buffer);
  for (const r of results) for (const b of r.kept) {
    for (let i = b.ptr; i < b.ptr + b.size; i++) assert.equal(view[i], b.pattern, `seed ${seed}: kept block at ${b.ptr}`);
    main.e.free(b.ptr);
  }
  assert.deepEqual(main.errors, []);
  assert.equal(main.e.heap_check(), 0, `seed ${seed}: heap_check`);
  assert.equal(main.e.heap_count(), 4, "a heap per thread: the main thread's and three workers'");
  assert.equal(main.e.heap_stat_all(2), 0, "no block is live in any heap"); // STAT_LIVE
});

test("threads: a double free across threads is reported and changes nothing", async () => {
  const main = mainInstance();
  const other = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(WASM)), {
    env: { memory: main.memory, wasm_malloc_report: (kind) => main.errors.push({ kind, from: "other" }), wasm_malloc_named() {} },
  }).exports;
  assert.equal(other.heap_attach(main.base), 0);
  assert.equal(other.heap_attach(main.base), -1, "HEAP_INIT_ALREADY");
  const p = main.e.malloc(40);
  other.free(p);
  other.free(p);
  assert.deepEqual(main.errors.map((x) => x.from), ["other"]);
  assert.equal(main.e.heap_check(), 0);
  assert.equal(other.heap_detach(), 0);
  assert.equal(other.heap_detach(), -1);
});

test("threads: heap_attach before heap_init finds no heap", () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
  const e = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(WASM)), {
    env: { memory, wasm_malloc_report() {}, wasm_malloc_named() {} },
  }).exports;
  assert.equal(e.heap_attach(e.__heap_base.value), -6, "HEAP_INIT_NOT_FOUND");
  assert.equal(e.malloc(16), 0, "no heap: malloc fails");
});

test("threads: under a memory cap, out of memory is 0 in every thread and nothing is corrupted", async (t) => {
  const seed = seedOf();
  t.diagnostic(`seed ${seed}`);
  const main = mainInstance(0, 16); // the memory itself stops at 1 MiB
  const results = await runWorkers(main, { count: 2, ops: 4000, seed, capped: true, leaveLive: 0 });
  for (const r of results) {
    assert.equal(r.corrupt, 0, `seed ${seed}, worker ${r.index}: ${JSON.stringify(r.errors)}`);
    assert.equal(r.errorCount, 0, `seed ${seed}, worker ${r.index}: ${JSON.stringify(r.errors)}`);
  }
  assert.ok(results.some((r) => r.failed > 0), `seed ${seed}: the cap was never reached`);
  assert.equal(main.e.heap_check(), 0, `seed ${seed}: heap_check`);
  assert.equal(main.e.heap_stat_all(2), 0);
});
