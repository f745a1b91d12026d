// A speed chart drawn by hand: ns/op relative to TLSF on a log scale, bars
// growing left of the 1× line (faster) or right of it (slower), one group
// per workload, one bar per allocator. A log scale keeps 0.5× and 2× the
// same length, and a 280× outlier does not flatten everything else: bars are
// clipped at 1/8× and 8× (with an arrow) and labelled with the true value.

const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]; // Okabe-Ito
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const n = (x) => String(Math.round(x * 10) / 10);
const ratioText = (r) => (r >= 10 ? r.toFixed(0) : r.toFixed(2)) + "×";

/**
 * rows: [{ label, bars: [{ series, value }] }] (value: ratio, NaN = none).
 * Returns SVG text.
 */
export function ratioChart(rows, { title, series, width = 960, limit = 8 } = {}) {
  const margin = 12, labelWidth = 150, valueRoom = 56;
  const bar = 9, barGap = 2, groupGap = 10;
  const colour = (s) => PALETTE[series.indexOf(s) % PALETTE.length];
  const span = Math.log2(limit);
  const plotLeft = margin + labelWidth + valueRoom;
  const plotRight = width - margin - valueRoom;
  const mid = (plotLeft + plotRight) / 2;
  const perDoubling = (plotRight - mid) / span;
  const x = (r) => mid + Math.max(-span, Math.min(span, Math.log2(r))) * perDoubling;

  const body = [];
  body.push(`<text x="${margin}" y="${margin + 14}" font-size="15" font-weight="600" fill="#111">${esc(title)}</text>`);
  // Legend.
  let lx = margin, ly = margin + 26;
  for (const s of series) {
    const w = 16 + s.length * 7 + 18;
    if (lx + w > width - margin) { lx = margin; ly += 16; }
    body.push(`<g transform="translate(${n(lx)},${n(ly)})"><rect width="12" height="12" fill="${colour(s)}"/><text x="16" y="10" font-size="11" fill="#222">${esc(s)}</text></g>`);
    lx += w;
  }
  const axisY = ly + 44;
  const top = axisY + 6;
  const groupHeight = (g) => g.bars.length * (bar + barGap) - barGap;
  const height = top + rows.reduce((h, g) => h + groupHeight(g) + groupGap, 0) + margin;
  // Axis: ticks at powers of two.
  body.push('<g class="axis" font-size="10" fill="#666">');
  for (let e = -span; e <= span; e++) {
    const tx = mid + e * perDoubling;
    const label = e < 0 ? `1/${2 ** -e}×` : `${2 ** e}×`;
    body.push(`<line x1="${n(tx)}" y1="${n(axisY)}" x2="${n(tx)}" y2="${n(height - margin)}" stroke="${e === 0 ? "#888" : "#E4E4E4"}" stroke-width="1"/>` +
      `<text x="${n(tx)}" y="${n(axisY - 4)}" text-anchor="middle">${label}</text>`);
  }
  body.push(`<text x="${n(plotLeft)}" y="${n(axisY - 20)}" fill="#444">← faster than TLSF</text>`);
  body.push(`<text x="${n(plotRight)}" y="${n(axisY - 20)}" text-anchor="end" fill="#444">slower than TLSF →</text>`);
  body.push("</g>");
  // Bars.
  let y = top;
  body.push('<g class="bars">');
  for (const g of rows) {
    const h = groupHeight(g);
    body.push(`<text x="${margin + labelWidth - 6}" y="${n(y + h / 2 + 4)}" font-size="11" text-anchor="end" fill="#222">${esc(g.label)}</text>`);
    g.bars.forEach((b, i) => {
      const by = y + i * (bar + barGap);
      if (!Number.isFinite(b.value)) {
        body.push(`<text x="${n(mid + 4)}" y="${n(by + bar - 1)}" font-size="9" fill="#999">${esc(b.series)}: no result</text>`);
        return;
      }
      const end = x(b.value);
      const clipped = Math.abs(Math.log2(b.value)) > span;
      const x0 = Math.min(mid, end), w = Math.max(1, Math.abs(end - mid));
      body.push(`<rect data-workload="${esc(g.label)}" data-series="${esc(b.series)}" data-value="${b.value}" x="${n(x0)}" y="${n(by)}" width="${n(w)}" height="${bar}" fill="${colour(b.series)}">` +
        `<title>${esc(`${g.label}, ${b.series}: ${ratioText(b.value)} TLSF's ns/op`)}</title></rect>`);
      if (clipped) {
        const tip = b.value > 1 ? end + 5 : end - 5;
        body.push(`<path d="M${n(end)} ${n(by)} L${n(tip)} ${n(by + bar / 2)} L${n(end)} ${n(by + bar)} Z" fill="${colour(b.series)}"/>`);
      }
      const tx = b.value >= 1 ? end + (clipped ? 8 : 3) : end - (clipped ? 8 : 3);
      body.push(`<text x="${n(tx)}" y="${n(by + bar - 1)}" font-size="9" fill="#333"${b.value >= 1 ? "" : ' text-anchor="end"'}>${ratioText(b.value)}</text>`);
    });
    y += h + groupGap;
  }
  body.push("</g>");
  const label = `${title}: bars per workload and allocator, log scale, 1× = TLSF`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(label)}" viewBox="0 0 ${width} ${n(height)}" width="${width}" height="${n(height)}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
    `<title>${esc(label)}</title>`,
    `<rect width="${width}" height="${n(height)}" fill="#FFFFFF"/>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
