// Linking: wasm-malloc as the malloc of another Wasm module, over one memory.
//
//        host (this file)
//   1. reads the client's binary: the memory it imports, its __heap_base
//   2. creates one WebAssembly.Memory
//   3. instantiates the embed build over it ──────────┐
//   4. heap_init_with(__heap_base, limit, policy, …)   │ exports malloc, free, …
//   5. instantiates the client: its env.malloc-family ◄┘ imports are the
//      allocator's exports themselves (Wasm to Wasm, no JS in between)
//
//   memory: │ client data + stack │ allocator heap (from __heap_base) ──► grows
//           0                     __heap_base
//
// The allocator never writes below __heap_base and the client never grows
// the memory (its own malloc is gone), so the two share it without a seam.
// `heap` is a Heap over the allocator's exports: walk, stats, check, free
// lists, page map, snapshot and the trace log see every block the client made.

import { Heap } from "./heap.js";
import { AllocatorExports, AllocatorHooks, RawReport, allocatorImports } from "./module.js";
import { LAYOUT, constant } from "./layout.js";
import { PolicyName, policyNumber, resolvePolicy } from "./policy.js";
import { WasmMallocError, errorFromReport } from "./errors.js";
import { moduleInfo, ModuleInfo } from "./wasm-info.js";
import { address, functionOption, integerOption, optionsObject, show, stringOption, wasmSource } from "./arguments.js";
import type { TraceLog } from "./trace-log.js";

/** The allocator functions a client may import, each as `name` or `wasm_name` from module "env". */
export const LINKABLE_FUNCTIONS = [
  "malloc", "free", "calloc", "realloc", "aligned_alloc", "posix_memalign", "malloc_usable_size",
  "malloc_name", "heap_check", "heap_stat",
] as const;

/** The part of node:wasi's WASI that linking uses (any object of that shape will do). */
export interface WasiLike {
  wasiImport: Record<string, unknown>;
  start(instance: object): number | undefined;
  initialize?(instance: object): void;
  getImportObject?(): Record<string, Record<string, unknown>>;
}

export type WasmSource = BufferSource | URL | string | Response;

export interface LinkOptions {
  /** The client's other imports (its own env functions, wasi_snapshot_preview1, ...). Names given here win over the allocator's. */
  imports?: WebAssembly.Imports;
  /** Placement policy; default WASM_MALLOC_POLICY, else "segregated". */
  policy?: PolicyName | string;
  /** Serve small sizes from size-class slabs (default true). */
  slabs?: boolean;
  /** Most bytes the shared memory may grow to; malloc returns 0 past it (default: no limit but wasm32's). */
  maxMemory?: number;
  /** Log every operation of the client (and of JS) to this .rep file; loads the embed-traced build. */
  trace?: string;
  /** A node:wasi WASI instance for a C program built for wasm32-wasi: its imports, and `start()` runs main. */
  wasi?: WasiLike;
  /** The allocator module to use instead of the packaged build/embed.wasm (or embed-traced.wasm). */
  allocator?: WasmSource | WebAssembly.Module;
  /**
   * Called with the error when the allocator reports misuse (double free, invalid free). Default:
   * throw it, which unwinds the client's call (like a libc abort); the heap is unchanged. If this
   * returns normally, the client's call returns as the C API says (0, or nothing).
   */
  onMisuse?(error: WasmMallocError): void;
  /**
   * Called with each problem the allocator noticed and worked around while the call went on
   * (its result is valid; see Heap): never thrown, as that would unwind the allocator
   * mid-call. Default: kept in `heap.errors`, the first printed with console.warn.
   */
  onError?(error: WasmMallocError): void;
  /** The client's __heap_base, when it cannot be read from the binary (a compiled Module, no export). */
  heapBase?: number;
  /**
   * How to instantiate the client (default WebAssembly.instantiate): e.g. `instantiate` of
   * @assemblyscript/loader, whose result's `exports` (with __getString, __newString, ...) become
   * `linked.exports`.
   */
  instantiate?(module: WebAssembly.Module, imports: WebAssembly.Imports): Promise<WebAssembly.Instance | { instance: WebAssembly.Instance; exports?: unknown }>;
}

export interface LinkedAllocator {
  /** The same inspection as a standalone Heap, over the shared memory (and the C API from JS). */
  heap: Heap;
  /** The client's instance. */
  client: WebAssembly.Instance;
  /** The client's exports: those of `options.instantiate`'s result when it gives some (the loader's helpers), else the instance's. */
  exports: Record<string, any>;
  /** The allocator instance's exports. */
  allocator: AllocatorExports;
  /** The one memory both use. */
  memory: WebAssembly.Memory;
  /** Where the client's static data ends and the heap begins. */
  heapBase: number;
  /** The client's imports that were routed to the allocator: import name → allocator export. */
  routed: Record<string, string>;
  /**
   * Run the client's `_start` (a WASI command: through `wasi.start`, giving its exit code;
   * otherwise called directly, giving 0). Finishes the trace log afterwards.
   */
  start(): number;
}

const PAGE = 65536;

/** The packaged allocator build for linking. */
export function embedBuildUrl(traced: boolean): URL {
  // Not bundled (see buildUrl): a page that links names its allocator build itself.
  return new URL(/* @vite-ignore */ `../build/${traced ? "embed-traced" : "embed"}.wasm`, import.meta.url);
}

export async function readBytes(source: WasmSource): Promise<Uint8Array<ArrayBuffer>> {
  if (typeof Response !== "undefined" && source instanceof Response) return new Uint8Array(await source.arrayBuffer());
  if (source instanceof URL || typeof source === "string") {
    const url = source instanceof URL ? source : new URL(source, `file://${typeof process !== "undefined" ? process.cwd() : ""}/`);
    if (url.protocol === "file:") {
      const { readFile } = await import("node:fs/promises");
      return new Uint8Array(await readFile(url));
    }
    return new Uint8Array(await (await fetch(url)).arrayBuffer());
  }
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer as ArrayBuffer, source.byteOffset, source.byteLength);
  return new Uint8Array(source as ArrayBuffer);
}

/** Which allocator export an import of the client's names (`malloc` or `wasm_malloc`), if any. */
export function linkableName(importName: string): string | undefined {
  const name = importName.startsWith("wasm_") ? importName.slice(5) : importName;
  return (LINKABLE_FUNCTIONS as readonly string[]).includes(name) ? name : undefined;
}

/** AssemblyScript's `env.abort(message, file, line, column)`: strings are UTF-16 with their byte length at ptr - 4. */
function assemblyScriptAbort(memory: WebAssembly.Memory) {
  const text = (ptr: number) => {
    if (!ptr) return "";
    const bytes = new DataView(memory.buffer).getUint32(ptr - 4, true);
    return new TextDecoder("utf-16le").decode(new Uint8Array(memory.buffer, ptr, bytes));
  };
  return (message: number, file: number, line: number, column: number) => {
    throw new Error(`abort: ${text(message >>> 0) || "(no message)"} at ${text(file >>> 0)}:${line}:${column}`);
  };
}

/**
 * Instantiate the allocator and `client` over one new memory, the client's
 * malloc-family imports routed to the allocator, and the heap set up at the
 * client's `__heap_base` before any client code runs.
 *
 * The client imports `env.memory` (clang: `-Wl,--import-memory`; asc:
 * `--importMemory`) and exports `__heap_base` (clang: `-Wl,--export=__heap_base`;
 * the wasm-malloc AssemblyScript runtime exports it).
 */
export async function linkAllocator(client: WasmSource | WebAssembly.Module, options: LinkOptions = {}): Promise<LinkedAllocator> {
  options = checkLinkOptions(client, options);
  const { clientModule, declared, info, heapBase } = await readClient(client, options, "linkAllocator");
  const shared = await linkHeap(info, heapBase, options);
  const { memory, allocator, log } = shared;
  const maximum = shared.maximumPages;

  // 5. The client: its imports, with the allocator's functions where it asks for them.
  const routed: Record<string, string> = {};
  const env: Record<string, unknown> = { memory };
  const given = (options.imports?.env ?? {}) as Record<string, unknown>;
  for (const imp of declared) {
    if (imp.module !== "env" || imp.kind !== "function" || imp.name in given) continue;
    const target = linkableName(imp.name);
    if (target) { env[imp.name] = allocator[target]; routed[imp.name] = target; }
    else if (imp.name === "abort") env.abort = assemblyScriptAbort(memory);
  }
  const imports: WebAssembly.Imports = { ...options.imports, env: { ...env, ...given } as WebAssembly.ModuleImports };
  if (options.wasi) {
    const wasiImports = options.wasi.getImportObject?.() ?? { wasi_snapshot_preview1: options.wasi.wasiImport };
    for (const [module, fns] of Object.entries(wasiImports)) imports[module] ??= fns as WebAssembly.ModuleImports;
  }
  let instance!: WebAssembly.Instance;
  const heap = shared.attach(() => heapBase ?? instanceHeapBase(instance));

  let clientExports!: Record<string, any>;
  for (;;) {
    try {
      if (options.instantiate) {
        const result = await options.instantiate(clientModule, imports);
        instance = result instanceof WebAssembly.Instance ? result : result.instance;
        clientExports = (result instanceof WebAssembly.Instance ? undefined : result.exports as Record<string, any>) ?? instance.exports;
      } else {
        instance = await WebAssembly.instantiate(clientModule, imports);
        clientExports = instance.exports;
      }
      break;
    } catch (error) {
      // A compiled Module does not tell how much memory it starts with: grow until it links.
      const pages = memory.buffer.byteLength / PAGE;
      const room = (maximum ?? 65536) - pages;
      if (info || !(error instanceof WebAssembly.LinkError) || !/memory/.test(error.message) || room <= 0) throw error;
      memory.grow(Math.min(pages, room));
    }
  }
  if (heapBase === undefined) shared.init(instanceHeapBase(instance));

  // A WASI reactor (or any module exporting _initialize) is initialized once, now.
  const exports = instance.exports as Record<string, unknown>;
  if (typeof exports._initialize === "function") {
    if (options.wasi?.initialize) options.wasi.initialize({ exports: { _initialize: exports._initialize, memory } });
    else (exports._initialize as () => void)();
  }

  return {
    heap, client: instance, exports: clientExports, allocator, memory, heapBase: heapBase ?? instanceHeapBase(instance), routed,
    start(): number {
      const _start = exports._start;
      if (typeof _start !== "function") throw new TypeError("the client exports no _start");
      try {
        if (options.wasi) return options.wasi.start({ exports: { _start, memory } }) ?? 0;
        (_start as () => void)();
        return 0;
      } finally {
        log?.close();
      }
    },
  };
}

/** What linking needs to know of the client: its module, imports, binary facts and __heap_base. */
export interface ClientFacts {
  clientModule: WebAssembly.Module;
  declared: WebAssembly.ModuleImportDescriptor[];
  info: ModuleInfo | undefined;
  heapBase: number | undefined;
}

/** Steps 1 of linking: the client's memory import (env.memory, unshared) and its __heap_base. */
export async function readClient(client: WasmSource | WebAssembly.Module, options: LinkOptions, where: string): Promise<ClientFacts> {
  let clientModule: WebAssembly.Module;
  let info: ModuleInfo | undefined;
  if (client instanceof WebAssembly.Module) clientModule = client;
  else {
    const bytes = await readBytes(client);
    info = moduleInfo(bytes);
    clientModule = await WebAssembly.compile(bytes);
  }
  const declared = WebAssembly.Module.imports(clientModule);
  const memoryImport = declared.find((i) => i.kind === "memory");
  if (!memoryImport || memoryImport.module !== "env" || memoryImport.name !== "memory") {
    const has = memoryImport ? `imports its memory as ${memoryImport.module}.${memoryImport.name}` : "defines its own memory";
    throw new TypeError(`${where}: the client ${has}; link it with an imported env.memory (clang: -Wl,--import-memory; asc: --importMemory)`);
  }
  if (info?.memoryImport?.shared) throw new TypeError(`${where}: the client imports a shared memory; wasm-malloc links over a plain (unshared) memory`);
  const heapBase = options.heapBase ?? info?.heapBase;
  if (info && heapBase === undefined) {
    throw new TypeError(`${where}: the client exports no constant __heap_base; build it with -Wl,--export=__heap_base (clang), or pass heapBase`);
  }
  return { clientModule, declared, info, heapBase };
}

/** Steps 2-4 of linking, done: the memory, the allocator over it, its heap set up (once the base is known). */
export interface LinkedHeap {
  memory: WebAssembly.Memory;
  maximumPages: number | undefined;
  allocator: AllocatorExports;
  log: TraceLog | null;
  /** Sets the heap up at `base` (done already when the base was known). */
  init(base: number): void;
  /** The Heap over the allocator; `heapBase` is asked whenever the Heap needs the client's base. */
  attach(heapBase: () => number): Heap;
}

export async function linkHeap(info: ModuleInfo | undefined, heapBase: number | undefined, options: LinkOptions): Promise<LinkedHeap> {
  const policy = resolvePolicy(options.policy);
  const traced = options.trace !== undefined;

  // 2. One memory, as large as the client asks to start with.
  const maxPages = options.maxMemory ? Math.floor(options.maxMemory / PAGE) : undefined;
  const initial = info?.memoryImport?.initial ?? Math.max(1, Math.ceil((heapBase ?? 0) / PAGE));
  let maximum = info?.memoryImport?.maximum;
  if (maxPages !== undefined) maximum = maximum === undefined ? maxPages : Math.min(maximum, maxPages);
  if (maximum !== undefined && maximum < initial) {
    throw new RangeError(`maxMemory ${options.maxMemory} bytes is below the ${initial * PAGE} bytes the client starts with; allow more`);
  }
  const memory = new WebAssembly.Memory(maximum === undefined ? { initial } : { initial, maximum });

  // 3. The allocator over it. Its reports become errors; operations feed the trace log.
  let heap: Heap | null = null;
  let log: TraceLog | null = null;
  const hooks: AllocatorHooks = {
    onReport: (report: RawReport) => {
      const error = errorFromReport(report, heap?.nameOf(report.block) ?? heap?.nameOf(report.ptr), log?.operations);
      // Noticed and worked around: the allocator's call goes on after this returns.
      if (report.noticed) { if (heap) heap.notice(error); else (options.onError ?? console.warn)(error); return; }
      if (options.onMisuse) options.onMisuse(error);
      else throw error;
    },
    onOp: (op, a, b, result) => heap?.hooks.onOp(op, a, b, result),
    onNamed: (ptr, label, length) => heap?.hooks.onNamed(ptr, label, length),
  };
  const allocatorSource = options.allocator ?? embedBuildUrl(traced);
  const allocatorModule = allocatorSource instanceof WebAssembly.Module
    ? allocatorSource : await WebAssembly.compile(await readBytes(allocatorSource));
  const allocatorInstance = await WebAssembly.instantiate(allocatorModule, { env: { memory, ...allocatorImports(hooks) } });
  const allocator = allocatorInstance.exports as unknown as AllocatorExports;
  for (const fn of ["heap_init_with", ...LINKABLE_FUNCTIONS]) {
    if (typeof allocator[fn] !== "function") throw new TypeError(`the allocator module exports no ${fn}; link with the embed build`);
  }

  // 4. The heap, before any client code runs (a start function may allocate).
  const flags = options.slabs === false ? LAYOUT.OPTION_NO_SLABS : 0;
  const init = (base: number) => {
    const status = allocator.heap_init_with(base, options.maxMemory ?? 0, policyNumber(policy), flags);
    if (status === -3) throw new RangeError(`maxMemory ${options.maxMemory} bytes cannot hold the heap's first page above __heap_base ${base}; allow more`);
    if (status !== 0) throw new Error(`heap_init_with failed (${status})`);
  };
  if (heapBase !== undefined) init(heapBase);
  if (traced) {
    const { TraceLog } = await import("./trace-log.js");
    const op = (name: string) => constant(`OP_${name}`);
    log = new TraceLog(options.trace!, { malloc: op("MALLOC"), calloc: op("CALLOC"), realloc: op("REALLOC"), free: op("FREE"), alignedAlloc: op("ALIGNED_ALLOC") },
      () => memory.buffer.byteLength);
  }
  return {
    memory, maximumPages: maximum, allocator, log, init,
    attach(base: () => number): Heap {
      // The view of the allocator the Heap reads: heap_base is the client's, not the allocator's own.
      const view: AllocatorExports = { ...allocator, heap_base: base };
      heap = Heap.attach(view, { policy, build: traced ? "embed-traced" : "embed", maxMemory: options.maxMemory ?? 0, trace: log, onError: options.onError });
      return heap;
    },
  };
}

/**
 * linkAllocator's arguments, each checked for its type and range before anything
 * is compiled (left out or undefined: the default; unknown names are ignored).
 */
export function checkLinkOptions(client: unknown, given: unknown, where = "linkAllocator"): LinkOptions {
  wasmSource(where, "client", client, true);
  const options = optionsObject<LinkOptions>(where, given);
  for (const name of ["imports", "wasi"] as const) {
    const value = options[name];
    if (value !== undefined && (value === null || typeof value !== "object")) throw new TypeError(`${where}: option ${name} ${show(value)} is not an object`);
  }
  if (options.wasi !== undefined && (typeof options.wasi.start !== "function" || typeof options.wasi.wasiImport !== "object")) {
    throw new TypeError(`${where}: option wasi has no start() or wasiImport; pass a node:wasi WASI instance`);
  }
  if (options.policy !== undefined && typeof options.policy !== "string") throw new TypeError(`${where}: option policy ${show(options.policy)} is not a string`);
  if (options.slabs !== undefined && typeof options.slabs !== "boolean") throw new TypeError(`${where}: option slabs ${show(options.slabs)} is not true or false`);
  const maxMemory = integerOption(where, "maxMemory", options.maxMemory, 0, 2 ** 32, `a byte count from 0 (no limit) to ${2 ** 32}`);
  stringOption(where, "trace", options.trace, true);
  if (options.allocator !== undefined) wasmSource(where, "option allocator", options.allocator, true);
  for (const name of ["onMisuse", "onError", "instantiate"] as const) functionOption(where, name, options[name]);
  const heapBase = options.heapBase === undefined ? undefined : address(where, "option heapBase", options.heapBase);
  return { ...options, maxMemory, heapBase };
}

function instanceHeapBase(instance: WebAssembly.Instance): number {
  const g = instance.exports.__heap_base;
  if (g instanceof WebAssembly.Global) return Number(g.value) >>> 0;
  throw new TypeError("the client exports no __heap_base; build it with -Wl,--export=__heap_base (clang), or pass heapBase");
}
