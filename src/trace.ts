// CS:APP malloc-lab traces (.rep): parse them and replay them on a Heap.
//
//   <suggested heap size>   (ignored)
//   <number of ids>
//   <number of ops>
//   <weight>
//   a ID SIZE | f ID | r ID SIZE      one per line; blank lines are skipped
//
// Every number is a whole decimal number 0..2^32-1: sizes are a 32-bit size_t in Wasm,
// so a larger one would wrap (4294967296 would replay as malloc(0)). The header is
// checked, never trusted: nothing is sized from it.
//
// TraceParser reads one line at a time and keeps only the live ids, so a trace of any
// length parses in bounded memory when its lines come from a stream (trace-file.ts);
// parseTrace is the same parser over a string, collecting the operations.
// This file runs in the browser too (the visualizer): no Node modules here.

import type { Heap } from "./heap.js";
import { QUOTE_LIMIT, printable, quoted } from "./printable.js";

export interface TraceOp {
  kind: "a" | "f" | "r";
  id: number;
  size: number;
  /** 1-based line in the file. */
  line: number;
}

/** The four header numbers. */
export interface TraceHeader {
  suggestedHeapSize: number;
  ids: number;
  weight: number;
}

export interface Trace extends TraceHeader {
  file: string;
  ops: TraceOp[];
}

/** A malformed trace, or an operation on an id that is not live: `file:line: ...`. */
export class TraceError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string) {
    // The file name is outside text too: a name with an escape sequence in it is shown escaped.
    super(`${printable(file, 4 * QUOTE_LIMIT)}:${line}: ${message}`);
    this.name = "TraceError";
    this.file = file;
    this.line = line;
  }
}

/** The largest size, id or header number a trace may hold: 2^32-1. */
export const TRACE_NUMBER_MAX = 0xffffffff;
/** The longest line a trace may have. Real lines are under 30 characters; a longer one is not a trace. */
export const TRACE_LINE_MAX = 4096;
/**
 * How many ids, allocated once and no longer live, the parser remembers to tell "already
 * freed" from "never allocated". A constant, so memory stays bounded by the live ids.
 */
const REMEMBERED_IDS = 1 << 16;

const DIGITS = /^\d+$/;
const HEADER_NAMES = ["suggested heap size", "number of ids", "number of operations", "weight"];

/** `text` as a whole decimal number 0..2^32-1; undefined for anything else (sign, fraction, exponent, hex, 2^32 or more). */
export function parseU32(text: string): number | undefined {
  if (!DIGITS.test(text)) return undefined;
  const n = Number(text);
  return n <= TRACE_NUMBER_MAX ? n : undefined;
}

/** Why `text` is not a trace number, for an error message. */
function notANumber(what: string, text: string): string {
  return DIGITS.test(text)
    ? `${what} ${printable(text, 24)} is too large (at most ${TRACE_NUMBER_MAX}, 2^32-1${what === "the size" ? ": Wasm sizes are 32-bit, a larger one would wrap" : ""})`
    : `${what} ${quoted(text, 24)} is not a whole decimal number (0..${TRACE_NUMBER_MAX})`;
}

/**
 * A trace read one line at a time: `line()` for each line in order, then `end()`.
 * Throws TraceError (file:line, the line's text) at the first line that is not valid.
 */
export class TraceParser {
  readonly file: string;
  private readonly header: number[] = [];
  private lineNumber = 0;
  private opCount = 0;
  private readonly live = new Set<number>();
  private readonly allocated = new Set<number>();
  private allocatedFull = false;

  constructor(file = "<trace>") { this.file = file; }

  /** Lines read so far. */
  get lines(): number { return this.lineNumber; }
  /** Operations read so far. */
  get operations(): number { return this.opCount; }

  private fail(line: number, message: string): never { throw new TraceError(this.file, line, message); }

  /** The next line (without its line break): its operation, or undefined for a header or blank line. */
  line(text: string): TraceOp | undefined {
    const at = ++this.lineNumber;
    if (text.length > TRACE_LINE_MAX) {
      this.fail(at, `the line is longer than ${TRACE_LINE_MAX} characters, so this is not a trace (lines are "a ID SIZE", "f ID", "r ID SIZE"): ${quoted(text)}`);
    }
    if (this.header.length === 4 && this.scan(text)) return this.op(at, this.scanned.kind, this.scanned.id, this.scanned.size);
    const line = text.trim();
    if (line === "") return undefined;
    if (this.header.length < 4) {
      const n = parseU32(line);
      const which = `header number ${this.header.length + 1} of 4 (${HEADER_NAMES[this.header.length]})`;
      if (n === undefined) this.fail(at, `expected ${which}, a whole decimal number 0..${TRACE_NUMBER_MAX}, found ${quoted(line)}`);
      this.header.push(n);
      return undefined;
    }
    const parts = line.split(/\s+/);
    const kind = parts[0];
    if (kind !== "a" && kind !== "f" && kind !== "r") {
      this.fail(at, `unknown operation ${quoted(kind, 16)} in ${quoted(line)} (expected a, f or r)`);
    }
    if (parts.length !== (kind === "f" ? 2 : 3)) this.fail(at, `malformed ${quoted(line)} (expected ${kind === "f" ? "f ID" : `${kind} ID SIZE`})`);
    const id = parseU32(parts[1]);
    if (id === undefined) this.fail(at, `${quoted(line)}: ${notANumber("the id", parts[1])}`);
    const size = kind === "f" ? 0 : parseU32(parts[2]);
    if (size === undefined) this.fail(at, `${quoted(line)}: ${notANumber("the size", parts[2])}`);
    return this.op(at, kind, id, size);
  }

  private readonly scanned = { kind: "a" as TraceOp["kind"], id: 0, size: 0 };
  /** Where scan() is in its line. */
  private cursor = 0;

  /**
   * The common case read without making strings: "a ID SIZE", "r ID SIZE" or "f ID",
   * spaces or tabs between, numbers in range. False for anything else (blank lines too),
   * which the general path above then reads or rejects with its message. About twice
   * as fast as trim and split (0.3 s against 0.6 s of CPU for 3 million lines), with no
   * garbage but the operation.
   */
  private scan(text: string): boolean {
    this.cursor = 0;
    this.skipSpaces(text);
    const k = text.charCodeAt(this.cursor++);
    const kind = k === 97 ? "a" : k === 102 ? "f" : k === 114 ? "r" : undefined;
    if (kind === undefined) return false;
    if (!this.skipSpaces(text)) return false;
    const id = this.scanNumber(text);
    if (id < 0) return false;
    let size = 0;
    if (kind !== "f") {
      if (!this.skipSpaces(text)) return false;
      size = this.scanNumber(text);
      if (size < 0) return false;
    }
    this.skipSpaces(text);
    if (this.cursor !== text.length) return false;
    this.scanned.kind = kind;
    this.scanned.id = id;
    this.scanned.size = size;
    return true;
  }

  /** Move past spaces, tabs and carriage returns; whether there were any. */
  private skipSpaces(text: string): boolean {
    const from = this.cursor;
    for (let c = text.charCodeAt(this.cursor); c === 32 || c === 9 || c === 13; c = text.charCodeAt(++this.cursor));
    return this.cursor > from;
  }

  /** The decimal number at the cursor, moving past it; -1 when there are no digits or it is over 2^32-1. */
  private scanNumber(text: string): number {
    const from = this.cursor;
    let value = 0;
    for (let c = text.charCodeAt(this.cursor); c >= 48 && c <= 57; c = text.charCodeAt(++this.cursor)) {
      value = value * 10 + (c - 48);
      if (value > TRACE_NUMBER_MAX) return -1;
    }
    return this.cursor > from ? value : -1;
  }

  /** An operation read: checked against the live ids. */
  private op(at: number, kind: TraceOp["kind"], id: number, size: number): TraceOp {
    if (kind === "a") {
      if (this.live.has(id)) this.fail(at, `a ${id}: id ${id} is already live`);
      this.live.add(id);
      if (this.allocated.size < REMEMBERED_IDS) this.allocated.add(id);
      else this.allocatedFull = true;
    } else if (!this.live.has(id)) {
      const why = this.allocated.has(id) ? "was already freed"
        : this.allocatedFull ? `is not live (never allocated, or freed: the trace has more than ${REMEMBERED_IDS} ids to tell which)`
        : "was never allocated";
      this.fail(at, `${kind === "f" ? "free" : "realloc"} of id ${id}, which ${why}`);
    } else if (kind === "f") {
      this.live.delete(id);
    }
    this.opCount++;
    return { kind, id, size, line: at };
  }

  /** After the last line: the header, checked against the operations read. */
  end(): TraceHeader {
    if (this.header.length < 4) this.fail(Math.max(this.lineNumber, 1), "the header needs 4 numbers (heap size, ids, ops, weight)");
    if (this.header[2] !== this.opCount) this.fail(3, `the header says ${this.header[2]} operations, the file has ${this.opCount}`);
    return { suggestedHeapSize: this.header[0], ids: this.header[1], weight: this.header[3] };
  }
}

/** Each line of `text`, without its line break (\n or \r\n; a lone \r stays, and trim() drops it). */
export function* linesOf(text: string): Generator<string> {
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf("\n", start);
    if (end < 0) { yield text.slice(start); return; }
    yield text.slice(start, end);
    start = end + 1;
  }
}

/** Parse a whole trace held in a string. For a file of any size, trace-file.ts reads it as a stream. */
export function parseTrace(text: string, file = "<trace>"): Trace {
  const parser = new TraceParser(file);
  const ops: TraceOp[] = [];
  for (const line of linesOf(text)) {
    const op = parser.line(line);
    if (op) ops.push(op);
  }
  return { file, ...parser.end(), ops };
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
  /** Operations in the whole trace (more than `ops` when `limit` stopped the replay early). */
  total: number;
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
export function applyOp(heap: Heap, trace: Pick<Trace, "file">, op: TraceOp, pointers: Map<number, number>, options: { nameIds?: boolean } = {}): number {
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

/**
 * One replay in progress: operations go in one at a time (`step`), from an array or a
 * stream, and the state is what the live ids need (their pointers and sizes), whatever
 * the trace's length.
 */
export class ReplayRun {
  private readonly pointers = new Map<number, number>();
  private readonly sizes = new Map<number, number>();
  private live = 0;
  private peak = 0;
  private done = 0;
  private elapsed = 0;

  constructor(private readonly heap: Heap, private readonly trace: Pick<Trace, "file">, private readonly options: ReplayOptions = {}) {}

  /** Operations done so far. */
  get ops(): number { return this.done; }
  /** Bytes the live ids asked for, now (a realloc counts its new size). */
  get livePayload(): number { return this.live; }
  /** The most livePayload has been so far. */
  get peakLivePayload(): number { return this.peak; }
  /** Whether `limit` operations are done (the rest of the trace is only read). */
  get full(): boolean { return this.options.limit !== undefined && this.done >= this.options.limit; }

  /**
   * Do each of `ops` in order, up to `limit` in all. Only this time counts toward ops/s
   * (not reading or parsing the trace). Throws TraceError at the line whose allocation
   * failed or broke the heap.
   */
  steps(ops: Iterable<TraceOp>): void {
    const started = performance.now();
    try {
      for (const op of ops) {
        if (this.full) break;
        this.step(op);
      }
    } finally { this.elapsed += performance.now() - started; }
  }

  private step(op: TraceOp): void {
    const { heap, trace, options } = this;
    const oldSize = this.sizes.get(op.id) ?? 0;
    if (options.verify && op.kind !== "a") verify(heap, trace, op, this.pointers.get(op.id)!, oldSize);
    const ptr = applyOp(heap, trace, op, this.pointers, options);
    if (op.kind === "f") this.sizes.delete(op.id);
    else this.sizes.set(op.id, op.size);
    this.live += (op.kind === "f" ? 0 : op.size) - oldSize;
    if (options.verify && op.kind === "r") verify(heap, trace, op, ptr, Math.min(oldSize, op.size));
    if (options.verify && op.kind !== "f") fill(heap, ptr, op.size, op.id);
    if (this.live > this.peak) this.peak = this.live;
    this.done++;
    if (options.onProgress && (this.done & 1023) === 0) options.onProgress(this.done);
    if (options.check) {
      try { heap.check(); } catch (error) {
        throw new TraceError(trace.file, op.line, `after this operation: ${(error as Error).message}`);
      }
    }
  }

  /** The figures once the replay is over; `total` is the trace's operation count. */
  result(total: number): ReplayResult {
    const seconds = this.elapsed / 1000;
    const heapBytes = this.heap.stats().heapBytes;
    return { ops: this.done, total, peakLivePayload: this.peak, heapBytes, utilization: heapBytes > 0 ? this.peak / heapBytes : 0, seconds, live: this.pointers };
  }
}

/** Replay `trace` on `heap`. Throws TraceError at the line whose allocation failed or broke the heap. */
export function replay(heap: Heap, trace: Trace, options: ReplayOptions = {}): ReplayResult {
  const run = new ReplayRun(heap, trace, options);
  run.steps(trace.ops);
  return run.result(trace.ops.length);
}

// Plain views (taken after the call that may grow memory): fast, and valid here.
function fill(heap: Heap, ptr: number, size: number, id: number): void {
  new Uint8Array(heap.memory.buffer, ptr, size).fill(id & 255);
}

function verify(heap: Heap, trace: Pick<Trace, "file">, op: TraceOp, ptr: number, size: number): void {
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
