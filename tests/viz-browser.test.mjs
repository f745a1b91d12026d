// The heap visualizer in a real browser (Debian's Chromium through playwright-core):
// what the page draws and counts must be what the host library says about the same heap.
// A Heap in Node replays the same trace to the same step; the page's blocks (one or more
// rects per block, data-block/-size/-state/-layer) and stats panel must agree with its
// walk() and stats(), the plot's curves and marker with the same figures, and no line of
// text may run out of its pane. Skipped, with a printed line, when Chromium is missing.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Heap, churnTrace, formatTrace, replay } from "../dist/index.js";
import { serveViz } from "../dist/viz-server.js";
import { recordUsage } from "../dist/usage-series.js";

const CHROMIUM = "/usr/bin/chromium";
// Without these, Chromium's own network calls (updates, sync, field trials) fail here and stall it.
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];

/** A few hundred seeded operations: slab pages, boundary-tag blocks and large runs, over several pages. */
const TRACE = { ...churnTrace(400, 7), file: "churn.rep" };
const TOTAL = TRACE.ops.length;

async function nodeHeapAt(allocator, step) {
  const heap = await Heap.create(allocator === "buddy" ? { engine: "buddy" } : { policy: allocator, slabs: true });
  replay(heap, TRACE, { limit: step, nameIds: true });
  return heap;
}

/** Every drawn block of a pane, by address (a block crossing pages is one rect per page). */
async function drawnBlocks(pane) {
  return pane.locator("svg .blocks [data-block]").evaluateAll((rects) => rects.map((r) => ({
    address: Number(r.getAttribute("data-block")), pointer: Number(r.getAttribute("data-pointer")),
    size: Number(r.getAttribute("data-size")), state: r.getAttribute("data-state"), layer: r.getAttribute("data-layer"),
    x: r.x.baseVal.value, y: r.y.baseVal.value, label: r.getAttribute("aria-label"),
  })));
}

async function statsShown(pane) {
  return pane.locator("[data-stat]").evaluateAll((cells) => Object.fromEntries(cells.map((c) => [c.dataset.stat, Number(c.dataset.value)])));
}

/** The pane must show exactly the node heap: blocks, where they are drawn, and the stats. */
async function assertPaneMatches(pane, heap, step) {
  assert.equal(await pane.getAttribute("data-step"), String(step));
  const rects = await drawnBlocks(pane);
  const walk = heap.walk();
  const byAddress = new Map();
  for (const r of rects) byAddress.set(r.address, [...(byAddress.get(r.address) ?? []), r]);
  assert.equal(byAddress.size, walk.length, "one drawn block per walk() entry");
  for (const block of walk) {
    const drawn = byAddress.get(block.address);
    assert.ok(drawn, `block 0x${block.address.toString(16)} is drawn`);
    for (const r of drawn) {
      assert.deepEqual([r.size, r.state, r.layer, r.pointer], [block.size, block.state, block.layer, block.pointer], `block 0x${block.address.toString(16)}`);
    }
    assert.match(drawn[0].label, new RegExp(`^block at 0x${block.address.toString(16)}, ${block.size} bytes, `));
  }
  // Positions: rows go down the pages in address order, and within a row left to right.
  const first = walk.map((b) => byAddress.get(b.address)[0]);
  for (let i = 1; i < first.length; i++) {
    const [a, b] = [first[i - 1], first[i]];
    assert.ok(b.y > a.y || (b.y === a.y && b.x > a.x), `0x${b.address.toString(16)} is drawn after 0x${a.address.toString(16)}`);
  }
  const stats = heap.stats();
  const shown = await statsShown(pane);
  for (const key of ["inUse", "free", "utilization", "fragmentation", "live", "peakInUse", "metadata", "heapBytes", "pages"]) {
    assert.equal(shown[key], stats[key], `stats panel: ${key}`);
  }
}

/** Every line of the drawing's header and of the plot's text must be inside its picture, and the picture inside its pane. */
async function assertTextInside(pane) {
  const boxes = await pane.evaluate((element) => {
    const box = (e) => { const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }; };
    const texts = (svg) => [...svg.querySelectorAll("text")].filter((t) => t.closest(".header, .legend") || t.matches(".title, .caption"))
      .flatMap((t) => (t.querySelector("tspan") ? [...t.querySelectorAll("tspan")] : [t]).map((e) => ({ text: e.textContent, ...box(e) })));
    const pictures = [element.querySelector(".drawing svg"), element.querySelector(".usage svg")];
    return { pane: box(element), pictures: pictures.map((svg) => ({ ...box(svg), texts: texts(svg) })) };
  });
  const inside = (inner, outer) => inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5 && inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
  for (const picture of boxes.pictures) {
    assert.ok(inside(picture, boxes.pane), "the picture is inside its pane");
    assert.ok(picture.texts.length >= 4, `header text found (${picture.texts.length})`);
    for (const t of picture.texts) {
      assert.ok(inside(t, picture), `"${t.text}" (x ${t.left.toFixed(1)}..${t.right.toFixed(1)}) is inside its picture (x ${picture.left.toFixed(1)}..${picture.right.toFixed(1)})`);
    }
  }
  const summary = boxes.pictures[0].texts.filter((t) => /utilization|pages? \(/.test(t.text));
  assert.ok(summary.length > 0, "the summary is among them");
}

/** The plot of a pane, once its series is complete: the plot area and each curve's vertices as (step, value). */
async function plotShown(pane) {
  await pane.locator('.usage[data-complete="true"]').waitFor({ timeout: 30_000 });
  return pane.locator(".usage svg").evaluate((svg) => {
    const area = svg.querySelector(".plot-area");
    const [x, y, width, height] = ["x", "y", "width", "height"].map((a) => Number(area.getAttribute(a)));
    const total = Number(area.dataset.total);
    const curves = Object.fromEntries([...svg.querySelectorAll("polyline")].map((line) => [line.dataset.curve,
      [...line.points].map((p) => ({ step: ((p.x - x) / width) * total, value: 1 - (p.y - y) / height }))]));
    const marker = svg.querySelector(".marker");
    const dots = Object.fromEntries([...marker.querySelectorAll("circle")].map((c) => [c.dataset.curve, Number(c.dataset.value)]));
    return { total, curves, marker: { step: Number(marker.dataset.step), x: Number(marker.querySelector("line").getAttribute("x1")), dots } };
  });
}

/** The node heap's figures the plot draws: payload / heap, in use / heap, fragmentation. */
function figuresOf(heap) {
  const stats = heap.stats();
  const payload = heap.walk().filter((b) => b.state === "in-use").reduce((sum, b) => sum + b.payload, 0);
  return { payloadUtilization: payload / stats.heapBytes, utilization: stats.utilization, fragmentation: stats.fragmentation };
}

const chromiumMissing = !fs.existsSync(CHROMIUM);

test("the visualizer draws what walk() and stats() say, stepping forward and back, in Chromium", { timeout: 120_000 }, async (t) => {
  if (chromiumMissing) {
    console.log(`# viz browser test skipped: chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    t.skip(`chromium not found at ${CHROMIUM}`);
    return;
  }
  const { chromium } = await import("playwright-core");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-viz-"));
  const server = await serveViz({ trace: { name: TRACE.file, text: formatTrace(TRACE) }, port: 0 });
  const context = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 1000 },
  });
  t.after(async () => { await context.close(); await server.close(); });
  const page = context.pages()[0] ?? await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const atStep = (n) => page.waitForSelector(`body[data-step="${n}"]`, { timeout: 10_000 });

  await page.goto(server.url);
  const pane = page.locator(".pane").first();

  await t.test("the trace in the URL is shown at its last step, with no click", async () => {
    await atStep(TOTAL);
    await assertPaneMatches(pane, await nodeHeapAt("segregated", TOTAL), TOTAL);
    assert.equal(await page.locator("#operation").getAttribute("aria-live"), "polite", "the operation is announced");
  });

  await t.test("go to operation 250: the drawing and stats are the node heap's", async () => {
    await page.fill("#jump-to", "250");
    await page.click("#jump button[type=submit]");
    await atStep(250);
    await assertPaneMatches(pane, await nodeHeapAt("segregated", 250), 250);
    assert.match(await page.locator("#operation").textContent(), new RegExp(`^Operation 250 of ${TOTAL} \\(line \\d+\\): `));
  });

  await t.test("the plot: a vertex per sampled step, its values the node heap's, the marker at the step", async () => {
    const plot = await plotShown(pane);
    const series = recordUsage(await Heap.create({ policy: "segregated", slabs: true }), TRACE);
    assert.equal(plot.total, TOTAL);
    for (const key of ["payloadUtilization", "utilization", "fragmentation"]) {
      assert.equal(plot.curves[key].length, series.points.length, `${key}: one vertex per sampled step`);
      plot.curves[key].forEach((v, i) => assert.ok(Math.abs(v.step - series.points[i].step) < 0.01, `${key} vertex ${i} at step ${series.points[i].step}`));
    }
    for (const step of [0, 1, 100, 250, TOTAL]) {
      const i = series.points.findIndex((p) => p.step === step);
      assert.ok(i >= 0, `step ${step} is sampled`);
      const want = figuresOf(await nodeHeapAt("segregated", step));
      for (const [key, value] of Object.entries(want)) {
        assert.ok(Math.abs(plot.curves[key][i].value - value) < 1e-3, `${key} at step ${step}: drawn ${plot.curves[key][i].value}, node ${value}`);
      }
    }
    assert.ok(plot.curves.fragmentation.some((v) => v.value > 0.05), "the heap fragments somewhere along the trace");
    assert.equal(plot.marker.step, 250);
    assert.deepEqual(plot.marker.dots, figuresOf(await nodeHeapAt("segregated", 250)), "the marker's dots are the heap's figures at its step");
    await assertTextInside(pane);
  });

  await t.test("the marker follows Forward, Back, the keys and the slider; a click on the plot goes to that operation", async () => {
    const marker = async () => (await plotShown(pane)).marker;
    const at250 = await marker();
    await page.click("#forward");
    await atStep(251);
    const at251 = await marker();
    assert.equal(at251.step, 251);
    assert.ok(at251.x > at250.x, "forward moves the marker right");
    await page.click("#back");
    await atStep(250);
    assert.deepEqual(await marker(), at250);
    await page.locator("h1").click();
    await page.keyboard.press("Shift+ArrowLeft");
    await atStep(240);
    assert.ok((await marker()).x < at250.x, "Shift+← moves it ten operations left");
    await page.locator("#scrub").evaluate((slider) => { slider.value = "100"; slider.dispatchEvent(new Event("input", { bubbles: true })); });
    await atStep(100);
    assert.equal((await marker()).step, 100);
    assert.equal(await page.locator("#scrub").inputValue(), "100");
    const area = await pane.locator(".usage .plot-area").boundingBox();
    await pane.locator(".usage .plot-area").click({ position: { x: area.width * (300 / TOTAL), y: area.height / 2 } });
    await page.waitForFunction(() => Math.abs(Number(document.body.dataset.step) - 300) <= 1, null, { timeout: 10_000 });
    const clicked = Number(await page.locator("body").getAttribute("data-step"));
    assert.equal((await marker()).step, clicked);
    assert.deepEqual((await marker()).dots, figuresOf(await nodeHeapAt("segregated", clicked)));
    await page.fill("#jump-to", "250");
    await page.press("#jump-to", "Enter");
    await atStep(250);
  });

  await t.test("back replays to the step before, and checks again", async () => {
    await page.click("#back");
    await atStep(249);
    await assertPaneMatches(pane, await nodeHeapAt("segregated", 249), 249);
  });

  await t.test("keyboard: ← and → step, Shift+→ steps ten, l toggles the free-list links", async () => {
    await page.locator("h1").click();
    await page.keyboard.press("ArrowLeft");
    await atStep(248);
    await assertPaneMatches(pane, await nodeHeapAt("segregated", 248), 248);
    await page.keyboard.press("Shift+ArrowRight");
    await atStep(258);
    await page.keyboard.press("End");
    await atStep(TOTAL);
    await page.keyboard.press("Home");
    await atStep(0);
    await page.keyboard.press("ArrowRight");
    await atStep(1);
    assert.equal(await pane.locator("svg .free-links").count(), 0, "free-list links are off by default");
    await page.keyboard.press("l");
    await pane.locator("svg .free-links").waitFor({ state: "attached", timeout: 10_000 });
    assert.equal(await page.locator("#links").isChecked(), true);
    await page.keyboard.press("l");
    await pane.locator("svg .free-links").waitFor({ state: "detached", timeout: 10_000 });
  });

  await t.test("a screenshot of the page", async () => {
    await page.fill("#jump-to", "250");
    await page.press("#jump-to", "Enter");
    await atStep(250);
    const file = path.join(tmp, "viz.png");
    await page.screenshot({ path: file, fullPage: true });
    const png = fs.readFileSync(file);
    assert.equal(png.subarray(1, 4).toString(), "PNG");
    assert.ok(png.length > 10_000, `a real picture (${png.length} bytes)`);
  });

  await t.test("side by side: two allocators on the same trace at the same step", async () => {
    await page.selectOption("#compare", "best");
    await page.waitForSelector('.pane[data-allocator="best"][data-step="250"]');
    assert.equal(await page.locator(".pane").count(), 2);
    await assertPaneMatches(page.locator('.pane[data-allocator="segregated"]'), await nodeHeapAt("segregated", 250), 250);
    await assertPaneMatches(page.locator('.pane[data-allocator="best"]'), await nodeHeapAt("best", 250), 250);
    // Each pane its own plot: its allocator's curves, its heap's figures at the marker.
    for (const allocator of ["segregated", "best"]) {
      const one = page.locator(`.pane[data-allocator="${allocator}"]`);
      const plot = await plotShown(one);
      const heap = await Heap.create({ policy: allocator, slabs: true });
      const series = recordUsage(heap, TRACE);
      const i = series.points.findIndex((p) => p.step === 200);
      assert.ok(Math.abs(plot.curves.utilization[i].value - series.points[i].utilization) < 1e-3, `${allocator}: its own curve`);
      assert.deepEqual(plot.marker.dots, figuresOf(await nodeHeapAt(allocator, 250)), `${allocator}: its own marker`);
    }
    // Side by side, panes are half as wide: the summary wraps and stays whole, here and narrower still.
    for (const width of [1280, 900, 700]) {
      await page.setViewportSize({ width, height: 1000 });
      // The page redraws a moment after a resize, each picture as wide as its pane's room.
      await page.waitForFunction(() => [...document.querySelectorAll(".pane .drawing, .pane .usage")].every((room) =>
        Number(room.querySelector("svg").getAttribute("width")) === Math.max(320, Math.floor(room.closest(".pane").querySelector(".drawing").clientWidth))));
      for (const allocator of ["segregated", "best"]) await assertTextInside(page.locator(`.pane[data-allocator="${allocator}"]`));
    }
    await page.setViewportSize({ width: 1280, height: 1000 });
    await page.selectOption("#compare", "buddy");
    await page.waitForSelector('.pane[data-allocator="buddy"][data-step="250"]');
    await assertPaneMatches(page.locator('.pane[data-allocator="buddy"]'), await nodeHeapAt("buddy", 250), 250);
    await page.selectOption("#compare", "");
    await page.waitForFunction(() => document.querySelectorAll(".pane").length === 1);
  });

  await t.test("by hand: malloc draws a new block, a click picks it, realloc grows it, free frees it", async () => {
    await page.fill("#hand-size", "5000");
    await page.click("#hand-malloc");
    await atStep(251);
    assert.equal(await page.locator("body").getAttribute("data-ops"), "251", "the rest of the trace gives way");
    await page.waitForSelector('.pane .usage[data-complete="true"]');
    assert.equal((await plotShown(pane)).total, 251, "the plot is of the trace as it is now");
    const heap = await nodeHeapAt("segregated", 250);
    const pointer = heap.malloc(5000);
    const drawn = (await drawnBlocks(pane)).filter((b) => b.pointer === pointer);
    assert.ok(drawn.length > 0 && drawn[0].state === "in-use" && drawn[0].size >= 5000, "the new block is drawn in use");
    await pane.locator(`svg [data-pointer="${pointer}"]`).first().click();
    assert.equal(await page.locator("#selected").inputValue(), String(pointer));
    await page.fill("#hand-size", "9000");
    await page.click("#hand-realloc");
    await atStep(252);
    const moved = heap.realloc(pointer, 9000);
    await assertPaneMatches(pane, heap, 252);
    assert.equal(await page.locator("#selected").inputValue(), moved === pointer ? String(pointer) : "0", "the pick follows the block only while it stays put");
    await page.selectOption("#selected", String(moved));
    await page.click("#hand-free");
    await atStep(253);
    heap.free(moved);
    assert.ok(!(await drawnBlocks(pane)).some((b) => b.pointer === moved && b.state === "in-use"), "the block is no longer in use");
    await assertPaneMatches(pane, heap, 253);
  });

  await t.test("play runs to the end of the trace; a picked file replaces the trace", async () => {
    await page.keyboard.press("Home");
    await atStep(0);
    await page.selectOption("#speed", "500");
    await page.click("#play");
    assert.equal(await page.locator("#play").getAttribute("aria-pressed"), "true");
    // The hand operations above cut the trace short: play runs to its end, whatever it is now.
    await page.waitForFunction(() => document.body.dataset.step === document.body.dataset.ops, null, { timeout: 20_000 });
    assert.equal(await page.locator("body").getAttribute("data-step"), "253");
    await page.waitForSelector('#play[aria-pressed="false"]');
    await page.setInputFiles("#file", "tests/fixtures/short.rep");
    await page.waitForSelector('body[data-ops="12"][data-step="12"]');
    assert.match(await page.locator("#position").textContent(), /short\.rep/);
    // Dropped on the page: a trace of three operations, as a user's file manager would hand it over.
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File(["0\n2\n3\n1\na 0 100\na 1 200\nf 0\n"], "dropped.rep"));
      document.body.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await page.waitForSelector('body[data-ops="3"][data-step="3"]');
    assert.match(await page.locator("#position").textContent(), /dropped\.rep/);
  });

  await t.test("a longer trace is sampled: a vertex every few operations and at the end, each the node heap's", async () => {
    const long = { ...churnTrace(1200, 3), file: "long.rep" };
    const file = path.join(tmp, long.file);
    fs.writeFileSync(file, formatTrace(long));
    await page.setInputFiles("#file", file);
    const total = long.ops.length;
    await page.waitForSelector(`body[data-ops="${total}"][data-step="${total}"]`);
    const plot = await plotShown(pane);
    const stride = Math.ceil(total / 500);
    assert.ok(stride > 1, `${total} operations are sampled`);
    const steps = [];
    for (let s = 0; s < total; s += stride) steps.push(s);
    steps.push(total);
    for (const curve of Object.values(plot.curves)) assert.deepEqual(curve.map((v) => Math.round(v.step)), steps);
    for (const i of [1, Math.floor(steps.length / 2), steps.length - 1]) {
      const heap = await Heap.create({ policy: "segregated", slabs: true });
      replay(heap, long, { limit: steps[i] });
      for (const [key, value] of Object.entries(figuresOf(heap))) {
        assert.ok(Math.abs(plot.curves[key][i].value - value) < 1e-3, `${key} at step ${steps[i]}: drawn ${plot.curves[key][i].value}, node ${value}`);
      }
    }
  });

  assert.deepEqual(errors, [], "no script errors on the page");
});
