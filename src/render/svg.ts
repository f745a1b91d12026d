// SVG pictures of a heap and of policy comparisons: pure functions from plain data to SVG
// text, with no DOM and no Node APIs, so the CLI writes them to files and a browser
// visualizer can put the same text in a page.
//
// The heap is drawn to scale: one row per 64 KiB page, address → x. Every block is a <rect>
// with data-* attributes and a <title>, so a page script (or a test) can find a block by
// address and a screen reader can read it.

import type { Block } from "../heap.js";
import { checkSnapshot, type HeapSnapshot, type PageKind } from "./snapshot.js";
import {
  type BlockStyle, GAP_FILL, LEGEND, OUTSIDE_FILL, PAGE_KIND_COLOUR, SERIES_COLOURS, blockStyle, hatchId,
} from "./palette.js";
import {
  AXIS_HEIGHT, MARGIN, bytes, esc, hex, isNumber, legend, n, niceCeil, percent, svgRoot, textWidth, wrapParts,
} from "./svg-parts.js";

export interface HeapSvgOptions {
  /** Width of the picture in px (default 960). */
  width?: number;
  /** Draw each free list's links as arrows (default false). */
  showFreeLinks?: boolean;
  /** An address (block start, payload pointer or any byte inside) whose block gets a thick outline. */
  highlight?: number;
  /**
   * For a page rather than a file: the picture is a group of readable blocks (each block
   * role="img" with its aria-label) instead of one image whose parts a screen reader skips.
   */
  readableBlocks?: boolean;
  /**
   * At least this many lines of title and summary text (default 1 each: 2). The summary wraps
   * to the width, so its line count can change from one step to the next; a page stepping
   * through a trace passes the most it has drawn (the header's data-lines) to keep the rows
   * where they were.
   */
  headerLines?: number;
}

export interface ComparisonRow {
  label: string;
  series: { name: string; value: number }[];
}

export interface ComparisonOptions {
  title?: string;
  /** "%": values are fractions 0..1 shown as percentages; anything else is appended to the value. */
  unit?: string;
  /** Width of the picture in px (default 720). */
  width?: number;
}

// ─── heap picture ───────────────────────────────────────────────────────────────────────

const GUTTER = 104;        // square + "0x00000000"
const ROW_HEIGHT = 18;
const ROW_GAP = 8;         // room for free-link arcs between rows
/** Highest a free-link arc rises above its row: one row and gap, so it never reaches two rows up. */
const LINK_RISE = ROW_HEIGHT + ROW_GAP;

function fillOf(style: BlockStyle): string {
  return style.hatched ? `url(#${hatchId(style.colour)})` : style.colour;
}

function blockTitle(b: HeapSnapshot["blocks"][number]): string {
  const usable = b.state === "in-use" ? ` (usable ${b.usable})` : "";
  const name = b.name !== undefined ? ` "${b.name}"` : "";
  return `${hex(b.address)} ${b.state} ${b.layer}, ${b.size} bytes${usable}${name}`;
}

/** What a screen reader says for a block: "block at 0x10c0, 48 bytes, in use, slab layer, id 4". */
function blockSpoken(b: HeapSnapshot["blocks"][number]): string {
  const state = b.state === "in-use" ? "in use" : b.state;
  const name = b.name !== undefined ? `, ${b.name}` : "";
  return `block at ${hex(b.address)}, ${b.size} bytes, ${state}, ${b.layer} layer${name}`;
}

function blockLabel(b: HeapSnapshot["blocks"][number]): string {
  const size = b.state === "free" ? `free ${bytes(b.size)}` : bytes(b.size);
  return b.name !== undefined ? `${b.name} · ${size}` : size;
}

/** Split [start, end) at page boundaries: one piece per row it crosses. */
function segments(start: number, end: number, pageSize: number): { page: number; from: number; to: number }[] {
  const out = [];
  const last = Math.max(start, end - 1);
  for (let page = Math.floor(start / pageSize); page <= Math.floor(last / pageSize); page++) {
    out.push({ page, from: Math.max(start, page * pageSize), to: Math.min(end, (page + 1) * pageSize) });
  }
  return out;
}

function swatchFor(style: BlockStyle): string {
  const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : "";
  return `<rect width="12" height="12" fill="${fillOf(style)}" stroke="${style.colour}"${dash}/>`;
}

function findBlock(blocks: HeapSnapshot["blocks"], address: number): Block | undefined {
  return blocks.find((b) => b.address === address)
    ?? blocks.find((b) => b.pointer === address && b.pointer !== 0)
    ?? blocks.find((b) => address >= b.address && address < b.address + b.size);
}

/** Where things go: every section below draws through this, so they agree on the scale. */
interface Layout {
  pageSize: number;
  firstPage: number;
  pageCount: number;
  rowX: number;
  rowWidth: number;
  /** px per byte */
  scale: number;
  axisY: number;
  rowsTop: number;
  rowY(page: number): number;
  xOf(address: number, page: number): number;
}

function statsParts(snapshot: HeapSnapshot, pageCount: number): string[] {
  const { stats, blocks, pageSize } = snapshot;
  const free = blocks.filter((b) => b.state === "free");
  const freeSlots = free.filter((b) => b.layer === "slab").length;
  const freeBytes = free.reduce((sum, b) => sum + b.size, 0);
  // Stats may come from a saved JSON file of another version: show what is there.
  const parts: string[] = [];
  if (isNumber(stats?.inUse)) parts.push(`in use ${bytes(stats.inUse)}${isNumber(stats.live) ? ` in ${stats.live} blocks` : ""}`);
  parts.push(`free ${bytes(freeBytes)} in ${free.length - freeSlots} blocks` + (freeSlots ? ` and ${freeSlots} slab slots` : ""));
  if (isNumber(stats?.peakInUse)) parts.push(`peak ${bytes(stats.peakInUse)}`);
  parts.push(`${pageCount} page${pageCount === 1 ? "" : "s"} (${bytes(pageCount * pageSize)})`);
  if (isNumber(stats?.inUse) && isNumber(stats?.heapBytes) && stats.heapBytes > 0) {
    parts.push(`utilization ${percent(stats.inUse / stats.heapBytes)} (in use / heap)`);
  }
  return parts;
}

const TITLE_SIZE = 15;
const SUMMARY_SIZE = 12;
const TEXT_LINE = 17;

/**
 * Title, summary and legend. The summary wraps to the width, and the subtitle goes under the
 * title when both do not fit on one line, so nothing is cut off in a narrow pane; `minLines`
 * keeps room for more lines than this snapshot needs (see HeapSvgOptions.headerLines). The
 * legend is always whole, so with the same width and lines the rows stay put while a
 * visualizer steps through a trace.
 */
function header(snapshot: HeapSnapshot, title: string, subtitle: string, pageCount: number, width: number, minLines: number): { svg: string[]; bottom: number } {
  const room = width - 2 * MARGIN;
  const subtitleBelow = textWidth(title, TITLE_SIZE, true) + 10 + textWidth(subtitle, TITLE_SIZE) > room;
  const summary = wrapParts(statsParts(snapshot, pageCount), room, SUMMARY_SIZE);
  const lines = (subtitleBelow ? 2 : 1) + summary.length;
  // Baselines of the text lines; those under the title's sit 2px lower for its larger letters.
  const baseline = (line: number) => MARGIN + 14 + line * TEXT_LINE + (line > 0 ? 2 : 0);
  const subtitleSpan = subtitleBelow
    ? `<tspan class="subtitle" font-weight="400" fill="#555" x="${MARGIN}" y="${n(baseline(1))}">${esc(subtitle)}</tspan>`
    : `<tspan class="subtitle" font-weight="400" fill="#555" dx="10">${esc(subtitle)}</tspan>`;
  const firstSummary = subtitleBelow ? 2 : 1;
  // Spaces between the lines' tspans: the text's content reads as the one list it is.
  const summarySpans = summary.map((text, i) => `<tspan x="${MARGIN}" y="${n(baseline(firstSummary + i))}">${esc(text)}</tspan>`).join(" ");
  const svg = [
    `<g class="header" data-lines="${lines}">`,
    `<text class="title" x="${MARGIN}" y="${baseline(0)}" font-size="${TITLE_SIZE}" font-weight="600" fill="#111">${esc(title)}${subtitleSpan}</text>`,
    `<text class="stats" data-lines="${summary.length}" font-size="${SUMMARY_SIZE}" fill="#333">${summarySpans}</text>`,
    "</g>",
  ];
  const blockItems = LEGEND.map((e) => ({ swatch: swatchFor(blockStyle(e.layer, e.state)), label: e.label }));
  const pageItems = (Object.keys(PAGE_KIND_COLOUR) as PageKind[]).map((kind) => ({
    swatch: `<rect x="1" y="1" width="10" height="10" fill="${PAGE_KIND_COLOUR[kind]}" stroke="#666" stroke-width="0.5"/>`,
    label: `page: ${kind}`,
  }));
  const top = baseline(Math.max(lines, minLines) - 1) + 11;
  const first = legend(blockItems, MARGIN, top, width - MARGIN);
  const second = legend(pageItems, MARGIN, top + first.height, width - MARGIN);
  return { svg: [...svg, ...first.svg, ...second.svg], bottom: top + first.height + second.height };
}

/** One hatch pattern per colour; userSpaceOnUse lines the stripes up across neighbouring
 *  rects, so a run of tiny free slots still reads as one hatched area. */
function defs(snapshot: HeapSnapshot): string[] {
  const colours = new Set(LEGEND.map((e) => blockStyle(e.layer, "free").colour));
  for (const b of snapshot.blocks) if (b.state === "free") colours.add(blockStyle(b.layer, "free").colour);
  const out = ["<defs>"];
  for (const colour of [...colours].sort()) {
    out.push(`<pattern id="${hatchId(colour)}" patternUnits="userSpaceOnUse" width="5" height="5" patternTransform="rotate(45)">`
      + `<rect width="5" height="5" fill="${colour}" fill-opacity="0.18"/><rect width="1.6" height="5" fill="${colour}"/></pattern>`);
  }
  out.push('<marker id="free-link-arrow" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="5" markerHeight="5" orient="auto">'
    + '<path d="M0,0 L6,3 L0,6 z" fill="#222"/></marker>', "</defs>");
  return out;
}

/** Offsets within a page above the first row, so every row reads as a ruler. */
function axis(L: Layout): string[] {
  const out = ['<g class="axis" font-size="10" fill="#666">'];
  for (let i = 0; i <= 4; i++) {
    const x = L.rowX + (L.rowWidth * i) / 4;
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    const offset = i === 0 ? "0" : bytes((L.pageSize * i) / 4);
    out.push(`<text x="${n(x)}" y="${n(L.axisY)}" text-anchor="${anchor}">+${offset}</text>`
      + `<line x1="${n(x)}" y1="${n(L.axisY + 2)}" x2="${n(x)}" y2="${n(L.rowsTop)}" stroke="#BBB" stroke-width="0.5"/>`);
  }
  out.push("</g>");
  return out;
}

/** Each row's gutter (page-kind square, page address) and background; below heapStart is
 *  the module's own memory, drawn darker. */
function pageRows(snapshot: HeapSnapshot, L: Layout): string[] {
  const kinds = new Map(snapshot.pageMap.map((p) => [p.page, p.kind]));
  const out = ['<g class="pages">'];
  for (let page = L.firstPage; page < L.firstPage + L.pageCount; page++) {
    const y = L.rowY(page);
    const kind = kinds.get(page) ?? "none";
    const start = page * L.pageSize;
    out.push(`<g class="page" data-page="${page}" data-kind="${kind}">`
      + `<rect x="${MARGIN}" y="${n(y + 4)}" width="10" height="10" fill="${PAGE_KIND_COLOUR[kind]}" stroke="#666" stroke-width="0.5">`
      + `<title>page ${page} (${hex(start)}): ${kind}</title></rect>`
      + `<text x="${MARGIN + 16}" y="${n(y + 13)}" font-size="11" font-family="ui-monospace, Menlo, Consolas, monospace" fill="#333">`
      + `0x${start.toString(16).padStart(8, "0")}</text>`);
    const from = Math.max(start, snapshot.heapStart);
    const to = Math.min(start + L.pageSize, snapshot.top);
    if (from > start) {
      out.push(`<rect class="outside" x="${n(L.rowX)}" y="${n(y)}" width="${n((from - start) * L.scale)}" height="${ROW_HEIGHT}" fill="${OUTSIDE_FILL}">`
        + `<title>${hex(start)}–${hex(from)}: below the heap (module data and stack)</title></rect>`);
    }
    if (to > from) {
      out.push(`<rect class="gap" x="${n(L.xOf(from, page))}" y="${n(y)}" width="${n((to - from) * L.scale)}" height="${ROW_HEIGHT}" fill="${GAP_FILL}"/>`);
    }
    out.push("</g>");
  }
  out.push("</g>");
  return out;
}

/** One rect per block per row, then the labels that fit, on top. */
function blockRects(snapshot: HeapSnapshot, L: Layout, readable: boolean): string[] {
  const rects = ['<g class="blocks">'];
  const labels = ['<g class="block-labels" font-size="10" pointer-events="none">'];
  for (const b of snapshot.blocks) {
    const style = blockStyle(b.layer, b.state);
    const data = `data-block="${b.address}" data-pointer="${b.pointer}" data-state="${b.state}" data-layer="${b.layer}" data-size="${b.size}"`
      + (readable ? ` role="img" aria-label="${esc(blockSpoken(b))}"` : "");
    const title = `<title>${esc(blockTitle(b))}</title>`;
    segments(b.address, b.address + b.size, L.pageSize).forEach((s, i) => {
      const x = L.xOf(s.from, s.page);
      const w = Math.max(0.5, (s.to - s.from) * L.scale);
      // Outlines only where there is room: on 16-byte slots an outline would hide the fill.
      let stroke = "";
      if (w >= 3) {
        stroke = style.hatched
          ? ` stroke="${style.colour}" stroke-width="1" stroke-dasharray="${style.dash}"`
          : ' stroke="#FFFFFF" stroke-width="0.75"';
      }
      rects.push(`<rect ${data} x="${n(x)}" y="${n(L.rowY(s.page))}" width="${n(w)}" height="${ROW_HEIGHT}"`
        + ` fill="${fillOf(style)}"${stroke}>${title}</rect>`);
      // The size written where it fits also shows where one block ends and the next begins,
      // which runs of whole pages would otherwise hide.
      const text = i === 0 ? blockLabel(b) : "";
      if (text && textWidth(text, 10) + 8 <= w) {
        const halo = style.hatched ? ' stroke="#FFF" stroke-width="2.5" stroke-opacity="0.85" paint-order="stroke"' : "";
        labels.push(`<text x="${n(x + 4)}" y="${n(L.rowY(s.page) + 13)}" fill="${style.ink}"${halo}>${esc(text)}</text>`);
      }
    });
  }
  rects.push("</g>");
  labels.push("</g>");
  return [...rects, ...labels];
}

/** An arc from the middle of each free block's first piece to the next block on its list. */
function freeLinks(snapshot: HeapSnapshot, L: Layout): string[] {
  const anchor = (address: number, size: number) => {
    const page = Math.floor(address / L.pageSize);
    const end = Math.min(address + Math.max(size, 1), (page + 1) * L.pageSize);
    return { x: (L.xOf(address, page) + L.xOf(end, page)) / 2, y: L.rowY(page) };
  };
  const out = ['<g class="free-links" fill="none" stroke="#222" stroke-width="0.8" stroke-opacity="0.75">'];
  for (const list of snapshot.freeLists) {
    for (let i = 0; i + 1 < list.blocks.length; i++) {
      const a = list.blocks[i];
      const b = list.blocks[i + 1];
      const p = anchor(a.address, a.size);
      const q = anchor(b.address, b.size);
      // A cubic rises 3/4 of its control points' lift: capped, it stays within LINK_RISE.
      const lift = Math.min((LINK_RISE * 4) / 3, 8 + Math.abs(q.x - p.x) / 6 + Math.abs(q.y - p.y) / 4);
      out.push(`<path data-list="${list.index}" data-from="${a.address}" data-to="${b.address}"`
        + ` d="M${n(p.x)},${n(p.y)} C${n(p.x)},${n(p.y - lift)} ${n(q.x)},${n(q.y - lift)} ${n(q.x)},${n(q.y)}"`
        + ` marker-end="url(#free-link-arrow)"><title>free list ${list.index}: ${hex(a.address)} → ${hex(b.address)}</title></path>`);
    }
  }
  out.push("</g>");
  return out;
}

/** Black under yellow reads on every fill; at least 4px wide so a 16-byte slot shows. */
function highlight(b: Block, L: Layout): string[] {
  const out = [`<g class="highlight" data-highlight="${b.address}" fill="none">`];
  for (const s of segments(b.address, b.address + b.size, L.pageSize)) {
    const exact = (s.to - s.from) * L.scale;
    const w = Math.max(4, exact);
    const rect = `x="${n(L.xOf(s.from, s.page) + (exact - w) / 2)}" y="${n(L.rowY(s.page) - 1.5)}" width="${n(w)}" height="${ROW_HEIGHT + 3}"`;
    out.push(`<rect ${rect} stroke="#000000" stroke-width="3.5"/><rect ${rect} stroke="#F0E442" stroke-width="1.5"/>`);
  }
  out.push("</g>");
  return out;
}

/** The heap, to scale: one row per page, one rect per block per row it crosses. */
export function renderHeapSvg(snapshot: HeapSnapshot, options: HeapSvgOptions = {}): string {
  checkSnapshot(snapshot);
  const width = Math.max(320, options.width ?? 960);
  const { pageSize, heapStart, top } = snapshot;
  const firstPage = Math.floor(heapStart / pageSize);
  const pageCount = Math.max(1, Math.ceil(top / pageSize) - firstPage);
  const title = snapshot.title ?? "wasm-malloc heap";
  const subtitle = [`policy ${snapshot.policy}`, ...(snapshot.step !== undefined ? [`step ${snapshot.step}`] : [])].join(" · ");
  const head = header(snapshot, title, subtitle, pageCount, width, options.headerLines ?? 2);

  const rowX = MARGIN + GUTTER;
  const rowWidth = width - rowX - MARGIN;
  const axisY = head.bottom + AXIS_HEIGHT - 5;
  // Free links get room of their own above the first row rather than crossing the axis.
  const rowsTop = axisY + 5 + (options.showFreeLinks ? LINK_RISE : 0);
  const L: Layout = {
    pageSize, firstPage, pageCount, rowX, rowWidth, scale: rowWidth / pageSize, axisY, rowsTop,
    rowY: (page) => rowsTop + (page - firstPage) * (ROW_HEIGHT + ROW_GAP),
    xOf: (address, page) => rowX + (address - page * pageSize) * (rowWidth / pageSize),
  };
  const height = rowsTop + pageCount * (ROW_HEIGHT + ROW_GAP) - ROW_GAP + MARGIN;

  const body = [...defs(snapshot), ...head.svg, ...axis(L), ...pageRows(snapshot, L), ...blockRects(snapshot, L, options.readableBlocks ?? false)];
  if (options.showFreeLinks) body.push(...freeLinks(snapshot, L));
  const marked = options.highlight !== undefined ? findBlock(snapshot.blocks, options.highlight) : undefined;
  if (marked) body.push(...highlight(marked, L));

  const free = snapshot.blocks.filter((b) => b.state === "free");
  const label = `Heap map of ${title}, ${subtitle}: ${pageCount} pages from ${hex(heapStart)} to ${hex(top)}, `
    + `${snapshot.blocks.length - free.length} blocks in use or metadata, `
    + `${free.length} free blocks (${bytes(free.reduce((sum, b) => sum + b.size, 0))})`;
  return svgRoot(width, height, label, body, options.readableBlocks ? "group" : "img");
}

// ─── comparison chart ───────────────────────────────────────────────────────────────────

const BAR = 12;
const BAR_GAP = 2;
const GROUP_GAP = 10;

/** Grouped horizontal bars: one group per row, one bar per series, bars labelled with value and series. */
export function renderComparisonSvg(rows: ComparisonRow[], options: ComparisonOptions = {}): string {
  const width = Math.max(320, options.width ?? 720);
  const unit = options.unit ?? "";
  const asPercent = unit === "%";
  const format = (v: number) => !Number.isFinite(v) ? "n/a" : asPercent ? percent(v) : `${n(v)}${unit ? " " + unit : ""}`;
  const seriesNames: string[] = [];
  for (const row of rows) for (const s of row.series) if (!seriesNames.includes(s.name)) seriesNames.push(s.name);
  const tick = (v: number) => asPercent ? `${n(v * 100)}%` : format(v);
  const colour = (name: string) => SERIES_COLOURS[seriesNames.indexOf(name) % SERIES_COLOURS.length];

  const values = rows.flatMap((r) => r.series.map((s) => s.value)).filter(Number.isFinite);
  const max = asPercent ? Math.max(1, ...values) : niceCeil(Math.max(0, ...values));
  const longestLabel = Math.max(0, ...rows.map((r) => textWidth(r.label, 11)));
  const labelWidth = Math.min(Math.max(60, longestLabel + 8), width * 0.35);
  const longestValue = Math.max(0, ...rows.flatMap((r) => r.series.map((s) => textWidth(`${format(s.value)} ${s.name}`, 10))));
  const plotX = MARGIN + labelWidth;
  const plotWidth = Math.max(80, width - plotX - MARGIN - Math.min(longestValue + 8, width * 0.3));

  const title = options.title ?? "Comparison";
  const body: string[] = [`<text class="title" x="${MARGIN}" y="${MARGIN + 14}" font-size="15" font-weight="600" fill="#111">${esc(title)}</text>`];
  const legendItems = seriesNames.map((name) => ({ swatch: `<rect width="12" height="12" fill="${colour(name)}"/>`, label: name }));
  const leg = legend(legendItems, MARGIN, MARGIN + 24, width - MARGIN);
  body.push(...leg.svg);
  const plotTop = MARGIN + 24 + leg.height + AXIS_HEIGHT;
  const groupHeight = seriesNames.length * (BAR + BAR_GAP) - BAR_GAP;
  const plotHeight = rows.length * (groupHeight + GROUP_GAP) - (rows.length ? GROUP_GAP : 0);
  const height = plotTop + plotHeight + MARGIN;

  const grid: string[] = ['<g class="axis" font-size="10" fill="#666">'];
  for (let i = 0; i <= 4; i++) {
    const x = plotX + (plotWidth * i) / 4;
    grid.push(`<line x1="${n(x)}" y1="${n(plotTop - 2)}" x2="${n(x)}" y2="${n(plotTop + plotHeight)}" stroke="#DDD" stroke-width="1"/>`
      + `<text x="${n(x)}" y="${n(plotTop - 5)}" text-anchor="middle">${esc(tick((max * i) / 4))}</text>`);
  }
  grid.push("</g>");
  body.push(...grid);

  const bars: string[] = ['<g class="bars">'];
  rows.forEach((row, r) => {
    const y0 = plotTop + r * (groupHeight + GROUP_GAP);
    let shown = row.label;
    while (textWidth(shown, 11) > labelWidth - 8 && shown.length > 2) shown = shown.slice(0, -2) + "…";
    bars.push(`<text class="group-label" x="${n(plotX - 6)}" y="${n(y0 + groupHeight / 2 + 4)}" font-size="11" text-anchor="end" fill="#222">`
      + `${esc(shown)}<title>${esc(row.label)}</title></text>`);
    for (const s of row.series) {
      const y = y0 + seriesNames.indexOf(s.name) * (BAR + BAR_GAP);
      const w = Number.isFinite(s.value) ? Math.max(0, Math.min(1, s.value / max)) * plotWidth : 0;
      bars.push(`<rect data-label="${esc(row.label)}" data-series="${esc(s.name)}" data-value="${s.value}"`
        + ` x="${n(plotX)}" y="${n(y)}" width="${n(w)}" height="${BAR}" fill="${colour(s.name)}">`
        + `<title>${esc(`${row.label}, ${s.name}: ${format(s.value)}`)}</title></rect>`
        + `<text x="${n(plotX + w + 4)}" y="${n(y + BAR - 2)}" font-size="10" fill="#333">${esc(`${format(s.value)} ${s.name}`)}</text>`);
    }
  });
  bars.push("</g>");
  body.push(...bars);

  const label = `${title}: grouped bar chart, ${rows.length} groups (${rows.map((r) => r.label).join(", ")}),`
    + ` ${seriesNames.length} series (${seriesNames.join(", ")})${unit ? `, unit ${unit}` : ""}`;
  return svgRoot(width, height, label, body);
}
