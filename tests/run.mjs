#!/usr/bin/env node
// The whole test suite: as-pect (Wasm unit tests), then node:test (host,
// randomized model tests, trace replays). Ends with one plain line,
// "N passed, N failed", that counts both.
import { spawnSync } from "node:child_process";
import fs from "node:fs";

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");

function runAspect() {
  const out = spawnSync("npx", ["asp", "--config", "as-pect.config.js", "--no-logo"], { encoding: "utf8", maxBuffer: 1 << 28 });
  const text = strip(`${out.stdout}${out.stderr}`).split("\n").filter((l) => !l.includes("Unknown user config")).join("\n");
  process.stdout.write(text);
  const m = /\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/.exec(text);
  if (!m) return { passed: 0, failed: 1, ok: false };
  const passed = Number(m[1]);
  const total = Number(m[2]);
  return { passed, failed: total - passed, ok: out.status === 0 && passed === total };
}

function runNodeTests() {
  const files = fs.readdirSync("tests").filter((f) => f.endsWith(".test.mjs")).map((f) => `tests/${f}`);
  const out = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...files], { encoding: "utf8", maxBuffer: 1 << 28 });
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  const count = (name) => Number((new RegExp(`^# ${name} (\\d+)`, "m").exec(out.stdout) ?? [0, 0])[1]);
  return { passed: count("pass"), failed: count("fail") + count("cancelled"), ok: out.status === 0 };
}

console.log("## as-pect: Wasm unit tests");
const aspect = runAspect();
console.log("\n## node:test: host, model and trace tests");
const node = runNodeTests();
const passed = aspect.passed + node.passed;
const failed = aspect.failed + node.failed;
console.log(`\nas-pect: ${aspect.passed} passed, ${aspect.failed} failed; node:test: ${node.passed} passed, ${node.failed} failed`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(aspect.ok && node.ok && failed === 0 ? 0 : 1);
