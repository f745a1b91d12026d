// Bindings without linkAllocator, in Node and in a browser:
// - asc's `--bindings esm` glue of a program on wasm-malloc's runtime, made ready
//   by prepareBindings (the glue looks its imports up on globalThis);
// - the allocator alone through @assemblyscript/loader, fetched, as the README's
//   raw-bindings snippet does in Node with fs.
// The browser runs Debian's Chromium (playwright-core); the page imports the
// package's dist/ as served files, with an import map for the loader.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { repo, userProject, asc, run } from "./embed/toolchain.mjs";
import { prepareBindings } from "../dist/index.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];

const project = userProject("wasm-malloc-bindings-");
after(() => fs.rmSync(project, { recursive: true, force: true })); // symlinks are removed, never followed
fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "demo", private: true, type: "module" }));
const file = (name) => path.join(project, name);
const built = asc([path.join(repo, "examples", "assemblyscript", "greet.ts"), "--runtime", "node_modules/wasm-malloc/assembly/runtime/incremental",
  "--importMemory", "--exportRuntime", "--bindings", "esm", "-o", "greet.wasm"], project);
built.catch(() => {});

const NODE_RUNNER = `import { prepareBindings } from "wasm-malloc";
const { heap, globals, heapBase } = await prepareBindings(new URL("greet.wasm", import.meta.url), { policy: "best" });
const { greet, __collect } = await import("./greet.js");
const text = greet("esm");
const live = heap.stats().live;
__collect();
heap.check();
console.log(JSON.stringify({ text, live, after: heap.stats().live, globals: Object.keys(globals).sort(), heapBase, policy: heap.policy }));
`;

test("--bindings esm: prepareBindings links the runtime's imports, and the glue runs in Node", async () => {
  await built;
  fs.writeFileSync(file("run.mjs"), NODE_RUNNER);
  const { stdout } = await run(process.execPath, ["run.mjs"], { cwd: project });
  const result = JSON.parse(stdout);
  assert.equal(result.text, "Hello, esm!");
  assert.ok(result.live > 0, "the string lives in a wasm-malloc block");
  assert.equal(result.after, 0, "__collect gives every block back");
  assert.deepEqual(result.globals, ["memory", "wasm_free", "wasm_malloc"]);
  assert.ok(result.heapBase > 0);
  assert.equal(result.policy, "best");
});

test("--bindings esm without prepareBindings fails at import with the error asc's glue gives", async () => {
  await built;
  fs.writeFileSync(file("bare.mjs"), `await import("./greet.js");\n`);
  const result = await run(process.execPath, ["bare.mjs"], { cwd: project, check: false });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /memory import must be a WebAssembly\.Memory object/);
});

test("prepareBindings rejects what does not fit, naming it", async () => {
  await built;
  const bytes = fs.readFileSync(file("greet.wasm"));
  await assert.rejects(prepareBindings(new WebAssembly.Module(bytes)), /prepareBindings: program is a compiled Module; pass the \.wasm/);
  await assert.rejects(prepareBindings(bytes, { imports: {} }), /prepareBindings: option imports does not apply/);
  await assert.rejects(prepareBindings(bytes, { maxMemory: -1 }), /prepareBindings: option maxMemory/);
  await assert.rejects(prepareBindings(bytes, { policy: "nearest" }), /nearest/);
  await assert.rejects(prepareBindings(42), /prepareBindings/);
  const ownMemory = fs.readFileSync(path.join(repo, "build", "release.wasm"));
  await assert.rejects(prepareBindings(ownMemory), /prepareBindings: the client defines its own memory/);
});

/** Files under `roots` (URL prefix → directory), and the page itself. */
function serve(roots, page) {
  const types = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
  const server = http.createServer((request, response) => {
    const url = new URL(request.url, "http://localhost");
    if (url.pathname === "/") { response.writeHead(200, { "content-type": "text/html" }); response.end(page); return; }
    for (const [prefix, dir] of Object.entries(roots)) {
      if (!url.pathname.startsWith(prefix)) continue;
      const target = path.join(dir, decodeURIComponent(url.pathname.slice(prefix.length)));
      if (!target.startsWith(dir) || !fs.existsSync(target) || !fs.statSync(target).isFile()) break;
      response.writeHead(200, { "content-type": types[path.extname(target)] ?? "application/octet-stream" });
      fs.createReadStream(target).pipe(response);
      return;
    }
    response.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const BROWSER_PAGE = `<!doctype html>
<script type="importmap">{ "imports": {
  "wasm-malloc": "/wasm-malloc/dist/index.js",
  "@assemblyscript/loader": "/loader/index.js"
} }</script>
<script type="module">
import loader from "@assemblyscript/loader";
import { prepareBindings, allocatorImports, LAYOUT } from "wasm-malloc";
try {
  // 1. The esm glue of a runtime program.
  const { heap } = await prepareBindings(new URL("/program/greet.wasm", location.href));
  const { greet, __collect } = await import("/program/greet.js");
  const text = greet("browser");
  const live = heap.stats().live;
  __collect();
  heap.check();
  // 2. The allocator alone, through the loader, fetched.
  const reports = [];
  const { exports } = await loader.instantiate(fetch("/wasm-malloc/build/release.wasm"), {
    env: allocatorImports({ onReport: (report) => reports.push(report.kind) }),
  });
  const p = exports.malloc(100) >>> 0;
  new Uint8Array(exports.memory.buffer, p, 100).fill(7);
  const q = exports.realloc(p, 5000) >>> 0;
  const kept = new Uint8Array(exports.memory.buffer, q, 100).every((byte) => byte === 7);
  exports.free(q);
  exports.free(q);
  window.result = { text, live, after: heap.stats().live, kept, check: exports.heap_check(), doubleFree: reports[0] === LAYOUT.ERR_DOUBLE_FREE };
} catch (error) {
  window.result = { error: String(error && error.stack || error) };
}
</script>`;

test("in Chromium: the esm glue through prepareBindings, and the allocator through the loader", { timeout: 120_000 }, async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    if (process.env.CI === "true") assert.fail(`chromium not found at ${CHROMIUM}; .ci/run installs it under CI`);
    console.log(`# bindings browser test skipped: chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    t.skip(`chromium not found at ${CHROMIUM}`);
    return;
  }
  await built;
  const { chromium } = await import("playwright-core");
  const server = await serve({
    "/wasm-malloc/": repo + path.sep,
    "/loader/": path.join(repo, "node_modules", "@assemblyscript", "loader") + path.sep,
    "/program/": project + path.sep,
  }, BROWSER_PAGE);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-bindings-browser-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.after(async () => { await context.close(); server.close(); fs.rmSync(profile, { recursive: true, force: true }); });
  const page = context.pages()[0] ?? await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: 30_000 });
  const result = await page.evaluate(() => window.result);
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual(errors, []);
  assert.equal(result.text, "Hello, browser!");
  assert.ok(result.live > 0);
  assert.equal(result.after, 0);
  assert.equal(result.kept, true, "realloc kept the contents");
  assert.equal(result.check, 0);
  assert.equal(result.doubleFree, true, "the second free was reported as a double free");
});
