// One thread of tests/threads.test.mjs: an instance of build/threads.wasm over the
// shared memory, joined to the heap, running random malloc/calloc/realloc/free
// against a shadow model (every block filled with a pattern, checked before it
// is freed or moved), handing a share of its blocks to the next thread to free
// and freeing those the previous one hands it. Reports what it saw to the parent.
import fs from "node:fs";
import { parentPort, workerData, receiveMessageOnPort } from "node:worker_threads";

const { memory, wasm, base, seed, ops, index, toNext, fromPrev, leaveLive, capped } = workerData;
const errors = [];
const env = {
  memory,
  wasm_malloc_report: (kind, reason, op, ptr) => errors.push({ kind, reason, op, ptr: ptr >>> 0 }),
  wasm_malloc_named() {},
};
const e = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(wasm)), { env }).exports;
const status = e.heap_attach(base);
if (status !== 0) throw new Error(`thread ${index}: heap_attach(${base}) = ${status}`);
// Every thread has its heap before any allocates (under a cap, a late one would find no page for it).
parentPort.postMessage({ type: "attached" });
Atomics.wait(new Int32Array(workerData.doneFlag), 1, 0);

// xorshift32: a seeded stream per thread (the seed is printed by the parent).
let state = seed >>> 0 || 1;
const rand = () => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state; };
const sizeOf = () => { const r = rand() % 100; return r < 70 ? 1 + rand() % 256 : r < 95 ? 257 + rand() % 4000 : 4097 + rand() % 200000; };

const bytes = () => new Uint8Array(memory.buffer);
const fill = (ptr, size, pattern) => bytes().fill(pattern, ptr, ptr + size);
function intact(ptr, size, pattern) {
  const view = bytes();
  for (let i = ptr; i < ptr + size; i++) if (view[i] !== pattern) return false;
  return true;
}

const live = new Map(); // id -> { ptr, size, pattern }
let nextId = 1, mallocs = 0, frees = 0, remoteFrees = 0, handed = 0, failed = 0, corrupt = 0, misaligned = 0;
function check(block, what) { if (!intact(block.ptr, block.size, block.pattern)) { corrupt++; errors.push({ what, ...block }); } }
function release(id) { const b = live.get(id); check(b, "before free"); e.free(b.ptr); live.delete(id); frees++; }
function drainIncoming() {
  let m;
  while ((m = receiveMessageOnPort(fromPrev))) {
    for (const b of m.message) { check(b, "handed over"); e.free(b.ptr); remoteFrees++; }
  }
}

for (let i = 0; i < ops; i++) {
  if (i % 64 === 0) drainIncoming();
  const r = rand() % 100;
  const ids = live.size ? [...live.keys()] : [];
  if (r < (capped ? 60 : 45) || ids.length === 0) {
    const size = sizeOf();
    const zeroed = rand() % 8 === 0;
    const ptr = zeroed ? e.calloc(1, size) : e.malloc(size);
    if (ptr === 0) { failed++; if (!capped) errors.push({ what: "malloc returned 0", size }); continue; }
    if (ptr % 16 !== 0) misaligned++;
    if (zeroed && !intact(ptr, size, 0)) { corrupt++; errors.push({ what: "calloc not zeroed", ptr, size }); }
    const pattern = (nextId * 31 + index * 7) & 0xff || 1;
    fill(ptr, size, pattern);
    live.set(nextId++, { ptr, size, pattern });
    mallocs++;
  } else if (r < 60) {
    const id = ids[rand() % ids.length];
    const b = live.get(id);
    check(b, "before realloc");
    const size = sizeOf();
    const ptr = e.realloc(b.ptr, size);
    if (ptr === 0) { failed++; if (!capped) errors.push({ what: "realloc returned 0", size }); continue; }
    if (!intact(ptr, Math.min(size, b.size), b.pattern)) { corrupt++; errors.push({ what: "realloc lost contents", ptr }); }
    fill(ptr, size, b.pattern);
    live.set(id, { ptr, size, pattern: b.pattern });
  } else if (r < 70) {
    // Hand a block to the next thread: it checks the pattern and frees it.
    const id = ids[rand() % ids.length];
    toNext.postMessage([live.get(id)]);
    live.delete(id);
    handed++;
  } else {
    release(ids[rand() % ids.length]);
  }
}
// The next thread may still be sending: wait for its "done" before the last drain.
parentPort.postMessage({ type: "ops-done" });
const go = new Int32Array(workerData.doneFlag);
Atomics.wait(go, 0, 0);
drainIncoming();
// Free what is left, except `leaveLive` blocks handed to the parent with the
// heap: this thread detaches, and they must stay valid and freeable by another.
const kept = [];
for (const [id, b] of live) {
  if (kept.length < leaveLive) { check(b, "left live"); kept.push(b); }
  else release(id);
}
const detached = e.heap_detach();
parentPort.postMessage({
  type: "result", index, mallocs, frees, remoteFrees, handed, failed, corrupt, misaligned, errors: errors.slice(0, 5),
  errorCount: errors.length, kept, detached,
});
