#!/usr/bin/env node
// The whole test suite: as-pect (Wasm unit tests), then node:test (host,
// randomized model tests, trace replays). Ends with one plain line,
// "N passed, N failed", that counts both; when a test was skipped (or is a
// todo) it says how many too: "N passed, N failed (N skipped)". CI reads the
// "N passed, N failed" part, which stays as it is.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { aspectCounts, summaryLine, tapCounts } from "./host/summary.mjs";

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");

function runAspect() {
  const out = spawnSync("npx", ["asp", "--config", "as-pect.config.js", "--no-logo"], { encoding: "utf8", maxBuffer: 1 << 28 });
  const text = strip(`${out.stdout}${out.stderr}`).split("\n").filter((l) => !l.includes("Unknown user config")).join("\n");
  process.stdout.write(text);
  const counts = aspectCounts(text);
  if (!counts) return { passed: 0, failed: 1, skipped: 0, ok: false };
  return { ...counts, ok: out.status === 0 && counts.failed === 0 };
}

function runNodeTests() {
  const files = fs.readdirSync("tests").filter((f) => f.endsWith(".test.mjs")).map((f) => `tests/${f}`);
  const out = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...files], { encoding: "utf8", maxBuffer: 1 << 28 });
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  return { ...tapCounts(out.stdout), ok: out.status === 0 };
}

console.log("## as-pect: Wasm unit tests");
const aspect = runAspect();
console.log("\n## node:test: host, model and trace tests");
const node = runNodeTests();
const total = { passed: aspect.passed + node.passed, failed: aspect.failed + node.failed, skipped: aspect.skipped + node.skipped };
console.log(`\nas-pect: ${summaryLine(aspect)}; node:test: ${summaryLine(node)}`);
console.log(summaryLine(total));
process.exit(aspect.ok && node.ok && total.failed === 0 ? 0 : 1);
