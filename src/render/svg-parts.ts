// The pieces every SVG picture here shares: escaping, number and byte formats, a rough
// text width for layout (no DOM to measure with), wrapping, legends and the root element.
// Pure functions, no DOM and no Node APIs, like the pictures themselves.

/** Space around a picture's content. */
export const MARGIN = 12;
/** Height of an axis' labels above or below a plot. */
export const AXIS_HEIGHT = 16;
const LEGEND_ROW = 18;

// Formatting is done by hand, never with toLocaleString: the same input must give the same
// bytes on every machine.

// Attributes are always double-quoted, so these four are all that need escaping.
const escapeMap: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
export function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => escapeMap[c]);
}

/** Coordinates with at most 2 decimals keep the text short and stable. */
export function n(value: number): string {
  const r = Math.round(value * 100) / 100;
  return String(r === 0 ? 0 : r);
}

export function hex(address: number): string {
  return "0x" + (address >>> 0).toString(16);
}

export function bytes(count: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = count;
  let u = 0;
  while (value >= 1024 && u < units.length - 1) { value /= 1024; u++; }
  const text = u === 0 ? String(Math.round(value)) : value.toFixed(1).replace(/\.?0+$/, "");
  return `${text} ${units[u]}`;
}

export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

// Advance widths in em, each class rounded up from DejaVu Sans, the widest of the fonts
// "system-ui, sans-serif" usually is (Segoe UI, San Francisco, Helvetica, Arial, Noto Sans and
// Cantarell are narrower): text laid out by these fits wherever the picture is opened.
// Other letters and digits: 0.64 em (DejaVu's digits are 0.636); anything else: 1 em.
const EM_CLASSES: [string, number][] = [
  ["ijlIJ'|!", 0.3],
  [" .,:;·", 0.34],
  ["frt()[]{}/\\-", 0.4],
  ['"_', 0.52],
  ["ABCDGHKNOQRUVXZ&", 0.8],
  ["+<>=#~→", 0.84],
  ["mwMW%…@", 1],
];
const EM = new Map(EM_CLASSES.flatMap(([chars, width]) => [...chars].map((c) => [c, width] as const)));
const PLAIN = /[A-Za-z0-9]/;
/** Bold (600) DejaVu Sans is up to this much wider. */
const BOLD = 1.12;

/** Text width for layout, at most a little more than drawn: there is no DOM here to measure with. */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) em += EM.get(c) ?? (PLAIN.test(c) ? 0.64 : 1);
  return em * fontSize * (bold ? BOLD : 1);
}

/**
 * `parts` joined by " · " into lines no wider than `maxWidth` (by textWidth): breaks go
 * between parts, each broken line ending in " ·" so the lines still read as one list, and
 * between words only for a part too wide for a line of its own. Joining the lines with a
 * space gives back parts.join(" · ").
 */
export function wrapParts(parts: string[], maxWidth: number, fontSize: number): string[] {
  const fits = (text: string) => textWidth(text, fontSize) <= maxWidth;
  const lines: string[] = [];
  let line = "";
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    const joined = line ? `${line} · ${part}` : part;
    if (fits(last ? joined : `${joined} ·`)) { line = joined; return; }
    if (line) lines.push(`${line} ·`);
    line = "";
    for (const word of part.split(" ")) {
      const next = line ? `${line} ${word}` : word;
      if (!line || fits(last ? next : `${next} ·`)) line = next;
      else { lines.push(line); line = word; }
    }
  });
  if (line) lines.push(line);
  return lines;
}

export function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

export function svgRoot(width: number, height: number, label: string, body: string[], role = "img"): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="${role}" aria-label="${esc(label)}" viewBox="0 0 ${n(width)} ${n(height)}"`
      + ` width="${n(width)}" height="${n(height)}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
    `<title>${esc(label)}</title>`,
    `<rect class="background" width="${n(width)}" height="${n(height)}" fill="#FFFFFF"/>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

/**
 * Legend items laid out left to right, wrapping at `right`; returns the markup and the height
 * used. An item's `widest` label, when given, is the one its room is measured by: a legend whose
 * labels carry changing values keeps its layout.
 */
export function legend(items: { swatch: string; label: string; widest?: string }[], x0: number, y0: number, right: number): { svg: string[]; height: number } {
  const svg: string[] = ['<g class="legend" font-size="11">'];
  let x = x0;
  let y = y0;
  for (const item of items) {
    const w = 16 + textWidth(item.widest ?? item.label, 11) + 14;
    if (x + w > right && x > x0) { x = x0; y += LEGEND_ROW; }
    svg.push(`<g transform="translate(${n(x)},${n(y)})">${item.swatch}<text x="16" y="10" fill="#222">${esc(item.label)}</text></g>`);
    x += w;
  }
  svg.push("</g>");
  return { svg, height: y - y0 + LEGEND_ROW };
}

/** 1, 2, 2.5 or 5 times a power of ten, at least `value`: axis ends on a round number. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
