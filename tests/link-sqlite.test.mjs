// A real program no one here wrote, linked by `wasm-malloc link`: SQLite 3.53.2
// (the amalgamation from the npm registry, tests/embed/sqlite.mjs) under our
// workload (tests/embed/c/sqlite-workload.c: 100,000 rows inserted, indexed,
// queried, updated, deleted, checksummed). The linked module, run on node:wasi
// alone, prints byte for byte what the same program prints on wasi-libc's
// dlmalloc, and what it prints through linkAllocator.
//
// SQLite is compiled at -O1 here, once per machine (the object is kept in the
// temp dir): about half a minute. bench/sqlite.mjs times the -O2 build.
// Needs clang, lld, wasi-libc and the npm registry: skipped (saying why)
// without clang, except under CI=true.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { needsClang, runPlain, runWasi } from "./embed/toolchain.mjs";
import { buildSqliteWorkload, SQLITE_VERSION } from "./embed/sqlite.mjs";
import { linkStandalone } from "../dist/index.js";

const skip = needsClang();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-link-sqlite-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test(`SQLite ${SQLITE_VERSION}, linked with wasm-malloc, prints on node:wasi alone what it prints on dlmalloc and through linkAllocator`, { ...skip, timeout: 600_000 }, async (t) => {
  const started = Date.now();
  const { dlmalloc, shim } = await buildSqliteWorkload(tmp, "-O1");
  const built = Date.now();
  // The dlmalloc run goes on while the linker works (two cores).
  const onDlmalloc = runPlain(dlmalloc);
  const linked = await linkStandalone(fs.readFileSync(shim));
  const out = path.join(tmp, "sqlite-linked.wasm");
  fs.writeFileSync(out, linked.wasm);
  const done = Date.now();
  assert.deepEqual(linked.imports.filter((name) => !name.startsWith("wasi_snapshot_preview1.")), [], "only WASI");
  assert.deepEqual(linked.exports.sort(), ["__heap_base", "_start", "memory"]);

  const reference = await onDlmalloc;
  assert.equal(reference.status, 0, reference.stderr);
  assert.match(reference.stdout, new RegExp(`^SQLite ${SQLITE_VERSION.replace(/\./g, "\\.")}, 100000 rows\n`));
  assert.match(reference.stdout, /\nintegrity:\n {2}ok\nsqlite-workload: ok\n$/, "SQLite checked its own database");

  const standalone = await runPlain(out);
  assert.equal(standalone.status, 0, standalone.stderr);
  assert.equal(standalone.stderr, "");
  assert.equal(standalone.stdout, reference.stdout, "byte-identical to dlmalloc's run");

  const viaHost = await runWasi(shim);
  assert.equal(viaHost.report?.exit, 0, viaHost.stderr);
  assert.equal(viaHost.stdout, reference.stdout, "byte-identical to the linkAllocator run");
  const { stats, check } = viaHost.report;
  assert.equal(check, "ok", "the heap SQLite leaves passes the full check");
  assert.equal(stats.errors, 0);
  assert.ok(stats.mallocs > 100000, `SQLite's allocations went through wasm-malloc (${stats.mallocs} mallocs, ${stats.reallocs} reallocs)`);
  t.diagnostic(`build ${((built - started) / 1000).toFixed(1)} s, link ${((done - built) / 1000).toFixed(1)} s (${linked.wasm.length} bytes), runs ${((Date.now() - done) / 1000).toFixed(1)} s; ${stats.mallocs} mallocs, peak ${stats.peakInUse} bytes in use`);
});
