// One heap on the page: its drawing (src/render/svg.ts, the renderer `wasm-malloc map`
// uses, fed the heap's snapshot) and its panels. Two panes side by side compare two
// allocators on the same trace at the same step.

import { renderHeapSvg } from "../src/render/svg.js";
import { buddyinfoPanel, freeListsPanel, hex, pageMapPanel, slabinfoPanel, statsPanel } from "./panels.js";
import { describeAllocator, type Session } from "./session.js";

export interface DrawOptions {
  showFreeLinks: boolean;
  /** Payload pointer of the block picked for hand operations (0: none). */
  selected: number;
  /** Called with the payload pointer of a block the user clicks (0 for free space). */
  onPick(pointer: number): void;
}

export class HeapPane {
  readonly element: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly drawing: HTMLElement;
  private readonly panels: HTMLElement;

  constructor(parent: HTMLElement, private readonly session: Session, private readonly options: () => DrawOptions) {
    this.element = document.createElement("section");
    this.element.className = "pane";
    this.element.dataset.allocator = session.settings.allocator;
    this.element.setAttribute("aria-label", describeAllocator(session.settings.allocator));
    this.element.innerHTML = '<h2 class="pane-heading"></h2><div class="drawing"></div><div class="panels"></div>';
    this.heading = this.element.querySelector(".pane-heading")!;
    this.drawing = this.element.querySelector(".drawing")!;
    this.panels = this.element.querySelector(".panels")!;
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
    this.drawing.innerHTML = renderHeapSvg(snapshot, {
      width, showFreeLinks: options.showFreeLinks, highlight: session.lastAddress || undefined, readableBlocks: true,
    });
    if (options.selected) {
      for (const rect of this.drawing.querySelectorAll(`[data-pointer="${options.selected}"]`)) rect.classList.add("selected");
    }
    this.panels.innerHTML = statsPanel(snapshot.stats) + freeListsPanel(snapshot.freeLists, heap.quickLists()) + pageMapPanel(heap.pageMap())
      + buddyinfoPanel(heap.buddyinfo()) + slabinfoPanel(heap.slabinfo());
  }

  remove(): void { this.element.remove(); }
}
