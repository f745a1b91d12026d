// One worker of the threads benchmark: instantiates the allocator over the
// shared memory, joins the heap, builds its part of the workload, waits for
// the start signal, runs it and reports. Started by threads-run.mjs.
//
// sync (an Int32Array over a SharedArrayBuffer, not the Wasm memory):
//   [0] 1 once worker 0's init has succeeded (-1: it failed)   [1] 1: go
//   [2] workers done                                            times: [start, end] per worker (BigInt64, ns)
//
// The operations run from a JS loop here (driver "js") or from the Wasm
// driver (peers/threads-driver.ts, driver "wasm"): one instance of it per
// worker, importing the allocator's exports, fed the stream in chunks through
// the worker's region of the memory (copied inside the timed span, 16 KiB at a time).
//
// Checked runs (JS driver only; what the tests use) fill every block with a word derived from
// its address and size (fillWord), verify it before each free and realloc
// (the receiving worker does, for pc), and check each pointer's alignment.
// Overlapping live blocks, a block moved without its contents, or one handed
// out twice shows up as a mismatch.
import { parentPort, workerData } from "node:worker_threads";
import { threadWorkload, workerSeed } from "./threads-workloads.mjs";
import { packed } from "./workloads.mjs";
import { CHUNK_OPS, CONTROL, DRIVER_BYTES, DRIVER_REGIONS, MAX_SLOTS, RINGS, RING_BYTES, RING_ENTRIES, RING_HEADER, STACK_BYTES, STACKS } from "./threads-allocators.mjs";
import { DRIVER_TOP } from "./build.mjs";

const { registry, files, allocatorId, module, driver, driverModule, memory, sync: syncBuffer, workload, ops, seed, index, workers, check, control, maxBytes } = workerData;
const sync = new Int32Array(syncBuffer, 0, 4);
const times = new BigInt64Array(syncBuffer, 16, workers * 2);
// The entry's functions cannot be posted to a worker: it finds them by id in the registry module.
const { threadAllocators } = await import(registry);
const alloc = threadAllocators(files).find((a) => a.id === allocatorId);
if (!alloc) throw new Error(`no allocator '${allocatorId}' in ${registry}`);

function importsFor() {
  const env = { memory };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === "env" && imp.kind === "function") env[imp.name] = () => { throw new Error(`${allocatorId} called env.${imp.name}`); };
  }
  return { env };
}

const e = new WebAssembly.Instance(module, importsFor()).exports;
// The module's data must end below the harness's words or lie above them (threads-allocators.mjs).
const dataEnd = e.__heap_base?.value ?? 0;
if (dataEnd > CONTROL && dataEnd < DRIVER_TOP) throw new Error(`${allocatorId}: its data ends at ${dataEnd}, inside the harness's region [${CONTROL}, ${DRIVER_TOP})`);
const heapBase = Math.max(DRIVER_TOP, Math.ceil(dataEnd / 65536) * 65536);
const ctx = { control, heapBase, maxBytes, stackTop: STACKS + (index + 1) * STACK_BYTES, worker: index };
alloc.prepare?.(e, ctx);
if (index === 0) {
  const status = alloc.init(e, ctx);
  Atomics.store(sync, 0, status === 0 ? 1 : -1);
  Atomics.notify(sync, 0);
  if (status !== 0) throw new Error(`${allocatorId}: init returned ${status}`);
} else {
  Atomics.wait(sync, 0, 0);
  if (Atomics.load(sync, 0) !== 1) throw new Error(`${allocatorId}: worker 0's init failed`);
  const status = alloc.attach(e, ctx);
  if (status !== 0) throw new Error(`${allocatorId}: attach returned ${status}`);
}

const work = threadWorkload(workload, ops, seed, index);
const drv = driver === "wasm"
  ? new WebAssembly.Instance(driverModule, { env: { memory }, alloc: { malloc: e.malloc, free: e.free, realloc: e.realloc } }).exports
  : null;
if (drv && check) throw new Error("checked runs use the JS driver");
const ops8 = drv && work.codes ? packed(work) : null; // (interleaved before the clock starts)
const faults = { nulls: 0, misaligned: 0, corrupt: 0 };

// ── Checked runs: patterns in the blocks ──
let heap = new Int32Array(memory.buffer);
const fillWord = (ptr, size) => Math.imul(ptr ^ Math.imul(size, 0x85ebca6b), 0x9e3779b1) | 1;
function view(end) {
  if (end > heap.byteLength) heap = new Int32Array(memory.buffer);
  return heap;
}
function fill(ptr, size) {
  if (ptr === 0) { faults.nulls++; return; }
  if (ptr % alloc.align !== 0) { faults.misaligned++; return; } // (a fill would write outside the block)
  view(ptr + size).fill(fillWord(ptr, size), ptr >>> 2, (ptr + size) >>> 2);
}
/** Do the first `bytes` at `at` still hold what fill wrote into block (ptr, size)? (at: ptr, or where realloc moved it) */
function intact(ptr, size, at = ptr, bytes = size) {
  const h = view(at + bytes);
  const word = fillWord(ptr, size);
  for (let i = at >>> 2, end = (at + bytes) >>> 2; i < end; i++) if (h[i] !== word) return false;
  return true;
}

// ── Stream workloads (churn, mixed) ──
function runStream() {
  const { malloc, free, realloc } = e;
  const { codes, sizes, count } = work;
  const slots = new Int32Array(work.slots);
  if (!check) {
    for (let i = 0; i < count; i++) {
      const code = codes[i], kind = code >>> 30, slot = code & 0x3fffffff;
      if (kind === 0) slots[slot] = malloc(sizes[i]);
      else if (kind === 1) free(slots[slot]);
      else slots[slot] = realloc(slots[slot], sizes[i]);
    }
    return count;
  }
  const slotSize = new Uint32Array(work.slots);
  for (let i = 0; i < count; i++) {
    const code = codes[i], kind = code >>> 30, slot = code & 0x3fffffff;
    const old = slots[slot];
    if (kind !== 0 && old !== 0 && !intact(old, slotSize[slot])) faults.corrupt++;
    if (kind === 0 || kind === 2) {
      const ptr = kind === 0 ? malloc(sizes[i]) : realloc(old, sizes[i]);
      // realloc keeps the old contents up to the smaller size: still the old block's word.
      if (kind === 2 && ptr !== 0 && old !== 0 && !intact(old, slotSize[slot], ptr, Math.min(sizes[i], slotSize[slot]) & ~3)) faults.corrupt++;
      fill(ptr, sizes[i]);
      slots[slot] = ptr;
      slotSize[slot] = sizes[i];
    } else {
      free(old);
      slots[slot] = 0;
    }
  }
  return count;
}

// ── The same under the Wasm driver ──
function runStreamWasm() {
  if (work.slots > MAX_SLOTS) throw new Error(`${workload}: ${work.slots} slots, the Wasm driver holds ${MAX_SLOTS}`);
  const opsAt = DRIVER_REGIONS + index * DRIVER_BYTES, slotsAt = opsAt + CHUNK_OPS * 8;
  const chunk = new Uint32Array(memory.buffer, opsAt, CHUNK_OPS * 2);
  for (let i = 0; i < work.count; i += CHUNK_OPS) {
    const n = Math.min(CHUNK_OPS, work.count - i);
    chunk.set(ops8.subarray(2 * i, 2 * (i + n)));
    drv.run(opsAt, n, slotsAt);
  }
  return work.count;
}

function runProducerConsumerWasm() {
  const at = (w) => RINGS + w * RING_BYTES;
  return drv.pc(at(index), at((index + workers - 1) % workers), at((index + 1) % workers), work.count, RING_ENTRIES, workerSeed(seed, index)) >>> 0;
}

// ── Producer-consumer: a ring per worker, written by it, read by the next ──
// Each worker loops: publish a batch of fresh blocks into its own ring (as
// room allows), then free what the previous worker has published. With
// nothing to do it spins a while, then sleeps on its bell, a counter in its
// own ring's header that the next worker rings after freeing (room in the
// ring) and the previous one after publishing (blocks to free). The bell is
// read before the checks, so a ring between them ends the wait at once.
function runProducerConsumer() {
  const { malloc, free } = e;
  const BATCH = 64;
  const ring = (w) => new Int32Array(memory.buffer, RINGS + w * RING_BYTES, RING_BYTES >>> 2);
  const prev = (index + workers - 1) % workers, next = (index + 1) % workers;
  const out = ring(index), inc = ring(prev), bellNext = ring(next), bellPrev = inc, bell = out;
  const HEAD = 0, TAIL = 4, BELL = 16, ENTRY = RING_HEADER >>> 2, MASK = RING_ENTRIES - 1;
  const ding = (r) => { Atomics.add(r, BELL, 1); Atomics.notify(r, BELL, 1); };
  const total = work.count;
  let produced = 0, consumed = 0, idle = 0;
  while (produced < total || consumed < total) {
    const rung = Atomics.load(bell, BELL);
    let progress = false;
    let n = Math.min(RING_ENTRIES - (produced - Atomics.load(out, TAIL)), BATCH, total - produced);
    if (n > 0) {
      for (let k = 0; k < n; k++, produced++) {
        const size = work.sizes[produced];
        const ptr = malloc(size);
        if (check) fill(ptr, size);
        const at = ENTRY + ((produced & MASK) << 1);
        out[at] = ptr;
        out[at + 1] = size;
      }
      Atomics.store(out, HEAD, produced);
      ding(bellNext);
      progress = true;
    }
    n = Math.min(Atomics.load(inc, HEAD) - consumed, BATCH);
    if (n > 0) {
      for (let k = 0; k < n; k++, consumed++) {
        const at = ENTRY + ((consumed & MASK) << 1);
        const ptr = inc[at];
        if (check && ptr !== 0 && !intact(ptr, inc[at + 1])) faults.corrupt++;
        free(ptr);
      }
      Atomics.store(inc, TAIL, consumed);
      ding(bellPrev);
      progress = true;
    }
    if (progress) idle = 0;
    else if (++idle > 1000) Atomics.wait(bell, BELL, rung, 100);
  }
  return produced + consumed;
}

// ── The baseline: no allocator, no memory traffic ──
function runSpin() {
  let x = 0;
  for (let i = 0; i < work.count; i++) x = (x + Math.imul(i, 0x9e3779b1)) | 0;
  if (x === 0x7fffffff) console.log(x); // (keeps the loop from being optimized away)
  return work.count;
}

parentPort.postMessage({ ready: true });
Atomics.wait(sync, 1, 0);
const start = process.hrtime.bigint();
const done = workload === "spin" ? runSpin()
  : workload === "pc" ? (drv ? runProducerConsumerWasm() : runProducerConsumer())
  : drv ? runStreamWasm() : runStream();
const end = process.hrtime.bigint();
times[index * 2] = start;
times[index * 2 + 1] = end;
alloc.detach?.(e);
Atomics.add(sync, 2, 1);
Atomics.notify(sync, 2);
let heapCheck = null;
if (check && index === 0 && alloc.check) {
  // Every worker is done with the heap before it is walked.
  for (let n; (n = Atomics.load(sync, 2)) < workers;) Atomics.wait(sync, 2, n);
  heapCheck = alloc.check(e);
}
parentPort.postMessage({ ops: done, faults, heapCheck });
