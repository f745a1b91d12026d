// Misuse of the command line and of the `wasm-malloc viz` server, spawned as a user (or a
// hostile web page) would reach them: every bad input gets a short, printable error and an
// exit code (1 trace, 2 usage) or an HTTP error, never a stack trace, a crash or a hang.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-misuse-"));
const SHORT = "tests/fixtures/short.rep";
const SHORT_TEXT = fs.readFileSync(SHORT, "utf8");

/** Run the CLI to the end (a timeout, not a hang, if it wrongly starts serving). */
function cli(args, nodeOptions = [], timeout = 30000) {
  const run = spawnSync(process.execPath, [...nodeOptions, "dist/cli.js", ...args], {
    encoding: "utf8", timeout, maxBuffer: 1 << 24, env: { ...process.env, WASM_MALLOC_POLICY: "" },
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

/** `cli`, spawned without waiting: many at once keep the file fast on two cores. */
function cliAsync(args, timeout = 30000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["dist/cli.js", ...args], { env: { ...process.env, WASM_MALLOC_POLICY: "" }, timeout });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => { out += chunk; });
    child.stderr.setEncoding("utf8").on("data", (chunk) => { err += chunk; });
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

/** Run `cliAsync` on each argument list, four at a time; the results in order. */
async function cliAll(argLists, timeout) {
  const results = new Array(argLists.length);
  let next = 0;
  const worker = async () => {
    while (next < argLists.length) {
      const i = next++;
      results[i] = await cliAsync(argLists[i], timeout);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return results;
}

function writeFile(name, content) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
}

// Raw control bytes a terminal would act on (a line break and a tab are fine).
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

/** One clear line on stderr: no stack trace, no raw control bytes. */
function assertOneLineError(err, what) {
  const lines = err.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${what}: one line, got ${JSON.stringify(err.slice(0, 300))}`);
  assert.doesNotMatch(err, /^\s+at /m, `${what}: no stack trace`);
  assert.doesNotMatch(err, CONTROL, `${what}: no raw control bytes`);
}

// ---------------------------------------------------------------------------------------
// The visualizer's server

/** Start `viz`; resolve with its port, the process and its stderr so far. */
function startViz(args) {
  const child = spawn(process.execPath, ["dist/cli.js", "viz", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const state = { child, err: "", port: 0 };
  child.stderr.on("data", (chunk) => { state.err += chunk; });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const url = /wasm-malloc viz: (http:\S+)/.exec(out)?.[1];
      if (url) { state.port = Number(new URL(url).port); resolve(state); }
    });
    child.on("exit", (code) => reject(new Error(`viz exited with ${code} before printing a URL: ${state.err}`)));
  });
}

/** Send `raw` bytes to 127.0.0.1:port; resolve with the status code (0: no answer) and the body. */
function rawRequest(port, raw) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(raw));
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => { text += chunk; });
    socket.on("error", () => {});
    socket.setTimeout(5000, () => socket.destroy());
    socket.on("close", () => resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text }));
  });
}

const request = (target, headers = "Host: 127.0.0.1\r\n", method = "GET") => `${method} ${target} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`;

test("viz answers malformed, traversing, wrong-method and oversized requests with an HTTP error and keeps serving", async (t) => {
  const viz = await startViz([SHORT, "--port", "0"]);
  t.after(() => viz.child.kill());
  const cases = [
    ["GET /%", request("/%"), 400],
    ["GET /%00", request("/%00"), 400],
    ["GET /%zz", request("/%zz"), 400],
    ["GET /x%e9 (not UTF-8)", request("/x%e9"), 400],
    ["GET /index.html%00.png", request("/index.html%00.png"), 400],
    ["a raw NUL in the path", request("/a\0b"), 400],
    ["GET /../package.json", request("/../package.json"), 404],
    ["GET /%2e%2e/package.json", request("/%2e%2e/package.json"), 404],
    ["GET /assets/%2e%2e%2f%2e%2e%2fpackage.json", request("/assets/%2e%2e%2f%2e%2e%2fpackage.json"), 400],
    ["GET /..\\package.json", request("/..\\package.json"), 400],
    ["GET /%5c..%5cpackage.json", request("/%5c..%5cpackage.json"), 400],
    ["GET /no-such-file", request("/no-such-file"), 404],
    ["GET * (not a path)", request("*"), 400],
    ["POST /", request("/", "Host: 127.0.0.1\r\nContent-Length: 0\r\n", "POST"), 405],
    ["DELETE /trace/short.rep", request("/trace/short.rep", "Host: 127.0.0.1\r\n", "DELETE"), 405],
    ["an 8 KB URL", request("/" + "a".repeat(8000)), 414],
    ["a 20 KB URL", request("/" + "a".repeat(20000)), 431],
    ["a 20 KB header", request("/", `Host: 127.0.0.1\r\nX-Big: ${"b".repeat(20000)}\r\n`), 431],
    ["not HTTP at all", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400],
  ];
  for (const [what, raw, status] of cases) {
    const answer = await rawRequest(viz.port, raw);
    assert.equal(answer.status, status, `${what}: ${answer.text.slice(0, 200)}`);
    if (status === 405) assert.match(answer.text, /^allow: GET, HEAD\r$/im, `${what} names the methods allowed`);
    assert.doesNotMatch(answer.text, /"name": "|package\.json.*"version"/, `${what}: nothing outside the page folder`);
    // The server is still up: a good request right after works.
    const good = await rawRequest(viz.port, request("/trace/short.rep"));
    assert.equal(good.status, 200, `after ${what}`);
    assert.ok(good.text.endsWith(SHORT_TEXT), `after ${what}: the trace`);
  }
  assert.equal(viz.child.exitCode, null, "still serving");
  assert.doesNotMatch(viz.err, /Error|^\s+at /m, "no stack trace on stderr");
});

test("viz answers only Host localhost, 127.0.0.1, [::1] and its --host: another name (DNS rebinding) gets 403", async (t) => {
  const viz = await startViz([SHORT, "--port", "0", "--host", "127.0.0.2"]);
  t.after(() => viz.child.kill());
  // The server listens on 127.0.0.2 here: connect there.
  const rawTo = (raw) => new Promise((resolve) => {
    const socket = net.connect(viz.port, "127.0.0.2", () => socket.write(raw));
    let text = "";
    socket.on("data", (chunk) => { text += chunk; });
    socket.on("close", () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
  });
  for (const host of ["localhost", `localhost:${viz.port}`, "127.0.0.1", `127.0.0.1:${viz.port}`, "[::1]", `[::1]:${viz.port}`, "LOCALHOST", `127.0.0.2:${viz.port}`]) {
    const answer = await rawTo(request("/trace/short.rep", `Host: ${host}\r\n`));
    assert.equal(answer.status, 200, `Host: ${host}`);
    assert.ok(answer.text.endsWith(SHORT_TEXT));
  }
  for (const host of ["evil.example", `evil.example:${viz.port}`, "localhost.evil.example", "127.0.0.1.nip.io", "[::2]", "localhost:80:80", "192.168.0.1"]) {
    const answer = await rawTo(request("/trace/short.rep", `Host: ${host}\r\n`));
    assert.equal(answer.status, 403, `Host: ${host}`);
    assert.match(answer.text, /answers only to localhost, 127\.0\.0\.1, \[::1\], 127\.0\.0\.2 .*DNS-rebinding/, "says why");
    assert.ok(!answer.text.includes("a 0 2040"), "no trace");
  }
  assert.equal((await rawTo("GET /trace/short.rep HTTP/1.0\r\n\r\n")).status, 403, "no Host header");
});
