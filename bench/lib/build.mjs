// Building the peers and the Wasm driver into bench/build/, and the
// grow-instrumented copies every measured module runs as.
//
//   peer        JS driver (own memory)       Wasm driver (imports env.memory)
//   TLSF        tlsf.wasm                    tlsf-shared.wasm     AssemblyScript, --runtime minimal -O3 --noAssert
//   bump        bump.wasm                    bump-shared.wasm     AssemblyScript, --runtime stub -O3 --noAssert
//   dlmalloc    dlmalloc.wasm                dlmalloc-shared.wasm wasi-libc's malloc, clang -O2 (skipped without clang)
//   driver      -                            driver.wasm          AssemblyScript, imports alloc.malloc/free/realloc
//
// The shared variants put their heap above the driver's region: asc
// --memoryBase, wasm-ld --global-base (both DRIVER_TOP).
//
// The locked peers of the threads benchmark (bench/threads.mjs; buildThreadPeers):
//   tlsf-locked.wasm      AssemblyScript's TLSF under a lock, --enable threads, shared imported memory
//   dlmalloc-locked.wasm  wasi-libc's malloc under a lock, -matomics, shared imported memory (skipped without clang)
//   threads-driver.wasm   the harness's Wasm driver (peers/threads-driver.ts), --enable threads, shared imported memory
// Both are linked with the same maximum (THREADS_MAX_PAGES) and start their
// heap above DRIVER_TOP, below which the threads harness keeps its own words.
//
// Grow instrumentation: each memory.grow instruction of an AssemblyScript
// build (ours and the AS peers) is replaced by a call to the import
// bench.grow, which grows the memory from JS and times it (a text round trip
// through Binaryen; nothing else changes). dlmalloc gets memory through sbrk,
// which peers/dlmalloc.c defines over bench.grow, so it needs no rewriting.
import fs from "node:fs";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO = path.resolve(BENCH, "..");
export const OUT = path.join(BENCH, "build");

/** The Wasm driver's region: [0, DRIVER_TOP). Every allocator's heap starts at or above it. */
export const DRIVER_TOP = 1 << 20;

const AS_PEERS = [
  { name: "tlsf", source: "peers/tlsf.ts", args: ["--runtime", "minimal"] },
  { name: "bump", source: "peers/bump.ts", args: ["--runtime", "stub"] },
];
const AS_COMMON = ["-O3", "--noAssert", "--use", "abort=", "--noColors"];
const SHARED = ["--importMemory", "--memoryBase", String(DRIVER_TOP)];

/** The allocator's sources (a build of them is stale when one is newer). */
function assemblySources(dir = path.join(REPO, "assembly")) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? assemblySources(full) : entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Is `out` missing or older than any of `inputs`? */
function stale(out, inputs) {
  if (!fs.existsSync(out)) return true;
  const t = fs.statSync(out).mtimeMs;
  return inputs.some((f) => fs.statSync(f).mtimeMs > t);
}

async function asc(args) {
  const { main } = await import("assemblyscript/asc");
  let err = "";
  const sink = { write: (s) => { err += String(s); return true; } };
  // baseDir bench/: the repository's asconfig.json (the allocator's targets) must not apply.
  const { error } = await main([...args, "--baseDir", BENCH], { stdout: sink, stderr: sink });
  if (error) throw new Error(`asc ${args.join(" ")}: ${error.message}\n${err}`);
}

/** clang as a child process: resolves { status, output }. */
function clangJob(cc, args) {
  return new Promise((resolve) => {
    let output = "";
    const child = spawn(cc, args);
    child.stdout.on("data", (d) => { output += d; });
    child.stderr.on("data", (d) => { output += d; });
    child.on("error", (err) => resolve({ status: -1, output: String(err) }));
    child.on("close", (status) => resolve({ status, output }));
  });
}

function which(cmd) {
  const r = spawnSync(cmd, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n")[0] : null;
}

/**
 * Builds what is stale; returns { files: {name: path}, notes: [lines to print],
 * clang: version or null }. `log` gets one line per build.
 */
export async function buildPeers(log = () => {}) {
  fs.mkdirSync(OUT, { recursive: true });
  const files = {};
  const notes = [];
  const self = fileURLToPath(import.meta.url);

  // dlmalloc first: clang runs as child processes, alongside the asc builds.
  const cc = process.env.CLANG ?? "clang";
  const clang = which(cc);
  const sysroot = process.env.WASI_SYSROOT ?? "/usr";
  const clangJobs = [];
  if (!clang) {
    notes.push("dlmalloc: skipped (clang not found; install clang, lld and wasi-libc to include it)");
  } else {
    const src = path.join(BENCH, "peers/dlmalloc.c");
    const base = ["--target=wasm32-wasi", `--sysroot=${sysroot}`, "-O2", "-nostartfiles", "-Wl,--no-entry", "-Wl,--strip-all",
      ...["malloc", "free", "realloc", "__heap_base"].map((s) => `-Wl,--export=${s}`)];
    for (const shared of [false, true]) {
      const name = shared ? "dlmalloc-shared" : "dlmalloc";
      const out = path.join(OUT, `${name}.wasm`);
      if (!stale(out, [src, self])) { clangJobs.push(Promise.resolve({ name, out, status: 0 })); continue; }
      log(`building ${path.relative(REPO, out)}`);
      fs.rmSync(out, { force: true });
      const args = [...base, ...(shared ? ["-Wl,--import-memory", `-Wl,--global-base=${DRIVER_TOP}`] : []), "-o", out, src];
      clangJobs.push(clangJob(cc, args).then((r) => ({ name, out, ...r })));
    }
  }

  for (const peer of AS_PEERS) {
    const src = path.join(BENCH, peer.source);
    for (const shared of [false, true]) {
      const name = shared ? `${peer.name}-shared` : peer.name;
      const out = path.join(OUT, `${name}.wasm`);
      if (stale(out, [src, self])) {
        log(`building ${path.relative(REPO, out)}`);
        await asc([peer.source, ...peer.args, ...AS_COMMON, ...(shared ? SHARED : []), "-o", path.relative(BENCH, out)]);
      }
      files[name] = out;
    }
  }
  {
    // The small build's imported-memory variant for the Wasm driver (its heap above the
    // driver's region, set up at __heap_base on the first call like the standalone build).
    const out = path.join(OUT, "small-shared.wasm");
    // asconfig.json's `small` target itself, so the flags are written once; only the memory differs.
    const inputs = [...assemblySources(), path.join(REPO, "asconfig.json"), path.join(REPO, "tools", "asc-no-inline.mjs"), self];
    if (stale(out, inputs)) {
      log(`building ${path.relative(REPO, out)}`);
      await asc(["../assembly/small.ts", "--config", "../asconfig.json", "--target", "small", "--transform", path.join(REPO, "tools", "asc-no-inline.mjs"),
        "--noColors", ...SHARED, "-o", path.relative(BENCH, out), "--textFile", path.relative(BENCH, out.replace(/\.wasm$/, ".wat"))]);
    }
    files["small-shared"] = out;
  }
  {
    const src = path.join(BENCH, "peers/driver.ts");
    const out = path.join(OUT, "driver.wasm");
    if (stale(out, [src, self])) {
      log(`building ${path.relative(REPO, out)}`);
      await asc(["peers/driver.ts", "--runtime", "stub", ...AS_COMMON, "--importMemory", "-o", path.relative(BENCH, out)]);
    }
    files.driver = out;
  }

  const built = await Promise.all(clangJobs);
  const failed = built.find((j) => j.status !== 0);
  if (failed) {
    const why = (failed.output ?? "").trim().split("\n").slice(-3).join(" / ");
    notes.push(`dlmalloc: skipped (clang failed: ${why}; is wasi-libc installed under ${sysroot}?)`);
  } else {
    for (const j of built) files[j.name] = j.out;
  }
  return { files, notes, clang };
}

/** The locked peers' memory maximum (pages): 1 GiB. The harness's shared memory declares the same. */
export const THREADS_MAX_PAGES = 16384;

/**
 * Builds the threads benchmark's locked peers when stale; returns { files:
 * {name: path}, notes } as buildPeers does (dlmalloc-locked is left out, with
 * a note, when clang or wasi-libc is missing).
 */
export async function buildThreadPeers(log = () => {}) {
  fs.mkdirSync(OUT, { recursive: true });
  const files = {};
  const notes = [];
  const self = fileURLToPath(import.meta.url);
  {
    const src = path.join(BENCH, "peers/tlsf-locked.ts");
    const out = path.join(OUT, "tlsf-locked.wasm");
    if (stale(out, [src, self])) {
      log(`building ${path.relative(REPO, out)}`);
      await asc(["peers/tlsf-locked.ts", "--runtime", "minimal", ...AS_COMMON, "--enable", "threads", ...SHARED,
        "--sharedMemory", "--maximumMemory", String(THREADS_MAX_PAGES), "-o", path.relative(BENCH, out)]);
    }
    files["tlsf-locked"] = out;
  }
  {
    const srcs = ["peers/threads-driver.ts", "peers/driver.ts"].map((f) => path.join(BENCH, f));
    const out = path.join(OUT, "threads-driver.wasm");
    if (stale(out, [...srcs, self])) {
      log(`building ${path.relative(REPO, out)}`);
      await asc(["peers/threads-driver.ts", "--runtime", "stub", ...AS_COMMON, "--enable", "threads", "--importMemory",
        "--sharedMemory", "--maximumMemory", String(THREADS_MAX_PAGES), "-o", path.relative(BENCH, out)]);
    }
    files["threads-driver"] = out;
  }
  const cc = process.env.CLANG ?? "clang";
  if (!which(cc)) {
    notes.push("dlmalloc-locked: skipped (clang not found; install clang, lld and wasi-libc to include it)");
    return { files, notes };
  }
  const src = path.join(BENCH, "peers/dlmalloc-locked.c");
  const out = path.join(OUT, "dlmalloc-locked.wasm");
  if (stale(out, [src, self])) {
    log(`building ${path.relative(REPO, out)}`);
    fs.rmSync(out, { force: true });
    const sysroot = process.env.WASI_SYSROOT ?? "/usr";
    // --no-check-features: libc.a has no atomics; why that is safe here is in peers/dlmalloc-locked.c.
    const link = ["--no-entry", "--strip-all", "--import-memory", "--shared-memory", `--max-memory=${THREADS_MAX_PAGES * 65536}`,
      "--no-check-features", `--global-base=${DRIVER_TOP}`, "--export=__heap_base", "--export=__stack_pointer"];
    const { status, output } = await clangJob(cc, ["--target=wasm32-wasi", `--sysroot=${sysroot}`, "-O2", "-matomics", "-mbulk-memory",
      "-nostartfiles", ...link.map((f) => `-Wl,${f}`), "-o", out, src]);
    if (status !== 0) {
      const why = output.trim().split("\n").slice(-3).join(" / ");
      notes.push(`dlmalloc-locked: skipped (clang failed: ${why}; is wasi-libc installed under ${sysroot}?)`);
      return { files, notes };
    }
  }
  files["dlmalloc-locked"] = out;
  return { files, notes };
}

/**
 * The copy of an AssemblyScript-built module whose memory.grow instructions
 * call bench.grow instead, cached in bench/build/hooked/ under a hash of the
 * module (a rebuild that changes nothing keeps the cache).
 */
export async function growHooked(file) {
  const dir = path.join(OUT, "hooked");
  fs.mkdirSync(dir, { recursive: true });
  const bytes = fs.readFileSync(file);
  const hash = createHash("sha256").update(bytes).update(fs.readFileSync(fileURLToPath(import.meta.url))).digest("hex").slice(0, 16);
  const stem = path.basename(file, ".wasm");
  const out = path.join(dir, `${stem}-${hash}.wasm`);
  if (fs.existsSync(out)) return out;
  const { default: binaryen } = await import("binaryen");
  const module = binaryen.readBinary(bytes);
  module.addFunctionImport("__bench_grow", "bench", "grow", binaryen.i32, binaryen.i32);
  let replaced = 0;
  // (memory.grow EXPR) and (memory.grow $mem EXPR) → (call $__bench_grow EXPR)
  const text = module.emitText().replace(/\(memory\.grow(\s+\$[^\s()]+)?(?=[\s)])/g, () => { replaced++; return "(call $__bench_grow"; });
  module.dispose();
  if (replaced === 0) throw new Error(`${file}: no memory.grow found to instrument`);
  const hooked = binaryen.parseText(text);
  hooked.setFeatures(binaryen.Features.All);
  if (!hooked.validate()) throw new Error(`${file}: the grow-instrumented module does not validate`);
  const result = hooked.emitBinary();
  hooked.dispose();
  for (const old of fs.readdirSync(dir)) if (old.startsWith(`${stem}-`) && old.endsWith(".wasm")) fs.rmSync(path.join(dir, old));
  fs.writeFileSync(out, result);
  return out;
}

/** Linear memory minimum (pages) a module declares for its imported memory, or 0. */
export function importedMemoryPages(bytes) {
  const b = new Uint8Array(bytes);
  let p = 8;
  const leb = () => { let r = 0, s = 0, x; do { x = b[p++]; r |= (x & 0x7f) << s; s += 7; } while (x & 0x80); return r >>> 0; };
  const name = () => { const n = leb(); p += n; };
  while (p < b.length) {
    const id = b[p++];
    const size = leb();
    const end = p + size;
    if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        name(); name();
        const kind = b[p++];
        if (kind === 0) leb();
        else if (kind === 1) { p++; const f = leb(); leb(); if (f & 1) leb(); }
        else if (kind === 2) { const f = leb(); const min = leb(); if (f & 1) leb(); return min; }
        else if (kind === 3) { p += 2; }
        else return 0;
      }
      return 0;
    }
    p = end;
  }
  return 0;
}
