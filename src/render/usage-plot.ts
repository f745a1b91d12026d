// A plot of a trace's utilization and fragmentation over its operations (the series of
// src/usage-series.ts), with one step marked: plain data in, SVG text out, like svg.ts.
//
// x: operations 0 … total; y: 0 … 100 %. One polyline per curve, one vertex per point of
// the series, so a page script (or a test) reads the values back from the coordinates of
// the plot area (rect.plot-area: x, y, width, height, data-total). The marker is a vertical
// line at its step with a dot on each curve at the value it is given, which the page takes
// from its heap at that step: exact even between two sampled points.

import type { UsagePoint, UsageSeries } from "../usage-series.js";
import { OKABE_ITO } from "./palette.js";
import { MARGIN, esc, legend, n, niceCeil, percent, svgRoot, textWidth, wrapParts } from "./svg-parts.js";

export type UsageCurve = "payloadUtilization" | "utilization" | "fragmentation";

/**
 * The curves, in the legend's order; colour, dash and width each tell them apart. In use is
 * never below payload and often just above it: it is drawn first, wide and light, so the
 * payload line on top of it stays visible.
 */
export const USAGE_CURVES: readonly { key: UsageCurve; label: string; colour: string; dash?: string; width: number; opacity?: number }[] = [
  { key: "payloadUtilization", label: "payload / heap", colour: OKABE_ITO.blue, width: 1.5 },
  { key: "utilization", label: "in use / heap", colour: OKABE_ITO.bluishGreen, dash: "6 3", width: 3, opacity: 0.6 },
  { key: "fragmentation", label: "fragmentation", colour: OKABE_ITO.vermillion, dash: "2 2", width: 1.5 },
];
const DRAWING_ORDER: readonly UsageCurve[] = ["utilization", "payloadUtilization", "fragmentation"];

function strokeOf(c: (typeof USAGE_CURVES)[number], width = c.width): string {
  return ` stroke="${c.colour}" stroke-width="${width}"${c.dash ? ` stroke-dasharray="${c.dash}"` : ""}${c.opacity ? ` stroke-opacity="${c.opacity}"` : ""}`;
}

export interface UsagePlotOptions {
  /** Width of the picture in px (default 720). */
  width?: number;
  /** Default "Utilization and fragmentation". */
  title?: string;
  /** The step to mark and the figures of the heap at that step. */
  marker?: Pick<UsagePoint, "step" | UsageCurve>;
}

const TITLE_SIZE = 13;
const CAPTION_SIZE = 11;
const CAPTION_LINE = 15;
const AXIS_SIZE = 10;
/** Room left of the plot for "100%". */
const Y_LABELS = 30;
const PLOT_HEIGHT = 100;

/** "0", "5000", "10000": plain digits, the same on every machine. */
function ticks(total: number): number[] {
  if (total <= 0) return [0];
  // Whole operations: 2.5 becomes 3.
  const step = Math.ceil(niceCeil(total / 5));
  const out = [];
  for (let t = 0; t <= total; t += step) out.push(t);
  return out;
}

function caption(series: UsageSeries): string[] {
  const { total, stride, points, complete } = series;
  const parts = [`${total} operation${total === 1 ? "" : "s"}`, stride > 1 ? `a point every ${stride} operations` : "a point per operation"];
  const last = points[points.length - 1];
  if (!complete) parts.push(`replaying: ${last?.step ?? 0} of ${total} done`);
  else if (last && last.heapBytes > 0) parts.push(`peak payload / heap ${percent(series.peakLivePayload / last.heapBytes)}`);
  return parts;
}

/** Utilization and fragmentation against operations, with `options.marker`'s step marked. */
export function renderUsagePlotSvg(series: UsageSeries, options: UsagePlotOptions = {}): string {
  const width = Math.max(320, options.width ?? 720);
  const title = options.title ?? "Utilization and fragmentation";
  const { total, points, marker } = { ...series, marker: options.marker };
  const room = width - 2 * MARGIN;

  const body = [`<text class="title" x="${MARGIN}" y="${MARGIN + TITLE_SIZE}" font-size="${TITLE_SIZE}" font-weight="600" fill="#111">${esc(title)}</text>`];
  const lines = wrapParts(caption(series), room, CAPTION_SIZE);
  const captionTop = MARGIN + TITLE_SIZE + CAPTION_LINE;
  body.push(`<text class="caption" font-size="${CAPTION_SIZE}" fill="#444">`
    + lines.map((line, i) => `<tspan x="${MARGIN}" y="${n(captionTop + i * CAPTION_LINE)}">${esc(line)}</tspan>`).join(" ") + "</text>");

  // Labels carry the marked values; their room is that of "100.0%", so the layout holds still.
  const items = USAGE_CURVES.map((c) => ({
    swatch: `<line x1="0" y1="6" x2="12" y2="6"${strokeOf(c, Math.max(2.5, c.width))}/>`,
    label: marker ? `${c.label} ${percent(marker[c.key])}` : c.label,
    widest: `${c.label} 100.0%`,
  }));
  const legendTop = captionTop + (lines.length - 1) * CAPTION_LINE + 8;
  const leg = legend(items, MARGIN, legendTop, width - MARGIN);
  body.push(...leg.svg);

  const plotX = MARGIN + Y_LABELS;
  const plotWidth = width - plotX - MARGIN;
  const plotTop = legendTop + leg.height + 6;
  const xOf = (step: number) => plotX + (total > 0 ? (step / total) * plotWidth : 0);
  const yOf = (value: number) => plotTop + (1 - Math.max(0, Math.min(1, value))) * PLOT_HEIGHT;

  const axes = [`<g class="axis" font-size="${AXIS_SIZE}" fill="#666">`];
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    axes.push(`<line x1="${n(plotX)}" y1="${n(yOf(v))}" x2="${n(plotX + plotWidth)}" y2="${n(yOf(v))}" stroke="${v === 0 ? "#999" : "#E4E4E4"}" stroke-width="1"/>`
      + `<text x="${n(plotX - 4)}" y="${n(yOf(v) + 3.5)}" text-anchor="end">${v * 100}%</text>`);
  }
  const labelY = plotTop + PLOT_HEIGHT + 13;
  for (const t of ticks(total)) {
    const x = xOf(t);
    const half = textWidth(String(t), AXIS_SIZE) / 2;
    const anchor = x + half > width - 2 ? "end" : "middle";
    axes.push(`<line x1="${n(x)}" y1="${n(plotTop + PLOT_HEIGHT)}" x2="${n(x)}" y2="${n(plotTop + PLOT_HEIGHT + 3)}" stroke="#999"/>`
      + `<text x="${n(x)}" y="${n(labelY)}" text-anchor="${anchor}">${t}</text>`);
  }
  axes.push("</g>");
  body.push(...axes);

  body.push(`<g class="curves" fill="none" stroke-linejoin="round" data-total="${total}" data-stride="${series.stride}" data-points="${points.length}">`);
  for (const key of DRAWING_ORDER) {
    const c = USAGE_CURVES.find((curve) => curve.key === key)!;
    const vertices = points.map((p) => `${n(xOf(p.step))},${n(yOf(p[key]))}`).join(" ");
    body.push(`<polyline data-curve="${key}" points="${vertices}"${strokeOf(c)}/>`);
  }
  body.push("</g>");

  if (marker) {
    const x = xOf(Math.max(0, Math.min(total, marker.step)));
    body.push(`<g class="marker" data-step="${marker.step}">`
      + `<line x1="${n(x)}" y1="${n(plotTop - 3)}" x2="${n(x)}" y2="${n(plotTop + PLOT_HEIGHT)}" stroke="#111" stroke-width="1.5"/>`
      + USAGE_CURVES.map((c) => `<circle data-curve="${c.key}" data-value="${marker[c.key]}" cx="${n(x)}" cy="${n(yOf(marker[c.key]))}" r="3.5"`
        + ` fill="${c.colour}" stroke="#FFFFFF" stroke-width="1"/>`).join("")
      + "</g>");
  }
  // On top of everything, invisible: where a click picks an operation.
  body.push(`<rect class="plot-area" data-total="${total}" x="${n(plotX)}" y="${n(plotTop)}" width="${n(plotWidth)}" height="${PLOT_HEIGHT}"`
    + ` fill="#000000" fill-opacity="0"><title>operations 0 to ${total}</title></rect>`);

  const height = labelY + 4 + MARGIN;
  const at = marker
    ? `; at operation ${marker.step}: ${USAGE_CURVES.map((c) => `${c.label} ${percent(marker[c.key])}`).join(", ")}`
    : "";
  const label = `${title}: ${USAGE_CURVES.map((c) => c.label).join(", ")} over ${total} operations, ${points.length} points${at}`;
  return svgRoot(width, height, label, body);
}
