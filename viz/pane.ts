// One heap on the page: its plot of utilization and fragmentation over the trace
// (usage.ts), its drawing (src/render/svg.ts, the renderer `wasm-malloc map` uses, fed the
// heap's snapshot) and its panels. Two panes side by side compare two allocators on the
// same trace at the same step.

import type { HeapSnapshot } from "../src/render/snapshot.js";
import { renderHeapSvg } from "../src/render/svg.js";
import { buddyinfoPanel, freeListsPanel, hex, pageMapPanel, slabinfoPanel, statsPanel } from "./panels.js";
import { describeAllocator, type Session } from "./session.js";
import { UsagePanel, type UsageMarker } from "./usage.js";

export interface DrawOptions {
  showFreeLinks: boolean;
  /** Payload pointer of the block picked for hand operations (0: none). */
  selected: number;
  /** Called with the payload pointer of a block the user clicks (0 for free space). */
  onPick(pointer: number): void;
  /** Called with the operation a click on the plot points at. */
  onJump(step: number): void;
}

export class HeapPane {
  readonly element: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly drawing: HTMLElement;
  private readonly panels: HTMLElement;
  private readonly usage: UsagePanel;
  /** Lines of title and summary kept for the drawing at this width: the most any step needed. */
  private headerLines = 2;
  private drawnWidth = 0;

  constructor(parent: HTMLElement, private readonly session: Session, private readonly options: () => DrawOptions) {
    this.element = document.createElement("section");
    this.element.className = "pane";
    this.element.dataset.allocator = session.settings.allocator;
    this.element.setAttribute("aria-label", describeAllocator(session.settings.allocator));
    this.element.innerHTML = '<h2 class="pane-heading"></h2><div class="drawing"></div><div class="panels"></div>';
    this.heading = this.element.querySelector(".pane-heading")!;
    this.drawing = this.element.querySelector(".drawing")!;
    this.panels = this.element.querySelector(".panels")!;
    this.usage = new UsagePanel(this.element, session.settings, (step) => this.options().onJump(step));
    this.heading.after(this.usage.element);
    this.drawing.addEventListener("click", (event) => {
      const rect = (event.target as Element).closest("[data-block]");
      if (rect) this.options().onPick(Number(rect.getAttribute("data-pointer")));
    });
    parent.append(this.element);
  }

  render(): void {
    const { session } = this;
    const { heap, step, trace } = session;
    const options = this.options();
    this.element.dataset.step = String(step);
    const result = step > 0 ? session.resultOf(step - 1) : undefined;
    const op = step > 0 ? trace.ops[step - 1] : undefined;
    const outcome = op === undefined ? "" : op.kind === "f" ? ` · freed ${hex(session.lastAddress)}` : ` · returned ${hex(result ?? 0)}`;
    this.heading.textContent = `${describeAllocator(session.settings.allocator)}${outcome}`;

    const snapshot = heap.snapshot({ title: trace.file, step });
    const width = Math.max(320, Math.floor(this.drawing.clientWidth || 960));
    if (width !== this.drawnWidth) { this.headerLines = 2; this.drawnWidth = width; }
    this.drawing.innerHTML = renderHeapSvg(snapshot, {
      width, showFreeLinks: options.showFreeLinks, highlight: session.lastAddress || undefined, readableBlocks: true,
      headerLines: this.headerLines,
    });
    this.headerLines = Math.max(this.headerLines, Number(this.drawing.querySelector(".header")?.getAttribute("data-lines") ?? 0));
    this.usage.render(trace, usageAt(snapshot), width);
    if (options.selected) {
      for (const rect of this.drawing.querySelectorAll(`[data-pointer="${options.selected}"]`)) rect.classList.add("selected");
    }
    this.panels.innerHTML = statsPanel(snapshot.stats) + freeListsPanel(snapshot.freeLists, heap.quickLists()) + pageMapPanel(heap.pageMap())
      + buddyinfoPanel(heap.buddyinfo()) + slabinfoPanel(heap.slabinfo());
  }

  remove(): void {
    this.usage.stop();
    this.element.remove();
  }
}

/** The plot's marker: the heap's own figures at its step, exact whether or not the series sampled it. */
function usageAt(snapshot: HeapSnapshot): UsageMarker {
  const { stats, blocks, step = 0 } = snapshot;
  let livePayload = 0;
  for (const b of blocks) if (b.state === "in-use") livePayload += b.payload;
  return {
    step, payloadUtilization: stats.heapBytes > 0 ? livePayload / stats.heapBytes : 0,
    utilization: stats.utilization, fragmentation: stats.fragmentation,
  };
}
