// The allocators the threads benchmark can run (bench/threads.mjs), and the
// shared memory's layout below them.
//
//   0      CONTROL        RINGS                 DRIVER_REGIONS           STACKS              DRIVER_TOP
//   │ unused │ 64 B for the │ one ring per worker │ per worker: the Wasm  │ one 32 KiB C stack │ allocator's data,
//   │        │ allocator    │ (producer-consumer) │ driver's ops and slots│ per worker         │ then its heap →
//
// A module's static data must end below CONTROL or sit at or above
// DRIVER_TOP (asc --memoryBase, wasm-ld --global-base), and must hold no
// state that changes: with an
// imported memory, every instantiation (every worker starting) writes the
// active data segments again. (wasm-ld's shared-memory modules are the
// exception: passive segments, written once.)
//
// An entry names its module and says how an instance joins the heap. Each
// function gets the instance's exports and a context:
//   { control, heapBase, maxBytes, stackTop, worker }
// control: 64 bytes the harness reserves for the allocator's shared words;
// heapBase: the module's __heap_base rounded up to 64 KiB, or DRIVER_TOP if
// that is lower (or it exports none); maxBytes: how far the heap may grow; stackTop: the top of
// this worker's C stack. prepare(e, ctx) runs in every instance first (may be
// omitted); init(e, ctx) in one instance, attach(e, ctx) in every other one,
// each returning 0 on success; detach(e) (may be omitted) in every instance
// when its run is over, outside the clock; check(e) (may be omitted) in one
// instance after a checked run, once every worker has detached, 0 when the
// heap is sound; align: the alignment every block must have.
//
// A build of ours joins with its module path and calls: issue 21's threads
// build is the first entry (when build/threads.wasm exists).
import fs from "node:fs";
import path from "node:path";
import { DRIVER_TOP, REPO, THREADS_MAX_PAGES } from "./build.mjs";

export const PAGE = 65536;
export const CONTROL = 0x1000;
export const RINGS = 0x2000;
/**
 * Ring: [0] published count (producer), [16] consumed count (consumer), [64] the producer's bell
 * (threads-worker.mjs), each on its own cache line; entries from RING_HEADER.
 */
export const RING_HEADER = 128;
export const RING_ENTRIES = 1024;                    // (ptr, size) pairs, a power of 2
export const RING_BYTES = RING_HEADER + RING_ENTRIES * 8;
export const MAX_WORKERS = 16;
/** The Wasm driver's operations are copied in chunks of this many (8 B each), then its slot table (4 B a slot). */
export const CHUNK_OPS = 2048;
export const MAX_SLOTS = 1024;
export const DRIVER_BYTES = CHUNK_OPS * 8 + MAX_SLOTS * 4;
export const DRIVER_REGIONS = RINGS + MAX_WORKERS * RING_BYTES;
export const STACK_BYTES = 32 * 1024;
export const STACKS = DRIVER_TOP - MAX_WORKERS * STACK_BYTES;
if (DRIVER_REGIONS + MAX_WORKERS * DRIVER_BYTES > STACKS) throw new Error("threads layout: the driver regions run into the stacks");

/** The memory every worker's instance imports (its maximum is the peers' declared one). */
export const memoryFor = (minPages) =>
  new WebAssembly.Memory({ initial: Math.max(minPages, DRIVER_TOP / PAGE + 16), maximum: THREADS_MAX_PAGES, shared: true });

/** The allocators by id, given buildThreadPeers' files (an entry whose file is missing is left out). */
export function threadAllocators(files) {
  const threads = path.join(REPO, "build", "threads.wasm");
  const list = [
    {
      id: "wasm-malloc threads",
      file: fs.existsSync(threads) ? threads : null,
      align: 16,
      // heap_init(base, limit): limit is the heap's end (docs/threads.md).
      init: (e, c) => e.heap_init(c.heapBase, c.heapBase + c.maxBytes),
      attach: (e, c) => e.heap_attach(c.heapBase),
      detach: (e) => e.heap_detach(),
      check: (e) => e.heap_check(),
    },
    {
      id: "TLSF+lock",
      file: files["tlsf-locked"],
      align: 16,
      // The lock and the published root sit at `control` (peers/tlsf-locked.ts says why).
      init: (e, c) => e.heap_init(c.control, c.maxBytes),
      attach: (e, c) => e.heap_attach(c.control),
    },
    {
      id: "dlmalloc+lock",
      file: files["dlmalloc-locked"],
      align: 16,
      // Each instance on its own stack; the heap starts at __heap_base (peers/dlmalloc-locked.c).
      prepare: (e, c) => { e.__stack_pointer.value = c.stackTop; },
      init: (e, c) => e.heap_init(e.__heap_base.value, c.maxBytes),
      attach: (e) => e.heap_attach(e.__heap_base.value),
    },
  ];
  return list.filter((a) => a.file);
}
