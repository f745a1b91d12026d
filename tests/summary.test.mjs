// tests/run.mjs's counts and last line: a skipped test is counted, and the
// "N passed, N failed" that CI parses stays intact.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { aspectCounts, summaryLine, tapCounts } from "./host/summary.mjs";

test("the last line counts skipped tests after the \"N passed, N failed\" CI reads", () => {
  assert.equal(summaryLine({ passed: 662, failed: 0, skipped: 0 }), "662 passed, 0 failed");
  const line = summaryLine({ passed: 662, failed: 0, skipped: 3 });
  assert.equal(line, "662 passed, 0 failed (3 skipped)");
  assert.deepEqual(/(\d+) passed, (\d+) failed/.exec(line).slice(1), ["662", "0"]);
});

test("node:test's skips and todos are counted from a real TAP run", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wm-summary-"));
  const file = path.join(dir, "sample.test.mjs");
  fs.writeFileSync(file, 'import test from "node:test";\ntest("runs", () => {});\ntest("skipped", { skip: "no data" }, () => {});\ntest("todo", { todo: true }, () => {});\n');
  // (Without the parent's NODE_TEST_CONTEXT, or the child reports to this runner instead of printing TAP.)
  const { NODE_TEST_CONTEXT, ...env } = process.env;
  const out = spawnSync(process.execPath, ["--test", "--test-reporter=tap", file], { encoding: "utf8", env });
  assert.deepEqual(tapCounts(out.stdout), { passed: 1, failed: 0, skipped: 2 }, out.stdout);
});

test("as-pect's summary and todos are read", () => {
  const text = "  [Todo]: a thing\n  [Summary]\n    [Tests]: 10 / 12\n   [Groups]: 3 / 3\n";
  assert.deepEqual(aspectCounts(text), { passed: 10, failed: 2, skipped: 1 });
  assert.equal(aspectCounts("no summary"), undefined);
});
