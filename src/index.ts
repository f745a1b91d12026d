// wasm-malloc host library: the public entry.
export { Heap } from "./heap.js";
export type { HeapOptions, Block, HeapStats } from "./heap.js";
export { WasmMallocError, HeapCorruptionError } from "./errors.js";
export { POLICY_NAMES, resolvePolicy } from "./policy.js";
export type { PolicyName } from "./policy.js";
export { parseTrace, replay, TraceError } from "./trace.js";
export type { Trace, TraceOp, ReplayResult } from "./trace.js";
export { loadAllocator, buildUrl } from "./module.js";
export type { Build, AllocatorExports } from "./module.js";
