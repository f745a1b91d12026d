// Corrupted heaps for tests/misuse-inspect.test.mjs, and the child process that inspects them.
//
// Each scenario builds a small heap and overwrites its metadata the way a buggy
// program would (a write past a block, a stale pointer into freed memory), then
// returns what the inspections should report. Run as a script,
//   node tests/host/corrupt-heap.mjs <build>
// it runs every inspection of every scenario of the build, each on a freshly
// corrupted heap, and prints one JSON line per inspection as soon as it ends
// (the scenario's expectations first): a hang shows as the line that never
// comes, and the parent kills the process.
import { Heap, HeapCorruptionError, OutOfMemoryError, formatDump, renderHeapSvg } from "../../dist/index.js";
import { LAYOUT } from "../../dist/layout.js";

/** Heap options of a build: "release", "checked" (quarantine off: frees are real) or "buddy". */
function options(build, extra = {}) {
  if (build === "buddy") return { engine: "buddy", ...extra };
  return { build, ...(build === "checked" ? { quarantine: 0 } : {}), ...extra };
}

const u32 = (heap) => new DataView(heap.memory.buffer);
const poke = (heap, address, value) => u32(heap).setUint32(address, value >>> 0, true);
/** The walk entry (header address) of the block malloc returned as `ptr`. */
const entryOf = (heap, ptr) => heap.walk().find((b) => b.pointer === ptr);

/** Two named 300-byte blocks side by side (default policy): a, then b. */
async function twoBlocks(build) {
  const heap = await Heap.create(options(build));
  const a = heap.malloc(300);
  const b = heap.malloc(300);
  heap.name(a, "a");
  heap.name(b, "b");
  return { heap, a, b, bHeader: entryOf(heap, b).address, aHeader: entryOf(heap, a).address };
}

/** Write 20 bytes of `byte` past a's usable size: over b's header. */
async function overflow(build, byte) {
  const s = await twoBlocks(build);
  new Uint8Array(s.heap.memory.buffer, s.a + s.heap.usableSize(s.a), 20).fill(byte);
  return { heap: s.heap, walks: { violation: "block-size", address: s.bHeader, name: "b", before: "a" } };
}

/** Set b's header word to `value(s)`. */
async function header(build, value) {
  const s = await twoBlocks(build);
  poke(s.heap, s.bHeader, value(s));
  return { heap: s.heap, walks: { violation: "block-size", address: s.bHeader, name: "b", before: "a" } };
}

/** A page run of free pages (a 1 MiB block, freed), with its length word set to `length`. */
async function freeRun(build, length) {
  const heap = await Heap.create(options(build));
  const big = heap.malloc(1 << 20);
  const keep = heap.malloc(1 << 20); // (so the run is not the top of memory)
  heap.free(big);
  const run = heap.walk().find((b) => b.layer === "pages");
  if (!run || keep === 0) throw new Error("no free page run to corrupt");
  poke(heap, run.address, length);
  return { heap, walks: { violation: "run-pages", address: length === 1 ? undefined : run.address } };
}

/** A slab page (eager slabs) with `corrupt(heap, page)` applied to its header. */
async function slabPage(build, corrupt) {
  const heap = await Heap.create(options(build, { slabs: "eager" }));
  const p = heap.malloc(32);
  heap.name(p, "slot");
  const page = heap.walk().find((b) => b.layer === "slab-header").address;
  corrupt(heap, page);
  return { heap, walks: { violation: "slab-header", address: page } };
}

/** A free slab span (eager slabs: one 32-byte slot takes a page's first span, the other three are free) with its header word set to `value`. */
async function freeSpan(build, value) {
  const heap = await Heap.create(options(build, { slabs: "eager" }));
  heap.malloc(32);
  const span = heap.walk().find((b) => b.layer === "span");
  if (!span) throw new Error("no free span to corrupt");
  poke(heap, span.address, value);
  return { heap, walks: { violation: "slab-header", address: span.address } };
}

/**
 * Two free blocks of one size on one free list (b and d; a, c, e in use keep them apart),
 * then the second one's link pointed back at the first: a cycle.
 */
async function freeListCycle(build, policy) {
  const heap = await Heap.create(options(build, { policy, slabs: false }));
  const [a, b, c, d, e] = [500, 300, 500, 300, 500].map((n) => heap.malloc(n));
  if (!a || !c || !e) throw new Error("no blocks");
  heap.free(b);
  heap.free(d);
  const lists = heap.freeLists();
  const list = lists.find((l) => l.blocks.length >= 2);
  if (!list) throw new Error(`no free list holds two blocks: ${JSON.stringify(lists)}`);
  const [first, second] = list.blocks.map((x) => x.address);
  poke(heap, second + 4, first); // second.next = first
  return { heap, lists: { freeLists: { violation: "list-links", address: first } } };
}

/** Two blocks held on one quick list (segregated fit), the older one linked back to the newer: a cycle. */
async function quickListCycle(build) {
  const heap = await Heap.create(options(build));
  const blocks = [24, 24, 24, 24].map((n) => heap.malloc(n));
  heap.free(blocks[0]);
  heap.free(blocks[2]);
  const list = heap.quickLists().find((l) => l.blocks.length >= 2);
  if (!list) throw new Error(`no quick list holds two blocks: ${JSON.stringify(heap.quickLists())}`);
  const [newer, older] = list.blocks;
  poke(heap, older + 4, newer);
  return { heap, lists: { quickLists: { violation: "list-links", address: newer } } };
}

/** Buddy build: the first 20 bytes of a buddy page's free bitmap zeroed (what the block before the page would overwrite). */
async function buddyBitmap() {
  const heap = await Heap.create(options("buddy"));
  const p = heap.malloc(100);
  const page = p - (p % 65536);
  new Uint8Array(heap.memory.buffer, page, 20).fill(0);
  return { heap, walks: { violation: "buddy-tag" } };
}

/** Buddy build: two free 128-byte blocks on their order's list, the older linked back to the newer. */
async function buddyListCycle() {
  const heap = await Heap.create(options("buddy"));
  const [x, , z] = [100, 100, 100, 100].map((n) => heap.malloc(n));
  heap.free(x);
  heap.free(z); // the list of order 7: z, x
  poke(heap, x, z);
  return { heap, lists: { buddyinfo: { violation: "buddy-list", address: z } } };
}

/** Buddy build: 20 bytes of garbage past a block whose neighbour is free: over its list links. */
async function buddyOverflowIntoFree() {
  const heap = await Heap.create(options("buddy"));
  const [a, b] = [100, 100].map((n) => heap.malloc(n));
  heap.name(a, "a");
  heap.free(b);
  new Uint8Array(heap.memory.buffer, a + heap.usableSize(a), 20).fill(0xAB);
  return { heap, lists: { buddyinfo: { violation: "buddy-list", address: b } } };
}

/** Checked build: the first word of b's guard header (where its pointer is) set past the end of memory. */
async function guardWord() {
  const s = await twoBlocks("checked");
  const raw = s.bHeader + 4;
  poke(s.heap, raw, 0xFFFFFFF2); // "aligned": the pointer is this word without its low bits
  return { heap: s.heap, blocks: { violation: "guard", address: raw, name: "b" } };
}

/** The heap state's top (in its shared part: LAYOUT.SHARED_AT + LAYOUT.S_TOP) set past the end of memory. */
async function stateTop(build) {
  const heap = await Heap.create(options(build));
  heap.malloc(300);
  const start = heap.exports.heap_start() >>> 0;
  poke(heap, start + LAYOUT.SHARED_AT + LAYOUT.S_TOP, 0xFFFF0000);
  return { heap, walks: { violation: "state", address: start } };
}

const BOTH = ["release", "checked"];
const ALL = ["release", "checked", "buddy"];

/** name → { builds, make(build) }. */
export const SCENARIOS = {
  "20-byte overflow of garbage over the next block's header": { builds: BOTH, make: (b) => overflow(b, 0xAB) },
  "20-byte overflow of zeros over the next block's header": { builds: BOTH, make: (b) => overflow(b, 0) },
  "header 0xFFFFFFFF (a size that wraps the address space)": { builds: BOTH, make: (b) => header(b, () => 0xFFFFFFFF) },
  "header of size 0 (the next block is itself)": { builds: BOTH, make: (b) => header(b, () => 1) },
  "header whose size wraps back to the block before it": { builds: BOTH, make: (b) => header(b, (s) => (2 ** 32 - (s.bHeader - s.aHeader)) | 1) },
  "header whose size points past the end of memory": { builds: BOTH, make: (b) => header(b, () => 0x7FFFFFF1) },
  "free page run of length 0": { builds: ALL, make: (b) => freeRun(b, 0) },
  "free page run of length 0xFFFFFFFF": { builds: ALL, make: (b) => freeRun(b, 0xFFFFFFFF) },
  "free page run shorter than its pages": { builds: ALL, make: (b) => freeRun(b, 1) },
  "slab page header zeroed": { builds: BOTH, make: (b) => slabPage(b, (heap, page) => new Uint8Array(heap.memory.buffer, page, 48).fill(0)) },
  "slab page first-slot offset 0": { builds: BOTH, make: (b) => slabPage(b, (heap, page) => poke(heap, page + 28, 0)) },
  "slab page object size 0": { builds: BOTH, make: (b) => slabPage(b, (heap, page) => poke(heap, page + 24, 0)) },
  "free slab span's header overwritten": { builds: BOTH, make: (b) => freeSpan(b, 0x41414141) },
  "free slab span made to look like a slab of class 0": { builds: BOTH, make: (b) => freeSpan(b, 0x534C4100) },
  "free-list cycle (address-ordered list, first fit)": { builds: BOTH, make: (b) => freeListCycle(b, "first") },
  "free-list cycle (segregated fit)": { builds: BOTH, make: (b) => freeListCycle(b, "segregated") },
  // (The checked build frees through its quarantine, never onto a quick list.)
  "quick-list cycle": { builds: ["release"], make: quickListCycle },
  "heap state's top past the end of memory": { builds: ALL, make: stateTop },
  "guard header's pointer word past the end of memory": { builds: ["checked"], make: guardWord },
  "buddy page bitmap overwritten": { builds: ["buddy"], make: buddyBitmap },
  "buddy free-list cycle": { builds: ["buddy"], make: buddyListCycle },
  "20-byte overflow into a free buddy block's links": { builds: ["buddy"], make: buddyOverflowIntoFree },
};

/** The inspections, each on a fresh corrupted heap. */
export const INSPECTIONS = {
  walk: (heap) => heap.walk(),
  stats: (heap) => heap.stats(),
  snapshot: (heap) => heap.snapshot(),
  freeLists: (heap) => heap.freeLists(),
  quickLists: (heap) => heap.quickLists(),
  pageMap: (heap) => heap.pageMap(),
  buddyinfo: (heap) => heap.buddyinfo(),
  slabinfo: (heap) => heap.slabinfo(),
  check: (heap) => heap.check(),
  // What the CLI's dump and map print and draw, in process (the CLI cannot load a corrupted heap).
  dump: (heap) => formatDump(heap),
  map: (heap) => renderHeapSvg(heap.snapshot()),
  // malloc returns 0 for a request above MAX_REQUEST without touching the heap; allocate() then builds its message.
  allocate: (heap) => heap.allocate(2 ** 32 - 1),
};

/** What one inspection did, as plain data. */
async function inspect(build, scenario, name) {
  const { heap } = await SCENARIOS[scenario].make(build);
  const started = performance.now();
  try {
    INSPECTIONS[name](heap);
    return { name, outcome: "returned", ms: performance.now() - started };
  } catch (error) {
    const ms = performance.now() - started;
    const corruption = error instanceof HeapCorruptionError ? error : error instanceof OutOfMemoryError ? error.corruption : undefined;
    return {
      name, outcome: "threw", ms, error: error.name, message: error.message,
      corruption: corruption && { violation: corruption.violation, address: corruption.address, blockName: corruption.blockName, during: corruption.during, message: corruption.message },
    };
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const build = process.argv[2];
  const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");
  for (const [scenario, { builds, make }] of Object.entries(SCENARIOS)) {
    if (!builds.includes(build)) continue;
    const { heap, ...expect } = await make(build);
    print({ scenario, expect });
    for (const name of Object.keys(INSPECTIONS)) print({ scenario, ...(await inspect(build, scenario, name)) });
  }
}
