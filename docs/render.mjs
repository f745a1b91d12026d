#!/usr/bin/env node
// Regenerates the README's pictures from the current build: the heap maps and
// the policy chart (SVG from the CLI, PNG by Chromium), and a screenshot of
// the visualizer. Run after `npm run build`, with Debian's chromium installed:
//   node docs/render.mjs
// The policy chart replays the sample traces in traces/ (or WASM_MALLOC_TRACES).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tracesDir } from "../tests/host/traces.mjs";

const DOCS = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(DOCS, "..");
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];
const TRACES = tracesDir() ?? path.join(REPO, "traces");

function cli(args) {
  const r = spawnSync(process.execPath, [path.join(REPO, "dist", "cli.js"), ...args], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wasm-malloc ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

if (!fs.existsSync(CHROMIUM)) {
  console.error(`chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-docs-"));
const pictures = [
  { name: "short-first-at-10", width: 960, args: ["map", "tests/fixtures/short.rep", "--at", "10", "--policy", "first", "--no-slabs", "--links"] },
  { name: "example-heap", width: 960, args: ["map"], svgOnlyTmp: true },
];
if (fs.existsSync(TRACES)) {
  const traces = ["amptjp-bal.rep", "realloc-bal.rep", "binary-bal.rep"].map((t) => path.join(TRACES, t));
  pictures.push({ name: "compare-no-slabs", width: 720, args: ["compare", ...traces, "--no-slabs"] });
} else {
  console.log(`no traces at ${TRACES}: compare-no-slabs.png left as it is`);
}

const { chromium } = await import("playwright-core");
const context = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
  executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 1000 },
});
const page = context.pages()[0] ?? await context.newPage();
try {
  for (const picture of pictures) {
    const svg = picture.svgOnlyTmp ? path.join(tmp, `${picture.name}.svg`) : path.join(DOCS, `${picture.name}.svg`);
    cli([...picture.args, "--out", svg]);
    await page.setViewportSize({ width: picture.width, height: 200 });
    await page.goto(pathToFileURL(svg).href);
    const box = await page.locator("svg").first().boundingBox();
    // A screenshot is cut at the viewport: make it the picture's whole size first.
    const size = { width: Math.ceil(box.width), height: Math.ceil(box.height) };
    await page.setViewportSize({ width: Math.max(picture.width, size.width), height: size.height });
    await page.screenshot({ path: path.join(DOCS, `${picture.name}.png`), clip: { x: 0, y: 0, ...size } });
    console.log(`wrote docs/${picture.name}.png`);
  }
  // The visualizer on its built-in example, after 11 of 14 operations, free-list links on.
  const { serveViz } = await import(pathToFileURL(path.join(REPO, "dist", "viz-server.js")).href);
  const server = await serveViz({ port: 0 });
  try {
    await page.setViewportSize({ width: 1280, height: 1000 });
    await page.goto(`${server.url}?example=example&at=11&links=1`);
    await page.waitForSelector('body[data-step="11"]', { timeout: 10_000 });
    // The plot records its series a moment after the heap is drawn.
    await page.waitForSelector('.usage[data-complete="true"]', { timeout: 10_000 });
    await page.screenshot({ path: path.join(DOCS, "viz.png"), fullPage: true });
    console.log("wrote docs/viz.png");
  } finally {
    await server.close();
  }
} finally {
  await context.close();
}
