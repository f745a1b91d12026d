// Helpers of the embedding tests: the C toolchain (clang + lld + wasi-libc),
// a throwaway "user project" whose node_modules holds this package, and
// spawning without blocking (so two compilers can run at once).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SYSROOT = "/usr";
export const CLANG_FLAGS = ["--target=wasm32-wasi", `--sysroot=${SYSROOT}`, "-O2"];
export const LINK_FLAGS = ["-Wl,--import-memory", "-Wl,--export=__heap_base"];

/**
 * Is the C toolchain here? { ok: true } or { ok: false, reason }. Under CI=true
 * the tests must not skip: they run and fail where a tool is missing.
 */
export function cToolchain() {
  const clang = spawnSync("clang", ["--version"], { encoding: "utf8" });
  if (clang.error || clang.status !== 0) return { ok: false, reason: "clang not found (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)" };
  const lld = spawnSync("wasm-ld", ["--version"], { encoding: "utf8" });
  if (lld.error || lld.status !== 0) return { ok: false, reason: "wasm-ld not found (apt-get install lld)" };
  if (!fs.existsSync(path.join(SYSROOT, "lib", "wasm32-wasi", "libc.a"))) return { ok: false, reason: "wasi-libc not found (apt-get install wasi-libc)" };
  const builtins = spawnSync("clang", [...CLANG_FLAGS, "-print-libgcc-file-name"], { encoding: "utf8" }).stdout?.trim();
  if (!builtins || !fs.existsSync(builtins)) return { ok: false, reason: "clang's wasm32 builtins not found (apt-get install libclang-rt-dev-wasm32)" };
  return { ok: true };
}

/** Is Debian's libc++ for wasm32 here (for C++ programs)? { ok: true } or { ok: false, reason }. */
export function cxxToolchain() {
  const tc = cToolchain();
  if (!tc.ok) return tc;
  for (const lib of ["libc++.a", "libc++abi.a"]) {
    if (!fs.existsSync(path.join(SYSROOT, "lib", "wasm32-wasi", lib))) return { ok: false, reason: `${lib} for wasm32 not found (apt-get install libc++-dev-wasm32, which brings libc++abi)` };
  }
  return { ok: true };
}

/** node:test options for a test that needs clang++ and libc++ for wasm32 (as needsClang). */
export function needsClangxx() {
  const tc = cxxToolchain();
  if (tc.ok || process.env.CI === "true") return {};
  console.log(`# skipping the C++ tests: ${tc.reason}`);
  return { skip: tc.reason };
}

/** node:test options for a test that needs clang: skipped with the reason outside CI, run (and failing) under CI. */
export function needsClang() {
  const tc = cToolchain();
  if (tc.ok || process.env.CI === "true") return {};
  console.log(`# skipping the C tests: ${tc.reason}`);
  return { skip: tc.reason };
}

/** Run a command; resolves { status, stdout, stderr } (never rejects). */
export function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    child.on("error", (error) => resolve({ status: -1, stdout, stderr: `${stderr}${error.message}` }));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Like run, but rejects with the command's output when it fails. */
export async function runOk(command, args, options = {}) {
  const result = await run(command, args, options);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  return result;
}

/** Compile C sources to `out` with clang for wasm32-wasi; `shim` links wasm-malloc's C shim. */
export function clang(sources, out, { shim = true, extra = [] } = {}) {
  const args = [...CLANG_FLAGS, "-Wall", "-Werror", ...extra];
  if (shim) args.push("-I", path.join(repo, "include"), ...LINK_FLAGS, ...sources, path.join(repo, "c", "wasm_malloc.c"));
  else args.push(...sources);
  return runOk("clang", [...args, "-o", out], { env: clangEnv() });
}

/**
 * Compile a C++ source to `out` with clang++ and Debian's libc++ for wasm32
 * (built without exceptions); `shim` links wasm-malloc's C shim (compiled as C).
 */
export function clangxx(source, out, { shim = true } = {}) {
  const args = [...CLANG_FLAGS, "-fno-exceptions", "-Wall", "-Werror", source];
  if (shim) args.push("-I", path.join(repo, "include"), ...LINK_FLAGS, "-x", "c", path.join(repo, "c", "wasm_malloc.c"));
  return runOk("clang++", [...args, "-o", out], { env: clangEnv() });
}

/**
 * The environment for clang: PATH without node_modules/.bin. clang runs
 * `wasm-opt` after linking when it finds one on PATH, and `npm test` puts
 * binaryen's there, whose pass strips the name section the tests read.
 */
export function clangEnv() {
  const PATH = (process.env.PATH ?? "").split(path.delimiter).filter((dir) => !dir.includes(`node_modules${path.sep}.bin`)).join(path.delimiter);
  return { ...process.env, PATH };
}

/**
 * A temporary directory laid out as a project that installed wasm-malloc:
 * node_modules/wasm-malloc is this checkout, with assemblyscript,
 * @assemblyscript/loader, binaryen and the asc and wasm-malloc commands beside it.
 */
export function userProject(prefix = "wasm-malloc-embed-") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const modules = path.join(dir, "node_modules");
  fs.mkdirSync(path.join(modules, ".bin"), { recursive: true });
  fs.symlinkSync(repo, path.join(modules, "wasm-malloc"));
  for (const name of ["assemblyscript", "@assemblyscript", "binaryen"]) {
    fs.symlinkSync(path.join(repo, "node_modules", name), path.join(modules, name));
  }
  fs.symlinkSync(path.join(repo, "node_modules", "assemblyscript", "bin", "asc.js"), path.join(modules, ".bin", "asc"));
  // The package's own command, as npm would put it there (`npx wasm-malloc …`).
  fs.writeFileSync(path.join(modules, ".bin", "wasm-malloc"), `#!/bin/sh\nexec "${process.execPath}" "${path.join(repo, "dist", "cli.js")}" "$@"\n`, { mode: 0o755 });
  return dir;
}

/** asc, run from `cwd` (where node_modules/wasm-malloc resolves). */
export function asc(args, cwd) {
  return runOk(process.execPath, [path.join(repo, "node_modules", "assemblyscript", "bin", "asc.js"), ...args], { cwd });
}

/** Node with the flag node:wasi needs after memory growth (see the embedding issue). */
export const NODE_WASI = [process.execPath, "--no-turbo-fast-api-calls", "--no-warnings"];

/** Run a WASI command with tests/embed/run-plain.mjs (node:wasi alone); resolves { status, stdout, stderr }. */
export function runPlain(wasm, args = []) {
  return run(NODE_WASI[0], [...NODE_WASI.slice(1), path.join(repo, "tests", "embed", "run-plain.mjs"), wasm, ...args]);
}

/** Run a WASI program through tests/embed/run-wasi.mjs; resolves { status, stdout, stderr, report }. */
export async function runWasi(wasm, { plain = false, trace, policy, maxMemory, misuse } = {}) {
  const reportFile = path.join(os.tmpdir(), `wasm-malloc-report-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const args = [...NODE_WASI.slice(1), path.join(repo, "tests", "embed", "run-wasi.mjs"), "--report", reportFile];
  if (plain) args.push("--plain");
  if (trace) args.push("--trace", trace);
  if (policy) args.push("--policy", policy);
  if (maxMemory) args.push("--max-memory", String(maxMemory));
  if (misuse) args.push("--misuse", misuse);
  const result = await run(NODE_WASI[0], [...args, wasm]);
  let report = null;
  if (fs.existsSync(reportFile)) { report = JSON.parse(fs.readFileSync(reportFile, "utf8")); fs.rmSync(reportFile); }
  return { ...result, report };
}
