// Utilization and fragmentation over a trace (src/usage-series.ts) and its plot
// (src/render/usage-plot.ts). Each point must be what stats() says of a heap replayed to
// that step on its own, its live payload what walk() says the live blocks asked for, and
// the end what `replay` reports; the plot must put every point where its value is.
// Run after `node tools/build.mjs js`.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { Heap, churnTrace, parseTrace, replay } from "../dist/index.js";
import { UsageRecorder, recordUsage, usageStride } from "../dist/usage-series.js";
import { USAGE_CURVES, renderUsagePlotSvg } from "../dist/render/usage-plot.js";
import { textWidth } from "../dist/render/svg-parts.js";
import { tracePlaces, tracesDir } from "./host/traces.mjs";
import { all } from "./host/xml.mjs";

const TRACE = churnTrace(240, 5);
const CURVES = ["payloadUtilization", "utilization", "fragmentation"];
const ALLOCATORS = [
  { name: "segregated fit, slabs", options: { policy: "segregated", slabs: true } },
  { name: "first fit, no slabs", options: { policy: "first", slabs: false } },
  { name: "buddy engine", options: { engine: "buddy" } },
];

/** What a heap replayed to `step` on its own says: stats(), and the payload of walk()'s live blocks. */
async function independent(options, trace, step) {
  const heap = await Heap.create(options);
  replay(heap, trace, { limit: step });
  const stats = heap.stats();
  const livePayload = heap.walk().filter((b) => b.state === "in-use").reduce((sum, b) => sum + b.payload, 0);
  return { stats, livePayload };
}

for (const { name, options } of ALLOCATORS) {
  test(`${name}: every point is stats() of a heap replayed to its step, its payload walk()'s`, async () => {
    const series = recordUsage(await Heap.create(options), TRACE, { maxPoints: TRACE.ops.length });
    assert.equal(series.stride, 1);
    assert.deepEqual(series.points.map((p) => p.step), Array.from({ length: TRACE.ops.length + 1 }, (_, i) => i));
    let busy = 0;
    for (const point of series.points) {
      const { stats, livePayload } = await independent(options, TRACE, point.step);
      const where = `step ${point.step}`;
      assert.equal(point.livePayload, livePayload, `${where}: live payload`);
      assert.equal(point.inUse, stats.inUse, `${where}: in use`);
      assert.equal(point.heapBytes, stats.heapBytes, `${where}: heap bytes`);
      assert.equal(point.utilization, stats.utilization, `${where}: utilization`);
      assert.equal(point.fragmentation, stats.fragmentation, `${where}: fragmentation`);
      assert.equal(point.payloadUtilization, livePayload / stats.heapBytes, `${where}: payload / heap`);
      assert.ok(point.payloadUtilization <= point.utilization, `${where}: no more payload than usable bytes`);
      if (point.fragmentation > 0) busy++;
    }
    assert.ok(busy > 10, `the trace fragments the heap at some steps (${busy})`);
    assert.ok(series.complete);
  });
}

test("a long trace is sampled: a point every stride operations, the last at the end, each the unsampled value", async () => {
  const every = recordUsage(await Heap.create(), TRACE, { maxPoints: TRACE.ops.length });
  const sampled = recordUsage(await Heap.create(), TRACE, { maxPoints: 40 });
  const stride = Math.ceil(TRACE.ops.length / 40);
  assert.equal(sampled.stride, stride);
  const steps = [];
  for (let s = 0; s < TRACE.ops.length; s += stride) steps.push(s);
  steps.push(TRACE.ops.length);
  assert.deepEqual(sampled.points.map((p) => p.step), steps);
  assert.ok(sampled.points.length <= 40 + 1);
  for (const point of sampled.points) assert.deepEqual(point, every.points[point.step]);
  assert.equal(sampled.peakLivePayload, every.peakLivePayload, "the peak counts every operation, sampled or not");
});

test("usageStride: at most maxPoints + 1 points, and a maxPoints that is not a whole number >= 1 is refused", () => {
  assert.equal(usageStride(0), 1);
  assert.equal(usageStride(500, 500), 1);
  assert.equal(usageStride(501, 500), 2);
  assert.equal(usageStride(24000), 48);
  for (const bad of [0, -1, 1.5, NaN]) assert.throws(() => usageStride(10, bad), /maxPoints .* is not a whole number of at least 1/);
});

test("advance stops at its deadline and goes on where it stopped: the same series as in one go", async () => {
  const whole = recordUsage(await Heap.create(), TRACE, { maxPoints: 50 });
  const recorder = new UsageRecorder(await Heap.create(), TRACE, { maxPoints: 50 });
  let now = 0;
  const clock = () => ++now;
  let calls = 0;
  while (!recorder.advance(now, clock)) {
    calls++;
    const partial = recorder.series();
    assert.equal(partial.complete, false);
    assert.equal(partial.points.length, calls + 1, "one point per slice: the clock passed the deadline at once");
  }
  assert.equal(calls, whole.points.length - 2);
  assert.deepEqual(recorder.series(), whole);
});

test("a trace that cannot go on: advance throws its TraceError, and the points before it stay", async () => {
  // Made by hand: parseTrace would refuse it. An allocation that fails stops a replay the same way.
  const ops = [["a", 0, 100], ["a", 1, 200], ["f", 0, 0], ["f", 7, 0]].map(([kind, id, size], i) => ({ kind, id, size, line: i + 5 }));
  const trace = { file: "broken.rep", suggestedHeapSize: 0, ids: 2, weight: 1, ops };
  const recorder = new UsageRecorder(await Heap.create(), trace);
  assert.throws(() => recorder.advance(), { name: "TraceError", message: /broken\.rep:8: free of id 7, which is not live/ });
  const series = recorder.series();
  assert.equal(series.complete, false);
  assert.deepEqual(series.points.map((p) => [p.step, p.livePayload]), [[0, 0], [1, 100], [2, 300], [3, 200]]);
});

test("an empty trace is one point at step 0, complete", async () => {
  const series = recordUsage(await Heap.create(), { file: "empty.rep", suggestedHeapSize: 0, ids: 0, weight: 1, ops: [] });
  assert.equal(series.complete, true);
  assert.deepEqual(series.points.map((p) => [p.step, p.livePayload, p.payloadUtilization]), [[0, 0, 0]]);
  const svg = renderUsagePlotSvg(series, { marker: { step: 0, ...pick(series.points[0]) } });
  assert.equal(XMLValidator.validate(svg), true);
  assert.ok(!svg.includes("NaN") && !svg.includes("Infinity"), "no NaN in an empty plot");
});

const sampleTraces = tracesDir();
test("at the end, peak payload / heap bytes is replay()'s utilization, on a sample trace", { skip: sampleTraces ? false : `no traces in ${tracePlaces()}` }, async () => {
  const file = path.join(sampleTraces, "amptjp-bal.rep");
  const trace = parseTrace(fs.readFileSync(file, "utf8"), file);
  const series = recordUsage(await Heap.create(), trace);
  const replayed = replay(await Heap.create(), trace);
  assert.equal(series.stride, Math.ceil(trace.ops.length / 500));
  assert.equal(series.peakLivePayload, replayed.peakLivePayload);
  assert.equal(series.points.at(-1).heapBytes, replayed.heapBytes);
  assert.equal(series.peakLivePayload / series.points.at(-1).heapBytes, replayed.utilization);
});

// ── The plot ────────────────────────────────────────────────────────────────

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" });
const pick = (p) => Object.fromEntries(CURVES.map((k) => [k, p[k]]));

function parsePlot(svg) {
  assert.equal(XMLValidator.validate(svg), true, "the plot is well-formed XML");
  const root = parser.parse(svg).svg;
  const area = all(root, "rect").find((r) => r.class === "plot-area");
  const box = { x: Number(area.x), y: Number(area.y), width: Number(area.width), height: Number(area.height), total: Number(area["data-total"]) };
  const curves = Object.fromEntries(all(root, "polyline").map((p) => [p["data-curve"],
    String(p.points).split(" ").filter(Boolean).map((xy) => xy.split(",").map(Number))]));
  return { root, box, curves };
}

test("the plot has one vertex per point on each curve, at its step and value", async () => {
  const series = recordUsage(await Heap.create(), TRACE, { maxPoints: 60 });
  const { root, box, curves } = parsePlot(renderUsagePlotSvg(series, { width: 640 }));
  assert.equal(root.role, "img");
  assert.match(root["aria-label"], /payload \/ heap, in use \/ heap, fragmentation over \d+ operations/);
  assert.equal(box.total, TRACE.ops.length);
  assert.deepEqual(Object.keys(curves).sort(), [...CURVES].sort());
  for (const key of CURVES) {
    assert.equal(curves[key].length, series.points.length, `${key}: one vertex per point`);
    series.points.forEach((p, i) => {
      const [x, y] = curves[key][i];
      assert.ok(Math.abs(box.x + (p.step / box.total) * box.width - x) < 0.01, `${key} vertex ${i} at step ${p.step}`);
      assert.ok(Math.abs((1 - (y - box.y) / box.height) - p[key]) < 1e-3, `${key} at step ${p.step}: ${p[key]}`);
    });
  }
});

test("the marker stands at its step with a dot per curve at the value given, and the legend says them", async () => {
  const series = recordUsage(await Heap.create(), TRACE, { maxPoints: 60 });
  const at = series.points[7];
  const { root, box } = parsePlot(renderUsagePlotSvg(series, { width: 640, marker: { step: at.step, ...pick(at) } }));
  const marker = all(root, "g").find((g) => g.class === "marker");
  assert.equal(Number(marker["data-step"]), at.step);
  const x = box.x + (at.step / box.total) * box.width;
  assert.ok(Math.abs(Number(marker.line.x1) - x) < 0.01);
  for (const dot of marker.circle) {
    assert.equal(Number(dot["data-value"]), at[dot["data-curve"]]);
    assert.ok(Math.abs(Number(dot.cx) - x) < 0.01 && Math.abs(Number(dot.cy) - (box.y + (1 - at[dot["data-curve"]]) * box.height)) < 0.01);
  }
  const legend = all(all(root, "g").find((g) => g.class === "legend"), "text").map((t) => String(t["#text"]));
  assert.deepEqual(legend, USAGE_CURVES.map((c) => `${c.label} ${(at[c.key] * 100).toFixed(1)}%`));
  const later = parsePlot(renderUsagePlotSvg(series, { width: 640, marker: { step: at.step + 50, ...pick(at) } }));
  const moved = all(later.root, "g").find((g) => g.class === "marker");
  assert.ok(Number(moved.line.x1) > Number(marker.line.x1), "a later step is further right");
});

test("the caption says how far a replay has got, then the peak-based utilization", async () => {
  const recorder = new UsageRecorder(await Heap.create(), TRACE, { maxPoints: 20 });
  let now = 0;
  recorder.advance(3, () => ++now);
  const caption = (series) => [all(parser.parse(renderUsagePlotSvg(series)).svg, "text").find((t) => t.class === "caption").tspan]
    .flat().map((t) => t["#text"]).join(" ");
  const partial = recorder.series();
  assert.match(caption(partial), new RegExp(`replaying: ${partial.points.at(-1).step} of ${TRACE.ops.length} done`));
  recorder.advance();
  const whole = recorder.series();
  const peak = ((whole.peakLivePayload / whole.points.at(-1).heapBytes) * 100).toFixed(1);
  assert.equal(caption(whole), `${TRACE.ops.length} operations · a point every ${whole.stride} operations · peak payload / heap ${peak}%`);
});

test("at 320 px the caption wraps and the legend, laid out for 100.0%, stays inside", async () => {
  const series = recordUsage(await Heap.create(), TRACE, { maxPoints: 20 });
  const { root } = parsePlot(renderUsagePlotSvg(series, { width: 320, marker: { step: 3, payloadUtilization: 1, utilization: 1, fragmentation: 1 } }));
  const lines = [all(root, "text").find((t) => t.class === "caption").tspan].flat();
  assert.ok(lines.length > 1);
  for (const line of lines) assert.ok(textWidth(String(line["#text"]), 11) <= 320 - 24, String(line["#text"]));
  for (const item of all(all(root, "g").find((g) => g.class === "legend"), "g")) {
    const x = Number(/translate\(([\d.]+),/.exec(item.transform)[1]);
    assert.ok(x + 16 + textWidth(String(item.text["#text"]), 11) <= 320 - 12, `${item.text["#text"]} inside`);
  }
});
