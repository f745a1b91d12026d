// A pane's plot of utilization and fragmentation over the whole trace (src/usage-series.ts,
// drawn by src/render/usage-plot.ts), with the pane's step marked.
//
// The series comes from a heap of its own replaying the trace in the background, at most
// SLICE_MS at a time between frames, so stepping and keys stay responsive while a long trace
// is recorded; the curve is drawn as it grows. A click on the plot goes to the operation
// under the pointer.

import { renderUsagePlotSvg, type UsageCurve } from "../src/render/usage-plot.js";
import type { Trace, TraceOp } from "../src/trace.js";
import { UsageRecorder, type UsagePoint, type UsageSeries } from "../src/usage-series.js";
import { newHeap, type HeapSettings } from "./session.js";

/** Longest run of replay between two frames. */
const SLICE_MS = 25;
/** While recording, the growing curve is redrawn this often: each redraw costs the page a layout. */
const REDRAW_MS = 250;

export type UsageMarker = Pick<UsagePoint, "step" | UsageCurve>;

export class UsagePanel {
  readonly element: HTMLElement;
  private readonly drawing: HTMLElement;
  private readonly problem: HTMLElement;
  private series: UsageSeries | undefined;
  /** The trace the series is of, as it was: operations done by hand replace its tail. */
  private recordedOps: readonly TraceOp[] = [];
  /** Bumped by each new recording; an older one still running sees it and stops. */
  private generation = 0;
  private marker: UsageMarker | undefined;
  private width = 720;

  constructor(parent: HTMLElement, private readonly settings: HeapSettings, onJump: (step: number) => void) {
    this.element = document.createElement("div");
    this.element.className = "usage";
    this.element.innerHTML = '<div class="usage-drawing"></div><p class="usage-problem" role="status"></p>';
    this.drawing = this.element.querySelector(".usage-drawing")!;
    this.problem = this.element.querySelector(".usage-problem")!;
    this.drawing.addEventListener("click", (event) => {
      const area = this.drawing.querySelector(".plot-area");
      if (!area || !this.series) return;
      const box = area.getBoundingClientRect();
      if (event.clientX < box.left || event.clientX > box.right || event.clientY < box.top || event.clientY > box.bottom) return;
      onJump(Math.round(((event.clientX - box.left) / box.width) * this.series.total));
    });
    parent.append(this.element);
  }

  /** Draw the plot of `trace` `width` px wide, `marker` marked; record the series first if the trace is new. */
  render(trace: Trace, marker: UsageMarker, width: number): void {
    this.marker = marker;
    this.width = width;
    if (!sameOps(trace.ops, this.recordedOps)) void this.record(trace);
    this.draw();
  }

  /** Stop recording (the pane is going away). */
  stop(): void { this.generation++; }

  private async record(trace: Trace): Promise<void> {
    const generation = ++this.generation;
    this.recordedOps = [...trace.ops];
    // Axes of the new trace at once, the curve as it comes.
    this.series = { total: trace.ops.length, stride: 1, points: [], peakLivePayload: 0, complete: false };
    this.problem.textContent = "";
    let recorder: UsageRecorder | undefined;
    let drawn = 0;
    try {
      // A copy of the operations: the page's trace may change while this runs.
      recorder = new UsageRecorder(await newHeap(this.settings), { ...trace, ops: [...this.recordedOps] });
      while (generation === this.generation) {
        const done = recorder.advance(performance.now() + SLICE_MS);
        if (done || performance.now() - drawn >= REDRAW_MS) {
          this.series = recorder.series();
          this.draw();
          drawn = performance.now();
        }
        if (done) return;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } catch (error) {
      if (generation !== this.generation) return;
      if (recorder) this.series = recorder.series();
      this.problem.textContent = `The plot stops at operation ${this.series.points.at(-1)?.step ?? 0}: ${(error as Error).message}`;
      this.draw();
    }
  }

  private draw(): void {
    const { series } = this;
    if (!series) return;
    this.element.dataset.complete = String(series.complete);
    this.element.dataset.points = String(series.points.length);
    this.drawing.innerHTML = renderUsagePlotSvg(series, { width: this.width, marker: this.marker });
  }
}

/** Whether two operation lists are the same operations (the page replaces, never edits, an operation). */
function sameOps(a: readonly TraceOp[], b: readonly TraceOp[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}
