// The panels beside a heap drawing, as HTML from the host library's plain data:
// stats(), freeLists(), pageMap(), buddyinfo(), slabinfo(). Laid out here, computed there.
// Every number is also in a data-value attribute, exact, for scripts and tests.

import type { BuddyInfo, HeapStats, PageMapEntry, SlabInfo } from "../src/heap.js";
import type { TraceOp } from "../src/trace.js";
import { formatBuddyinfo, formatSlabinfo } from "../src/views.js";

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
export function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => escapes[c]);
}

export function hex(address: number): string {
  return "0x" + (address >>> 0).toString(16);
}

export function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = count / 1024;
  let u = 0;
  while (value >= 1024 && u < units.length - 1) { value /= 1024; u++; }
  return `${value.toFixed(1).replace(/\.0$/, "")} ${units[u]}`;
}

const percent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;
const whole = (n: number) => n.toLocaleString("en-US");

/** A trace operation as C: "malloc(4072) → id 4". */
export function describeOp(op: TraceOp): string {
  if (op.kind === "a") return `malloc(${whole(op.size)}) for id ${op.id}`;
  if (op.kind === "f") return `free(id ${op.id})`;
  return `realloc(id ${op.id}, ${whole(op.size)})`;
}

const STATS: { key: keyof HeapStats; label: string; show(value: number): string }[] = [
  { key: "inUse", label: "in use", show: bytes },
  { key: "free", label: "free", show: bytes },
  { key: "utilization", label: "utilization", show: percent },
  { key: "fragmentation", label: "fragmentation", show: percent },
  { key: "live", label: "live blocks", show: whole },
  { key: "peakInUse", label: "peak in use", show: bytes },
  { key: "metadata", label: "metadata", show: bytes },
  { key: "heapBytes", label: "heap", show: bytes },
  { key: "pages", label: "pages", show: whole },
];

export function statsPanel(stats: HeapStats): string {
  const rows = STATS.map(({ key, label, show }) =>
    `<div><dt>${label}</dt><dd data-stat="${key}" data-value="${stats[key]}">${show(stats[key])}</dd></div>`);
  return `<section class="panel stats-panel" aria-label="stats"><h3>Stats</h3><dl>${rows.join("")}</dl></section>`;
}

/** At most this many blocks listed per free list: a list of thousands says nothing more. */
const LIST_SHOWN = 24;

export function freeListsPanel(
  lists: { index: number; blocks: { address: number; size: number }[] }[],
  quick: { size: number; blocks: number[] }[] = [],
): string {
  const line = (blocks: string[]) =>
    blocks.slice(0, LIST_SHOWN).join(" → ") + (blocks.length > LIST_SHOWN ? ` → … ${blocks.length - LIST_SHOWN} more` : "");
  const count = (n: number) => `${n} block${n === 1 ? "" : "s"}`;
  const items = lists.map(({ index, blocks }) =>
    `<li data-list="${index}" data-count="${blocks.length}"><b>list ${index}</b>, ${count(blocks.length)}: ${line(blocks.map((b) => `${hex(b.address)} (${bytes(b.size)})`))}</li>`);
  // Freed small blocks held for reuse at their size (not coalesced until the heap needs them).
  for (const { size, blocks } of quick) {
    items.push(`<li data-quick="${size}" data-count="${blocks.length}"><b>quick ${bytes(size)}</b>, ${count(blocks.length)} held: ${line(blocks.map(hex))}</li>`);
  }
  const body = items.length ? `<ul>${items.join("")}</ul>` : "<p>no free blocks on the lists</p>";
  return `<section class="panel free-lists-panel" aria-label="free lists"><h3>Free lists</h3>${body}</section>`;
}

/** Runs of pages of one kind: "pages 2–5 slab". */
export function pageMapPanel(pages: PageMapEntry[]): string {
  const runs: { first: PageMapEntry; last: PageMapEntry }[] = [];
  for (const entry of pages) {
    const run = runs[runs.length - 1];
    if (run && run.last.kind === entry.kind && run.last.page + 1 === entry.page) run.last = entry;
    else runs.push({ first: entry, last: entry });
  }
  const items = runs.map(({ first, last }) => {
    const which = first === last ? `page ${first.page}` : `pages ${first.page}–${last.page}`;
    return `<li data-kind="${first.kind}">${which} (${hex(first.address)}): ${first.kind}</li>`;
  });
  return `<section class="panel page-map-panel" aria-label="page map"><h3>Page map</h3><ul>${items.join("")}</ul></section>`;
}

export function buddyinfoPanel(zones: BuddyInfo[]): string {
  return `<section class="panel" aria-label="buddyinfo"><h3>buddyinfo</h3><pre>${esc(formatBuddyinfo(zones))}</pre></section>`;
}

export function slabinfoPanel(classes: SlabInfo[]): string {
  return `<section class="panel" aria-label="slabinfo"><h3>slabinfo</h3><pre>${esc(formatSlabinfo(classes))}</pre></section>`;
}
