// Utilization and fragmentation over a trace: one replay on its own heap, the heap's
// figures taken on the way, for a plot of how they move (the visualizer draws one under
// each heap). The definitions are stats()'s and replay()'s, so a point agrees with the
// stats panel, `wasm-malloc dump` and `wasm-malloc replay` at the same step:
//
//   payload utilization  live payload / heap bytes: the bytes the program asked for and
//                        still holds (ReplayRun.livePayload), over the heap's memory
//   utilization          stats().utilization = in use / heap bytes, in use being the usable
//                        bytes of the live blocks: payload plus rounding up to sizes, slab
//                        classes and page runs
//   fragmentation        stats().fragmentation = 1 - largest free block / free bytes (free
//                        slots and free page runs count as free blocks; 0 when nothing or
//                        one piece is free)
//
// heap bytes = stats().heapBytes, memory from __heap_base to its end. Memory never shrinks,
// so it is the most the heap has taken so far; at the last step peakLivePayload / heapBytes
// is the utilization `wasm-malloc replay` and `compare` print (CS:APP's figure).
//
// stats() walks every block (about 0.4 µs a block in V8: 2 ms on binary2-bal.rep's 4,800),
// so on a long trace it is taken every `stride` operations, at most `maxPoints` times
// (plus the last step). The operations in between are replayed all the same.
// This file runs in the browser too (the visualizer): no Node modules here.

import type { Heap } from "./heap.js";
import { ReplayRun, type Trace } from "./trace.js";

export interface UsagePoint {
  /** Operations done. */
  step: number;
  /** Bytes the live ids asked for. */
  livePayload: number;
  /** stats().inUse: usable bytes of the live blocks. */
  inUse: number;
  /** stats().heapBytes. */
  heapBytes: number;
  /** livePayload / heapBytes (0 with no heap). */
  payloadUtilization: number;
  /** stats().utilization: inUse / heapBytes. */
  utilization: number;
  /** stats().fragmentation: 1 - largest free block / free bytes. */
  fragmentation: number;
}

export interface UsageSeries {
  /** Operations in the trace: the plot's x axis runs 0..total. */
  total: number;
  /** Operations between two points (the last point is at `total` whatever the stride). */
  stride: number;
  /** In step order: 0, stride, 2·stride, …, total; fewer while a recorder is still on its way. */
  points: UsagePoint[];
  /** The most livePayload has been over the operations done (every one, not only the sampled). */
  peakLivePayload: number;
  /** Whether every operation is done. */
  complete: boolean;
}

/** Points drawn at most (plus the last step): more than a plot a page wide shows. */
export const DEFAULT_MAX_POINTS = 500;

/** Operations between points for a trace of `total` operations, at most `maxPoints` + 1 points. */
export function usageStride(total: number, maxPoints = DEFAULT_MAX_POINTS): number {
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new RangeError(`usage series: maxPoints ${maxPoints} is not a whole number of at least 1`);
  return Math.max(1, Math.ceil(total / maxPoints));
}

/** The heap's figures now, after `step` operations with `livePayload` bytes asked for and held. */
export function usagePoint(heap: Heap, step: number, livePayload: number): UsagePoint {
  const stats = heap.stats();
  return {
    step, livePayload, inUse: stats.inUse, heapBytes: stats.heapBytes,
    payloadUtilization: stats.heapBytes > 0 ? livePayload / stats.heapBytes : 0,
    utilization: stats.utilization, fragmentation: stats.fragmentation,
  };
}

/**
 * A replay of `trace` on `heap` (a fresh one: the series starts at its state) that takes a
 * point every `stride` operations. `advance` does as much as a time budget allows, so a page
 * can spread a long trace over several frames and draw the curve as it grows.
 */
export class UsageRecorder {
  readonly total: number;
  readonly stride: number;
  private readonly run: ReplayRun;
  private readonly points: UsagePoint[] = [];

  constructor(private readonly heap: Heap, private readonly trace: Trace, options: { maxPoints?: number } = {}) {
    this.total = trace.ops.length;
    this.stride = usageStride(this.total, options.maxPoints);
    this.run = new ReplayRun(heap, trace);
    this.points.push(usagePoint(heap, 0, 0));
  }

  get done(): boolean { return this.run.ops >= this.total; }

  /**
   * Replay until every operation is done, or until `clock()` passes `deadline` (checked at
   * each point taken, where the time goes). Returns whether every operation is done.
   * Throws TraceError where the trace cannot go on (an allocation failed).
   */
  advance(deadline = Infinity, clock: () => number = () => performance.now()): boolean {
    const { ops } = this.trace;
    while (!this.done) {
      const step = Math.min(this.total, this.run.ops + this.stride - (this.run.ops % this.stride));
      this.run.steps(ops.slice(this.run.ops, step));
      this.points.push(usagePoint(this.heap, step, this.run.livePayload));
      if (clock() > deadline) break;
    }
    return this.done;
  }

  /** The points so far (a copy of the list: later advances do not change it). */
  series(): UsageSeries {
    return { total: this.total, stride: this.stride, points: [...this.points], peakLivePayload: this.run.peakLivePayload, complete: this.done };
  }
}

/** The whole series of `trace` replayed on `heap` (a fresh one), in one go. */
export function recordUsage(heap: Heap, trace: Trace, options: { maxPoints?: number } = {}): UsageSeries {
  const recorder = new UsageRecorder(heap, trace, options);
  recorder.advance();
  return recorder.series();
}
