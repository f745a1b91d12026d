// wasm-malloc host library: the public entry.
export { Heap } from "./heap.js";
export type { HeapOptions, Block, HeapStats, PageMapEntry, Layer, BlockState, Engine } from "./heap.js";
export { ENGINES } from "./heap.js";
export { WasmMallocError, HeapCorruptionError, OutOfMemoryError } from "./errors.js";
export { POLICY_NAMES, resolvePolicy } from "./policy.js";
export type { PolicyName } from "./policy.js";
export { parseTrace, replay, replayTrace, TraceError } from "./trace.js";
export type { Trace, TraceOp, ReplayResult, ReplayOptions, ReplayTraceOptions } from "./trace.js";
export { loadAllocator, buildUrl } from "./module.js";
export type { Build, AllocatorExports } from "./module.js";
export { renderHeapSvg, renderComparisonSvg } from "./render/svg.js";
export type { HeapSnapshot, PageKind } from "./render/snapshot.js";
export { formatDump } from "./dump.js";
export { exampleTrace, churnTrace, formatTrace } from "./workloads.js";
