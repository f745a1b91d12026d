// The Heap class: one allocator instance, its C API from JS, and a look inside.

import {
  AllocatorExports, Build, RawReport, buildUrl, constant, constantsWithPrefix, loadAllocator,
} from "./module.js";
import { PolicyName, policyName, policyNumber, resolvePolicy } from "./policy.js";
import { HeapCorruptionError, WasmMallocError, errorFromReport, namesByValue } from "./errors.js";

export interface HeapOptions {
  /** Placement policy of the boundary-tag layer; default: WASM_MALLOC_POLICY, else "segregated". */
  policy?: PolicyName | string;
  /** Which build to load (default "release"). */
  build?: Build;
  /** Most bytes the Wasm memory may grow to (default: no limit but wasm32's). */
  maxMemory?: number;
  /** Serve small sizes from size-class slabs (default true); false lets the policy see every size. */
  slabs?: boolean;
  /** The module itself (bytes, URL or Response) instead of the packaged build. */
  wasm?: BufferSource | URL | string | Response;
}

/** One entry of `walk()`. */
export interface Block {
  address: number;
  /** What malloc returned (0 for free space and metadata). */
  pointer: number;
  size: number;
  usable: number;
  state: "free" | "in-use" | "metadata";
  layer: "state" | "medium" | "slab" | "large" | "pages" | "page-map" | "slab-header";
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
}

const LAYER_BY_NAME: Record<string, Block["layer"]> = {
  STATE: "state", MEDIUM: "medium", SLAB: "slab", LARGE: "large", PAGES: "pages",
  PAGE_MAP: "page-map", SLAB_HEADER: "slab-header",
};

export class Heap {
  readonly exports: AllocatorExports;
  readonly policy: PolicyName;
  readonly build: Build;
  private pending: RawReport[] = [];
  private layerNames: Map<number, Block["layer"]>;
  private stateNames: Map<number, Block["state"]>;

  private constructor(exports: AllocatorExports, policy: PolicyName, build: Build, reports: RawReport[]) {
    this.exports = exports;
    this.policy = policy;
    this.build = build;
    this.pending = reports;
    this.layerNames = new Map();
    for (const [name, value] of Object.entries(constantsWithPrefix(exports, "LAYER_"))) this.layerNames.set(value, LAYER_BY_NAME[name]);
    this.stateNames = new Map();
    for (const [name, value] of Object.entries(constantsWithPrefix(exports, "STATE_"))) {
      this.stateNames.set(value, name === "IN_USE" ? "in-use" : name === "FREE" ? "free" : "metadata");
    }
  }

  /** Instantiate an allocator and set its heap up with the chosen policy and limit. */
  static async create(options: HeapOptions = {}): Promise<Heap> {
    const build = options.build ?? "release";
    const policy = resolvePolicy(options.policy);
    const reports: RawReport[] = [];
    const { exports } = await loadAllocator(options.wasm ?? buildUrl(build), (r) => reports.push(r));
    const flags = options.slabs === false ? constant(exports, "OPTION_NO_SLABS") : 0;
    const status = exports.heap_configure(policyNumber(exports, policy), flags, options.maxMemory ?? 0);
    if (status !== 0) throw new Error(`heap_configure failed (${status}): maxMemory ${options.maxMemory} cannot hold the heap`);
    return new Heap(exports, policy, build, reports);
  }

  get memory(): WebAssembly.Memory { return this.exports.memory; }

  /** Throw the first misuse the last call reported. */
  private raise(): void {
    if (this.pending.length === 0) return;
    const report = this.pending[0];
    this.pending.length = 0;
    throw errorFromReport(this.exports, report);
  }

  malloc(size: number): number { const p = this.exports.malloc(size) >>> 0; this.raise(); return p; }
  free(ptr: number): void { this.exports.free(ptr); this.raise(); }
  calloc(count: number, size: number): number { const p = this.exports.calloc(count, size) >>> 0; this.raise(); return p; }
  realloc(ptr: number, size: number): number { const p = this.exports.realloc(ptr, size) >>> 0; this.raise(); return p; }
  alignedAlloc(align: number, size: number): number { const p = this.exports.aligned_alloc(align, size) >>> 0; this.raise(); return p; }
  usableSize(ptr: number): number { const n = this.exports.malloc_usable_size(ptr) >>> 0; this.raise(); return n; }

  /** A live view of `length` bytes at `ptr` (re-take it after the memory grows). */
  bytes(ptr: number, length: number): Uint8Array { return new Uint8Array(this.memory.buffer, ptr, length); }

  stats(): HeapStats {
    const e = this.exports;
    const stat = (name: string) => e.heap_stat(constant(e, `STAT_${name}`));
    const memoryBytes = e.memory.buffer.byteLength;
    const heapBase = e.heap_base() >>> 0;
    return {
      inUse: stat("IN_USE"), peakInUse: stat("PEAK_IN_USE"), live: stat("LIVE"), requested: stat("REQUESTED"),
      mallocs: stat("MALLOCS"), frees: stat("FREES"), callocs: stat("CALLOCS"), reallocs: stat("REALLOCS"),
      aligned: stat("ALIGNED"), failed: stat("FAILED"), grows: stat("GROWS"), grownPages: stat("GROWN_PAGES"),
      errors: stat("ERRORS"), reallocInPlace: stat("REALLOC_IN_PLACE"), trimmedPages: stat("TRIMMED_PAGES"),
      heapBytes: memoryBytes - heapBase, memoryBytes, heapBase, pages: memoryBytes / constant(e, "PAGE_SIZE"),
    };
  }

  /** Throws HeapCorruptionError naming the first broken invariant. */
  check(): void {
    const code = this.exports.heap_check();
    if (code === 0) return;
    const name = namesByValue(this.exports, "CHECK_").get(code) ?? `check-${code}`;
    throw new HeapCorruptionError(name, this.exports.heap_check_address() >>> 0);
  }

  /** Every block of every layer, in address order. */
  walk(): Block[] {
    const e = this.exports;
    const g = (name: string) => Number((e[name] as WebAssembly.Global).value) >>> 0;
    const out: Block[] = [];
    const end = e.walk_end() >>> 0;
    let cursor = e.walk_first() >>> 0;
    while (cursor !== 0 && cursor < end) {
      cursor = e.walk_entry(cursor) >>> 0;
      out.push({
        address: g("walk_address"), pointer: g("walk_payload"), size: g("walk_size"), usable: g("walk_usable"),
        state: this.stateNames.get(g("walk_state")) ?? "metadata", layer: this.layerNames.get(g("walk_layer")) ?? "state",
      });
    }
    return out;
  }

  /** The free lists of the boundary-tag layer: non-empty lists with their blocks (address, size). */
  freeLists(): { index: number; blocks: { address: number; size: number }[] }[] {
    const e = this.exports;
    const lists = [];
    const count = e.free_list_count();
    for (let index = 0; index < count; index++) {
      const blocks = [];
      for (let b = e.free_list_head(index) >>> 0; b !== 0; b = e.free_block_next(b) >>> 0) {
        blocks.push({ address: b, size: e.free_block_size(b) >>> 0 });
        if (blocks.length > 1e7) break;
      }
      if (blocks.length) lists.push({ index, blocks });
    }
    return lists;
  }

  /** The name of the policy the module is running. */
  runningPolicy(): PolicyName { return policyName(this.exports, this.exports.heap_policy()); }
}

export { WasmMallocError, HeapCorruptionError };
