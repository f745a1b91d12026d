// The visualizer page: wires the controls to the sessions (one heap per allocator shown)
// and redraws after every change. Query parameters, all optional (what `wasm-malloc viz`
// passes): trace=URL of a .rep file, at=N, allocator=first|next|best|worst|segregated|buddy,
// compare=another allocator, side by side, slabs=on|eager|off, example=id, links=1.

import "./style.css";
import type { Trace, TraceOp } from "../src/trace.js";
import { bindKeys, KEYS } from "./keyboard.js";
import { HeapPane } from "./pane.js";
import { Player } from "./player.js";
import { describeOp, esc, hex } from "./panels.js";
import { ALLOCATORS, Session, describeAllocator, type Allocator, type Slabs } from "./session.js";
import { EXAMPLES, acceptDroppedTraces, exampleById, traceFromFile, traceFromUrl } from "./trace-input.js";

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  example: byId<HTMLSelectElement>("example"),
  file: byId<HTMLInputElement>("file"),
  allocator: byId<HTMLSelectElement>("allocator"),
  compare: byId<HTMLSelectElement>("compare"),
  slabs: byId<HTMLSelectElement>("slabs"),
  first: byId<HTMLButtonElement>("first"),
  back: byId<HTMLButtonElement>("back"),
  play: byId<HTMLButtonElement>("play"),
  forward: byId<HTMLButtonElement>("forward"),
  last: byId<HTMLButtonElement>("last"),
  speed: byId<HTMLSelectElement>("speed"),
  jump: byId<HTMLFormElement>("jump"),
  jumpTo: byId<HTMLInputElement>("jump-to"),
  scrub: byId<HTMLInputElement>("scrub"),
  position: byId<HTMLElement>("position"),
  links: byId<HTMLInputElement>("links"),
  hand: byId<HTMLFormElement>("hand"),
  handSize: byId<HTMLInputElement>("hand-size"),
  handRealloc: byId<HTMLButtonElement>("hand-realloc"),
  handFree: byId<HTMLButtonElement>("hand-free"),
  selected: byId<HTMLSelectElement>("selected"),
  operation: byId<HTMLElement>("operation"),
  error: byId<HTMLElement>("error"),
  panes: byId<HTMLElement>("panes"),
  keys: byId<HTMLElement>("keys"),
};

// ── State ───────────────────────────────────────────────────────────────────────────────
let trace: Trace = { file: "", suggestedHeapSize: 0, ids: 0, weight: 1, ops: [] };
let sessions: Session[] = [];
let panes: HeapPane[] = [];
/** Payload pointer of the block picked for free/realloc by hand (0: none). */
let selected = 0;
/** Heap changes run one after another, in order, whatever the clicks and keys do meanwhile. */
let work: Promise<void> = Promise.resolve();
let busy = false;

function queue(task: () => Promise<void>): Promise<void> {
  work = work.then(async () => {
    busy = true;
    ui.error.textContent = "";
    try { await task(); } catch (error) { ui.error.textContent = (error as Error).message; stopPlaying(); } finally { busy = false; }
    render();
  });
  return work;
}

const step = () => sessions[0]?.step ?? 0;

const player = new Player(ui.play, {
  position: () => ({ step: step(), total: trace.ops.length }),
  busy: () => busy,
  step: (by) => stepBy(by),
  restart: () => queue(() => goTo(0)),
});
const speed = () => Number(ui.speed.value);
const stopPlaying = () => player.stop();
const togglePlay = () => player.toggle(speed());

// ── Loading and stepping ────────────────────────────────────────────────────────────────
function allocators(): Allocator[] {
  const chosen = [ui.allocator.value as Allocator];
  if (ui.compare.value) chosen.push(ui.compare.value as Allocator);
  return chosen;
}

function slabs(): Slabs {
  return ui.slabs.value === "off" ? false : ui.slabs.value === "eager" ? "eager" : true;
}

/** New heaps for the chosen allocators, brought to `at` operations of the trace. */
async function open(at: number): Promise<void> {
  stopPlaying();
  const opened = await Promise.all(allocators().map((allocator) => Session.open(trace, { allocator, slabs: slabs() })));
  for (const pane of panes) pane.remove();
  sessions = opened;
  panes = sessions.map((session) => new HeapPane(ui.panes, session, () => ({
    showFreeLinks: ui.links.checked, selected, onPick: pick, onJump: (target) => void queue(() => goTo(target)),
  })));
  ui.panes.classList.toggle("side-by-side", sessions.length > 1);
  selected = 0;
  await goTo(at);
}

async function goTo(target: number): Promise<void> {
  for (const session of sessions) await session.goTo(target);
}

function loadTrace(next: Trace, at = next.ops.length): Promise<void> {
  return queue(() => {
    // A copy: operations done by hand are appended to it, never to an example's own list.
    trace = { ...next, ops: [...next.ops] };
    return open(at);
  });
}

function stepBy(delta: number): void {
  void queue(() => goTo(step() + delta));
}

/** Dragging the slider asks for many steps: only the latest still wanted is gone to. */
let scrubTarget: number | undefined;
function scrubTo(target: number): void {
  const queued = scrubTarget !== undefined;
  scrubTarget = target;
  if (queued) return;
  void queue(() => {
    const wanted = scrubTarget ?? step();
    scrubTarget = undefined;
    return goTo(wanted);
  });
}

// ── By hand ─────────────────────────────────────────────────────────────────────────────
/** Do `op` after the current step; the rest of the trace, if any, gives way to it. */
function doByHand(op: Omit<TraceOp, "line">): void {
  void queue(async () => {
    const at = step();
    trace.ops.length = at;
    trace.ops.push({ ...op, line: 0 });
    await goTo(at + 1);
  });
}

function handSize(): number {
  const size = Number(ui.handSize.value);
  if (!Number.isInteger(size) || size < 0) throw new Error("the size must be a whole number of bytes");
  return size;
}

function pickedId(): number {
  const id = sessions[0]?.idOf(selected);
  if (id === undefined) throw new Error("pick a block in use first: click it in the drawing, or choose it in the list");
  return id;
}

function byHand(make: () => Omit<TraceOp, "line">): void {
  try { doByHand(make()); } catch (error) { ui.error.textContent = (error as Error).message; }
}

function pick(pointer: number): void {
  selected = sessions[0]?.idOf(pointer) !== undefined ? pointer : 0;
  render();
}

// ── Drawing ─────────────────────────────────────────────────────────────────────────────
function render(): void {
  const at = step();
  const total = trace.ops.length;
  document.body.dataset.step = String(at);
  document.body.dataset.ops = String(total);
  ui.position.textContent = `operation ${at} of ${total} · ${trace.file}`;
  ui.jumpTo.max = String(total);
  ui.scrub.max = String(total);
  if (scrubTarget === undefined) ui.scrub.value = String(at);
  ui.first.disabled = ui.back.disabled = at === 0;
  ui.forward.disabled = ui.last.disabled = at >= total;

  const op = at > 0 ? trace.ops[at - 1] : undefined;
  const where = op && op.line > 0 ? ` (line ${op.line})` : op ? " (by hand)" : "";
  const results = sessions.map((s) => {
    const r = s.resultOf(at - 1);
    return op && op.kind !== "f" ? `${describeAllocator(s.settings.allocator)} → ${hex(r ?? 0)}` : "";
  }).filter(Boolean).join(", ");
  ui.operation.textContent = op
    ? `Operation ${at} of ${total}${where}: ${describeOp(op)}${results ? `; ${results}` : ""}`
    : `Before the first operation of ${trace.file} (${total} operations)`;

  if (selected && sessions[0]?.idOf(selected) === undefined) selected = 0;
  const live = [...(sessions[0]?.pointers ?? [])].filter(([, p]) => p !== 0).sort((a, b) => a[1] - b[1]);
  ui.selected.innerHTML = `<option value="0">none picked (click one)</option>`
    + live.map(([id, p]) => `<option value="${p}"${p === selected ? " selected" : ""}>id ${id} at ${esc(hex(p))}</option>`).join("");
  for (const pane of panes) pane.render();
  document.body.dataset.ready = "true";
}

// ── Wiring ──────────────────────────────────────────────────────────────────────────────
function fillChoices(): void {
  ui.example.innerHTML = `<option value="">(a file)</option>`
    + EXAMPLES.map((e) => `<option value="${e.id}">${esc(e.label)}</option>`).join("");
  const options = ALLOCATORS.map((a) => `<option value="${a}">${describeAllocator(a)}</option>`).join("");
  ui.allocator.innerHTML = options;
  ui.allocator.value = "segregated";
  ui.compare.innerHTML += options;
  ui.keys.innerHTML = "Keys: " + KEYS.map(([key, what]) => `<kbd>${esc(key)}</kbd> ${esc(what)}`).join(" · ");
}

function wire(): void {
  ui.example.addEventListener("change", () => {
    if (!ui.example.value) return;
    if (ui.example.value === "example") ui.slabs.value = "eager";
    void loadTrace(exampleById(ui.example.value));
  });
  const openFile = (file: File) => {
    ui.example.value = "";
    traceFromFile(file).then((t) => loadTrace(t), (error: Error) => { ui.error.textContent = error.message; });
  };
  ui.file.addEventListener("change", () => { if (ui.file.files?.[0]) openFile(ui.file.files[0]); });
  acceptDroppedTraces(document.body, openFile);
  for (const select of [ui.allocator, ui.compare, ui.slabs]) select.addEventListener("change", () => void queue(() => open(step())));
  ui.first.addEventListener("click", () => void queue(() => goTo(0)));
  ui.back.addEventListener("click", () => stepBy(-1));
  ui.forward.addEventListener("click", () => stepBy(1));
  ui.last.addEventListener("click", () => void queue(() => goTo(trace.ops.length)));
  ui.play.addEventListener("click", togglePlay);
  ui.speed.addEventListener("change", () => { if (player.playing) player.start(speed()); });
  ui.jump.addEventListener("submit", (event) => {
    event.preventDefault();
    const target = Number(ui.jumpTo.value);
    if (Number.isInteger(target)) void queue(() => goTo(target));
  });
  ui.scrub.addEventListener("input", () => scrubTo(Number(ui.scrub.value)));
  ui.links.addEventListener("change", render);
  ui.hand.addEventListener("submit", (event) => {
    event.preventDefault();
    byHand(() => ({ kind: "a", id: Math.max(-1, ...trace.ops.map((o) => o.id)) + 1, size: handSize() }));
  });
  ui.handRealloc.addEventListener("click", () => byHand(() => ({ kind: "r", id: pickedId(), size: handSize() })));
  ui.handFree.addEventListener("click", () => byHand(() => ({ kind: "f", id: pickedId(), size: 0 })));
  ui.selected.addEventListener("change", () => { selected = Number(ui.selected.value); render(); });
  let resizing: ReturnType<typeof setTimeout> | undefined;
  window.addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(render, 150); });
  bindKeys({
    step: stepBy,
    first: () => void queue(() => goTo(0)),
    last: () => void queue(() => goTo(trace.ops.length)),
    togglePlay,
    focusJump: () => ui.jumpTo.focus(),
    toggleLinks: () => { ui.links.checked = !ui.links.checked; render(); },
  });
}

async function start(): Promise<void> {
  fillChoices();
  wire();
  const query = new URLSearchParams(location.search);
  const allocator = query.get("allocator");
  if (allocator && (ALLOCATORS as readonly string[]).includes(allocator)) ui.allocator.value = allocator;
  const compare = query.get("compare");
  if (compare && (ALLOCATORS as readonly string[]).includes(compare)) ui.compare.value = compare;
  const example = query.get("example") ?? "example";
  const slabChoice = query.get("slabs");
  ui.slabs.value = slabChoice === "off" || slabChoice === "eager" ? slabChoice : !query.get("trace") && example === "example" ? "eager" : "on";
  ui.links.checked = query.get("links") === "1";
  const at = query.has("at") ? Number(query.get("at")) : undefined;
  try {
    const url = query.get("trace");
    if (url) ui.example.value = "";
    else ui.example.value = EXAMPLES.some((e) => e.id === example) ? example : "example";
    const first = url ? await traceFromUrl(url) : exampleById(ui.example.value);
    await loadTrace(first, at !== undefined && Number.isInteger(at) ? at : undefined);
  } catch (error) {
    ui.error.textContent = (error as Error).message;
    document.body.dataset.ready = "true";
  }
}

void start();
