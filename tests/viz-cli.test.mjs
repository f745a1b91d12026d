// `wasm-malloc viz`, spawned as a user runs it: it serves the built page and the trace,
// and prints a URL that carries the trace and the options to the page.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { spawn, spawnSync } from "node:child_process";

const SHORT = "tests/fixtures/short.rep";

/** Start the command; resolve with the URL it prints and the running process. */
function startViz(args) {
  const child = spawn(process.execPath, ["dist/cli.js", "viz", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const url = /wasm-malloc viz: (http:\S+)/.exec(out)?.[1];
      if (url) resolve({ url, child });
    });
    child.stderr.on("data", (chunk) => { err += chunk; });
    child.on("exit", (code) => reject(new Error(`viz exited with ${code} before printing a URL: ${err}`)));
  });
}

test("viz FILE serves the page on 127.0.0.1 and the trace the URL names, until killed", async (t) => {
  const { url, child } = await startViz([SHORT, "--port", "0", "--at", "5", "--policy", "best", "--compare", "buddy"]);
  t.after(() => child.kill());
  const page = new URL(url);
  assert.equal(page.hostname, "127.0.0.1");
  assert.equal(page.searchParams.get("trace"), "trace/short.rep");
  assert.equal(page.searchParams.get("at"), "5");
  assert.equal(page.searchParams.get("allocator"), "best");
  assert.equal(page.searchParams.get("compare"), "buddy");

  const html = await (await fetch(url)).text();
  assert.match(html, /<title>wasm-malloc heap visualizer<\/title>/);
  // Relative asset paths: the same files work from any folder of any static host.
  const script = /<script type="module" crossorigin src="(\.\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, "the page's script is referenced by a relative path");
  const js = await fetch(new URL(script, url));
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type"), /javascript/);

  const trace = await fetch(new URL(page.searchParams.get("trace"), url));
  assert.equal(await trace.text(), fs.readFileSync(SHORT, "utf8"));
  assert.equal((await fetch(new URL("../../etc/passwd", url))).status, 404);
  assert.equal((await fetch(new URL("/%2e%2e/package.json", url))).status, 404, "nothing outside the page folder");
  assert.equal(child.exitCode, null, "still serving");
});

test("viz FILE: the bare address redirects to the page with that trace and the options", async (t) => {
  const { url, child } = await startViz([SHORT, "--port", "0", "--at", "5"]);
  t.after(() => child.kill());
  const page = new URL(url);
  for (const bare of ["/", "/index.html"]) {
    const answer = await fetch(new URL(bare, page.origin), { redirect: "manual" });
    assert.equal(answer.status, 302, bare);
    assert.equal(new URL(answer.headers.get("location"), page.origin).href, url, `${bare} leads to the URL printed`);
  }
  // Followed, it is the page; and a URL with its own query is left alone (the built-in examples stay reachable).
  const followed = await fetch(page.origin + "/");
  assert.equal(followed.url, url);
  assert.match(await followed.text(), /<title>wasm-malloc heap visualizer<\/title>/);
  assert.equal((await fetch(new URL("/?example=churn", page.origin), { redirect: "manual" })).status, 200);
});

test("viz without a file serves the bare page: no redirect", async (t) => {
  const { url, child } = await startViz(["--port", "0"]);
  t.after(() => child.kill());
  assert.equal(new URL(url).search, "");
  assert.equal((await fetch(url, { redirect: "manual" })).status, 200);
});

test("viz --engine buddy asks the page for the buddy engine", async (t) => {
  const { url, child } = await startViz([SHORT, "--port", "0", "--engine", "buddy", "--no-slabs"]);
  t.after(() => child.kill());
  const query = new URL(url).searchParams;
  assert.equal(query.get("allocator"), "buddy");
  assert.equal(query.get("slabs"), "off");
});

test("viz with a malformed trace fails with exit 1 before serving; a bad port is exit 2", () => {
  const bad = spawnSync(process.execPath, ["dist/cli.js", "viz", "tests/fixtures/views-fixed-sequence.txt", "--port", "0"], { encoding: "utf8" });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /views-fixed-sequence\.txt:\d+: /);
  const port = spawnSync(process.execPath, ["dist/cli.js", "viz", "--port", "http"], { encoding: "utf8" });
  assert.equal(port.status, 2);
  const help = spawnSync(process.execPath, ["dist/cli.js", "viz", "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  for (const option of ["--port", "--at", "--policy", "--engine", "--compare"]) assert.ok(help.stdout.includes(option), option);
});
