// Replay every CS:APP sample trace (traces/, see tests/host/traces.mjs) under every policy, with the
// heap check after every operation and every block's bytes verified.
import test from "node:test";
import fs from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";
import { Heap, POLICY_NAMES, parseTrace, replay } from "../dist/index.js";
import { traceFiles, tracePlaces } from "./host/traces.mjs";

const files = traceFiles();
if (files.length === 0) {
  console.log(`# no traces found (looked in ${tracePlaces()}): trace replay skipped`);
  test("trace replay (skipped: no .rep files found)", { skip: `no .rep files in ${tracePlaces()}` }, () => {});
}

for (const file of files) {
  const trace = parseTrace(fs.readFileSync(file, "utf8"), path.basename(file));
  for (const policy of POLICY_NAMES) {
    test(`${trace.file} replays under ${policy} fit with contents intact and the heap checked after every operation`, async () => {
      const heap = await Heap.create({ policy });
      const result = replay(heap, trace, { check: true, verify: true });
      assert.equal(result.ops, trace.ops.length);
      assert.equal(result.live.size, 0, "the trace is balanced: nothing live at the end");
      assert.equal(heap.stats().live, 0);
      assert.ok(result.utilization > 0 && result.utilization <= 1, `utilization ${result.utilization}`);
    });
  }
}
