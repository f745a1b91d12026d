// Errors the host throws or delivers: misuse reported by the Wasm side, and heap corruption.
// docs/errors.md lists every kind, when it is thrown and when delivered, and what to do.

import type { RawReport } from "./module.js";
import { constantsWithPrefix } from "./layout.js";

/** The error vocabulary (ERR_* names of the module, in kebab case). */
export type ErrorKind =
  | "double-free" | "invalid-free" | "overflow" | "underflow" | "use-after-free"
  | "out-of-memory" | "corruption" | "not-initialized";

function kebab(name: string): string {
  return name.toLowerCase().replace(/_/g, "-");
}

const byPrefix = new Map<string, ReadonlyMap<number, string>>();

/** Reverse lookup of a prefix's layout constants: value → kebab-case name (made once per prefix). */
export function namesByValue(prefix: string): ReadonlyMap<number, string> {
  let map = byPrefix.get(prefix);
  if (map === undefined) {
    const names = new Map<number, string>();
    for (const [name, value] of Object.entries(constantsWithPrefix(prefix))) names.set(value, kebab(name));
    byPrefix.set(prefix, map = names);
  }
  return map;
}

/** What to do about each kind (also the link build's stderr line: src/link/messages.ts). */
export const ADVICE: Record<string, string> = {
  "double-free": "the block was already freed; free each pointer once and drop it afterwards",
  "invalid-free": "pass only pointers returned by malloc, calloc, realloc or aligned_alloc",
  "use-after-free": "something wrote to a block after it was freed; find the stale pointer",
  "corruption": "heap metadata was overwritten; look for writes past the end of a block",
  "not-initialized": "call heap_init before the first allocation",
  overflow: "look for a write past the size asked for (an off-by-one, a missing bound)",
  underflow: "look for a write before the start of the block (a negative index)",
};

/** Why a pointer was refused, by REASON_* name. */
export const REASONS: Record<string, string> = {
  misaligned: "it is not 16-byte aligned",
  "not-owned": "no part of the heap owns that address",
  interior: "it points inside a block, not at its start",
  "not-allocated": "it points at memory that is not allocated",
};

const hex = (n: number) => `0x${n.toString(16)}`;

/** What an error says when its kind has no advice of its own. */
export const DEFAULT_ADVICE = "check the pointer";

/** The C function an OP_* code names ("call" for a code no operation has). */
export function operationName(op: number): string {
  const name = namesByValue("OP_").get(op) ?? "call";
  return ({ "usable-size": "malloc_usable_size", "aligned-alloc": "aligned_alloc", "name": "malloc_name" } as Record<string, string>)[name] ?? name;
}

/** Kinds whose report carries a byte count (in the reason field) instead of a reason. */
export const COUNTED: Record<string, string> = {
  overflow: "past the end of the block were overwritten",
  underflow: "before the start of the block were overwritten",
  "use-after-free": "of the freed block were written after free",
};

/**
 * A misuse of the allocator, or damage it found. Thrown after the call it concerns
 * returns when the module rejected that call (nothing changed); delivered to
 * `onError` (or `heap.errors`) instead when the module noticed it and the call
 * went on (`noticed`: its result is valid).
 */
export class WasmMallocError extends Error {
  readonly kind: string;
  readonly address: number;
  readonly block: number;
  readonly size: number;
  readonly operation: string;
  readonly reason: string;
  /** Bytes found overwritten (overflow, underflow, use-after-free). */
  readonly overwritten: number;
  readonly blockName?: string;
  /** Index of the operation in the trace log, when tracing. */
  readonly traceIndex?: number;
  /** The module worked around the problem and the call went on: its result is valid. */
  readonly noticed: boolean;
  constructor(kind: string, operation: string, reason: string, address: number, block: number, size: number,
    blockName?: string, overwritten = 0, traceIndex?: number, noticed = false) {
    const where = block ? ` (block ${hex(block)}${size ? `, ${size} bytes` : ""}${blockName ? `, "${blockName}"` : ""})` : "";
    // (A count of 0: the module found the damage without counting bytes, e.g. a free-list link.)
    const why = COUNTED[kind] ? (overwritten ? `: ${overwritten} byte${overwritten === 1 ? "" : "s"} ${COUNTED[kind]}` : "")
      : REASONS[reason] ? `: ${REASONS[reason]}` : "";
    const at = traceIndex !== undefined ? ` at trace operation ${traceIndex}` : "";
    const went = noticed ? `; ${operation} went on and its result is valid` : "";
    super(`${kind} in ${operation}(${hex(address)})${at}${where}${why}${went}; ${ADVICE[kind] ?? DEFAULT_ADVICE}`);
    this.name = "WasmMallocError";
    this.kind = kind;
    this.address = address;
    this.block = block;
    this.size = size;
    this.operation = operation;
    this.reason = COUNTED[kind] ? "" : reason;
    this.overwritten = overwritten;
    this.blockName = blockName;
    this.traceIndex = traceIndex;
    this.noticed = noticed;
  }
}

/** A block the host saw freed: the size the caller asked for it, and its name. */
export interface FreedBlock { size: number; name?: string }

/**
 * Turn a raw report into an error, with names from the layout's ERR_*, REASON_* and OP_* constants.
 * `freed`: what the host recorded when the pointer was freed. A double free then names the block
 * the caller freed, with the size asked for it: the module can only report the free block it finds
 * there now, which may have merged with its free neighbours since (59,808 bytes for a 5,000-byte block).
 */
export function errorFromReport(report: RawReport, blockName?: string, traceIndex?: number, freed?: FreedBlock): WasmMallocError {
  const kind = namesByValue("ERR_").get(report.kind) ?? `error-${report.kind}`;
  if (kind === "double-free" && freed !== undefined) {
    report = { ...report, size: freed.size };
    blockName = freed.name ?? blockName;
  }
  const reason = namesByValue("REASON_").get(report.reason) ?? "";
  const operation = operationName(report.op);
  const overwritten = COUNTED[kind] ? report.reason : 0;
  return new WasmMallocError(kind, operation, reason, report.ptr, report.block, report.size, blockName, overwritten, traceIndex, report.noticed === true);
}

/** What each violation means, by name (the module's CHECK_* codes in kebab case, and the host's walk-*). */
const VIOLATIONS: Record<string, string> = {
  "page-kind": "a page map entry names no kind",
  "page-beyond-top": "a page past the top of the heap is claimed",
  "run-links": "the free page runs' links disagree",
  "run-order": "free page runs are out of order, or touch",
  "run-pages": "a free page run's length is zero, runs past the top, or covers pages that are not free",
  "run-footer": "a free page run's footer does not name its start",
  "run-count": "free pages are not all on the run list",
  "block-size": "a block's size is below 16 bytes or runs past its segment",
  "block-footer": "a free block's footer differs from its header",
  "prev-free-bit": "a block's previous-free bit disagrees with the block before it",
  "adjacent-free": "two free blocks lie side by side",
  epilogue: "a segment does not end with its epilogue",
  "free-not-listed": "a free block is on no free list",
  "listed-not-free": "a free list names something that is not a free block",
  "list-links": "a free list's links disagree, or go round in a cycle",
  "list-order": "the address-ordered free list is out of order",
  "wrong-list": "a free block is on the list of another size",
  bitmap: "a free-list bitmap bit disagrees with its list",
  "list-duplicate": "a block is on the free lists twice",
  rover: "next fit's rover is not a listed block",
  "slab-header": "a slab span's header does not match its size class",
  "slab-count": "a slab span's in-use count disagrees with its bitmap",
  "slab-free-list": "a slab span's free list names a bad slot, or misses some",
  "slab-list": "a size class's list of spans with room is wrong",
  large: "a large run's pages are wrong (a tail page with no run before it, or a run past the top)",
  counters: "the in-use counters disagree with the blocks",
  state: "the heap state itself is implausible (its top, page map or first segment)",
  "quick-list": "a quick list names a bad block, or a held block is on none",
  "walk-cursor": "the walk reached an address where no entry starts",
  "start-map": "a live block's bit in the start map is clear, or a bit is set where no live block starts",
  spans: "a free slab span is not on the free-span list (or the list names something else), or a slab page's count of slab spans is wrong",
  "walk-steps": "the walk took more steps than the heap could hold blocks",
  guard: "an allocation's guard header is broken",
  canary: "a live allocation's canary bytes were overwritten",
  poison: "a freed allocation was written after free",
  quarantine: "the quarantine list and its counter disagree",
  "buddy-tag": "a buddy page's bitmaps do not tile it with blocks",
  "buddy-merge": "a free buddy block's buddy is free too",
  "buddy-list": "a buddy free list names a block that is not free at its order, or its links disagree",
  "buddy-bitmap": "the buddy order bitmap disagrees with the lists",
  "buddy-count": "free buddy blocks are not all on the lists",
};

/** Where a corruption was found, beyond its address: which inspection met it, and a hint. */
export interface CorruptionContext {
  /** What found it: "heap check" (check(), the default), "heap walk", "free-list walk", … */
  during?: string;
  /** One more clause for the message, e.g. the block before it, which may have overflowed. */
  note?: string;
}

/** `check()` found a broken invariant, or a walk of the heap (walk, stats, snapshot, free lists) met one and stopped. */
export class HeapCorruptionError extends Error {
  readonly kind = "corruption";
  readonly violation: string;
  readonly address: number;
  readonly blockName?: string;
  /** What found it: "heap check", "heap walk", "free-list walk", "quick-list walk", "buddy list count". */
  readonly during: string;
  constructor(violation: string, address: number, blockName?: string, context: CorruptionContext = {}) {
    const during = context.during ?? "heap check";
    const named = blockName ? ` (block "${blockName}")` : "";
    const what = VIOLATIONS[violation] ? `: ${VIOLATIONS[violation]}` : "";
    const note = context.note ? `; ${context.note}` : "";
    super(`${during} failed: ${violation} at ${hex(address)}${named}${what}${note}; the heap's metadata was overwritten (look for writes past the end of a block or after free)`);
    this.name = "HeapCorruptionError";
    this.violation = violation;
    this.address = address;
    this.blockName = blockName;
    this.during = during;
  }
}

/**
 * `allocate()` could not get memory: the limit was reached or memory.grow failed. When the heap
 * turned out corrupted while the message was being made (`corruption`, also the `cause`), the
 * message says so: the corruption may be why malloc failed.
 */
export class OutOfMemoryError extends Error {
  readonly kind = "out-of-memory";
  readonly requested: number;
  readonly limit: number;
  readonly inUse: number;
  readonly corruption?: HeapCorruptionError;
  constructor(requested: number, limit: number, inUse: number, memoryBytes: number, corruption?: HeapCorruptionError) {
    const cap = limit ? `the limit of ${limit} bytes` : "what the engine would grow";
    super(corruption
      ? `out of memory: ${requested} bytes requested, memory at ${memoryBytes} bytes, and the heap is corrupted, which may be why: ${corruption.message}`
      : `out of memory: ${requested} bytes requested, ${inUse} bytes in use, memory at ${memoryBytes} bytes; ${cap} is reached. Free blocks, or create the heap with a larger maxMemory`,
    corruption ? { cause: corruption } : undefined);
    this.name = "OutOfMemoryError";
    this.corruption = corruption;
    this.requested = requested;
    this.limit = limit;
    this.inUse = inUse;
  }
}
