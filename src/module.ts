// Loading the allocator's Wasm module.
//
// The module exports functions (and walk_* results); the layout constants
// (page size, policies, page kinds, layers, error and check codes, counter
// ids) are in src/layout.ts, generated from assembly/layout.ts.

import { instantiate, type Imports } from "@assemblyscript/loader";

/** The builds in asconfig.json: release (fast), checked (slow, strict), traced (release + operation log). */
export type Build = "release" | "checked" | "traced" | "embed" | "embed-traced" | "buddy" | "threads";
export const BUILDS: readonly Build[] = ["release", "checked", "traced", "embed", "embed-traced", "buddy", "threads"];

/** What the allocator module exports: functions, the walk_* result globals and __heap_base. */
export interface AllocatorExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  calloc(count: number, size: number): number;
  realloc(ptr: number, size: number): number;
  aligned_alloc(align: number, size: number): number;
  posix_memalign(out: number, align: number, size: number): number;
  malloc_usable_size(ptr: number): number;
  heap_configure(policy: number, options: number, maxBytes: number): number;
  /** Embed builds: manage [base, limit) of an imported memory (limit 0: grow as needed). */
  heap_init(base: number, limit: number): number;
  /** Embed builds: heap_init with a policy (POLICY_*) and options (OPTION_* bits). */
  heap_init_with(base: number, limit: number, policy: number, options: number): number;
  heap_start(): number;
  malloc_name(ptr: number, label: number, length: number): number;
  heap_base(): number;
  heap_top(): number;
  heap_policy(): number;
  heap_options(): number;
  heap_max_pages(): number;
  heap_stat(id: number): number;
  heap_set_quarantine(bytes: number): void;
  heap_check(): number;
  heap_check_address(): number;
  page_kind(page: number): number;
  walk_first(): number;
  walk_end(): number;
  walk_entry(cursor: number): number;
  free_list_count(): number;
  free_list_head(index: number): number;
  free_block_next(block: number): number;
  free_block_prev(block: number): number;
  free_block_size(block: number): number;
  /** The block after free-list block `block` (predecessor `prev`), each link checked: 0 at the end, or 0 with walk_error set. */
  free_list_next?(block: number, prev: number): number;
  /** The block after `block` on the quick list of `size`-byte blocks, checked the same way. */
  quick_list_next?(block: number, size: number): number;
  /** Buddy build only: free buddy blocks of an order (BUDDY_MIN_ORDER … BUDDY_MAX_ORDER). */
  buddy_free_count?(order: number): number;
  /** Threads build only: join the heap another instance set up at `base` over the shared memory (0, or a HEAP_INIT_* code). */
  heap_attach?(base: number): number;
  /** Threads build only: this instance lets go of the heap (its blocks stay valid): 0, or -1 if it had none. */
  heap_detach?(): number;
  [name: string]: unknown;
}

/**
 * Bit of a report's `op` argument: the module noticed the problem, worked
 * around it and the call went on, so its result is valid (e.g. malloc found a
 * damaged free-list link, dropped that list and served the request from
 * elsewhere). Without it the call was rejected and changed nothing. The low
 * 8 bits are the OP_* code.
 */
export const REPORT_NOTICED = 0x100;

/** A misuse report as the Wasm side sends it (see assembly/base/report.ts), `op` split in two. */
export interface RawReport {
  kind: number;
  reason: number;
  /** The entry point (OP_*). */
  op: number;
  ptr: number;
  block: number;
  size: number;
  /** The call went on and its result is valid (REPORT_NOTICED); false: the call was rejected. */
  noticed?: boolean;
}

export interface LoadedAllocator {
  exports: AllocatorExports;
  module: WebAssembly.Module;
}

/** The .wasm file of a build, next to the package's dist/ folder. */
export function buildUrl(build: Build): URL {
  // @vite-ignore: a bundler would otherwise copy every build/*.wasm into the bundle
  // (Vite turns a template URL into a glob); a page names the builds it loads itself.
  return new URL(/* @vite-ignore */ `../build/${build}.wasm`, import.meta.url);
}

async function readBytes(source: BufferSource | URL | string | Response): Promise<BufferSource> {
  if (typeof Response !== "undefined" && source instanceof Response) return await source.arrayBuffer();
  if (source instanceof URL || typeof source === "string") {
    const url = source instanceof URL ? source : new URL(source, import.meta.url);
    if (url.protocol === "file:") {
      const { readFile } = await import("node:fs/promises");
      return await readFile(url);
    }
    return await (await fetch(url)).arrayBuffer();
  }
  return source as BufferSource;
}

/** What the allocator calls back into the host for. */
export interface AllocatorHooks {
  /** A misuse report (every build). */
  onReport(report: RawReport): void;
  /** An operation done (traced and checked builds): op code, arguments, result. */
  onOp?(op: number, a: number, b: number, result: number): void;
  /** A block named from Wasm: pointer, and the label's UTF-8 bytes in memory. */
  onNamed?(ptr: number, label: number, length: number): void;
}

/** The `env` imports an allocator build needs, wired to `hooks`. */
export function allocatorImports(hooks: AllocatorHooks) {
  return {
    wasm_malloc_report(kind: number, reason: number, op: number, ptr: number, block: number, size: number) {
      hooks.onReport({
        kind, reason, op: op & 0xff, ptr: ptr >>> 0, block: block >>> 0, size: size >>> 0, noticed: (op & REPORT_NOTICED) !== 0,
      });
    },
    wasm_malloc_op(op: number, a: number, b: number, result: number) {
      hooks.onOp?.(op, a >>> 0, b >>> 0, result >>> 0);
    },
    wasm_malloc_named(ptr: number, label: number, length: number) {
      hooks.onNamed?.(ptr >>> 0, label >>> 0, length >>> 0);
    },
  };
}

/** Instantiate an allocator build through @assemblyscript/loader (over `memory`, for a build that imports one). */
export async function loadAllocator(
  source: BufferSource | URL | string | Response,
  hooks: AllocatorHooks | ((report: RawReport) => void),
  memory?: WebAssembly.Memory,
): Promise<LoadedAllocator> {
  const bytes = await readBytes(source);
  const imports = { env: { ...allocatorImports(typeof hooks === "function" ? { onReport: hooks } : hooks), ...(memory ? { memory } : {}) } };
  const result = await instantiate<AllocatorExports>(bytes, imports as unknown as Imports);
  return { exports: result.exports as unknown as AllocatorExports, module: result.module };
}
