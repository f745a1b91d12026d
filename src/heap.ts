// The Heap class: one allocator instance, its C API from JS, and a look inside.

import {
  AllocatorExports, AllocatorHooks, BUILDS, Build, RawReport, allocatorImports, buildUrl, loadAllocator,
} from "./module.js";
import { LAYOUT, constant, constantsWithPrefix } from "./layout.js";
import { POLICY_NAMES, PolicyName, policyName, policyNumber, resolvePolicy } from "./policy.js";
import {
  U32_MAX, address, alignment, byteCount, elementCount, functionOption, integerOption, oneOfOption, optionsObject, show,
  stringOption, text as checkText, wasmSource,
} from "./arguments.js";
import { HeapCorruptionError, OutOfMemoryError, WasmMallocError, errorFromReport, namesByValue, type FreedBlock } from "./errors.js";
import { liveBytes, liveDataView } from "./live-view.js";
import type { TraceLog } from "./trace-log.js";
import type { HeapSnapshot } from "./render/snapshot.js";

export type Engine = "default" | "buddy";
export const ENGINES: readonly Engine[] = ["default", "buddy"];

export interface HeapOptions {
  /** Placement policy of the boundary-tag layer; default: WASM_MALLOC_POLICY, else "segregated". */
  policy?: PolicyName | string;
  /**
   * Allocator engine: "default" (slabs + boundary tags + page runs), or "buddy" (power-of-two
   * buddy blocks below 32 KiB + page runs; its own build, build/buddy.wasm; release build only).
   */
  engine?: Engine | string;
  /** Which build to load (default "release"; "traced" when `trace` is set). */
  build?: Build;
  /** Most bytes the Wasm memory may grow to (default: no limit but wasm32's). */
  maxMemory?: number;
  /**
   * A heap over a new shared memory (build/threads.wasm), for threads: workers join it
   * with `Heap.join(heap.memory)`, each with a heap of its own (README, Threads).
   */
  shared?: boolean;
  /**
   * Size-class slabs for small sizes: true (default: a class gets slab pages once 4 KiB of
   * its size is live), "eager" (from its first object), false (off: the policy sees every size).
   */
  slabs?: boolean | "eager";
  /** Log every operation (also those of other modules using this allocator) to this .rep file. */
  trace?: string;
  /** Checked build: bytes of freed blocks held in quarantine before reuse (default 1 MiB). */
  quarantine?: number;
  /** The module itself (bytes, URL or Response) instead of the packaged build. */
  wasm?: BufferSource | URL | string | Response;
  /**
   * Called with each problem the module noticed and worked around while its call went on
   * (the call returned a valid result; see the Heap class comment). Default: keep it in
   * `heap.errors` and print the first with console.warn. Should not throw: an exception
   * thrown here propagates out of the heap call, and the call's result is lost with it.
   */
  onError?: (error: WasmMallocError) => void;
}

/** Most noticed errors `heap.errors` keeps (the oldest go first). */
export const KEPT_ERRORS = 100;

/** Most freed blocks the heap remembers for double-free messages (the oldest go first). */
const KEPT_FREED = 4096;

/** Largest maxMemory: wasm32's 4 GiB (0 means the same: no limit of our own). */
const MAX_MEMORY_LIMIT = 2 ** 32;

/**
 * Heap.create's options, each checked for its type and range before anything is
 * loaded (left out or undefined: the default; unknown names are ignored).
 */
function checkHeapOptions(given: unknown): HeapOptions {
  const where = "Heap.create";
  const options = optionsObject<HeapOptions>(where, given);
  if (options.policy !== undefined && typeof options.policy !== "string") {
    throw new TypeError(`${where}: option policy ${show(options.policy)} is not a string; pass one of ${POLICY_NAMES.join(", ")}`);
  }
  if (options.engine !== undefined) {
    if (typeof options.engine !== "string") throw new TypeError(`${where}: option engine ${show(options.engine)} is not a string; pass one of ${ENGINES.join(", ")}`);
    if (!ENGINES.includes(options.engine as Engine)) throw new RangeError(`${where}: option engine "${options.engine}" is not available; choose one of ${ENGINES.join(", ")}`);
  }
  oneOfOption(where, "build", options.build, BUILDS);
  const maxMemory = integerOption(where, "maxMemory", options.maxMemory, 0, MAX_MEMORY_LIMIT, `a byte count from 0 (no limit) to ${MAX_MEMORY_LIMIT}`);
  if (options.slabs !== undefined && options.slabs !== true && options.slabs !== false && options.slabs !== "eager") {
    const Err = typeof options.slabs === "boolean" || typeof options.slabs === "string" ? RangeError : TypeError;
    throw new Err(`${where}: option slabs ${show(options.slabs)} is not true, false or "eager"`);
  }
  stringOption(where, "trace", options.trace, true);
  const quarantine = integerOption(where, "quarantine", options.quarantine, 0, U32_MAX, `a byte count from 0 to ${U32_MAX}`);
  if (options.wasm !== undefined) wasmSource(where, "option wasm", options.wasm);
  functionOption(where, "onError", options.onError);
  if (options.shared !== undefined && typeof options.shared !== "boolean") throw new TypeError(`${where}: option shared ${show(options.shared)} is not a boolean`);
  if (options.shared && ((options.build ?? "threads") !== "threads" || (options.engine ?? "default") !== "default" || options.trace || options.quarantine !== undefined)) {
    throw new RangeError(`${where}: option shared has one build, "threads" (default engine, no trace, no quarantine); drop build, engine, trace and quarantine`);
  }
  if (!options.shared && options.build === "threads") throw new RangeError(`${where}: the threads build runs over a shared memory: pass { shared: true }`);
  return { ...options, maxMemory, quarantine };
}

export type BlockState = "free" | "in-use" | "metadata";
export type Layer = "state" | "medium" | "slab" | "large" | "pages" | "page-map" | "slab-header" | "start-map" | "buddy" | "span";

/** One entry of `walk()`: a block of some layer, or metadata, or free space. */
export interface Block {
  /** Where the block's memory starts (its header, for boundary-tag blocks). */
  address: number;
  /** What malloc returned (0 for free space and metadata). */
  pointer: number;
  /** Bytes the block spans, overhead included. */
  size: number;
  /** Bytes the owner may use. */
  usable: number;
  /** Bytes the owner asked for, when the host saw the request; else the usable size. */
  payload: number;
  state: BlockState;
  layer: Layer;
  name?: string;
  /** Checked build: freed by the program, held in quarantine (poisoned) before reuse. */
  quarantined?: boolean;
  /** Threads build: the index of the heap (one per thread) whose page holds it; 0 on a page no heap owns (large runs, free pages). */
  owner?: number;
}

export interface HeapStats {
  inUse: number;
  peakInUse: number;
  live: number;
  requested: number;
  mallocs: number;
  frees: number;
  callocs: number;
  reallocs: number;
  aligned: number;
  failed: number;
  grows: number;
  grownPages: number;
  errors: number;
  reallocInPlace: number;
  trimmedPages: number;
  /** Bytes from the module's __heap_base to the end of memory. */
  heapBytes: number;
  memoryBytes: number;
  heapBase: number;
  pages: number;
  /** Bytes in free blocks, free slots and free page runs. */
  free: number;
  /** Bytes of the heap's own metadata (state, slab headers, page map page). */
  metadata: number;
  /** 1 - largest free block / all free bytes (0 when nothing or one piece is free). */
  fragmentation: number;
  /** inUse / heapBytes. */
  utilization: number;
  /** Checked build: freed blocks held in quarantine (not counted in live/inUse). */
  quarantined: number;
}

export interface PageMapEntry {
  page: number;
  address: number;
  kind: "none" | "free" | "heap" | "slab" | "large" | "large-tail" | "meta" | "buddy";
}

/** One line of `buddyinfo()`: free blocks per order, like /proc/buddyinfo. */
export interface BuddyInfo {
  /** "buddy" (the buddy engine's blocks) or "pages" (free page runs of the page layer). */
  zone: "buddy" | "pages";
  /** Block size of order `minOrder + i`, in bytes (pages zone: runs of 2^i pages, and up to 2^(i+1)-1). */
  minOrder: number;
  /** Bytes of one unit of order minOrder (16 for buddy blocks, 65536 for pages). */
  unit: number;
  /** Free blocks (or runs) of each order, smallest first. */
  free: number[];
}

/** One line of `slabinfo()`: a size class, like /proc/slabinfo. */
export interface SlabInfo {
  name: string;
  activeObjects: number;
  totalObjects: number;
  objectSize: number;
  objectsPerSlab: number;
  pagesPerSlab: number;
  activeSlabs: number;
  totalSlabs: number;
}

const hexAddress = (n: number) => `0x${n.toString(16)}`;

const LAYER_BY_NAME: Record<string, Layer> = {
  STATE: "state", MEDIUM: "medium", SLAB: "slab", LARGE: "large", PAGES: "pages",
  PAGE_MAP: "page-map", SLAB_HEADER: "slab-header", START_MAP: "start-map", BUDDY: "buddy", SPAN: "span",
};
/** walk_layer's values (LAYER_*), walk_state's (STATE_*) and page_kind's (PAGE_*), by name. */
const LAYER_NAMES = new Map(Object.entries(constantsWithPrefix("LAYER_")).map(([name, value]) => [value, LAYER_BY_NAME[name]]));
const STATE_NAMES = new Map(Object.entries(constantsWithPrefix("STATE_"))
  .map(([name, value]): [number, BlockState] => [value, name === "IN_USE" ? "in-use" : name === "FREE" ? "free" : "metadata"]));
const PAGE_KINDS = namesByValue("PAGE_");

/**
 * One allocator instance: the C API from JS, typed views on blocks, and a look inside.
 *
 * Arguments: every size, count, alignment and pointer is checked before the Wasm
 * call (src/arguments.ts): a non-number throws TypeError, a number that is not an
 * integer from 0 to 2^32-1 throws RangeError, naming the method, the argument and
 * the value; the module is not called, so nothing changes. Values C accepts keep
 * C's answer (malloc(2^32-1) returns 0).
 *
 * Errors from the module (env.wasm_malloc_report, queued while the call runs, looked
 * at when it returns; docs/errors.md lists them):
 *   - a rejected call (double free, invalid pointer, ...) changed nothing: its
 *     WasmMallocError is thrown;
 *   - a problem the module noticed and worked around (report op bit REPORT_NOTICED,
 *     e.g. malloc dropped a damaged free list and served the request elsewhere):
 *     the call returns its result, and the error (`noticed: true`) goes to the
 *     `onError` option, else to `heap.errors` (the last 100) with one console.warn.
 * A call with both delivers the noticed ones, then throws the rejection.
 */
export class Heap {
  readonly exports: AllocatorExports;
  readonly policy: PolicyName;
  readonly engine: Engine;
  readonly build: Build;
  readonly maxMemory: number;
  /** The operation log, when created with `trace`. */
  readonly trace: TraceLog | null;
  /** Problems the module noticed and worked around, when no onError was given: the last KEPT_ERRORS. */
  readonly errors: WasmMallocError[] = [];
  private readonly onError?: (error: WasmMallocError) => void;
  private warned = false;
  private readonly pending: RawReport[];
  private readonly names = new Map<number, string>();
  private readonly requested = new Map<number, number>();
  /** Recently freed pointers: the size asked and the name, for a double free's message (KEPT_FREED, oldest dropped). */
  private readonly freed = new Map<number, FreedBlock>();

  private constructor(exports: AllocatorExports, options: {
    policy: PolicyName; engine: Engine; build: Build; maxMemory: number; trace: TraceLog | null; pending: RawReport[];
    onError?: (error: WasmMallocError) => void;
  }) {
    this.exports = exports;
    this.onError = options.onError;
    this.policy = options.policy;
    this.engine = options.engine;
    this.build = options.build;
    this.maxMemory = options.maxMemory;
    this.trace = options.trace;
    this.pending = options.pending;
  }

  /** Instantiate an allocator and set its heap up with the chosen policy, engine and limit. */
  static async create(options: HeapOptions = {}): Promise<Heap> {
    options = checkHeapOptions(options);
    const policy = resolvePolicy(options.policy);
    const engine = (options.engine ?? "default") as Engine;
    let build: Build = options.build ?? (options.trace ? "traced" : "release");
    if (engine === "buddy") {
      // The buddy engine is its own build target (the default fast path stays free of it).
      if (build !== "release" && build !== "buddy") throw new RangeError(`engine "buddy" has one build (build/buddy.wasm): no ${build} build of it; drop "build"${options.trace ? ' and "trace"' : ""}`);
      build = "buddy";
    } else if (build === "buddy") throw new RangeError(`the buddy build is engine "buddy": pass { engine: "buddy" }`);
    if (build.startsWith("embed")) throw new RangeError(`the ${build} build shares its memory with another module: use linkAllocator`);
    if (options.trace && build === "release") throw new RangeError(`tracing needs the "traced" or "checked" build, not "release"`);
    if (options.quarantine !== undefined && build !== "checked") throw new RangeError(`Heap.create: option quarantine ${options.quarantine}: the quarantine exists only in the "checked" build; add build: "checked" or drop it`);
    if (options.shared) return Heap.createShared(options, policy);
    const pending: RawReport[] = [];
    let heap: Heap | null = null;
    let log: TraceLog | null = null;
    const { exports } = await loadAllocator(options.wasm ?? buildUrl(build), {
      onReport: (r) => pending.push(r),
      onOp: (op, a, b, result) => heap?.hooks.onOp(op, a, b, result),
      onNamed: (ptr, label, length) => heap?.hooks.onNamed(ptr, label, length),
    });
    const flags = options.slabs === false ? LAYOUT.OPTION_NO_SLABS
      : options.slabs === "eager" ? LAYOUT.OPTION_EAGER_SLABS : 0;
    const status = exports.heap_configure(policyNumber(policy), flags, options.maxMemory ?? 0);
    if (status !== 0) throw new RangeError(`maxMemory ${options.maxMemory} bytes cannot hold the heap's first page; allow more`);
    if (options.quarantine !== undefined) exports.heap_set_quarantine(options.quarantine);
    if (options.trace) {
      const { TraceLog } = await import("./trace-log.js");
      const op = (name: string) => constant(`OP_${name}`);
      log = new TraceLog(options.trace, { malloc: op("MALLOC"), calloc: op("CALLOC"), realloc: op("REALLOC"), free: op("FREE"), alignedAlloc: op("ALIGNED_ALLOC") },
        () => exports.memory.buffer.byteLength);
    }
    heap = new Heap(exports, { policy, engine, build, maxMemory: options.maxMemory ?? 0, trace: log, pending, onError: options.onError });
    return heap;
  }

  /** Heap.create({ shared: true }): a new shared memory, the threads build over it, its heap set up at __heap_base. */
  private static async createShared(options: HeapOptions, policy: PolicyName): Promise<Heap> {
    const maxMemory = options.maxMemory ?? 0;
    // The memory's own maximum is the cap (a shared memory must declare one): 4 GiB when none is given.
    const maximum = maxMemory === 0 ? 65536 : Math.max(1, Math.floor(maxMemory / LAYOUT.PAGE_SIZE));
    const memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
    let heap: Heap | null = null;
    const { exports } = await loadAllocator(options.wasm ?? buildUrl("threads"), Heap.forwardTo(() => heap), memory);
    const flags = options.slabs === false ? LAYOUT.OPTION_NO_SLABS : options.slabs === "eager" ? LAYOUT.OPTION_EAGER_SLABS : 0;
    const status = exports.heap_init_with(exports.heap_base(), maxMemory === 2 ** 32 ? 0 : maxMemory, policyNumber(policy), flags);
    if (status !== 0) throw new RangeError(`Heap.create: maxMemory ${maxMemory} bytes cannot hold the heap's first page; allow more`);
    heap = Heap.attach(exports, { policy, build: "threads", maxMemory, onError: options.onError });
    return heap;
  }

  /**
   * In a worker: join the heap another thread made with Heap.create({ shared: true }),
   * over its `memory` (a shared WebAssembly.Memory, sent to the worker). Blocks are
   * shared: one thread may free what another allocated. `wasm`: the module, if not
   * the packaged build/threads.wasm (a worker may receive the compiled module too).
   */
  static async join(memory: WebAssembly.Memory, options: { wasm?: BufferSource | URL | string | Response | WebAssembly.Module; onError?: (error: WasmMallocError) => void } = {}): Promise<Heap> {
    if (!(memory instanceof WebAssembly.Memory) || !(memory.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError(`Heap.join: ${show(memory)} is not a shared WebAssembly.Memory; pass the memory of a Heap.create({ shared: true })`);
    }
    optionsObject("Heap.join", options);
    functionOption("Heap.join", "onError", options.onError);
    if (options.wasm !== undefined) wasmSource("Heap.join", "option wasm", options.wasm, true);
    let heap: Heap | null = null;
    const hooks = Heap.forwardTo(() => heap);
    const exports = options.wasm instanceof WebAssembly.Module
      ? (new WebAssembly.Instance(options.wasm, { env: { ...allocatorImports(hooks), memory } }).exports as unknown as AllocatorExports)
      : (await loadAllocator(options.wasm ?? buildUrl("threads"), hooks, memory)).exports;
    if (!exports.heap_attach) throw new TypeError("Heap.join: the module has no heap_attach: pass the threads build (build/threads.wasm)");
    const status = exports.heap_attach(exports.heap_base());
    if (status === -7) throw new RangeError("Heap.join: 31 threads have a heap in this memory already (the most it holds); detach one first");
    if (status === -3) throw new RangeError("Heap.join: the memory has no page left for this thread's heap (its maximum is reached); free memory or allow more");
    if (status !== 0) {
      throw new Error(`Heap.join: no heap has been set up in this memory at ${exports.heap_base()} (heap_attach returned ${status}); ` +
        "make it first in one thread with Heap.create({ shared: true }) and pass that heap's memory");
    }
    heap = Heap.attach(exports, { policy: policyName(exports.heap_policy()), build: "threads", maxMemory: exports.heap_max_pages() * LAYOUT.PAGE_SIZE, onError: options.onError });
    return heap;
  }

  /** Hooks that reach the heap once it exists (the module is instantiated before the Heap). */
  private static forwardTo(heap: () => Heap | null): AllocatorHooks {
    return {
      onReport: (r) => heap()?.hooks.onReport(r),
      onOp: (op, a, b, result) => heap()?.hooks.onOp(op, a, b, result),
      onNamed: (ptr, label, length) => heap()?.hooks.onNamed(ptr, label, length),
    };
  }

  /**
   * Threads build: this thread is done with the shared heap (before a worker exits).
   * Its blocks stay valid, and any other thread may free them; this Heap can no longer allocate.
   */
  detach(): void {
    if (!this.exports.heap_detach) throw new TypeError("detach: only a shared heap (Heap.create({ shared: true }) or Heap.join) can detach");
    if (this.exports.heap_detach() !== 0) throw new Error("detach: this instance has detached already");
  }

  /**
   * Wrap an allocator instance someone else instantiated and set up
   * (linkAllocator does). Its env imports must call `heap.hooks`.
   */
  static attach(exports: AllocatorExports, options: {
    policy: PolicyName; build: Build; maxMemory?: number; trace?: TraceLog | null; onError?: (error: WasmMallocError) => void;
  }): Heap {
    return new Heap(exports, {
      engine: "default", maxMemory: options.maxMemory ?? 0, trace: options.trace ?? null, policy: options.policy, build: options.build,
      pending: [], onError: options.onError,
    });
  }

  /** What the allocator's imports call for this heap: operations (trace log; names follow realloc and free) and names set from Wasm. */
  readonly hooks = {
    /** A report of env.wasm_malloc_report (decoded by allocatorImports): looked at when the heap call returns. */
    onReport: (report: RawReport): void => { this.pending.push(report); },
    onOp: (op: number, a: number, b: number, result: number): void => this.observe(op, a, b, result),
    onNamed: (ptr: number, label: number, length: number): void => {
      this.names.set(ptr, new TextDecoder().decode(new Uint8Array(this.memory.buffer, label, length)));
    },
  };

  get memory(): WebAssembly.Memory { return this.exports.memory; }

  /** An operation reported by the traced/checked build (from JS or from another module). */
  private observe(op: number, a: number, b: number, result: number): void {
    this.trace?.record(op, a, b, result);
    // A block handed out again (perhaps to another module) is no longer the one freed there.
    if (op !== LAYOUT.OP_FREE && result !== 0) this.freed.delete(result);
    if (op === LAYOUT.OP_FREE) this.forget(a);
    else if (op === LAYOUT.OP_REALLOC && a !== 0 && a !== result) {
      const name = this.names.get(a);
      this.forget(a);
      if (name !== undefined && result !== 0) this.names.set(result, name);
    }
  }

  /** `ptr` is no longer a live block: drop its name and size, keeping them for a double free's message. */
  private forget(ptr: number): void {
    const size = this.requested.get(ptr);
    if (size !== undefined) {
      this.freed.delete(ptr); // (re-inserted last: the Map's order is the order of freeing)
      this.freed.set(ptr, { size, name: this.names.get(ptr) });
      if (this.freed.size > KEPT_FREED) this.freed.delete(this.freed.keys().next().value as number);
    }
    this.names.delete(ptr);
    this.requested.delete(ptr);
  }

  /**
   * After a Wasm call, look at what it reported: throw the first report that rejected
   * it (the call changed nothing), after delivering the noticed ones; else return the
   * noticed ones (null if none) for `deliver`, which the caller calls once it has
   * recorded the call's effect, so that an `onError` that throws leaves the records right.
   */
  private raise(): WasmMallocError[] | null {
    if (this.pending.length === 0) return null;
    const errors = this.pending.splice(0).map((r) =>
      errorFromReport(r, this.names.get(r.block) ?? this.names.get(r.ptr), this.trace?.operations, this.freed.get(r.ptr)));
    const noticed = errors.filter((e) => e.noticed);
    const rejection = errors.find((e) => !e.noticed);
    if (rejection) { this.deliver(noticed); throw rejection; }
    return noticed;
  }

  /** Hand each noticed error to `notice`. */
  private deliver(noticed: WasmMallocError[] | null): void {
    if (noticed) for (const error of noticed) this.notice(error);
  }

  /**
   * Deliver a problem the module noticed and worked around (its call went on and
   * returned a valid result): to `onError` if given, else into `errors` (the last
   * KEPT_ERRORS), printed with console.warn the first time.
   */
  notice(error: WasmMallocError): void {
    if (this.onError) { this.onError(error); return; }
    this.errors.push(error);
    if (this.errors.length > KEPT_ERRORS) this.errors.splice(0, this.errors.length - KEPT_ERRORS);
    if (!this.warned) {
      this.warned = true;
      console.warn(`wasm-malloc: ${error.message} (this heap keeps later ones in heap.errors without a warning; pass onError to Heap.create to handle them)`);
    }
  }

  private remember(ptr: number, size: number): number {
    if (ptr !== 0) { this.requested.set(ptr, size); this.freed.delete(ptr); }
    return ptr;
  }

  // ── The C API ───────────────────────────────────────────────────────────
  // Each argument is checked before the Wasm call (see the class comment).
  /** The end of an allocating call that returned `p` for `size` bytes: reports first (a rejection throws), then the record, then what was noticed. */
  private allocated(p: number, size: number): number {
    const noticed = this.raise();
    this.remember(p, size);
    this.deliver(noticed);
    return p;
  }

  /** C malloc: a pointer, or 0 when out of memory. */
  malloc(size: number): number {
    size = byteCount("malloc", "size", size);
    return this.allocated(this.exports.malloc(size) >>> 0, size);
  }
  free(ptr: number): void {
    ptr = address("free", "pointer", ptr);
    this.exports.free(ptr);
    const noticed = this.raise();
    this.forget(ptr);
    this.deliver(noticed);
  }
  calloc(count: number, size: number): number {
    count = elementCount("calloc", "count", count);
    size = byteCount("calloc", "size", size);
    return this.allocated(this.exports.calloc(count, size) >>> 0, count * size);
  }
  /** C realloc: the moved (or same) pointer; 0 with `ptr` untouched when out of memory; realloc(p, 0) frees p and returns 0. */
  realloc(ptr: number, size: number): number {
    ptr = address("realloc", "pointer", ptr);
    size = byteCount("realloc", "size", size);
    const name = this.names.get(ptr);
    const p = this.exports.realloc(ptr, size) >>> 0;
    const noticed = this.raise();
    // 0 for a non-zero size: out of memory, the old block is untouched (name and size stay).
    const oldGone = ptr !== 0 && p !== ptr && (p !== 0 || size === 0);
    if (oldGone) this.forget(ptr);
    if (oldGone && p !== 0 && name !== undefined) this.names.set(p, name);
    this.remember(p, size);
    this.deliver(noticed);
    return p;
  }
  alignedAlloc(align: number, size: number): number {
    align = alignment("alignedAlloc", "alignment", align);
    size = byteCount("alignedAlloc", "size", size);
    return this.allocated(this.exports.aligned_alloc(align, size) >>> 0, size);
  }
  usableSize(ptr: number): number {
    ptr = address("usableSize", "pointer", ptr);
    const n = this.exports.malloc_usable_size(ptr) >>> 0;
    this.deliver(this.raise());
    return n;
  }

  /** Like malloc, but throws OutOfMemoryError instead of returning 0. */
  allocate(size: number): number {
    size = byteCount("allocate", "size", size);
    const p = this.malloc(size);
    if (p === 0) throw this.outOfMemory(size);
    return p;
  }

  // ── Memory of a block ───────────────────────────────────────────────────
  /**
   * How many bytes of the live block at `ptr` a view may span: `length` if given,
   * else its usable size (`whole`) or the size asked for it (the usable size if the
   * host did not see the request).
   * Throws for a pointer that is not a live block (the module's check), and
   * RangeError for a length past the block's usable size: a view never reaches
   * the next block's header.
   */
  private span(where: string, ptr: number, length: number | undefined, whole = false): number {
    ptr = address(where, "pointer", ptr);
    if (length !== undefined) length = byteCount(where, "length", length);
    if (ptr === 0) throw new RangeError(`${where}: pointer 0 is null; pass a pointer that malloc, calloc, realloc or alignedAlloc returned`);
    const usable = this.usableSize(ptr);
    const bytes = length ?? (whole ? undefined : this.requested.get(ptr)) ?? usable;
    if (bytes > usable) {
      const name = this.names.get(ptr);
      throw new RangeError(`${where}: length ${bytes} runs past the block at 0x${ptr.toString(16)}${name ? ` ("${name}")` : ""}, whose usable size is ${usable} bytes; pass at most ${usable}`);
    }
    const end = this.memory.buffer.byteLength;
    if (ptr + bytes > end) throw new RangeError(`${where}: ${bytes} bytes at 0x${ptr.toString(16)} run past the end of memory (${end} bytes)`);
    return bytes;
  }

  /** The bytes the block at `ptr` was asked for (or `length`, up to its usable size), as a live Uint8Array: not a copy, valid after the memory grows. */
  bytes(ptr: number, length?: number): Uint8Array {
    return liveBytes(this.memory, ptr, this.span("bytes", ptr, length));
  }
  /** A live DataView over the block at `ptr` (`length` as for bytes). */
  view(ptr: number, length?: number): DataView {
    return liveDataView(this.memory, ptr, this.span("view", ptr, length));
  }
  /** Copy `text` into a new block as NUL-terminated UTF-8; returns its pointer. */
  writeString(text: string): number {
    checkText("writeString", "text", text);
    const encoded = new TextEncoder().encode(text);
    const ptr = this.allocate(encoded.length + 1);
    const bytes = new Uint8Array(this.memory.buffer, ptr, encoded.length + 1);
    bytes.set(encoded);
    bytes[encoded.length] = 0;
    return ptr;
  }
  /** Read UTF-8 at `ptr`: `length` bytes, or up to the first NUL within the block. */
  readString(ptr: number, length?: number): string {
    let bytes = new Uint8Array(this.memory.buffer, ptr, this.span("readString", ptr, length, true));
    if (length === undefined) { const end = bytes.indexOf(0); if (end >= 0) bytes = bytes.subarray(0, end); }
    return new TextDecoder().decode(bytes);
  }

  // ── Names ───────────────────────────────────────────────────────────────
  /** Name the live block at `ptr` (shown by walk, dump, pictures and errors); it goes away with the block. */
  name(ptr: number, label: string): void {
    ptr = address("name", "pointer", ptr);
    checkText("name", "label", label);
    if (ptr === 0) throw new RangeError(`name: pointer 0 is null; name a pointer that malloc, calloc, realloc or alignedAlloc returned`);
    // The module checks the pointer like any other (throws for a pointer that is not a live block).
    this.usableSize(ptr);
    this.names.set(ptr, label);
  }
  nameOf(ptr: number): string | undefined { return this.names.get(address("nameOf", "pointer", ptr)); }

  // ── Looking inside ──────────────────────────────────────────────────────
  stats(): HeapStats {
    const e = this.exports;
    const stat = (name: string) => e.heap_stat(constant(`STAT_${name}`));
    const memoryBytes = e.memory.buffer.byteLength;
    const heapBase = e.heap_base() >>> 0;
    let free = 0, largestFree = 0, metadata = 0;
    if (e.heap_start() !== 0) {
      for (const block of this.walkRaw()) {
        if (block.state === "free") { free += block.size; largestFree = Math.max(largestFree, block.size); }
        else if (block.state === "metadata") metadata += block.size;
      }
    }
    const quarantined = stat("QUARANTINED");
    // Quarantined blocks are still allocated underneath; the caller freed them.
    let quarantineBytes = 0;
    if (quarantined > 0) for (const b of this.walk()) if (b.quarantined) quarantineBytes += b.usable;
    const inUse = stat("IN_USE") - quarantineBytes;
    const heapBytes = memoryBytes - heapBase;
    return {
      quarantined, inUse, peakInUse: stat("PEAK_IN_USE"), live: stat("LIVE") - quarantined, requested: stat("REQUESTED"),
      mallocs: stat("MALLOCS"), frees: stat("FREES"), callocs: stat("CALLOCS"), reallocs: stat("REALLOCS"),
      aligned: stat("ALIGNED"), failed: stat("FAILED"), grows: stat("GROWS"), grownPages: stat("GROWN_PAGES"),
      errors: stat("ERRORS"), reallocInPlace: stat("REALLOC_IN_PLACE"), trimmedPages: stat("TRIMMED_PAGES"),
      heapBytes, memoryBytes, heapBase, pages: memoryBytes / LAYOUT.PAGE_SIZE,
      free, metadata, fragmentation: free > 0 ? 1 - largestFree / free : 0,
      utilization: heapBytes > 0 ? inUse / heapBytes : 0,
    };
  }

  /**
   * Checked build: the guarded allocation inside the raw block at `raw` of `usable` bytes (see
   * assembly/api/guard.ts). Its first word says where: a word pointing outside the block is corruption.
   */
  private guarded(raw: number, usable: number): { pointer: number; size: number; quarantined: boolean } | null {
    const view = new DataView(this.memory.buffer);
    const header = LAYOUT.GUARD_HEADER;
    const v = view.getUint32(raw, true);
    const p = (v & ~15) === raw ? raw + header : (v & 2) ? v & ~15 : 0;
    if (p === 0) return null;
    const size = p >= raw + header && p <= raw + usable ? view.getUint32(p - header + 4, true) : -1;
    if (size < 0 || p + size > raw + usable) {
      throw new HeapCorruptionError("guard", raw, this.nameAt(raw), { during: "heap walk" });
    }
    return { pointer: p, size, quarantined: (view.getUint32(p - header, true) & 1) === 1 };
  }

  /** What allocate() throws when malloc returns 0: on a corrupted heap (stats() cannot walk it), saying so. */
  private outOfMemory(size: number): OutOfMemoryError {
    const memoryBytes = this.memory.buffer.byteLength;
    try {
      return new OutOfMemoryError(size, this.maxMemory, this.stats().inUse, memoryBytes);
    } catch (error) {
      if (!(error instanceof HeapCorruptionError)) throw error;
      return new OutOfMemoryError(size, this.maxMemory, this.exports.heap_stat(LAYOUT.STAT_IN_USE), memoryBytes, error);
    }
  }

  /** Throws HeapCorruptionError naming the first broken invariant and its address. */
  check(): void {
    const code = this.exports.heap_check();
    if (code === 0) return;
    const name = namesByValue("CHECK_").get(code) ?? `check-${code}`;
    const address = this.exports.heap_check_address() >>> 0;
    throw new HeapCorruptionError(name, address, this.names.get(address + LAYOUT.BLOCK_HEADER));
  }

  // ── Bounded walks ─────────────────────────────────────────────────────────
  // Sizes and links are read from memory a program may have overwritten. The module checks each
  // step (assembly/inspect/walk.ts, inspect/lists.ts) and leaves a broken one in walk_error; the host also
  // stops a cursor that does not move forward or leaves the heap, and any walk of more steps than
  // the memory could hold 16-byte blocks. Either way: a HeapCorruptionError, never a hang.

  /** The violation the module's last walk or list step met (walk_error), or null. */
  private walkError(): { violation: string; address: number } | null {
    const e = this.exports;
    const code = e.walk_error === undefined ? 0 : Number((e.walk_error as WebAssembly.Global).value) >>> 0;
    if (code === 0) return null;
    const address = Number((e.walk_error_address as WebAssembly.Global).value) >>> 0;
    return { violation: namesByValue("CHECK_").get(code) ?? `check-${code}`, address };
  }

  /** Most steps a walk of this memory can take: one per 16 bytes. */
  private walkBound(): number { return Math.floor(this.memory.buffer.byteLength / 16); }

  /** The name of the block at `address`, however its layer and build put the pointer after it. */
  private nameAt(address: number): string | undefined {
    const header = LAYOUT.BLOCK_HEADER;
    const guard = this.build === "checked" ? LAYOUT.GUARD_HEADER : 0;
    for (const at of [address + header, address, address + header + guard, address + guard]) {
      const name = this.names.get(at);
      if (name !== undefined) return name;
    }
    return undefined;
  }

  /** The top of the heap, if the state is sound enough to walk to it. */
  private walkTop(): number {
    const e = this.exports;
    const start = e.heap_start() >>> 0;
    const top = e.heap_top() >>> 0;
    if (top % LAYOUT.PAGE_SIZE !== 0 || top <= start || top > this.memory.buffer.byteLength) {
      throw new HeapCorruptionError("state", start, undefined, { during: "heap walk", note: `its top is ${top}, memory ends at ${this.memory.buffer.byteLength}` });
    }
    return top;
  }

  /** The error a heap walk throws at `address`, with the entry before it (the likely overflow) named. */
  private walkCorruption(violation: string, address: number, before?: Omit<Block, "payload" | "name">): HeapCorruptionError {
    let note: string | undefined;
    if (before && before.address !== address) {
      const name = this.nameAt(before.address);
      note = `the ${before.layer} entry before it, at ${hexAddress(before.address)}${name ? ` ("${name}")` : ""}, may have been written past its end`;
    }
    return new HeapCorruptionError(violation, address, this.nameAt(address), { during: "heap walk", note });
  }

  private *walkRaw(): Generator<Omit<Block, "payload" | "name">> {
    const e = this.exports;
    const g = (name: string) => Number((e[name] as WebAssembly.Global).value) >>> 0;
    let cursor = e.walk_first() >>> 0;
    if (cursor === 0) return;
    const end = this.walkTop();
    const bound = this.walkBound();
    let before: Omit<Block, "payload" | "name"> | undefined;
    for (let steps = 1; cursor < end; steps++) {
      const next = e.walk_entry(cursor) >>> 0;
      const broken = this.walkError();
      if (broken) throw this.walkCorruption(broken.violation, broken.address, before);
      // Each step moves forward, and stays in the heap: else a loop, whatever the module said.
      if (next <= cursor || next > end) throw this.walkCorruption("walk-cursor", cursor, before);
      if (steps > bound) throw this.walkCorruption("walk-steps", cursor, before);
      const entry: Omit<Block, "payload" | "name"> = {
        address: g("walk_address"), pointer: g("walk_payload"), size: g("walk_size"), usable: g("walk_usable"),
        state: STATE_NAMES.get(g("walk_state")) ?? "metadata", layer: LAYER_NAMES.get(g("walk_layer")) ?? "state",
        ...(e.walk_owner ? { owner: g("walk_owner") } : {}),
      };
      yield entry;
      before = entry;
      cursor = next;
    }
  }

  /** Every block of every layer, in address order, as plain objects. */
  walk(): Block[] {
    const out: Block[] = [];
    const alive = new Set<number>();
    const checked = this.build === "checked";
    for (const raw of this.walkRaw()) {
      const block: Block = { ...raw, payload: raw.pointer ? this.requested.get(raw.pointer) ?? raw.usable : 0 };
      if (checked && raw.pointer) {
        // The program's pointer and size live inside the guarded raw block.
        const guard = this.guarded(raw.pointer, raw.usable);
        if (guard) {
          block.pointer = guard.pointer;
          block.payload = guard.size;
          if (guard.quarantined) block.quarantined = true;
        }
      }
      if (block.pointer && !block.quarantined) {
        alive.add(block.pointer);
        const name = this.names.get(block.pointer);
        if (name !== undefined) block.name = name;
      }
      out.push(block);
    }
    // Blocks freed by another module (release build: no operation log) lose their names here.
    for (const ptr of this.names.keys()) if (!alive.has(ptr)) this.forget(ptr);
    return out;
  }

  /**
   * Follow one list from `head`: `step(block, prev)` is the module's checked link (0 at the end,
   * walk_error on a broken one). A block met twice, or more blocks than the memory could hold,
   * ends it too. Returns the blocks in list order; throws HeapCorruptionError.
   */
  private followList(head: number, step: (block: number, prev: number) => number, during: string, list: string): number[] {
    const blocks: number[] = [];
    const seen = new Set<number>();
    const bound = this.walkBound();
    let prev = 0;
    for (let b = head; b !== 0;) {
      const from = prev === 0 ? `it is the head of ${list}` : `it is linked from ${hexAddress(prev)} on ${list}`;
      if (seen.has(b)) throw new HeapCorruptionError("list-links", b, this.nameAt(b), { during, note: `${from}, which goes round in a cycle` });
      if (blocks.length >= bound) throw new HeapCorruptionError("walk-steps", b, this.nameAt(b), { during, note: `${from}, longer than the memory could hold` });
      const next = step(b, prev) >>> 0;
      const broken = this.walkError();
      if (broken) throw new HeapCorruptionError(broken.violation, broken.address, this.nameAt(broken.address), { during, note: from });
      seen.add(b);
      blocks.push(b);
      prev = b;
      b = next;
    }
    return blocks;
  }

  /** The free lists of the boundary-tag layer: non-empty lists with their blocks. */
  freeLists(): { index: number; blocks: { address: number; size: number }[] }[] {
    const e = this.exports;
    const lists = [];
    const count = e.free_list_count();
    if (count > 0) this.walkTop();
    // Modules without the checked step: the raw link (the host's cycle and step bounds still hold).
    const step = e.free_list_next ? (b: number, prev: number) => e.free_list_next!(b, prev) : (b: number) => e.free_block_next(b);
    for (let index = 0; index < count; index++) {
      const found = this.followList(e.free_list_head(index) >>> 0, step, "free-list walk", `free list ${index}`);
      if (found.length) lists.push({ index, blocks: found.map((b) => ({ address: b, size: e.free_block_size(b) >>> 0 })) });
    }
    return lists;
  }

  /** The quick lists (segregated fit): freed small blocks held for reuse at their exact size, by block size. */
  quickLists(): { size: number; blocks: number[] }[] {
    const e = this.exports as AllocatorExports & { quick_list_head?(size: number): number };
    if (!e.quick_list_head || e.heap_start() === 0) return [];
    const lists = [];
    this.walkTop();
    for (let size = 16; size <= LAYOUT.QUICK_MAX; size += 16) {
      const step = e.quick_list_next ? (b: number) => e.quick_list_next!(b, size) : (b: number) => e.free_block_next(b);
      const blocks = this.followList(e.quick_list_head(size) >>> 0, step, "quick-list walk", `the quick list of ${size}-byte blocks`);
      if (blocks.length) lists.push({ size, blocks });
    }
    return lists;
  }

  /** What owns each page of the heap, from the heap's first page to the top. */
  pageMap(): PageMapEntry[] {
    const e = this.exports;
    const pageSize = LAYOUT.PAGE_SIZE;
    const out: PageMapEntry[] = [];
    if (e.heap_start() === 0) return out;
    const first = Math.floor((e.heap_start() >>> 0) / pageSize);
    const top = this.walkTop() / pageSize;
    for (let page = first; page < top; page++) {
      out.push({ page, address: page * pageSize, kind: (PAGE_KINDS.get(e.page_kind(page)) ?? "none") as PageMapEntry["kind"] });
    }
    return out;
  }

  // ── Kernel-style views ──────────────────────────────────────────────────
  /**
   * Free blocks per order, like /proc/buddyinfo: for the buddy engine (orders of its
   * blocks), and for the page layer of every engine (free page runs by size order:
   * a run of n pages counts at order floor(log2 n)).
   */
  buddyinfo(): BuddyInfo[] {
    const e = this.exports;
    const out: BuddyInfo[] = [];
    if (typeof e.buddy_free_count === "function") {
      const min = LAYOUT.BUDDY_MIN_ORDER;
      const max = LAYOUT.BUDDY_MAX_ORDER;
      const free: number[] = [];
      for (let order = min; order <= max; order++) {
        free.push((e.buddy_free_count as (o: number) => number)(order) >>> 0);
        const broken = this.walkError();
        if (broken) {
          throw new HeapCorruptionError(broken.violation, broken.address, this.nameAt(broken.address),
            { during: "buddy list count", note: `it is on the free list of order ${order} (${2 ** order}-byte blocks)` });
        }
      }
      out.push({ zone: "buddy", minOrder: min, unit: 2 ** min, free });
    }
    // Free runs never touch (they merge at once), so each maximal stretch of free pages is one run.
    const runs: number[] = [];
    let length = 0;
    for (const entry of this.pageMap()) {
      if (entry.kind === "free") length++;
      else if (length) { runs.push(length); length = 0; }
    }
    if (length) runs.push(length);
    const pages: number[] = [];
    for (const n of runs) {
      const order = Math.floor(Math.log2(n));
      while (pages.length <= order) pages.push(0);
      pages[order]++;
    }
    out.push({ zone: "pages", minOrder: 0, unit: LAYOUT.PAGE_SIZE, free: pages });
    return out;
  }

  /**
   * Per size class, like /proc/slabinfo: classes that hold slabs (a slab is one span of
   * SLAB_SPAN bytes, a quarter page: pagesPerSlab 0.25), read from the walk. Empty in the
   * buddy build (it has no slabs).
   */
  slabinfo(): SlabInfo[] {
    const spanSize = LAYOUT.SLAB_SPAN;
    const bySpan = new Map<number, { size: number; total: number; active: number }>();
    for (const b of this.walkRaw()) {
      if (b.layer !== "slab") continue;
      const span = Math.floor(b.address / spanSize);
      const slab = bySpan.get(span) ?? { size: b.size, total: 0, active: 0 };
      slab.total++;
      if (b.state === "in-use") slab.active++;
      bySpan.set(span, slab);
    }
    const bySize = new Map<number, SlabInfo>();
    for (const slab of bySpan.values()) {
      const info = bySize.get(slab.size) ?? {
        name: `size-${slab.size}`, activeObjects: 0, totalObjects: 0, objectSize: slab.size,
        objectsPerSlab: slab.total, pagesPerSlab: spanSize / LAYOUT.PAGE_SIZE, activeSlabs: 0, totalSlabs: 0,
      };
      info.activeObjects += slab.active;
      info.totalObjects += slab.total;
      info.totalSlabs++;
      if (slab.active > 0) info.activeSlabs++;
      bySize.set(slab.size, info);
    }
    return [...bySize.values()].sort((a, b) => a.objectSize - b.objectSize);
  }

  /** Everything a picture or a visualizer needs, as plain JSON-ready data. */
  snapshot(extra: { title?: string; step?: number } = {}): HeapSnapshot {
    const e = this.exports;
    return {
      policy: this.policy, heapStart: e.heap_start() >>> 0, top: e.heap_top() >>> 0, pageSize: LAYOUT.PAGE_SIZE,
      blocks: this.walk(), freeLists: this.freeLists(),
      // A buddy page has no gutter colour of its own in the renderer yet: it draws as a heap page.
      pageMap: this.pageMap().map(({ page, kind }) => ({ page, kind: kind === "buddy" ? "heap" : kind })), stats: this.stats(), ...extra,
    };
  }

  /** The name of the policy the module is running. */
  runningPolicy(): PolicyName { return policyName(this.exports.heap_policy()); }

  /** Finish the trace log (header counts written). Safe to call more than once. */
  close(): void { this.trace?.close(); }
}

export { WasmMallocError, HeapCorruptionError, OutOfMemoryError };
