// The traces of real programs (traces/real/*.rep.gz): each one parses, matches
// the figures its README gives it, and replays on the release build with the
// heap check at the end; and gzipped traces load wherever a .rep does (the
// CLI, the stream reader, the visualizer's server).
import test, { after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { Heap, parseTrace, replay } from "../dist/index.js";
import { checkTraceFile, replayTraceFile } from "../dist/trace-file.js";
import { serveViz } from "../dist/viz-server.js";
import { realTraceFiles } from "./host/traces.mjs";

const REAL = path.resolve("traces/real");
const CLI = path.resolve("dist/cli.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-real-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const number = (text) => Number(text.replace(/,/g, ""));

/** The README's table: trace file name -> its figures. */
function readmeRows() {
  const rows = new Map();
  for (const line of fs.readFileSync(path.join(REAL, "README.md"), "utf8").split("\n")) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (!cells[0]?.endsWith(".rep.gz")) continue;
    const [mallocs, frees, reallocs] = cells[4].split("/").map(number);
    rows.set(cells[0], {
      ops: number(cells[2]), runOps: number(cells[3]), mallocs, frees, reallocs,
      peakLive: number(cells[5].split(" ")[0]), peakBlocks: number(cells[6]), fileBytes: number(cells[8]),
    });
  }
  return rows;
}

const files = realTraceFiles();
const rows = readmeRows();

test("traces/real/ holds at least eight traces, each described in its README and each row a file", () => {
  assert.ok(files.length >= 8, `${files.length} traces`);
  assert.deepEqual([...rows.keys()].sort(), files.map((f) => path.basename(f)).sort());
  const total = files.reduce((s, f) => s + fs.statSync(f).size, 0);
  assert.ok(total < 6 * 2 ** 20, `the traces stay a few MiB in all (${total} bytes)`);
});

for (const file of files) {
  const name = path.basename(file);
  test(`${name}: parses, matches its README row, and replays on the release build with a clean heap check`, async () => {
    const row = rows.get(name);
    assert.ok(row, `${name} has a row in traces/real/README.md`);
    assert.equal(fs.statSync(file).size, row.fileBytes, "file size");
    const header = await checkTraceFile(file);
    assert.equal(header.ops, row.ops, "operations (the header is checked against the file too)");
    assert.equal(header.ids, row.peakBlocks, "ids are reused last-freed-first, so the id count is the peak number of live blocks");
    assert.ok(row.ops <= row.runOps);
    const trace = parseTrace(zlib.gunzipSync(fs.readFileSync(file)).toString("utf8"), name);
    const count = (kind) => trace.ops.filter((op) => op.kind === kind).length;
    assert.deepEqual([count("a"), count("f"), count("r")], [row.mallocs, row.frees, row.reallocs], "malloc / free / realloc");

    const heap = await Heap.create({ build: "release" });
    const result = await replayTraceFile(heap, file);
    assert.equal(result.ops, row.ops);
    assert.equal(result.peakLivePayload, row.peakLive, "peak live payload");
    heap.check();
    assert.equal(heap.stats().live, result.live.size, "the blocks the trace leaves live, and no others");
  });
}

test("a gzipped trace replays as its plain text does: the stream reader, the CLI, and the visualizer's server", async () => {
  const plain = path.resolve("traces/cccp-bal.rep");
  const text = fs.readFileSync(plain, "utf8");
  const packed = path.join(tmp, "cccp-bal.rep.gz");
  fs.writeFileSync(packed, zlib.gzipSync(text));
  // Known by its first bytes, not its name.
  const renamed = path.join(tmp, "cccp-bal.rep");
  fs.copyFileSync(packed, renamed);

  const expected = replay(await Heap.create(), parseTrace(text, "cccp-bal.rep"));
  for (const file of [packed, renamed]) {
    const got = await replayTraceFile(await Heap.create(), file);
    assert.deepEqual([got.ops, got.peakLivePayload, got.heapBytes], [expected.ops, expected.peakLivePayload, expected.heapBytes], file);
  }

  const run = spawnSync(process.execPath, [CLI, "replay", packed, "--json"], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const [record] = JSON.parse(run.stdout);
  assert.equal(record.trace, "cccp-bal.rep.gz");
  assert.equal(record.ops, expected.ops);
  assert.equal(record.heapBytes, expected.heapBytes);

  const server = await serveViz({ trace: { name: "cccp-bal.rep.gz", file: packed } });
  try {
    const response = await fetch(`http://127.0.0.1:${server.port}/trace/cccp-bal.rep.gz`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-encoding"), "gzip");
    assert.equal(await response.text(), text, "the browser gets the trace's text");
  } finally { await server.close(); }
});

test("a gzipped trace cut short or corrupt is an error that says so, exit 1 from the CLI", async () => {
  const whole = zlib.gzipSync(fs.readFileSync("traces/cccp-bal.rep"));
  const cut = path.join(tmp, "cut.rep.gz");
  fs.writeFileSync(cut, whole.subarray(0, whole.length >> 1));
  const corrupt = path.join(tmp, "corrupt.rep.gz");
  const bad = Buffer.from(whole);
  bad.fill(0x55, 20, 60);
  fs.writeFileSync(corrupt, bad);
  for (const file of [cut, corrupt]) {
    await assert.rejects(replayTraceFile(await Heap.create(), file), (error) => {
      assert.equal(error.name, "TraceError");
      assert.match(error.message, /gzip data but does not unpack \(Z_[A-Z_]+/);
      return true;
    }, file);
    const run = spawnSync(process.execPath, [CLI, "replay", file], { encoding: "utf8" });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /does not unpack/);
  }
});
