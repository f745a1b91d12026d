// SQLite for the embedding tests and the benchmark: a real, allocation-heavy C
// program that no one here wrote. Its amalgamation (sqlite3.c, sqlite3.h) comes
// from the npm registry, inside the better-sqlite3 package (deps/sqlite3/),
// fetched with `npm pack` (no install, no build scripts) and unpacked into a
// cache folder in the temp dir. The driver is ours: tests/embed/c/sqlite-workload.c.
//
// sqlite3.c is compiled once per optimization level to an object file (about
// 30 s at -O1 on one core), kept in the cache under a hash of its inputs, and
// linked twice: on wasi-libc's dlmalloc, and with wasm-malloc's shim.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repo, runOk, clangEnv, CLANG_FLAGS, LINK_FLAGS } from "./toolchain.mjs";

/** The package that ships the amalgamation, pinned: its SQLite is 3.53.2. */
export const SQLITE_PACKAGE = "better-sqlite3@12.11.1";
export const SQLITE_VERSION = "3.53.2";
export const WORKLOAD = path.join(repo, "tests", "embed", "c", "sqlite-workload.c");

/** SQLite for a WASI command with no threads, no extensions and no files: an in-memory database only. */
const SQLITE_DEFINES = [
  "-DSQLITE_THREADSAFE=0", "-DSQLITE_OMIT_LOAD_EXTENSION", "-DSQLITE_OMIT_WAL", "-DSQLITE_TEMP_STORE=3",
  "-DSQLITE_OMIT_SHARED_CACHE", "-DSQLITE_OMIT_DEPRECATED", "-DSQLITE_DEFAULT_MEMSTATUS=0", "-DSQLITE_DQS=0",
];

const CACHE = path.join(os.tmpdir(), `wasm-malloc-sqlite-${SQLITE_PACKAGE.replace(/[@/]/g, "-")}`);

/** npm as a user's shell runs it: not the npm 6 that a dependency installs into node_modules/.bin. */
function npmEnv() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")));
  env.PATH = (process.env.PATH ?? "").split(path.delimiter).filter((dir) => !dir.includes(`node_modules${path.sep}.bin`)).join(path.delimiter);
  return env;
}

/** The folder holding sqlite3.c and sqlite3.h, fetched once into the cache. */
export async function sqliteSources() {
  const dir = path.join(CACHE, "src");
  if (fs.existsSync(path.join(dir, "sqlite3.c")) && fs.existsSync(path.join(dir, "sqlite3.h"))) return dir;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-sqlite-pack-"));
  try {
    const { stdout } = await runOk("npm", ["pack", SQLITE_PACKAGE, "--silent", "--no-audit", "--no-fund"], { cwd: work, env: npmEnv() });
    const tarball = path.join(work, stdout.trim().split("\n").pop());
    await runOk("tar", ["-xzf", tarball, "-C", work, "package/deps/sqlite3/sqlite3.c", "package/deps/sqlite3/sqlite3.h"]);
    const header = fs.readFileSync(path.join(work, "package", "deps", "sqlite3", "sqlite3.h"), "utf8");
    if (!header.includes(`#define SQLITE_VERSION        "${SQLITE_VERSION}"`)) throw new Error(`${SQLITE_PACKAGE} does not hold SQLite ${SQLITE_VERSION}`);
    fs.mkdirSync(CACHE, { recursive: true });
    // Moved into place whole, so a second process never sees half a folder.
    const staged = fs.mkdtempSync(path.join(CACHE, "src-"));
    for (const name of ["sqlite3.c", "sqlite3.h"]) fs.copyFileSync(path.join(work, "package", "deps", "sqlite3", name), path.join(staged, name));
    try { fs.renameSync(staged, dir); } catch { fs.rmSync(staged, { recursive: true, force: true }); }
    return dir;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** sqlite3.o at `opt` (e.g. "-O1"), compiled once and kept under a hash of what goes into it. */
async function sqliteObject(src, opt) {
  const { stdout: clangVersion } = await runOk("clang", ["--version"]);
  const args = [...CLANG_FLAGS.filter((flag) => !/^-O/.test(flag)), opt, ...SQLITE_DEFINES, "-c"];
  const key = crypto.createHash("sha256").update(JSON.stringify(args)).update(clangVersion).update(fs.readFileSync(path.join(src, "sqlite3.c"))).digest("hex").slice(0, 16);
  const object = path.join(CACHE, `sqlite3${opt}-${key}.o`);
  if (fs.existsSync(object)) return object;
  const partial = `${object}.${process.pid}.tmp`;
  await runOk("clang", [...args, path.join(src, "sqlite3.c"), "-o", partial], { env: clangEnv() });
  fs.renameSync(partial, object);
  return object;
}

/**
 * The workload built twice into `dir`: `dlmalloc` (wasi-libc's malloc) and `shim`
 * (wasm-malloc's shim, built for linkAllocator and `wasm-malloc link`). SQLite at
 * `opt`; the driver and the shim at the toolchain's -O2.
 */
export async function buildSqliteWorkload(dir, opt = "-O2") {
  const src = await sqliteSources();
  const object = await sqliteObject(src, opt);
  const driver = path.join(dir, "sqlite-workload.o");
  await runOk("clang", [...CLANG_FLAGS, "-Wall", "-Werror", "-I", src, "-c", WORKLOAD, "-o", driver], { env: clangEnv() });
  const dlmalloc = path.join(dir, "sqlite-dlmalloc.wasm");
  const shim = path.join(dir, "sqlite-shim.wasm");
  await Promise.all([
    runOk("clang", [...CLANG_FLAGS, object, driver, "-o", dlmalloc], { env: clangEnv() }),
    runOk("clang", [...CLANG_FLAGS, "-I", path.join(repo, "include"), ...LINK_FLAGS, object, driver, path.join(repo, "c", "wasm_malloc.c"), "-o", shim], { env: clangEnv() }),
  ]);
  return { dlmalloc, shim };
}
