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

test("viz --host 0.0.0.0 warns on stderr that the trace is readable from the network; --help says so", async (t) => {
  const viz = await startViz([SHORT, "--port", "0", "--host", "0.0.0.0"]);
  t.after(() => viz.child.kill());
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.match(viz.err, /warning: --host 0\.0\.0\.0 is not a loopback address: anyone who can reach this machine on port \d+ can read the page and the trace short\.rep/);
  // Still only answers the allowed names.
  assert.equal((await rawRequest(viz.port, request("/", "Host: evil.example\r\n"))).status, 403);
  assert.equal((await rawRequest(viz.port, request("/index.html?trace=trace/short.rep", `Host: 0.0.0.0:${viz.port}\r\n`))).status, 200);
  assert.equal((await rawRequest(viz.port, request("/", `Host: 0.0.0.0:${viz.port}\r\n`))).status, 302, "the bare address: to the page with the trace");

  const quiet = await startViz([SHORT, "--port", "0"]);
  t.after(() => quiet.child.kill());
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(quiet.err, "", "no warning on 127.0.0.1");

  const help = cli(["viz", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out.replace(/\s+/g, " "), /--host <address> .*readable from the network/);
});

// ---------------------------------------------------------------------------------------
// Long traces: read as a stream

/** A trace of `pairs` a/f pairs over 8 ids, written in chunks. */
function writeLongTrace(name, pairs) {
  const file = path.join(tmp, name);
  const fd = fs.openSync(file, "w");
  fs.writeSync(fd, `0\n8\n${2 * pairs}\n1\n`);
  let chunk = "";
  for (let i = 0; i < pairs; i++) {
    chunk += `a ${i % 8} ${(i * 37) % 500 + 1}\nf ${i % 8}\n`;
    if (chunk.length > 1 << 16) { fs.writeSync(fd, chunk); chunk = ""; }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  return file;
}

// 1.5 million lines: reading them whole (the text, its lines, an object per operation)
// needed over 64 MB of V8 heap and aborted at 1 million; streamed, memory is the 8 live ids.
const LONG_PAIRS = 750000;
let longTrace;
const longTraceFile = () => (longTrace ??= writeLongTrace("long.rep", LONG_PAIRS));

test("replay streams a 1.5-million-line trace in a 64 MB V8 heap; the header's op count is checked, not trusted", () => {
  const file = longTraceFile();
  const r = cli(["replay", file, "--json"], ["--max-old-space-size=64"]);
  assert.equal(r.code, 0, r.err.slice(0, 500));
  const [result] = JSON.parse(r.out);
  assert.equal(result.ops, 2 * LONG_PAIRS);
  assert.equal(result.peakLivePayload, 500);

  const lying = writeFile("lying-header.rep", "0\n8\n4294967295\n1\na 0 8\nf 0\n");
  const bad = cli(["replay", lying], ["--max-old-space-size=64"]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /lying-header\.rep:3: the header says 4294967295 operations, the file has 2/);
  assertOneLineError(bad.err, "lying header");
});

test("dump --at and viz read a long trace as a stream too", async (t) => {
  const file = longTraceFile();
  const dump = cli(["dump", file, "--at", "3", "--json"], ["--max-old-space-size=64"]);
  assert.equal(dump.code, 0, dump.err.slice(0, 500));
  assert.match(JSON.parse(dump.out).title, new RegExp(`after 3 of ${2 * LONG_PAIRS} operations`));

  const child = spawn(process.execPath, ["--max-old-space-size=64", "dist/cli.js", "viz", file, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => child.kill());
  const port = await new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => { out += chunk; const url = /wasm-malloc viz: (http:\S+)/.exec(out)?.[1]; if (url) resolve(Number(new URL(url).port)); });
    child.stderr.on("data", (chunk) => { err += chunk; });
    child.on("exit", (code) => reject(new Error(`viz exited with ${code}: ${err.slice(0, 500)}`)));
  });
  const response = await fetch(`http://127.0.0.1:${port}/trace/long.rep`);
  assert.equal(response.status, 200);
  assert.equal((await response.arrayBuffer()).byteLength, fs.statSync(file).size, "the whole file, sent from disk");
});

// ---------------------------------------------------------------------------------------
// Trace errors: file:line, the line's text, printable and short

/** Deterministic bytes (mulberry32), with ESC sequences and NULs among them. */
function binaryBytes(length, seed = 7) {
  let state = seed;
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    bytes[i] = (x ^ (x >>> 14)) & 255;
  }
  // No line break in the first 200 bytes: the first line is long, and holds these.
  for (let i = 0; i < 200; i++) if (bytes[i] === 10) bytes[i] = 11;
  bytes.write("\x1b[2J\x1b]0;owned\x07\0\0", 3, "latin1");
  return bytes;
}

test("a binary file, a 100 KB line and a hostile file name give one short printable error", async () => {
  const cases = [
    [writeFile("binary.rep", binaryBytes(100000)), /binary\.rep:1: expected header number 1 of 4 \(suggested heap size\), a whole decimal number 0\.\.4294967295, found ".*\\x1b\[2J\\x1b\]0;owned\\x07\\x00\\x00.*…"$/],
    [writeFile("one-line.rep", "7".repeat(100000)), /one-line\.rep:1: the line is longer than 4096 characters, so this is not a trace .*: "7{80}…"$/],
    [writeFile("long-op.rep", `0\n1\n1\n1\na 0 ${"9".repeat(100000)}\n`), /long-op\.rep:5: the line is longer than 4096 characters.*: "a 0 9{76}…"$/],
    [writeFile("long-op-short.rep", `0\n1\n1\n1\na 0 1 \x1b[31m${"x".repeat(3000)}\n`), /long-op-short\.rep:5: malformed "a 0 1 \\x1b\[31mx{69}…" \(expected a ID SIZE\)$/],
    [writeFile("ctl-header.rep", "\x1b]0;title\x07\n"), /ctl-header\.rep:1: expected header number 1 of 4 .*found "\\x1b\]0;title\\x07"$/],
    [path.join(tmp, "missing-\x1b[31m-\u202e.rep"), /missing-\\x1b\[31m-\\u\{202e\}\.rep:0: cannot read the file \(ENOENT\)$/],
  ];
  // Every case through replay; the two worst through dump and compare too (they share the reader).
  const runs = cases.flatMap(([file, message], i) => (i < 2 ? ["replay", "dump", "compare"] : ["replay"]).map((command) => ({ command, file, message })));
  const results = await cliAll(runs.map(({ command, file }) => [command, file]));
  for (const [i, { command, file, message }] of runs.entries()) {
    {
      const r = results[i];
      assert.equal(r.code, 1, `${command} ${path.basename(file)}`);
      assertOneLineError(r.err, `${command} ${path.basename(file)}`);
      assert.ok(r.err.length < 400, `${command} ${path.basename(file)}: short (${r.err.length} bytes)`);
      assert.match(r.err.trimEnd(), new RegExp(`^wasm-malloc: .*${message.source}`), `${command} ${path.basename(file)}: ${r.err}`);
    }
  }
});

test("trace numbers: 2^32 and more, negative, fractional, non-decimal sizes and ids, unknown ops and ids never allocated are rejected with file:line and the line", async () => {
  const header = "0\n4\n2\n1\n";
  const cases = [
    ["a 0 4294967296", /the size 4294967296 is too large \(at most 4294967295, 2\^32-1: Wasm sizes are 32-bit, a larger one would wrap\)/],
    ["a 0 18446744073709551616", /the size 18446744073709551616 is too large/],
    ["a 0 -1", /the size "-1" is not a whole decimal number \(0\.\.4294967295\)/],
    ["a 0 1.5", /the size "1\.5" is not a whole decimal number/],
    ["a 0 1e3", /the size "1e3" is not a whole decimal number/],
    ["a 0 0x10", /the size "0x10" is not a whole decimal number/],
    ["a 0 +8", /the size "\+8" is not a whole decimal number/],
    ["a 0 NaN", /the size "NaN" is not a whole decimal number/],
    ["a 4294967296 8", /the id 4294967296 is too large \(at most 4294967295, 2\^32-1\)/],
    ["a -1 8", /the id "-1" is not a whole decimal number/],
    ["f 1.0", /the id "1\.0" is not a whole decimal number/],
  ];
  const runs = cases.flatMap(([line, message], i) => {
    const file = writeFile(`numbers-${i}.rep`, `${header}${line}\nf 0\n`);
    return (i === 0 ? ["replay", "dump"] : ["replay"]).map((command) => ({ command, file, line, message }));
  });
  const results = await cliAll(runs.map(({ command, file }) => [command, file]));
  for (const [i, { command, file, line, message }] of runs.entries()) {
    {
      const r = results[i];
      assert.equal(r.code, 1, `${command} "${line}": ${r.out.slice(0, 200)}`);
      assertOneLineError(r.err, line);
      assert.ok(r.err.includes(`${path.basename(file)}:5: "${line}": `), `${command} "${line}": file:line and the line: ${r.err}`);
      assert.match(r.err, message, line);
    }
  }
  // realloc sizes too, on its own line number.
  const realloc = cli(["replay", writeFile("realloc-big.rep", "0\n1\n3\n1\na 0 8\nr 0 4294967296\nf 0\n")]);
  assert.equal(realloc.code, 1);
  assert.match(realloc.err, /realloc-big\.rep:6: "r 0 4294967296": the size 4294967296 is too large/);
  // Other malformed operations.
  const others = [
    ["0\n1\n1\n1\nx 0 8\n", /:5: unknown operation "x" in "x 0 8" \(expected a, f or r\)/],
    ["0\n1\n1\n1\nalloc 0 8\n", /:5: unknown operation "alloc" in "alloc 0 8"/],
    ["0\n1\n1\n1\nf 9\n", /:5: free of id 9, which was never allocated/],
    ["0\n1\n1\n1\nr 9 8\n", /:5: realloc of id 9, which was never allocated/],
    ["0\n1\n1\n1\na 0 8 8\n", /:5: malformed "a 0 8 8" \(expected a ID SIZE\)/],
    ["0\n1\n1\n99999999999\n", /:4: expected header number 4 of 4 \(weight\), a whole decimal number 0\.\.4294967295, found "99999999999"/],
  ];
  const otherResults = await cliAll(others.map(([text], i) => ["replay", writeFile(`op-${i}.rep`, text)]));
  for (const [i, [text, message]] of others.entries()) {
    const r = otherResults[i];
    assert.equal(r.code, 1, text);
    assertOneLineError(r.err, text);
    assert.match(r.err, message);
  }
  // The largest size is allowed and fails as what it is: out of memory, not malloc(0).
  const largest = cli(["replay", writeFile("largest.rep", "0\n1\n2\n1\na 0 4294967295\nf 0\n")]);
  assert.equal(largest.code, 1);
  assert.match(largest.err, /largest\.rep:5: malloc\(4294967295\) returned 0 \(out of memory\)/);
});

// ---------------------------------------------------------------------------------------
// Number flags

test("every number flag rejects 2^32+, NaN, negatives, fractions, exponents, hex and text: one line naming flag and value, exit 2", async () => {
  // Each flag gets 2^32, text (NaN), a negative, a fraction and an exponent; --at's shared
  // parser gets the other spellings Number() would take once, on dump.
  const bad = ["4294967296", "NaN", "-1", "1.5", "1e3"];
  const more = ["99999999999999999999", "ten", "0x10", "", " 7", "Infinity"];
  const flags = [
    ["dump --at", ["dump", SHORT], "--at <n>"],
    ["map --at", ["map", SHORT, "--out", path.join(tmp, "map.svg")], "--at <n>"],
    ["info --at", ["info", SHORT, "--slab"], "--at <n>"],
    ["viz --at", ["viz", SHORT, "--port", "0"], "--at <n>"],
    ["viz --port", ["viz", SHORT], "--port <n>"],
  ];
  const values = { "dump --at": [...bad, ...more], "viz --port": [...bad, "65536"] };
  const runs = flags.flatMap(([name, args, flag]) => (values[name] ?? bad).map((value) => ({ name, args, flag, value })));
  // A value wrongly taken starts viz serving: the timeout ends it, and the test fails.
  const results = await cliAll(runs.map(({ args, flag, value }) => [...args, `${flag.split(" ")[0]}=${value}`]), 10000);
  for (const [i, { name, flag, value }] of runs.entries()) {
    const option = flag.split(" ")[0];
    {
      const r = results[i];
      assert.equal(r.code, 2, `${name}=${JSON.stringify(value)}: ${r.out.slice(0, 200)}`);
      const [first] = r.err.split("\n");
      assert.equal(first, `error: option '${flag}' argument '${value}' is invalid. ${option === "--port" ? "expected a port number, 0..65535 (0: any free port)" : "expected a whole number of operations, 0..4294967295"}`, `${name}=${JSON.stringify(value)}`);
      assert.ok(r.err.split("\n").length <= 3, `${name}: a line and a hint, not the whole help`);
    }
  }
  // The values that are fine still work.
  assert.equal(cli(["dump", SHORT, "--at=0"]).code, 0);
  // The largest number parses; past the end of the trace it is refused, naming the trace's length.
  const past = cli(["dump", SHORT, "--at", "4294967295"]);
  assert.equal(past.code, 2, "more than the trace has");
  assert.equal(past.err, "wasm-malloc: --at 4294967295 is past the end of short.rep: it has 12 operations; pass --at 0..12\n");
  // --host: never empty (which would listen on every interface), no spaces or control bytes.
  for (const value of ["", "a b", "\x1b[31m"]) {
    const r = cli(["viz", SHORT, `--host=${value}`, "--port", "0"]);
    assert.equal(r.code, 2, `--host=${JSON.stringify(value)}`);
    assert.doesNotMatch(r.err, CONTROL);
  }
});
