// linkStandalone: one module out of a program and the allocator, for any
// runtime: no host library, no JS between the program and its malloc.
//
//   program.wasm ──────────────┐ imports env.memory, env.wasm_malloc, …,
//   (clang + c/wasm_malloc.c)  │ wasi_snapshot_preview1.*; exports __heap_base
//                              ▼
//   build/link.wasm ─ limits ─► wasm-merge ──► binaryen -O1 ──► out.wasm
//   (as "env": defines memory,  ▲              (the unused      imports only
//    exports wasm_malloc, …)    │               unused goes)    wasi_snapshot_preview1.*;
//   config (as "link_config") ──┘                               exports memory, _start, …
//   (policy, limits, addresses, message text)
//
// 1. The program is read and checked: it imports its memory as env.memory and
//    exports a constant __heap_base (as linkAllocator needs), and imports
//    nothing a linked module cannot give (another env function, another module).
// 2. The allocator build gets the program's memory limits (and --max-memory's).
// 3. The config module says where the scratch area, message text and heap go
//    above __heap_base (config.ts), the policy, and what misuse does.
// 4. wasm-merge fuses the three: the program's env imports become calls into
//    the allocator, the allocator's config imports constants.
// 5. The allocator's exports go (but `memory`, and with `inspect` the C API and
//    inspection), then the optimizer runs over the whole: code no export reaches
//    is dropped. Its default level is -O1, which does not inline: -O2 and up
//    inline the allocator into the program, and that made SQLite 15% slower
//    under V8, which inlines small calls itself (docs/embedding.md).

import type binaryenType from "binaryen";
import { moduleInfo } from "../wasm-info.js";
import { linkableName, readBytes, type WasmSource } from "../embed.js";
import { PolicyName, policyNumber, resolvePolicy } from "../policy.js";
import { integerOption, oneOfOption, optionsObject, wasmSource } from "../arguments.js";
import { ALLOCATOR_FEATURES, allocatorFeatureBits, loadBinaryen, readModule, wasmMerge, type Binaryen } from "./binaryen.js";
import { MISUSE_MODES, configModuleText, linkLayout, optionBits, type MisuseMode } from "./config.js";

const PAGE = 65536;
const WASI = "wasi_snapshot_preview1";
/** The name the allocator is merged under: the module the shim imports from. */
const ALLOCATOR_NAME = "env";
const CONFIG_NAME = "link_config";

/** Optimizer settings: binaryen's -O levels. */
export const OPTIMIZE_LEVELS = ["0", "1", "2", "3", "4", "s", "z"] as const;
export type OptimizeLevel = (typeof OPTIMIZE_LEVELS)[number];
/** Measured on SQLite (bench/sqlite.mjs): -O1 as fast as -O0 and 3% smaller; -O2 and up inline, and run slower. */
export const DEFAULT_OPTIMIZE: OptimizeLevel = "1";

/** The allocator's exports --inspect keeps: the C API and the inspection, as index.ts names them (what Heap.attach reads). */
export const INSPECTION_EXPORTS = [
  "malloc", "free", "calloc", "realloc", "aligned_alloc", "posix_memalign", "malloc_usable_size", "malloc_name",
  "heap_check", "heap_stat", "heap_start", "heap_base", "heap_top", "heap_policy", "heap_options", "heap_max_pages",
  "heap_base_page", "heap_check_address", "page_kind", "walk_first", "walk_end", "walk_entry", "free_list_count",
  "free_list_head", "free_block_next", "free_block_prev", "free_block_size", "free_list_next", "quick_list_next",
  "quick_list_head", "walk_address", "walk_payload", "walk_size", "walk_usable", "walk_state", "walk_layer",
  "walk_error", "walk_error_address",
] as const;

export interface StandaloneOptions {
  /** Placement policy; default WASM_MALLOC_POLICY, else "segregated". */
  policy?: PolicyName | string;
  /** Serve small sizes from size-class slabs (default true). */
  slabs?: boolean;
  /** Most bytes the memory may grow to; malloc returns 0 past it (0 or left out: no limit but wasm32's). */
  maxMemory?: number;
  /** What misuse (a double or invalid free) does: "abort" (default: a line on stderr, then a trap), "report" (the line, then the call returns as the C API says), "ignore" (the call returns, silently). */
  onMisuse?: MisuseMode;
  /** Keep the C API and the inspection exports (heap_check, walk_*, …) under index.ts's names; default false. */
  inspect?: boolean;
  /** binaryen's optimization level over the merged module: "0" … "4", "s", "z" (default "1": no inlining; see docs/embedding.md). */
  optimize?: OptimizeLevel;
  /** Leave the program's imports that nothing here provides as imports of the output (its host must give them); default: refuse them. */
  keepImports?: boolean;
  /** Keep function names (a name section) in the output. */
  names?: boolean;
  /** Merge the small build (build/link-small.wasm: segregated fit, no inspection, no statistics; docs/performance.md, "Build sizes"); default false. */
  small?: boolean;
  /** The allocator build to merge instead of the packaged build/link.wasm (or link-small.wasm). */
  allocator?: WasmSource;
}

export interface StandaloneModule {
  /** The linked module. */
  wasm: Uint8Array;
  /** The program's __heap_base; the scratch area, message text and heap start above it. */
  heapBase: number;
  scratchAt: number;
  textAt: number;
  heapAt: number;
  /** The policy the heap uses. */
  policy: PolicyName;
  /** "module.name" of every import the output has. */
  imports: string[];
  /** Every export's name. */
  exports: string[];
}

/** The packaged link build (the small one: build/link-small.wasm). */
export function linkBuildUrl(small = false): URL {
  return new URL(/* @vite-ignore */ `../../build/${small ? "link-small" : "link"}.wasm`, import.meta.url);
}

/** What the small build leaves out: the heap check and the statistics (and so the inspection). */
const NOT_IN_SMALL = ["heap_check", "heap_stat"];

/**
 * Link `program` (a wasm32-wasi program built with c/wasm_malloc.c,
 * -Wl,--import-memory and -Wl,--export=__heap_base) and the allocator into
 * one module that imports only what the program imports from WASI. Node only
 * (it runs binaryen's wasm-merge).
 */
export function linkStandalone(program: WasmSource, options: StandaloneOptions = {}): Promise<StandaloneModule> {
  return linkProgram(program, options, "linkStandalone");
}

/** linkStandalone, its messages starting with `where` (the CLI: "link FILE"). */
export async function linkProgram(program: WasmSource, options: StandaloneOptions, where: string): Promise<StandaloneModule> {
  wasmSource(where, "program", program);
  const given = optionsObject<StandaloneOptions>(where, options);
  if (given.policy !== undefined && typeof given.policy !== "string") throw new TypeError(`${where}: option policy ${String(given.policy)} is not a string`);
  const policy = resolvePolicy(given.policy);
  const maxMemory = integerOption(where, "maxMemory", given.maxMemory, 0, 2 ** 32 - 1, `a byte count from 0 (no limit) to ${2 ** 32 - 1}`) ?? 0;
  const onMisuse = oneOfOption(where, "onMisuse", given.onMisuse, Object.keys(MISUSE_MODES) as MisuseMode[]) ?? "abort";
  const optimize = oneOfOption(where, "optimize", given.optimize, OPTIMIZE_LEVELS) ?? DEFAULT_OPTIMIZE;
  for (const name of ["slabs", "inspect", "keepImports", "names", "small"] as const) {
    if (given[name] !== undefined && typeof given[name] !== "boolean") throw new TypeError(`${where}: option ${name} ${String(given[name])} is not true or false`);
  }
  if (given.allocator !== undefined) wasmSource(where, "option allocator", given.allocator);

  // 1. The program.
  const bytes = await readBytes(program);
  const { info, heapBase, imports, exports } = await readProgram(bytes, where);
  const foreign = imports.filter((i) => !(i.kind === "memory" || i.module === WASI || (i.module === "env" && i.kind === "function" && linkableName(i.name))));
  if (foreign.length && !given.keepImports) {
    const names = foreign.map((i) => `${i.module}.${i.name}`);
    throw new LinkError(`${where}: the program imports ${list(names)}, which a linked module does not provide (it has the allocator and WASI only); remove ${foreign.length === 1 ? "that import" : "those imports"} from the program, or keep them as imports of the output for its host to give (keepImports, --keep-imports)`);
  }
  const inspect = given.inspect === true;
  const small = given.small === true;
  if (small && inspect) throw new LinkError(`${where}: the small build has no inspection exports (no walker, checker or statistics); link with small or with inspect, not both`);
  if (small && given.policy !== undefined && policy !== "segregated") throw new LinkError(`${where}: the small build places blocks by segregated fit only; policy ${policy} does not apply to it (leave policy out, or link without small)`);
  if (small) {
    const missing = imports.filter((i) => i.module === "env" && i.kind === "function" && NOT_IN_SMALL.includes(linkableName(i.name) ?? "")).map((i) => `env.${i.name}`);
    if (missing.length) throw new LinkError(`${where}: the program imports ${list(missing)}, which the small build leaves out (it has no heap check and no statistics); link without small, or drop those calls from the program`);
  }
  const clashes = inspect ? exports.filter((name) => (INSPECTION_EXPORTS as readonly string[]).includes(name)) : [];
  if (clashes.length) throw new LinkError(`${where}: the program exports ${list(clashes)} itself, as the inspection does; link without inspect, or rename the program's export`);

  // 2. The memory: as large as the program starts, and room for the text above __heap_base.
  const layout = linkLayout(heapBase);
  const memory = info.memoryImport!;
  const initial = Math.max(memory.initial, Math.ceil(layout.textEnd / PAGE));
  let maximum = memory.maximum;
  const maxPages = maxMemory ? Math.floor(maxMemory / PAGE) : undefined;
  if (maxPages !== undefined) maximum = maximum === undefined ? maxPages : Math.min(maximum, maxPages);
  if (maximum !== undefined && maximum < initial) {
    throw new RangeError(`${where}: maxMemory (--max-memory) ${maxMemory} bytes is below the ${initial * PAGE} bytes the program starts with (its data, stack and the allocator's scratch area); allow more`);
  }

  const binaryen = await loadBinaryen();
  const features = allocatorFeatureBits(binaryen);
  const allocatorBytes = await readBytes(given.allocator ?? linkBuildUrl(small));
  const allocator = readModule(binaryen, allocatorBytes, features, "the allocator build (build/link.wasm)");
  let allocatorPatched: Uint8Array;
  try {
    const memoryName = exportTarget(binaryen, allocator, "memory");
    if (memoryName === undefined) throw new LinkError(`${where}: the allocator module exports no memory; link with build/link.wasm`);
    allocator.setMemory(initial, maximum ?? -1, null, [], false, false, memoryName);
    // Only what the program imports (and the memory, and what inspect keeps) stays for the merge.
    const wanted = new Set(["memory", ...imports.filter((i) => i.module === "env" && i.kind === "function").map((i) => i.name), ...(inspect ? INSPECTION_EXPORTS : [])]);
    const missing = [...wanted].filter((name) => exportTarget(binaryen, allocator, name) === undefined && !foreign.some((i) => i.name === name));
    if (missing.length) throw new LinkError(`${where}: the allocator module exports no ${list(missing)}; link with build/link.wasm`);
    for (const name of exportNames(binaryen, allocator)) if (!wanted.has(name)) allocator.removeExport(name);
    allocatorPatched = allocator.emitBinary();
  } finally {
    allocator.dispose();
  }

  // 3. The config.
  const configText = configModuleText(layout, { policy: policyNumber(policy), options: optionBits(given.slabs !== false), maxBytes: maxMemory, misuse: onMisuse });
  const config = binaryen.parseText(configText);
  const configBytes = config.emitBinary();
  config.dispose();

  // 4. The merge: the program first, so its exports keep their names.
  const merged = await wasmMerge([
    { bytes, name: "program" }, { bytes: allocatorPatched, name: ALLOCATOR_NAME }, { bytes: configBytes, name: CONFIG_NAME },
  ], ALLOCATOR_FEATURES, given.names === true);

  // 5. Exports, then the optimizer.
  const module = readModule(binaryen, merged, features | programFeatures(binaryen, bytes, features), "the merged module");
  try {
    const keep = new Set([...exports, "memory", ...(inspect ? INSPECTION_EXPORTS : [])]);
    for (const name of exportNames(binaryen, module)) if (!keep.has(name)) module.removeExport(name);
    const out = withSettings(binaryen, optimize, given.names === true, () => {
      optimizeModule(module, optimize);
      if (!module.validate()) throw new Error(`${where}: the linked module does not validate (a bug in wasm-malloc link: please report it with the program)`);
      return module.emitBinary();
    });
    const result = await WebAssembly.compile(out as Uint8Array<ArrayBuffer>);
    const outImports = WebAssembly.Module.imports(result).map((i) => `${i.module}.${i.name}`);
    const unexpected = outImports.filter((name) => !name.startsWith(`${WASI}.`) && !foreign.some((i) => `${i.module}.${i.name}` === name));
    if (unexpected.length) throw new Error(`${where}: the linked module still imports ${list(unexpected)} (a bug in wasm-malloc link: please report it with the program)`);
    return {
      wasm: out, heapBase, scratchAt: layout.scratchAt, textAt: layout.textAt, heapAt: layout.heapAt, policy,
      imports: outImports, exports: WebAssembly.Module.exports(result).map((e) => e.name),
    };
  } finally {
    module.dispose();
  }
}

/** A program that cannot be linked as it is: what is wrong, and what to do. */
export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkError";
  }
}

interface ProgramFacts {
  info: ReturnType<typeof moduleInfo>;
  heapBase: number;
  imports: WebAssembly.ModuleImportDescriptor[];
  exports: string[];
}

/** The program's memory import, __heap_base, imports and exports, each checked as linkAllocator checks them. */
async function readProgram(bytes: Uint8Array<ArrayBuffer>, where: string): Promise<ProgramFacts> {
  let info: ProgramFacts["info"];
  let compiled: WebAssembly.Module;
  try {
    info = moduleInfo(bytes);
    compiled = await WebAssembly.compile(bytes);
  } catch (error) {
    throw new LinkError(`${where}: the program is not a WebAssembly module: ${(error as Error).message}; pass the .wasm file clang wrote`);
  }
  const imports = WebAssembly.Module.imports(compiled);
  const memoryImport = imports.find((i) => i.kind === "memory");
  if (!memoryImport || memoryImport.module !== "env" || memoryImport.name !== "memory") {
    const has = memoryImport ? `imports its memory as ${memoryImport.module}.${memoryImport.name}` : "defines its own memory";
    throw new LinkError(`${where}: the program ${has}; build it with an imported env.memory (clang: -Wl,--import-memory)`);
  }
  if (info.memoryImport?.shared) throw new LinkError(`${where}: the program imports a shared memory; wasm-malloc links over a plain (unshared) memory`);
  if (info.heapBase === undefined) throw new LinkError(`${where}: the program exports no constant __heap_base; build it with -Wl,--export=__heap_base (clang)`);
  return { info, heapBase: info.heapBase, imports, exports: WebAssembly.Module.exports(compiled).map((e) => e.name) };
}

function exportNames(binaryen: Binaryen, module: binaryenType.Module): string[] {
  const names: string[] = [];
  for (let i = 0; i < module.getNumExports(); i++) names.push(binaryen.getExportInfo(module.getExportByIndex(i)).name);
  return names;
}

/** The internal name an export refers to, if the module has that export. */
function exportTarget(binaryen: Binaryen, module: binaryenType.Module, name: string): string | undefined {
  for (let i = 0; i < module.getNumExports(); i++) {
    const info = binaryen.getExportInfo(module.getExportByIndex(i));
    if (info.name === name) return info.value;
  }
  return undefined;
}

/** The features the program's target_features section turns on (on top of `base`). */
function programFeatures(binaryen: Binaryen, bytes: Uint8Array, base: number): number {
  const module = readModule(binaryen, bytes, base, "the program");
  try { return module.getFeatures(); } finally { module.dispose(); }
}

/**
 * `run` with binaryen's global settings for `level` and `names` (binaryen.js keeps them
 * per process: set for the call, then put back as they were).
 */
function withSettings<T>(binaryen: Binaryen, level: OptimizeLevel, names: boolean, run: () => T): T {
  const saved = { optimize: binaryen.getOptimizeLevel(), shrink: binaryen.getShrinkLevel(), debug: binaryen.getDebugInfo() };
  try {
    binaryen.setDebugInfo(names);
    binaryen.setOptimizeLevel(level === "0" ? 0 : level === "s" || level === "z" ? 2 : Number(level));
    binaryen.setShrinkLevel(level === "s" ? 1 : level === "z" ? 2 : 0);
    return run();
  } finally {
    binaryen.setOptimizeLevel(saved.optimize);
    binaryen.setShrinkLevel(saved.shrink);
    binaryen.setDebugInfo(saved.debug);
  }
}

/** binaryen's default pipeline at the level set (withSettings) over the whole module; at "0", only what no export reaches is dropped. */
function optimizeModule(module: binaryenType.Module, level: OptimizeLevel): void {
  if (level === "0") module.runPasses(["remove-unused-module-elements"]);
  else module.optimize();
}

function list(names: string[]): string {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}
