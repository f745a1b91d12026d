// Randomized model-based test: for every policy, random malloc / calloc /
// realloc / aligned_alloc / free against a shadow model: no two live blocks
// overlap, every block keeps its bytes, alignment holds, and the heap check
// passes after every step. Replay a failure with SEED=<printed seed>.
// OPS sets the operation count (default 100000 per policy).
import test from "node:test";
import { Heap, POLICY_NAMES } from "../dist/index.js";
import { chooseSeed } from "./host/random.mjs";
import { runModel } from "./host/model-run.mjs";

const OPS = Number(process.env.OPS ?? 100_000);
const MAX_LIVE = 400;

async function run(policy, slabs, seed, ops, build = "release") {
  const heap = await Heap.create({ policy, slabs, build });
  runModel(heap, { seed, ops, maxLive: MAX_LIVE, label: `${policy}${slabs ? "" : " without slabs"}${build === "release" ? "" : `, ${build}`}` });
}

for (const policy of POLICY_NAMES) {
  test(`${policy} fit: ${OPS} random operations keep blocks apart, contents intact, aligned, heap checked`, async (t) => {
    const seed = chooseSeed();
    t.diagnostic(`seed ${seed}`);
    console.log(`# model ${policy}: SEED=${seed}`);
    await run(policy, true, seed, OPS);
  });
}

for (const policy of POLICY_NAMES) {
  test(`${policy} fit without slabs: ${OPS / 5} random operations, every size through the policy`, async (t) => {
    const seed = chooseSeed();
    t.diagnostic(`seed ${seed}`);
    console.log(`# model ${policy} without slabs: SEED=${seed}`);
    await run(policy, false, seed, OPS / 5);
  });
}

for (const policy of ["first", "segregated"]) {
  test(`checked build, ${policy} fit: ${OPS / 20} random operations with canaries and quarantine`, async (t) => {
    const seed = chooseSeed();
    t.diagnostic(`seed ${seed}`);
    console.log(`# model checked ${policy}: SEED=${seed}`);
    await run(policy, true, seed, OPS / 20, "checked");
  });
}
