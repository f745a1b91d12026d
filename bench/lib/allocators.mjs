// The allocators under test and the two drivers that run a workload on one.
//
// Each measurement is a fresh instance (and a fresh memory). Every module
// runs as its grow-instrumented copy (build.mjs), so each memory.grow goes
// through `grow` below: counted when it adds pages, and timed.
//
// JS driver: a JS loop calls the instance's exports, one call per operation:
// what a JS user of the allocator sees. The loop is compiled afresh per
// instance (new Function), so no allocator inherits another's call feedback.
//
// Wasm driver: bench/peers/driver.ts, instantiated over the allocator's
// memory, calls malloc/free/realloc as Wasm imports taken straight from the
// allocator's exports (a direct Wasm-to-Wasm call). One memory, laid out as
//
//   0        OPS_BASE             SLOTS_BASE               DRIVER_TOP
//   │ unused │ ops chunk (8 B/op) │ slot table (4 B/slot) │ allocator heap →
//
// The harness copies the operations in chunks of CHUNK_OPS and times only
// the driver's run() calls.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import fs from "node:fs";
import path from "node:path";
import { DRIVER_TOP, REPO, growHooked, importedMemoryPages } from "./build.mjs";
import { packed } from "./workloads.mjs";
import { LAYOUT } from "../../dist/layout.js";

export const OPS_BASE = 0x10000;
// 16,384 operations (128 KiB) per chunk leave 212,992 slots below DRIVER_TOP:
// room for the real traces' peak live blocks (xmllint-mime: 193,030).
export const CHUNK_OPS = 0x4000;
export const SLOTS_BASE = OPS_BASE + CHUNK_OPS * 8;
export const MAX_SLOTS = (DRIVER_TOP - SLOTS_BASE) >>> 2;
const PAGE = 65536;

const now = () => Number(process.hrtime.bigint());

/**
 * The allocators: our release build under the placement policies asked for,
 * our buddy engine (JS driver only),
 * our checked build (JS driver only: it has no embed variant), TLSF, dlmalloc
 * (when built) and bump. `js` and `wasm` name the module each driver uses.
 */
export function allocatorList({ files, policies, checked = true }) {
  const build = (f) => path.join(REPO, "build", f);
  const list = [];
  for (const policy of policies) {
    list.push({
      id: policy === "segregated" ? "wasm-malloc" : `wasm-malloc ${policy}`,
      ours: true,
      policy,
      js: build("release.wasm"),
      wasm: build("embed.wasm"),
      sizeFile: build("release.wasm"),
      // The list-searching policies walk a free list per malloc: with s2's
      // 20,000 live blocks that is tens of µs per operation (first fit: about
      // 30 µs, 50× TLSF, in a one-round trial), minutes per round. First fit
      // runs on the rest; best, next and worst on the traces only.
      skip: policy === "segregated" ? null : policy === "first" ? (w) => w.name === "s2" : (w) => !w.trace,
    });
  }
  // The buddy engine (its own build target): JS driver only, it has no embed variant.
  if (fs.existsSync(build("buddy.wasm"))) {
    list.push({ id: "wasm-malloc buddy", ours: true, policy: "segregated", js: build("buddy.wasm"), wasm: null, sizeFile: build("buddy.wasm") });
  }
  // The small build (size first: bench/RESULTS.md "Sizes"): no statistics, so it runs as the peers do.
  if (fs.existsSync(build("small.wasm"))) {
    list.push({ id: "wasm-malloc small", js: build("small.wasm"), wasm: files["small-shared"] ?? null, sizeFile: build("small.wasm") });
  }
  // The checked build is measured apart, on smaller workloads (run.mjs).
  if (checked) list.push({ id: "wasm-malloc checked", ours: true, checkedBuild: true, policy: "segregated", js: build("checked.wasm"), wasm: null, sizeFile: build("checked.wasm"), skip: () => true });
  list.push({ id: "TLSF", js: files.tlsf, wasm: files["tlsf-shared"], sizeFile: files.tlsf });
  if (files.dlmalloc) list.push({ id: "dlmalloc", js: files.dlmalloc, wasm: files["dlmalloc-shared"], sizeFile: files.dlmalloc, notHooked: true });
  list.push({ id: "bump", bump: true, js: files.bump, wasm: files["bump-shared"], sizeFile: files.bump });
  return list;
}

/** Compiles each allocator's modules (grow-instrumented) once. */
export async function compileAll(list, driverFile) {
  const compile = async (file, hooked) => {
    const use = hooked ? await growHooked(file) : file;
    const bytes = fs.readFileSync(use);
    return { module: await WebAssembly.compile(bytes), importPages: importedMemoryPages(bytes) };
  };
  for (const a of list) {
    // What was measured, as built (the originals, before instrumentation).
    a.builds = [a.js, a.wasm].filter(Boolean).map((file) => {
      const bytes = fs.readFileSync(file);
      return { file, size: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length, sha256: createHash("sha256").update(bytes).digest("hex").slice(0, 12) };
    });
    a.size = a.builds.find((b) => b.file === a.sizeFile)?.size ?? fs.statSync(a.sizeFile).size;
    a.compiled = {};
    if (a.js) a.compiled.js = await compile(a.js, !a.notHooked);
    if (a.wasm) a.compiled.wasm = await compile(a.wasm, !a.notHooked);
  }
  return { module: await WebAssembly.compile(fs.readFileSync(driverFile)) };
}

/** Imports for one instance: the reporting hooks of our builds, and bench.grow. */
function importsFor(module, meter, memory) {
  const env = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== "env" || imp.kind !== "function") continue;
    env[imp.name] = imp.name === "wasm_malloc_report"
      ? (kind, reason, op, ptr) => { throw new Error(`allocator reported misuse: kind ${kind}, reason ${reason}, op ${op}, ptr ${ptr >>> 0}: a harness bug`); }
      : () => {};
  }
  if (memory) env.memory = memory;
  return {
    env,
    bench: {
      grow(pages) {
        const t0 = now();
        let old;
        try { old = meter.memory.grow(pages); } catch { old = -1; }
        meter.growNs += now() - t0;
        if (old >= 0 && pages > 0) meter.grows++;
        return old;
      },
    },
  };
}

function policyCode(policy) {
  const code = LAYOUT[`POLICY_${policy.toUpperCase()}`];
  if (code === undefined) throw new Error(`no policy ${policy}: assembly/layout.ts has no POLICY_${policy.toUpperCase()}`);
  return code;
}

/** The JS loop, compiled afresh for one instance. */
function jsLoop(malloc, free, realloc) {
  // eslint-disable-next-line no-new-func
  return new Function("malloc", "free", "realloc", `
    return function run(codes, sizes, count, slots) {
      for (let i = 0; i < count; i++) {
        const code = codes[i];
        const kind = code >>> 30;
        const slot = code & 0x3fffffff;
        if (kind === 0) slots[slot] = malloc(sizes[i]);
        else if (kind === 1) free(slots[slot]);
        else slots[slot] = realloc(slots[slot], sizes[i]);
      }
    };`)(malloc, free, realloc);
}

/**
 * One measurement: a fresh instance of `alloc` runs workload `w` under
 * `driver` ("js" or "wasm"). Returns ns, grows, growNs, peak memory, heap
 * start, and failures our builds counted.
 */
export function runOnce(alloc, w, driver, driverCompiled) {
  const { module, importPages } = alloc.compiled[driver];
  const meter = { memory: null, grows: 0, growNs: 0 };
  let e;
  let heapStart;
  let elapsed;
  if (driver === "js") {
    const instance = new WebAssembly.Instance(module, importsFor(module, meter, null));
    e = instance.exports;
    meter.memory = e.memory;
    if (alloc.ours) {
      if (alloc.policy !== "segregated" && e.heap_configure(policyCode(alloc.policy), 0, 0) !== 0) throw new Error("heap_configure failed");
      heapStart = e.heap_base();
    } else {
      heapStart = e.__heap_base.value;
    }
    const slots = new Int32Array(w.slots);
    const run = jsLoop(e.malloc, e.free, e.realloc);
    const t0 = now();
    run(w.codes, w.sizes, w.count, slots);
    elapsed = now() - t0;
  } else {
    if (w.slots > MAX_SLOTS) throw new Error(`${w.name}: ${w.slots} slots, the Wasm driver holds ${MAX_SLOTS}`);
    const memory = new WebAssembly.Memory({ initial: Math.max(DRIVER_TOP / PAGE, importPages) });
    meter.memory = memory;
    const instance = new WebAssembly.Instance(module, importsFor(module, meter, memory));
    e = instance.exports;
    if (alloc.ours) {
      const policy = policyCode(alloc.policy);
      if (e.heap_init_with(DRIVER_TOP, 0, policy, 0) !== 0) throw new Error("heap_init_with failed");
      heapStart = DRIVER_TOP;
    } else {
      heapStart = e.__heap_base.value;
    }
    if (heapStart < DRIVER_TOP) throw new Error(`${alloc.id}: heap starts at ${heapStart}, inside the driver's region`);
    const drv = new WebAssembly.Instance(driverCompiled.module, {
      env: { memory },
      alloc: { malloc: e.malloc, free: e.free, realloc: e.realloc },
    }).exports;
    const ops = packed(w);
    elapsed = 0;
    for (let i = 0; i < w.count; i += CHUNK_OPS) {
      const n = Math.min(CHUNK_OPS, w.count - i);
      new Uint32Array(memory.buffer, OPS_BASE, n * 2).set(ops.subarray(i * 2, (i + n) * 2));
      const t0 = now();
      drv.run(OPS_BASE, n, SLOTS_BASE);
      elapsed += now() - t0;
    }
  }
  const result = {
    ns: elapsed,
    grows: meter.grows,
    growNs: meter.growNs,
    peakMemory: meter.memory.buffer.byteLength,
    heapStart,
    failed: 0,
  };
  if (alloc.ours) {
    result.failed = e.heap_stat(LAYOUT.STAT_FAILED);
    result.statGrows = e.heap_stat(LAYOUT.STAT_GROWS);
    // (the checked build's quarantine holds freed blocks back: they count as live)
    if (!alloc.checkedBuild && e.heap_stat(LAYOUT.STAT_LIVE) !== 0) throw new Error(`${alloc.id} on ${w.name}: blocks still live after a balanced workload`);
  }
  return result;
}
