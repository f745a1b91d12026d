// The SVG renderer, on a small heap built by hand: every block drawn to scale, with data
// attributes and titles a page script or a screen reader can use; the comparison chart.
// Run after `npx tsc -p .`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { renderHeapSvg, renderComparisonSvg } from "../dist/render/svg.js";
import { textWidth, wrapParts } from "../dist/render/svg-parts.js";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { all } from "./host/xml.mjs";

const PAGE = 65536;
const NAME = 'tokens <b> & "c"';

const stats = {
  inUse: 112 + 1008 + 64 * 2 + 131056, peakInUse: 200000, live: 5, requested: 133000,
  mallocs: 9, frees: 4, callocs: 0, reallocs: 0, aligned: 0, failed: 0, grows: 2, grownPages: 5,
  errors: 0, reallocInPlace: 0, trimmedPages: 0, heapBytes: 5 * PAGE - 1024, memoryBytes: 5 * PAGE,
  heapBase: 1024, pages: 5,
};

const block = (address, size, state, layer, extra = {}) => ({
  address, size, state, layer,
  pointer: state === "in-use" ? address + (layer === "medium" ? 4 : layer === "large" ? 16 : 0) : 0,
  usable: state === "in-use" ? size - (layer === "medium" ? 4 : layer === "large" ? 16 : 0) : 0,
  ...extra,
});

/** Page 0: heap state and medium blocks; page 1: a slab; page 2: free pages; pages 3–4: one large run. */
function snapshot(overrides = {}) {
  const slots = [];
  for (let i = 0; i < 8; i++) slots.push(block(PAGE + 560 + 64 * i, 64, i % 4 === 0 ? "in-use" : "free", "slab"));
  return {
    policy: "segregated", heapStart: 1024, top: 5 * PAGE, pageSize: PAGE,
    blocks: [
      block(1024, 2560, "metadata", "state"),
      block(3596, 112, "in-use", "medium"),
      block(3708, 304, "free", "medium"),
      block(4012, 1008, "in-use", "medium", { name: NAME }),
      block(5020, 60512, "free", "medium"),
      block(PAGE, 560, "metadata", "slab-header"),
      ...slots,
      block(2 * PAGE, PAGE, "free", "pages"),
      block(3 * PAGE, 2 * PAGE, "in-use", "large"),
    ],
    freeLists: [
      { index: 3, blocks: [{ address: 3708, size: 304 }] },
      { index: 19, blocks: [{ address: 5020, size: 60512 }, { address: 3708, size: 304 }] },
      { index: 40, blocks: [{ address: 5020, size: 60512 }] },
    ],
    pageMap: [
      { page: 0, kind: "heap" }, { page: 1, kind: "slab" }, { page: 2, kind: "free" },
      { page: 3, kind: "large" }, { page: 4, kind: "large-tail" },
    ],
    stats, title: "hand-made heap", step: 7,
    ...overrides,
  };
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" });

function parse(svg) {
  assert.equal(XMLValidator.validate(svg), true, "the SVG is well-formed XML");
  return parser.parse(svg).svg;
}

const blockRects = (root) => all(root, "rect").filter((r) => r["data-block"] !== undefined);

function rectsByBlock(root) {
  const map = new Map();
  for (const r of blockRects(root)) {
    const list = map.get(Number(r["data-block"])) ?? [];
    list.push(r);
    map.set(Number(r["data-block"]), list);
  }
  return map;
}

test("the heap picture is well-formed SVG with role, label, namespace and viewBox", () => {
  const root = parse(renderHeapSvg(snapshot()));
  assert.equal(root.xmlns, "http://www.w3.org/2000/svg");
  assert.equal(root.role, "img");
  assert.match(root["aria-label"], /segregated/);
  assert.match(root["aria-label"], /5 pages/);
  const [, , w, h] = root.viewBox.split(" ").map(Number);
  assert.equal(Number(root.width), w);
  assert.equal(Number(root.height), h);
});

test("every block has one set of rects, and their widths are to scale", () => {
  const snap = snapshot();
  const byBlock = rectsByBlock(parse(renderHeapSvg(snap, { width: 1000 })));
  assert.deepEqual([...byBlock.keys()], snap.blocks.map((b) => b.address));
  const width = (rects) => rects.reduce((sum, r) => sum + Number(r.width), 0);
  const pxPerByte = width(byBlock.get(2 * PAGE)) / PAGE;
  for (const b of snap.blocks) {
    assert.ok(Math.abs(width(byBlock.get(b.address)) - b.size * pxPerByte) < 0.02, `block ${b.address} is to scale`);
  }
  // Positions too: the distance between two blocks of a row is their address distance.
  const x = (address) => Number(byBlock.get(address)[0].x);
  assert.ok(Math.abs(x(5020) - x(3596) - (5020 - 3596) * pxPerByte) < 0.02);
});

test("a block crossing pages is one rect per page row, all with the same attributes", () => {
  const rects = rectsByBlock(parse(renderHeapSvg(snapshot()))).get(3 * PAGE);
  assert.equal(rects.length, 2);
  assert.notEqual(rects[0].y, rects[1].y);
  for (const key of ["data-block", "data-state", "data-layer", "data-size", "title"]) assert.equal(rects[0][key], rects[1][key]);
});

test("data-state, data-layer and data-size match the blocks", () => {
  const snap = snapshot();
  const byBlock = rectsByBlock(parse(renderHeapSvg(snap)));
  for (const b of snap.blocks) {
    for (const r of byBlock.get(b.address)) {
      assert.equal(r["data-state"], b.state);
      assert.equal(r["data-layer"], b.layer);
      assert.equal(Number(r["data-size"]), b.size);
    }
  }
});

test("each block's title gives its hex address, state, layer and size", () => {
  const snap = snapshot();
  const byBlock = rectsByBlock(parse(renderHeapSvg(snap)));
  for (const b of snap.blocks) {
    const title = byBlock.get(b.address)[0].title;
    assert.ok(title.startsWith(`0x${b.address.toString(16)} ${b.state} ${b.layer}`), title);
    assert.ok(title.includes(`${b.size} bytes`), title);
  }
  assert.equal(byBlock.get(3596)[0].title, "0xe0c in-use medium, 112 bytes (usable 108)");
});

test("blocks narrower than a pixel still get a rect of at least 0.5px", () => {
  const byBlock = rectsByBlock(parse(renderHeapSvg(snapshot(), { width: 320 })));
  const slot = byBlock.get(PAGE + 560);
  assert.equal(slot.length, 1);
  assert.ok(Number(slot[0].width) >= 0.5);
});

test("a name with < & \" is escaped and comes back intact", () => {
  const svg = renderHeapSvg(snapshot({ title: 'heap <"&">', policy: "first & <best>" }));
  assert.ok(!svg.includes(NAME), "the raw name never appears unescaped");
  const root = parse(svg);
  const title = rectsByBlock(root).get(4012)[0].title;
  assert.equal(title, `0xfac in-use medium, 1008 bytes (usable 1004) "${NAME}"`);
  assert.match(root["aria-label"], /heap <"&">/);
});

test("free-list links are drawn only when asked, one per consecutive pair", () => {
  const snap = snapshot();
  assert.equal(all(parse(renderHeapSvg(snap)), "path").filter((p) => p["data-list"] !== undefined).length, 0);
  const root = parse(renderHeapSvg(snap, { showFreeLinks: true }));
  const group = all(root, "g").find((g) => g.class === "free-links");
  assert.ok(group, "a <g class=\"free-links\">");
  const links = [group.path].flat();
  assert.equal(links.length, 1);
  assert.deepEqual([links[0]["data-list"], links[0]["data-from"], links[0]["data-to"]], ["19", "5020", "3708"]);
});

test("highlight outlines the block holding the address, found by payload pointer too", () => {
  const marked = (svg) => all(parse(svg), "g").filter((g) => g.class === "highlight").map((g) => Number(g["data-highlight"]));
  assert.deepEqual(marked(renderHeapSvg(snapshot(), { highlight: 4016 })), [4012]);
  assert.deepEqual(marked(renderHeapSvg(snapshot(), { highlight: 4 * PAGE + 100 })), [3 * PAGE]);
  assert.deepEqual(marked(renderHeapSvg(snapshot())), []);
});

test("one row per page, with the page map's kind in the gutter", () => {
  const pages = all(parse(renderHeapSvg(snapshot())), "g").filter((g) => g.class === "page");
  assert.deepEqual(pages.map((g) => [Number(g["data-page"]), g["data-kind"]]),
    [[0, "heap"], [1, "slab"], [2, "free"], [3, "large"], [4, "large-tail"]]);
});

/** The summary's lines, top to bottom, with their baselines. */
function summaryLines(root) {
  const stats = all(root, "text").find((t) => t.class === "stats");
  return [stats.tspan].flat().map((t) => ({ text: String(t["#text"]), x: Number(t.x), y: Number(t.y) }));
}

const firstRowY = (root) => Math.min(...blockRects(root).map((r) => Number(r.y)));

test("header shows title, policy, step and stats", () => {
  const root = parse(renderHeapSvg(snapshot()));
  const texts = all(root, "text");
  const title = texts.find((t) => t.class === "title");
  assert.equal(title["#text"], "hand-made heap");
  assert.equal(title.tspan["#text"], "policy segregated · step 7");
  const lines = summaryLines(root);
  assert.equal(lines.length, 1, "at 960 px the summary is one line");
  for (const part of ["in use", "in 5 blocks", "free", "peak", "5 pages", "utilization"]) assert.ok(lines[0].text.includes(part), lines[0].text);
});

test("the summary wraps between its parts to fit a narrow picture, and reads the same", () => {
  const whole = summaryLines(parse(renderHeapSvg(snapshot(), { width: 4000 })));
  assert.equal(whole.length, 1);
  for (const width of [320, 480, 600]) {
    const root = parse(renderHeapSvg(snapshot(), { width }));
    const lines = summaryLines(root);
    assert.ok(lines.length > 1, `${lines.length} lines at ${width} px`);
    assert.equal(lines.map((l) => l.text).join(" "), whole[0].text, "the lines joined are the one-line summary");
    for (const [i, line] of lines.entries()) {
      assert.ok(textWidth(line.text, 12) <= width - 24, `line ${i} "${line.text}" fits ${width} px`);
      if (i > 0) assert.ok(line.y > lines[i - 1].y && line.x === lines[0].x, "each line under the one before");
    }
    assert.ok(firstRowY(root) > lines.at(-1).y, "the rows start below the last line");
  }
});

test("wrapParts breaks between parts, and between words only in a part too long for a line", () => {
  const parts = ["in use 1 KiB", "free 2 KiB in 3 blocks", "peak 4 KiB"];
  assert.deepEqual(wrapParts(parts, 10_000, 12), ["in use 1 KiB · free 2 KiB in 3 blocks · peak 4 KiB"]);
  const narrow = wrapParts(parts, textWidth("free 2 KiB in 3 blocks ·", 12), 12);
  assert.deepEqual(narrow, ["in use 1 KiB ·", "free 2 KiB in 3 blocks ·", "peak 4 KiB"]);
  const tiny = wrapParts(parts, textWidth("free 2 KiB ·", 12), 12);
  assert.equal(tiny.join(" "), parts.join(" · "));
  assert.ok(tiny.includes("free 2 KiB") && tiny.every((l) => textWidth(l, 12) <= textWidth("free 2 KiB ·", 12)), tiny.join(" | "));
});

test("the subtitle goes under a title too long to share its line", () => {
  const long = "a trace with a rather long name, replayed to see where it went wrong.rep";
  const root = parse(renderHeapSvg(snapshot({ title: long }), { width: 600 }));
  const title = all(root, "text").find((t) => t.class === "title");
  assert.equal(title.tspan["#text"], "policy segregated · step 7");
  assert.ok(Number(title.tspan.y) > Number(title.y), "the subtitle is a line of its own");
  assert.ok(summaryLines(root)[0].y > Number(title.tspan.y), "and the summary under it");
  const header = all(root, "g").find((g) => g.class === "header");
  assert.equal(Number(header["data-lines"]), 2 + summaryLines(root).length);
});

test("headerLines keeps room for more lines than the snapshot needs: the rows stay put", () => {
  const plain = parse(renderHeapSvg(snapshot()));
  assert.equal(Number(all(plain, "g").find((g) => g.class === "header")["data-lines"]), 2);
  const roomy = parse(renderHeapSvg(snapshot(), { headerLines: 4 }));
  assert.equal(Number(all(roomy, "g").find((g) => g.class === "header")["data-lines"]), 2, "data-lines counts the lines drawn");
  assert.equal(firstRowY(roomy) - firstRowY(plain), 2 * 17, "two lines of room more");
  assert.equal(firstRowY(parse(renderHeapSvg(snapshot(), { headerLines: 1 }))), firstRowY(plain), "never less than the lines drawn");
});

test("same input, same string", () => {
  const opts = { showFreeLinks: true, highlight: 3596, width: 800 };
  assert.equal(renderHeapSvg(snapshot(), opts), renderHeapSvg(snapshot(), opts));
  const rows = [{ label: "a", series: [{ name: "x", value: 0.5 }] }];
  assert.equal(renderComparisonSvg(rows, { unit: "%" }), renderComparisonSvg(rows, { unit: "%" }));
});

const comparison = [
  { label: "amptjp-bal.rep", series: [{ name: "first", value: 0.96 }, { name: "best", value: 0.991 }, { name: "segregated", value: 0.991 }] },
  { label: "binary <&\"> trace", series: [{ name: "first", value: 0.517 }, { name: "best", value: 0.517 }, { name: "segregated", value: 0.5 }] },
  { label: "short1-bal.rep", series: [{ name: "first", value: 0.126 }, { name: "segregated", value: 0 }] },
];

test("the comparison chart has one bar per (label, series) with its value", () => {
  const root = parse(renderComparisonSvg(comparison, { title: "Utilization", unit: "%" }));
  assert.equal(root.role, "img");
  assert.match(root["aria-label"], /Utilization/);
  const bars = all(root, "rect").filter((r) => r["data-series"] !== undefined);
  const expected = comparison.flatMap((r) => r.series.map((s) => [r.label, s.name, s.value]));
  assert.deepEqual(bars.map((b) => [b["data-label"], b["data-series"], Number(b["data-value"])]), expected);
  for (const b of bars) assert.ok(b.title.includes(b["data-label"]) && b.title.includes(b["data-series"]), b.title);
  assert.equal(bars[0].title, "amptjp-bal.rep, first: 96.0%");
});

test("comparison bars are proportional to their values, and the legend names every series", () => {
  const root = parse(renderComparisonSvg(comparison, { unit: "%" }));
  const bars = all(root, "rect").filter((r) => r["data-series"] !== undefined);
  const full = Number(bars[1].width) / 0.991;
  for (const b of bars) assert.ok(Math.abs(Number(b.width) - Number(b["data-value"]) * full) < 0.02);
  const legend = all(root, "g").find((g) => g.class === "legend");
  assert.deepEqual(all(legend, "text").map((t) => t["#text"] ?? t), ["first", "best", "segregated"]);
});

// ── The README's pictures are whole ─────────────────────────────────────────
// docs/render.mjs screenshots each SVG in Chromium; a screenshot cut at the
// viewport once showed 4 of example-heap's 9 rows. Each PNG must be its SVG's size.
{
  const pngSize = (file) => {
    const bytes = fs.readFileSync(file);
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  };
  const svgSize = (text) => {
    const root = /<svg\b[^>]*>/.exec(text)[0];
    return { width: Math.ceil(Number(/\swidth="([\d.]+)"/.exec(root)[1])), height: Math.ceil(Number(/\sheight="([\d.]+)"/.exec(root)[1])) };
  };
  for (const name of ["short-first-at-10", "compare-no-slabs"]) {
    test(`docs/${name}.png is the whole of docs/${name}.svg`, () => {
      assert.deepEqual(pngSize(`docs/${name}.png`), svgSize(fs.readFileSync(`docs/${name}.svg`, "utf8")));
    });
  }
  test("docs/example-heap.png is the whole of the built-in example's map", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-pictures-"));
    const out = path.join(dir, "example.svg");
    const run = spawnSync(process.execPath, ["dist/cli.js", "map", "--out", out], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(pngSize("docs/example-heap.png"), svgSize(fs.readFileSync(out, "utf8")));
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
