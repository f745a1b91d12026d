// One allocator stepping through a trace: a Heap (the same Wasm module and Heap class
// the CLI uses) with the trace's first `step` operations done on it.
//
// Forward is one operation at a time (applyOp, the step replay() takes). Back has no undo
// in an allocator: a fresh heap replays the trace up to the step, which is fast enough
// for the traces people step through by hand (thousands of operations in milliseconds).

import { Heap, type Engine } from "../src/heap.js";
import type { Build } from "../src/module.js";
import { POLICY_NAMES, type PolicyName } from "../src/policy.js";
import { applyOp, type Trace } from "../src/trace.js";

/** A placement policy of the default engine, or the buddy engine. */
export type Allocator = PolicyName | "buddy";
export const ALLOCATORS: readonly Allocator[] = [...POLICY_NAMES, "buddy"];

export type Slabs = boolean | "eager";

export interface HeapSettings {
  allocator: Allocator;
  slabs: Slabs;
}

export function describeAllocator(allocator: Allocator): string {
  return allocator === "buddy" ? "buddy engine" : `${allocator} fit`;
}

// The two builds the page uses, named one by one so the bundle carries these and no others
// (src/module.ts's buildUrl would resolve against the bundled script, where no build/ is).
const BUILD_URLS: Partial<Record<Build, URL>> = {
  release: new URL("../build/release.wasm", import.meta.url),
  buddy: new URL("../build/buddy.wasm", import.meta.url),
};

// Each build is fetched once; every heap compiles its own instance from the bytes.
const moduleBytes = new Map<Build, Promise<ArrayBuffer>>();
function bytesOf(build: Build): Promise<ArrayBuffer> {
  let bytes = moduleBytes.get(build);
  if (!bytes) {
    bytes = fetch(BUILD_URLS[build]!).then((response) => {
      if (!response.ok) throw new Error(`cannot load ${build}.wasm (HTTP ${response.status})`);
      return response.arrayBuffer();
    });
    moduleBytes.set(build, bytes);
  }
  return bytes;
}

/** A fresh heap of these settings. */
export async function newHeap(settings: HeapSettings): Promise<Heap> {
  const engine: Engine = settings.allocator === "buddy" ? "buddy" : "default";
  const policy = settings.allocator === "buddy" ? undefined : settings.allocator;
  const wasm = await bytesOf(engine === "buddy" ? "buddy" : "release");
  return Heap.create({ policy, engine, slabs: settings.slabs, wasm });
}

export class Session {
  /** Operations done so far: the heap is the trace after `step` operations. */
  step = 0;
  /** Pointer of each live trace id. */
  readonly pointers = new Map<number, number>();
  /** Where the last operation acted (its result, or the block it freed): drawn highlighted. */
  lastAddress = 0;
  /** Each operation's result pointer (0 for a free), by operation index, as far as done. */
  private readonly results: number[] = [];

  private constructor(readonly settings: HeapSettings, readonly trace: Trace, public heap: Heap) {}

  static async open(trace: Trace, settings: HeapSettings): Promise<Session> {
    return new Session(settings, trace, await newHeap(settings));
  }

  /** The result pointer of operation `index` (0-based), once done. */
  resultOf(index: number): number | undefined { return this.results[index]; }

  /** Bring the heap to `target` operations (clamped to the trace). */
  async goTo(target: number): Promise<void> {
    target = Math.max(0, Math.min(target, this.trace.ops.length));
    if (target < this.step) {
      this.heap = await newHeap(this.settings);
      this.pointers.clear();
      this.step = 0;
      this.lastAddress = 0;
    }
    while (this.step < target) {
      const op = this.trace.ops[this.step];
      const freed = op.kind === "f" ? this.pointers.get(op.id) ?? 0 : 0;
      const result = applyOp(this.heap, this.trace, op, this.pointers, { nameIds: true });
      this.results[this.step] = result;
      this.lastAddress = op.kind === "f" ? freed : result;
      this.step++;
    }
    this.results.length = this.step;
  }

  /** The trace id whose block is at `pointer`, if it is live. */
  idOf(pointer: number): number | undefined {
    for (const [id, p] of this.pointers) if (p === pointer && p !== 0) return id;
    return undefined;
  }
}
