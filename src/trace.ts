// CS:APP malloc-lab traces (.rep): parse them and replay them on a Heap.
//
//   <suggested heap size>   (ignored)
//   <number of ids>
//   <number of ops>
//   <weight>
//   a ID SIZE | f ID | r ID SIZE      one per line; blank lines are skipped

import type { Heap } from "./heap.js";

export interface TraceOp {
  kind: "a" | "f" | "r";
  id: number;
  size: number;
  /** 1-based line in the file. */
  line: number;
}

export interface Trace {
  file: string;
  suggestedHeapSize: number;
  ids: number;
  weight: number;
  ops: TraceOp[];
}

/** A malformed trace, or an operation on an id that is not live: `file:line: ...`. */
export class TraceError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = "TraceError";
    this.file = file;
    this.line = line;
  }
}

const NUMBER = /^\d+$/;

export function parseTrace(text: string, file = "<trace>"): Trace {
  const lines = text.split(/\r?\n/);
  const header: number[] = [];
  const ops: TraceOp[] = [];
  const live = new Set<number>();
  const born = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    const at = i + 1;
    if (line === "") continue;
    if (header.length < 4) {
      if (!NUMBER.test(line)) throw new TraceError(file, at, `expected header number ${header.length + 1} of 4, found "${line}"`);
      header.push(Number(line));
      continue;
    }
    const parts = line.split(/\s+/);
    const kind = parts[0];
    if (kind !== "a" && kind !== "f" && kind !== "r") throw new TraceError(file, at, `unknown operation "${kind}" (expected a, f or r)`);
    const want = kind === "f" ? 2 : 3;
    if (parts.length !== want || !parts.slice(1).every((p) => NUMBER.test(p))) {
      throw new TraceError(file, at, `malformed "${line}" (expected ${kind === "f" ? "f ID" : `${kind} ID SIZE`})`);
    }
    const id = Number(parts[1]);
    const size = kind === "f" ? 0 : Number(parts[2]);
    if (kind === "a") {
      if (live.has(id)) throw new TraceError(file, at, `a ${id}: id ${id} is already live`);
      live.add(id);
      born.add(id);
    } else if (!live.has(id)) {
      const why = born.has(id) ? "was already freed" : "was never allocated";
      throw new TraceError(file, at, `${kind === "f" ? "free" : "realloc"} of id ${id}, which ${why}`);
    } else if (kind === "f") {
      live.delete(id);
    }
    ops.push({ kind, id, size, line: at });
  }
  if (header.length < 4) throw new TraceError(file, lines.length, "the header needs 4 numbers (heap size, ids, ops, weight)");
  if (header[2] !== ops.length) throw new TraceError(file, 3, `the header says ${header[2]} operations, the file has ${ops.length}`);
  return { file, suggestedHeapSize: header[0], ids: header[1], weight: header[3], ops };
}

export interface ReplayOptions {
  /** Run the heap check after every operation (slow; finds the first bad step). */
  check?: boolean;
  /** Fill every block with a pattern and verify it survives (slower). */
  verify?: boolean;
  /** Stop after this many operations. */
  limit?: number;
  /** Name every block "id N" after its trace id (for dumps and pictures). */
  nameIds?: boolean;
  /** Called every so often with the number of operations done. */
  onProgress?: (done: number) => void;
}

export interface ReplayResult {
  ops: number;
  /** Highest total of requested bytes live at once. */
  peakLivePayload: number;
  /** Memory from __heap_base to the end of memory after the replay (memory never shrinks: the peak). */
  heapBytes: number;
  /** peakLivePayload / heapBytes. */
  utilization: number;
  seconds: number;
  /** Pointer of each live id at the end. */
  live: Map<number, number>;
}

/**
 * Do one operation of `trace` on `heap`: the step a replay and a visualizer share.
 * `pointers` maps each live id to its pointer and is updated. Returns the pointer the
 * operation produced (0 for a free). Throws TraceError when an allocation fails.
 */
export function applyOp(heap: Heap, trace: Trace, op: TraceOp, pointers: Map<number, number>, options: { nameIds?: boolean } = {}): number {
  if (op.kind === "a") {
    const ptr = heap.malloc(op.size);
    if (ptr === 0) throw new TraceError(trace.file, op.line, `malloc(${op.size}) returned 0 (out of memory)`);
    pointers.set(op.id, ptr);
    if (options.nameIds) heap.name(ptr, `id ${op.id}`);
    return ptr;
  }
  const old = pointers.get(op.id);
  if (old === undefined) throw new TraceError(trace.file, op.line, `${op.kind === "f" ? "free" : "realloc"} of id ${op.id}, which is not live`);
  if (op.kind === "f") {
    heap.free(old);
    pointers.delete(op.id);
    return 0;
  }
  const ptr = heap.realloc(old, op.size);
  if (ptr === 0 && op.size !== 0) throw new TraceError(trace.file, op.line, `realloc(${op.size}) returned 0 (out of memory)`);
  // realloc(p, 0) frees p and gives 0; the trace still counts the id as live (a later
  // "f" of it is free(0), which does nothing), so the id stays, with pointer 0.
  pointers.set(op.id, ptr);
  return ptr;
}

/** Replay `trace` on `heap`. Throws TraceError at the line whose allocation failed or broke the heap. */
export function replay(heap: Heap, trace: Trace, options: ReplayOptions = {}): ReplayResult {
  const pointers = new Map<number, number>();
  const sizes = new Map<number, number>();
  let live = 0;
  let peak = 0;
  const limit = Math.min(options.limit ?? trace.ops.length, trace.ops.length);
  const started = performance.now();
  for (let i = 0; i < limit; i++) {
    const op = trace.ops[i];
    const oldSize = sizes.get(op.id) ?? 0;
    if (options.verify && op.kind !== "a") verify(heap, trace, op, pointers.get(op.id)!, oldSize);
    const ptr = applyOp(heap, trace, op, pointers, options);
    if (op.kind === "f") sizes.delete(op.id);
    else sizes.set(op.id, op.size);
    live += (op.kind === "f" ? 0 : op.size) - oldSize;
    if (options.verify && op.kind === "r") verify(heap, trace, op, ptr, Math.min(oldSize, op.size));
    if (options.verify && op.kind !== "f") fill(heap, ptr, op.size, op.id);
    if (live > peak) peak = live;
    if (options.onProgress && (i & 1023) === 1023) options.onProgress(i + 1);
    if (options.check) {
      try { heap.check(); } catch (error) {
        throw new TraceError(trace.file, op.line, `after this operation: ${(error as Error).message}`);
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const heapBytes = heap.stats().heapBytes;
  return { ops: limit, peakLivePayload: peak, heapBytes, utilization: heapBytes > 0 ? peak / heapBytes : 0, seconds, live: pointers };
}

// Plain views (taken after the call that may grow memory): fast, and valid here.
function fill(heap: Heap, ptr: number, size: number, id: number): void {
  new Uint8Array(heap.memory.buffer, ptr, size).fill(id & 255);
}

function verify(heap: Heap, trace: Trace, op: TraceOp, ptr: number, size: number): void {
  const bytes = new Uint8Array(heap.memory.buffer, ptr, size);
  const want = op.id & 255;
  for (let i = 0; i < size; i++) {
    if (bytes[i] !== want) throw new TraceError(trace.file, op.line, `id ${op.id}: byte ${i} of the block at 0x${ptr.toString(16)} changed`);
  }
}

export interface ReplayTraceOptions extends ReplayOptions {
  policy?: string;
  engine?: string;
  slabs?: boolean | "eager";
  build?: "release" | "checked" | "traced";
  maxMemory?: number;
}

/** Replay `trace` (parsed, or .rep text with its file name) on a new heap made with `options`. */
export async function replayTrace(trace: Trace | { text: string; file?: string }, options: ReplayTraceOptions = {}): Promise<ReplayResult & { heap: Heap }> {
  const { Heap } = await import("./heap.js");
  const parsed = "ops" in trace ? trace : parseTrace(trace.text, trace.file);
  const heap = await Heap.create({ policy: options.policy, engine: options.engine, slabs: options.slabs, build: options.build, maxMemory: options.maxMemory });
  return { ...replay(heap, parsed, options), heap };
}
