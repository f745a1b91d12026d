#!/usr/bin/env node
// The build: every asc target of asconfig.json, the layout table, the host library (tsc)
// and the visualizer (vite), each rebuilt only when what it reads has changed.
//
//   node tools/build.mjs                everything, stale steps only (`npm run build`)
//   node tools/build.mjs wasm js        only these groups (wasm, layout, js, viz)
//   node tools/build.mjs --force        every step, stale or not
//   node tools/build.mjs --quiet        print nothing when nothing is stale
//
// Why not mtimes: a fresh clone or a `git checkout` gives every file a new mtime, and
// tools/layout.mjs may rewrite src/layout.ts with the same bytes. So each step records a
// hash of its inputs (file names and contents, its command, the compiler's version) in
// build/.stamps.json when it succeeds, and runs again when that hash differs or one of
// its outputs is missing. A clean clone has no stamps: everything builds, once; `npm ci`
// (prepare) then `npm test` (this again) builds the second time nothing at all.
//
// Independent asc targets run side by side, one per core (asc is single-threaded).
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const STAMPS = "build/.stamps.json";
const bin = (name) => path.join("node_modules", ".bin", name);

// asc's `converge` option re-runs binaryen's optimizer until the binary stops shrinking.
// When the last round comes out a few bytes larger than the round before, asc stops,
// keeps that last round's module and prints this line: a note about the size, not a
// problem with the code (the module is valid and tested like any other). Dropped here;
// every other line asc prints, warnings and errors included, passes through.
const CONVERGE_NOTE = /^Last converge was suboptimal\.\s*$/;

const ascVersion = JSON.parse(fs.readFileSync(path.join(repo, "node_modules/assemblyscript/package.json"), "utf8")).version;
const ascConfig = JSON.parse(fs.readFileSync(path.join(repo, "asconfig.json"), "utf8"));

/** Every file under `dir` (repo-relative) whose name passes `keep`, sorted. */
function filesUnder(dir, keep = () => true) {
  const found = [];
  const walk = (relative) => {
    const full = path.join(repo, relative);
    if (!fs.existsSync(full)) return;
    for (const entry of fs.readdirSync(full, { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (keep(child)) found.push(child);
    }
  };
  walk(dir);
  return found.sort();
}

const ts = (file) => file.endsWith(".ts");
const ASSEMBLY = () => [...filesUnder("assembly", ts), "asconfig.json"];
const HOST = () => [...filesUnder("src", ts), "tsconfig.json", "package.json"];
const VIZ = () => [...filesUnder("viz"), ...HOST(), "build/release.wasm", "build/buddy.wasm"];

/** One asc target: `entries` compiled with asconfig.json's `target` (and `extra` arguments). */
function ascStep(target, entries, extra = []) {
  const outFile = ascConfig.targets[target].outFile;
  const textFile = ascConfig.targets[target].textFile;
  const base = outFile.replace(/\.wasm$/, "");
  return {
    name: `wasm:${target}`, group: target === "layout" ? "layout" : "wasm", after: [],
    inputs: () => [...ASSEMBLY(), ...extra.filter((arg) => arg.startsWith("tools/"))],
    outputs: [outFile, ...(textFile ? [textFile] : []), `${base}.js`, `${base}.d.ts`],
    command: [bin("asc"), ...entries, "--config", "asconfig.json", "--target", target, ...extra],
  };
}

const ALLOCATOR = ["assembly/index.ts"];
const STEPS = [
  ascStep("layout", ["assembly/layout.ts"]),
  {
    // Reads the layout build and the defining files' comments; writes two committed files.
    name: "layout", group: "layout", after: ["wasm:layout"],
    inputs: () => ["build/layout/layout.wasm", "build/layout/layout.d.ts", "tools/layout.mjs", ...filesUnder("assembly", ts)],
    outputs: ["src/layout.ts", "include/wasm_malloc.h"],
    command: [process.execPath, "tools/layout.mjs"],
  },
  ...["release", "checked", "traced", "embed", "embed-traced", "unchecked"].map((target) => ascStep(target, ALLOCATOR)),
  ascStep("buddy", [...ALLOCATOR, "assembly/buddy-exports.ts"]),
  // asconfig.json cannot name a transform by a relative path (asc looks it up as a package): given here.
  ascStep("small", ["assembly/small.ts"], ["--transform", "./tools/asc-no-inline.mjs"]),
  ascStep("link", ["assembly/link.ts"]),
  ascStep("link-small", ["assembly/link.ts"], ["--transform", "./tools/asc-no-inline.mjs"]),
  ascStep("threads", ["assembly/threads.ts"]),
  {
    name: "js", group: "js", after: ["layout"],
    inputs: HOST, outputs: ["dist/index.js", "dist/index.d.ts", "dist/cli.js"],
    command: [bin("tsc"), "-p", "tsconfig.json"],
  },
  {
    name: "viz:check", group: "viz", after: ["layout"],
    inputs: () => [...filesUnder("viz"), ...HOST()], outputs: [],
    command: [bin("tsc"), "-p", "viz/tsconfig.json"],
  },
  {
    name: "viz", group: "viz", after: ["layout", "viz:check", "wasm:release", "wasm:buddy"],
    inputs: VIZ, outputs: ["dist-viz/index.html"],
    command: [bin("vite"), "build", "--config", "viz/vite.config.mjs"],
  },
];

function parseArguments(argv) {
  const options = { force: false, quiet: false, groups: new Set() };
  const groups = new Set(STEPS.map((step) => step.group));
  for (const arg of argv) {
    if (arg === "--force") options.force = true;
    else if (arg === "--quiet") options.quiet = true;
    else if (groups.has(arg)) options.groups.add(arg);
    else {
      console.error(`build: unknown argument ${JSON.stringify(arg)}; use --force, --quiet or groups among: ${[...groups].join(", ")}`);
      process.exit(2);
    }
  }
  return options;
}

/** The hash of a step's inputs: their names and bytes, its command and the compiler version. */
function inputHash(step) {
  const hash = crypto.createHash("sha256");
  hash.update(JSON.stringify({ command: step.command.slice(1), asc: ascVersion }));
  for (const file of step.inputs()) {
    hash.update(`\0${file}\0`);
    const full = path.join(repo, file);
    hash.update(fs.existsSync(full) ? fs.readFileSync(full) : "(missing)");
  }
  return hash.digest("hex");
}

function readStamps() {
  try { return JSON.parse(fs.readFileSync(path.join(repo, STAMPS), "utf8")); } catch { return {}; }
}
function writeStamps(stamps) {
  fs.mkdirSync(path.join(repo, path.dirname(STAMPS)), { recursive: true });
  fs.writeFileSync(path.join(repo, STAMPS), `${JSON.stringify(stamps, null, 2)}\n`);
}

/** Run a step's command; its output passes through, except asc's converge note. */
function run(step) {
  return new Promise((resolve) => {
    const child = spawn(step.command[0], step.command.slice(1), { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    const relay = (from, to) => {
      let pending = "";
      from.setEncoding("utf8");
      from.on("data", (chunk) => {
        const lines = (pending + chunk).split("\n");
        pending = lines.pop();
        for (const line of lines) if (!CONVERGE_NOTE.test(line)) to.write(`${line}\n`);
      });
      from.on("end", () => { if (pending && !CONVERGE_NOTE.test(pending)) to.write(pending); });
    };
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    child.on("error", (error) => { console.error(`build: ${step.name}: cannot run ${step.command[0]}: ${error.message}`); resolve(1); });
    child.on("close", (code) => resolve(code ?? 1));
  });
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const wanted = (step) => options.groups.size === 0 || options.groups.has(step.group);
  const stamps = options.force ? {} : readStamps();
  const done = new Set();
  const failed = [];
  const started = Date.now();
  let built = 0;

  // A step waits for the steps it reads from; it runs only if wanted. An unwanted step
  // still counts as done (its outputs are whatever they are now).
  const pending = STEPS.slice();
  const running = new Map();
  const slots = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const ready = (step) => step.after.every((name) => done.has(name));

  const startStep = async (step) => {
    if (!wanted(step)) return true;
    const hash = inputHash(step);
    const present = step.outputs.every((file) => fs.existsSync(path.join(repo, file)));
    if (stamps[step.name] === hash && present) return true;
    console.log(`build: ${step.name}`);
    const stepStart = Date.now();
    const code = await run(step);
    if (code !== 0) { console.error(`build: ${step.name} failed (exit ${code}): ${step.command.join(" ")}`); return false; }
    // Hash again: a step may rewrite its own inputs (layout writes src/layout.ts, read by js).
    stamps[step.name] = inputHash(step);
    writeStamps(stamps);
    built++;
    if (!options.quiet) console.log(`build: ${step.name} done in ${((Date.now() - stepStart) / 1000).toFixed(1)} s`);
    return true;
  };

  while (pending.length || running.size) {
    while (running.size < slots && !failed.length) {
      const index = pending.findIndex(ready);
      if (index < 0) break;
      const [step] = pending.splice(index, 1);
      running.set(step.name, startStep(step).then((ok) => ({ step, ok })));
    }
    if (!running.size) break;
    const { step, ok } = await Promise.race(running.values());
    running.delete(step.name);
    if (ok) done.add(step.name); else failed.push(step.name);
  }
  if (failed.length) process.exit(1);
  if (pending.length) { console.error(`build: steps never ready: ${pending.map((s) => s.name).join(", ")}`); process.exit(1); }
  if (!options.quiet || built) {
    console.log(built ? `build: ${built} step(s) rebuilt in ${((Date.now() - started) / 1000).toFixed(1)} s` : "build: everything up to date");
  }
}

await main();
