// One measurement of the threads benchmark: a fresh shared memory, `workers`
// worker threads each instantiating the allocator's module over it
// (threads-worker.mjs), released together once all are ready. Throughput is
// every worker's operations over the wall time from the first worker's start
// to the last one's end.
import { Worker } from "node:worker_threads";
import { CONTROL, MAX_WORKERS, memoryFor } from "./threads-allocators.mjs";
import { importedMemoryPages } from "./build.mjs";

const WORKER = new URL("./threads-worker.mjs", import.meta.url);
const REGISTRY = new URL("./threads-allocators.mjs", import.meta.url).href;

/**
 * Runs `workload` (ops per worker) with `workers` instances of `alloc`
 * (compiled: its WebAssembly.Module). Returns { ops, ns, opsPerUs, faults,
 * heapCheck } (faults and heapCheck mean something only when `check`).
 * driver: "js" (a JS loop calls the exports) or "wasm" (driverModule, the
 * compiled peers/threads-driver.ts, calls them as Wasm imports).
 * `registry`: the URL of the module whose threadAllocators(files) has `alloc`
 * (each worker looks its entry up there by id; the tests bring their own).
 */
export async function runThreads({ registry = REGISTRY, files, alloc, compiled, driver = "js", driverModule = null, workload, ops, seed, workers, check = false, maxBytes = 512 << 20 }) {
  if (workers < 1 || workers > MAX_WORKERS) throw new Error(`workers: 1 … ${MAX_WORKERS}`);
  const memory = memoryFor(compiled.importPages);
  const syncBuffer = new SharedArrayBuffer(16 + workers * 16);
  const sync = new Int32Array(syncBuffer, 0, 4);
  if (driver === "wasm" && !driverModule) throw new Error("the Wasm driver needs driverModule (threads-driver.wasm, compiled)");
  const data = { registry, files, allocatorId: alloc.id, module: compiled.module, driver, driverModule, memory, sync: syncBuffer, workload, ops, seed, workers, check, control: CONTROL, maxBytes };
  const workerList = [];
  const threads = [];
  const results = [];
  let ready = 0;
  let release;
  const allReady = new Promise((resolve) => { release = resolve; });
  for (let index = 0; index < workers; index++) {
    const worker = new Worker(WORKER, { workerData: { ...data, index } });
    workerList.push(worker);
    threads.push(new Promise((resolve, reject) => {
      worker.on("message", (m) => {
        if (m.ready) { if (++ready === workers) release(); } else results[index] = m;
      });
      worker.on("error", (err) => {
        // The others may wait forever (for worker 0's init, or for a lock this
        // one held when it trapped): stop them all.
        for (const other of workerList) other.terminate();
        reject(err);
      });
      worker.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker ${index} exited with ${code}`))));
    }));
  }
  await Promise.race([allReady, Promise.all(threads)]);
  Atomics.store(sync, 1, 1);
  Atomics.notify(sync, 1);
  await Promise.all(threads);
  const times = new BigInt64Array(syncBuffer, 16, workers * 2);
  let first = times[0], last = times[1];
  for (let i = 0; i < workers; i++) {
    if (times[2 * i] < first) first = times[2 * i];
    if (times[2 * i + 1] > last) last = times[2 * i + 1];
  }
  const totalOps = results.reduce((s, r) => s + r.ops, 0);
  const ns = Number(last - first);
  const faults = { nulls: 0, misaligned: 0, corrupt: 0 };
  for (const r of results) for (const k of Object.keys(faults)) faults[k] += r.faults[k];
  return { ops: totalOps, ns, opsPerUs: (totalOps / ns) * 1000, faults, heapCheck: results[0].heapCheck };
}

/** Compiles an allocator's module for runThreads. */
export async function compileThreadAllocator(bytes) {
  return { module: await WebAssembly.compile(bytes), importPages: importedMemoryPages(bytes) };
}
