// Size budgets: a build that outgrows its budget fails here. The budgets are
// what each build measures now with a little room (about 3%), so a change
// that adds code must say why in the budget it raises; docs/performance.md
// ("Sizes") has the table, the targets and what limits them.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import zlib from "node:zlib";

// Bytes, raw. The standalone C-API-only build first; then the release build and its variants.
const BUDGETS = {
  "small.wasm": 9_216,
  "release.wasm": 28_672,
  "embed.wasm": 28_672,
  "traced.wasm": 29_696,
  "embed-traced.wasm": 29_696,
  "buddy.wasm": 28_672,
  "checked.wasm": 32_768,
  // The embed build with the heap lock around each call (base/lock.ts) and heap_attach.
  "threads.wasm": 37_888,
};

for (const [file, budget] of Object.entries(BUDGETS)) {
  test(`build/${file} is at most ${budget.toLocaleString("en-US")} bytes`, () => {
    const bytes = fs.readFileSync(new URL(`../build/${file}`, import.meta.url));
    const gzipped = zlib.gzipSync(bytes, { level: 9 }).length;
    console.log(`# ${file}: ${bytes.length} bytes, ${gzipped} gzipped (budget ${budget})`);
    assert.ok(bytes.length <= budget, `build/${file} is ${bytes.length} bytes, over its budget of ${budget}: find what grew (node tools/wasm-sizes.mjs build/${file}), or raise the budget in tests/sizes.test.mjs saying why`);
  });
}

test("the release and small builds carry no name section or debug info", () => {
  for (const file of ["release.wasm", "small.wasm"]) {
    const module = new WebAssembly.Module(fs.readFileSync(new URL(`../build/${file}`, import.meta.url)));
    const custom = ["name", "sourceMappingURL", ".debug_info"].filter((name) => WebAssembly.Module.customSections(module, name).length > 0);
    assert.deepEqual(custom, [], `${file} has custom sections ${custom.join(", ")}`);
  }
});
