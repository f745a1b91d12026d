// wasm-malloc as AssemblyScript's memory manager, with AssemblyScript's own
// incremental garbage collector (ITCMS) kept as it is:
//
//   asc program.ts --importMemory --runtime node_modules/wasm-malloc/assembly/runtime/incremental
//
// (asc adds the .ts itself). The program's memory comes from wasm-malloc, a
// separate module over the same memory that the host links in
// (`linkAllocator` of wasm-malloc's host library). How a block is laid out,
// and why, is in memory-manager.ts.
//
// Only what this entry file exports becomes an export of the program: here,
// `__heap_base`, which the host reads to start wasm-malloc's heap where the
// program's static data and stack end.

import "~lib/rt/itcms";
import "./memory-manager";

export { __heap_base };
