// The wasm-malloc command line, spawned as a user would run it.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { XMLParser } from "fast-xml-parser";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-cli-"));
const SHORT = "tests/fixtures/short.rep";
const CLI = path.resolve("dist/cli.js");

function cli(args, env = {}, cwd = undefined) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd, env: { ...process.env, WASM_MALLOC_POLICY: "", ...env } });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

function writeTrace(name, text) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

/** All elements named `tag` anywhere in a parsed XML tree. */
function findAll(node, tag, out = []) {
  if (Array.isArray(node)) { for (const n of node) findAll(n, tag, out); return out; }
  if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === tag) for (const v of [].concat(value)) out.push(v);
      findAll(value, tag, out);
    }
  }
  return out;
}
const parseSvg = (text) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(text);

test("--help works for the program and every command, exit 0", () => {
  const top = cli(["--help"]);
  assert.equal(top.code, 0);
  for (const command of ["replay", "dump", "map", "compare", "demo", "link"]) assert.match(top.out, new RegExp(`\\b${command}\\b`));
  assert.match(top.out, /Exit codes: 0 success, 1 trace or heap error, 2 bad usage/);
  for (const [command, option] of [["replay", "--check"], ["dump", "--at"], ["map", "--out"], ["compare", "--out"], ["demo", "--out"], ["link", "--max-memory"]]) {
    const r = cli([command, "--help"]);
    assert.equal(r.code, 0, command);
    assert.ok(r.out.includes(option), `${command} --help mentions ${option}`);
  }
});

test("replay prints ops/s, peak live payload, heap bytes and utilization per trace and policy", () => {
  const r = cli(["replay", SHORT, "--policy", "all", "--check"]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split("\n");
  assert.match(lines[0], /trace\s+policy\s+ops\s+ops\/s\s+peak live\s+heap bytes\s+utilization/);
  assert.equal(lines.length, 6, "a row per policy");
  for (const policy of ["first", "next", "best", "worst", "segregated"]) assert.ok(lines.some((l) => l.includes(` ${policy} `)), policy);
  assert.match(lines[1], /short\.rep\s+first\s+12\s+[\d,]+\s+8,144\s+[\d,]+\s+\d+\.\d%/);
});

test("replay --json gives one record per trace and policy", () => {
  const r = cli(["replay", SHORT, "--json", "--policy", "best", "--no-slabs"]);
  assert.equal(r.code, 0, r.err);
  const [record, ...rest] = JSON.parse(r.out);
  assert.equal(rest.length, 0);
  assert.equal(record.policy, "best");
  assert.equal(record.ops, 12);
  assert.equal(record.peakLivePayload, 8144);
  assert.ok(record.utilization > 0 && record.utilization <= 1);
  assert.equal(record.heapBytes, 65536 - 1024, "one page, from __heap_base");
});

test("WASM_MALLOC_POLICY picks the policy; --policy wins", () => {
  const fromEnv = JSON.parse(cli(["replay", SHORT, "--json"], { WASM_MALLOC_POLICY: "worst" }).out);
  assert.equal(fromEnv[0].policy, "worst");
  const fromOption = JSON.parse(cli(["replay", SHORT, "--json", "--policy", "next"], { WASM_MALLOC_POLICY: "worst" }).out);
  assert.equal(fromOption[0].policy, "next");
  const bad = cli(["replay", SHORT], { WASM_MALLOC_POLICY: "fastest" });
  assert.equal(bad.code, 2);
  assert.match(bad.err, /WASM_MALLOC_POLICY is "fastest"/);
});

test("trace errors exit 1 with file:line; usage errors exit 2", () => {
  const cases = [
    [writeTrace("bad-op.rep", "1\n1\n1\n1\nq 0 1\n"), /bad-op\.rep:5: unknown operation "q"/],
    [writeTrace("double.rep", "1\n1\n3\n1\na 0 8\nf 0\nf 0\n"), /double\.rep:7: free of id 0, which was already freed/],
    [writeTrace("unknown.rep", "1\n1\n1\n1\nf 3\n"), /unknown\.rep:5: free of id 3, which was never allocated/],
    [writeTrace("realloc.rep", "1\n1\n3\n1\na 0 8\nf 0\nr 0 9\n"), /realloc\.rep:7: realloc of id 0, which was already freed/],
    [path.join(tmp, "missing.rep"), /missing\.rep:0: cannot read the file \(ENOENT\)/],
  ];
  for (const [file, message] of cases) {
    for (const command of ["replay", "dump"]) {
      const r = cli([command, file]);
      assert.equal(r.code, 1, `${command} ${file}`);
      assert.match(r.err, message);
    }
  }
  for (const args of [["frobnicate"], ["replay"], ["replay", SHORT, "--policy", "fastest"], ["dump", "--at", "-3"], ["replay", SHORT, "--engine", "turbo"]]) {
    const r = cli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.ok(r.err.length > 0, "says what is wrong");
  }
});

test("dump of a fixed sequence matches the expected listing", () => {
  const r = cli(["dump", SHORT, "--at", "10", "--policy", "first", "--no-slabs"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, fs.readFileSync("tests/fixtures/short-first-no-slabs-at-10.dump", "utf8"));
});

test("dump without a file shows the built-in example with every layer; --json gives the snapshot", () => {
  const r = cli(["dump"]);
  assert.equal(r.code, 0, r.err);
  for (const layer of ["state", "medium", "slab-header", "slab", "large"]) assert.match(r.out, new RegExp(`\\b${layer}\\b`));
  assert.match(r.out, /^summary: \d+ blocks in use/m);
  const json = JSON.parse(cli(["dump", "--json", "--at", "3"]).out);
  assert.equal(json.step, 3);
  assert.ok(Array.isArray(json.blocks) && Array.isArray(json.pageMap) && json.stats.live === 3);
});

test("map writes an SVG with every block of the heap, to scale", () => {
  const out = path.join(tmp, "heap.svg");
  const r = cli(["map", SHORT, "--at", "10", "--out", out, "--links", "--no-slabs", "--policy", "first"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /wrote .*heap\.svg \(\d+ blocks, 1 page\)/);
  const svg = parseSvg(fs.readFileSync(out, "utf8"));
  const rects = findAll(svg, "rect").filter((rect) => rect["data-block"] !== undefined);
  const addresses = new Set(rects.map((rect) => Number(rect["data-block"])));
  // Every block the dump of the same state lists (state, start map, free, id 4, id 5, free) is drawn, to scale.
  const dump = cli(["dump", SHORT, "--at", "10", "--no-slabs", "--policy", "first"]);
  const listed = [...dump.out.matchAll(/^0x([0-9a-f]+)\s+[\w-]+\s+[\w-]+\s+([\d,]+)/gm)].map((m) => ({ address: parseInt(m[1], 16), size: Number(m[2].replace(/,/g, "")) }));
  assert.equal(listed.length, 6);
  for (const { address } of listed) assert.ok(addresses.has(address), `block 0x${address.toString(16)} drawn`);
  const freeRects = rects.filter((rect) => rect["data-state"] === "free");
  assert.ok(freeRects.length >= 2);
  const width = (a) => rects.filter((rect) => Number(rect["data-block"]) === a).reduce((s, rect) => s + Number(rect.width), 0);
  const [, , , id4, , lastFree] = listed;
  assert.ok(Math.abs(width(lastFree.address) / width(id4.address) - lastFree.size / id4.size) < 0.5, "drawn to scale");
});

test("compare prints every policy side by side and writes a chart", () => {
  const out = path.join(tmp, "compare.svg");
  const second = writeTrace("churn.rep", "0\n4\n8\n1\na 0 100\na 1 3000\na 2 50\nf 1\na 3 2000\nf 0\nf 2\nf 3\n");
  const r = cli(["compare", SHORT, second, "--out", out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /first util\s+next util\s+best util\s+worst util\s+segregated util/);
  assert.match(r.out, /^short\.rep/m);
  assert.match(r.out, /^churn\.rep/m);
  const bars = findAll(parseSvg(fs.readFileSync(out, "utf8")), "rect").filter((rect) => rect["data-series"] !== undefined);
  assert.equal(bars.length, 10, "a bar per trace and policy");
  const json = JSON.parse(cli(["compare", SHORT, "--json"]).out);
  assert.deepEqual(Object.keys(json[0].results), ["first", "next", "best", "worst", "segregated"]);
});

test("demo (npm start) compares the policies, dumps a small heap and writes a picture it names", () => {
  const out = path.join(tmp, "demo.svg");
  const r = cli(["demo", "--out", out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /churn\s+[\d.]+%/);
  assert.match(r.out, /summary: /);
  assert.ok(r.out.includes(`picture of that heap: ${out}`));
  assert.ok(fs.readFileSync(out, "utf8").startsWith("<svg"));
});

test("--version prints the package's version, exit 0", () => {
  const { version } = JSON.parse(fs.readFileSync("package.json", "utf8"));
  for (const flag of ["--version", "-V"]) {
    const r = cli([flag]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `${version}\n`);
  }
  assert.match(cli(["--help"]).out, /-V, --version/);
});

test("an unknown command, `help` of one, or no command at all is bad usage: exit 2", () => {
  for (const args of [["frobnicate"], ["frobnicate", SHORT], ["help", "frobnicate"]]) {
    const r = cli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err, /error: unknown command 'frobnicate'/);
    assert.equal(r.out, "");
  }
  const none = cli([]);
  assert.equal(none.code, 2);
  assert.match(none.err, /Usage: wasm-malloc/, "the help, on stderr");
  for (const args of [["help"], ["help", "replay"], ["replay", "--help"]]) assert.equal(cli(args).code, 0, args.join(" "));
});

test("map without --out writes heap.svg in the current folder, as compare writes compare.svg", () => {
  const dir = fs.mkdtempSync(path.join(tmp, "map-"));
  const r = cli(["map", path.resolve(SHORT)], {}, dir);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^wrote heap\.svg \(\d+ blocks, 1 page\)/);
  assert.ok(fs.readFileSync(path.join(dir, "heap.svg"), "utf8").startsWith("<svg"));
  assert.match(cli(["map", "--help"]).out, /default: "heap\.svg"/);
});

test("--at past the end of the trace is exit 2 naming the trace's length; --at its length is the end", () => {
  const out = path.join(tmp, "past.svg");
  for (const args of [["dump", SHORT, "--at", "13"], ["map", SHORT, "--at", "13", "--out", out], ["info", SHORT, "--at", "13", "--slab"], ["viz", SHORT, "--at", "13", "--port", "0"]]) {
    const r = cli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.err, "wasm-malloc: --at 13 is past the end of short.rep: it has 12 operations; pass --at 0..12\n", args.join(" "));
    assert.equal(r.out, "");
  }
  assert.ok(!fs.existsSync(out), "no picture of a state the trace never reaches");
  const builtIn = cli(["dump", "--at", "1000"]);
  assert.equal(builtIn.code, 2);
  assert.match(builtIn.err, /--at 1000 is past the end of the built-in example: it has (\d+) operations; pass --at 0\.\.\1/);
  const end = cli(["dump", SHORT, "--at", "12"]);
  assert.equal(end.code, 0, end.err);
  assert.match(end.out, /after 12 of 12 operations/);
  assert.match(cli(["dump", SHORT, "--at", "0"]).out, /after 0 of 12 operations/);
});

test("--policy with --engine buddy is exit 2: the buddy engine has no placement policy", () => {
  for (const command of [["replay", SHORT], ["replay", SHORT, "--json"], ["dump", SHORT], ["info", SHORT, "--buddy"], ["viz", SHORT, "--port", "0"]]) {
    for (const policy of ["best", ...(command[0] === "replay" ? ["all"] : [])]) {
      const r = cli([...command, "--engine", "buddy", "--policy", policy]);
      assert.equal(r.code, 2, `${command.join(" ")} --policy ${policy}`);
      assert.match(r.err, new RegExp(`--policy ${policy} does not apply to --engine buddy: the buddy engine has no placement policy; drop --policy`));
      assert.equal(r.out, "");
    }
  }
  // WASM_MALLOC_POLICY is a default for the policy engines, not a request: the buddy engine runs.
  const env = cli(["replay", SHORT, "--engine", "buddy", "--json"], { WASM_MALLOC_POLICY: "best" });
  assert.equal(env.code, 0, env.err);
  assert.equal(JSON.parse(env.out)[0].policy, "buddy");
});

test("writing into a closed pipe (`| head -1`) ends quietly with 0, no stack trace", async () => {
  // The reader is gone before the first write: every write fails with EPIPE.
  for (const args of [["dump", "traces/cccp-bal.rep"], ["replay", SHORT, "--policy", "all"], ["dump", "--json"]]) {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let err = "";
    child.stderr.on("data", (chunk) => { err += chunk; });
    const code = await new Promise((resolve) => child.on("close", resolve));
    assert.equal(err, "", args.join(" "));
    assert.equal(code, 0, args.join(" "));
  }
});

test("replay --json and compare --json name a trace alike: its file name, and the path as given", () => {
  const replayed = JSON.parse(cli(["replay", SHORT, "--json"]).out)[0];
  const compared = JSON.parse(cli(["compare", SHORT, "--json"]).out)[0];
  for (const record of [replayed, compared]) {
    assert.equal(record.trace, "short.rep");
    assert.equal(record.file, SHORT);
  }
});

test("the CLI examples run on the sample traces shipped in traces/ and traces/real/", () => {
  const help = cli(["--help"]).out;
  const examples = [...help.matchAll(/^ {2}wasm-malloc (replay|compare|dump) (.*)$/gm)];
  assert.ok(examples.length >= 4, help);
  // A shell's expansion of DIR/*SUFFIX (traces/*.rep, traces/real/*.rep.gz), which must match something.
  const expand = (arg) => {
    const glob = /^(.*)\/\*(\.[\w.]+)$/.exec(arg);
    if (!glob) return [arg];
    const files = fs.readdirSync(glob[1]).filter((f) => f.endsWith(glob[2])).map((f) => `${glob[1]}/${f}`);
    assert.ok(files.length > 0, `${arg} matches files`);
    return files;
  };
  assert.ok(examples.some(([, , rest]) => rest.includes("traces/real/")), "an example replays a real trace");
  for (const [, command, rest] of examples) {
    const args = rest.split(" ").flatMap(expand);
    for (let i = 0; i < args.length; i++) if (args[i] === "--out") args[i + 1] = path.join(tmp, args[i + 1]);
    const r = cli([command, ...args]);
    assert.equal(r.code, 0, `${command} ${rest}: ${r.err}`);
  }
  assert.equal(fs.readdirSync("traces").filter((f) => f.endsWith(".rep")).length, 13, "the 13 CS:APP sample traces");
});
