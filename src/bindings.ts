// asc's `--bindings esm` glue for a program on wasm-malloc's AssemblyScript runtime.
//
// The glue (`program.js`, written by asc next to `program.wasm`) instantiates the
// program itself, when it is imported, with no imports from its importer: every
// env import it does not define is looked up on globalThis. A program on the
// runtime imports three such names, so they must be there before the import:
//
//   globalThis.memory       the one WebAssembly.Memory (the program: --importMemory)
//   globalThis.wasm_malloc  the allocator's malloc, over that memory
//   globalThis.wasm_free    the allocator's free
//
// prepareBindings reads the program's binary (its memory import, its __heap_base),
// links the allocator as linkAllocator does, sets the heap up at __heap_base and
// puts those names on globalThis; the caller then imports the glue.

import type { Heap } from "./heap.js";
import type { AllocatorExports } from "./module.js";
import { checkLinkOptions, linkableName, linkHeap, readClient, type LinkOptions, type WasmSource } from "./embed.js";

export type BindingsOptions = Omit<LinkOptions, "imports" | "wasi" | "instantiate" | "heapBase">;

export interface PreparedBindings {
  /** Inspection of the heap the program will use: walk, stats, check, names, trace. */
  heap: Heap;
  /** The memory the glue will import (also globalThis.memory). */
  memory: WebAssembly.Memory;
  /** The allocator instance's exports. */
  allocator: AllocatorExports;
  /** The program's __heap_base, where the heap begins. */
  heapBase: number;
  /** The names put on globalThis: import name → what it is. */
  globals: Record<string, string>;
}

/**
 * Make ready what the `--bindings esm` glue of `program` looks up on globalThis: its
 * memory and its malloc-family imports, routed to a wasm-malloc heap set up at the
 * program's __heap_base. Then `await import("./program.js")`. `program` is the .wasm
 * the glue loads (bytes, a URL, a path, a Response).
 *
 * One program per global scope: calling it again replaces the names (a program
 * imported before keeps the heap it linked to).
 */
export async function prepareBindings(program: WasmSource, options: BindingsOptions = {}): Promise<PreparedBindings> {
  const where = "prepareBindings";
  if (program instanceof WebAssembly.Module) {
    throw new TypeError(`${where}: program is a compiled Module; pass the .wasm the glue loads (bytes, URL or path): its __heap_base is read from the binary`);
  }
  const checked = checkLinkOptions(program, options, where);
  for (const name of ["imports", "wasi", "instantiate", "heapBase"] as const) {
    if ((options as LinkOptions)[name] !== undefined) throw new TypeError(`${where}: option ${name} does not apply: the glue instantiates the program itself`);
  }
  const { declared, info, heapBase } = await readClient(program, checked, where);
  const linked = await linkHeap(info, heapBase, checked);
  const base = heapBase!;
  const heap = linked.attach(() => base);

  const globals: Record<string, string> = { memory: "the shared WebAssembly.Memory" };
  const scope = globalThis as Record<string, unknown>;
  scope.memory = linked.memory;
  for (const imp of declared) {
    if (imp.module !== "env" || imp.kind !== "function") continue;
    const target = linkableName(imp.name);
    if (!target) continue;
    scope[imp.name] = linked.allocator[target];
    globals[imp.name] = `the allocator's ${target}`;
  }
  return { heap, memory: linked.memory, allocator: linked.allocator, heapBase: base, globals };
}
