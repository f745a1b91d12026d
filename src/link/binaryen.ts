// Binaryen, the toolchain the linker works with: its JS API (binaryen.js) for
// reading, changing, optimizing and writing one module, and its `wasm-merge`
// tool (a Node script in the package's bin/) for fusing several into one.
// Both come from the `binaryen` package, the version AssemblyScript uses.
// Node only: wasm-merge runs as a child process over temporary files.

import type binaryenType from "binaryen";

export type Binaryen = typeof binaryenType;
export type BinaryenModule = InstanceType<Binaryen["Module"]>;

/** The features the allocator's code uses (asc's defaults); the program's are read from its target_features section. */
export const ALLOCATOR_FEATURES = ["bulk-memory", "bulk-memory-opt", "sign-ext", "mutable-globals", "nontrapping-float-to-int"] as const;

export async function loadBinaryen(): Promise<Binaryen> {
  try {
    return (await import("binaryen")).default;
  } catch (error) {
    throw new Error(`cannot load binaryen (${(error as Error).message}); wasm-malloc link needs the binaryen package: npm install binaryen`);
  }
}

/** binaryen.js's feature bits for ALLOCATOR_FEATURES. */
export function allocatorFeatureBits(binaryen: Binaryen): number {
  const F = binaryen.Features;
  return F.BulkMemory | F.BulkMemoryOpt | F.SignExt | F.MutableGlobals | F.NontrappingFPToInt;
}

/** A module read from bytes with `features` on top of those its target_features section names. */
export function readModule(binaryen: Binaryen, bytes: Uint8Array, features: number, what: string): BinaryenModule {
  let module: BinaryenModule;
  try {
    module = binaryen.readBinaryWithFeatures(bytes, features);
  } catch {
    throw new Error(`binaryen cannot read ${what}: it is not a valid WebAssembly module, or uses a feature binaryen does not know`);
  }
  return module;
}

export interface MergeInput {
  /** The module's bytes. */
  bytes: Uint8Array;
  /** The name other modules import it by. */
  name: string;
}

/**
 * Fuse `inputs` into one module with wasm-merge: an import of one input from
 * another (by its name) becomes a direct reference; every export of every
 * input stays, the first input's winning a name clash (later ones are
 * dropped). `features` are wasm-merge's --enable-* flags.
 */
export async function wasmMerge(inputs: MergeInput[], features: readonly string[], keepNames: boolean): Promise<Uint8Array> {
  const [{ spawn }, fs, os, path, { createRequire }] = await Promise.all([
    import("node:child_process"), import("node:fs"), import("node:os"), import("node:path"), import("node:module"),
  ]);
  let tool: string;
  try {
    tool = path.join(path.dirname(createRequire(import.meta.url).resolve("binaryen/package.json")), "bin", "wasm-merge");
  } catch {
    throw new Error("cannot find binaryen's wasm-merge; wasm-malloc link needs the binaryen package: npm install binaryen");
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-malloc-link-"));
  try {
    const args = [tool];
    inputs.forEach((input, index) => {
      const file = path.join(dir, `${index}.wasm`);
      fs.writeFileSync(file, input.bytes);
      args.push(file, input.name);
    });
    const out = path.join(dir, "merged.wasm");
    args.push("-o", out, "--skip-export-conflicts", ...features.map((feature) => `--enable-${feature}`));
    if (keepNames) args.push("--debuginfo");
    const { status, output } = await new Promise<{ status: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk) => { output += chunk; });
      child.stderr.on("data", (chunk) => { output += chunk; });
      child.on("error", (error) => resolve({ status: -1, output: error.message }));
      child.on("close", (code) => resolve({ status: code, output }));
    });
    if (status !== 0 || !fs.existsSync(out)) {
      // wasm-merge prints the module it failed on; its own lines say why.
      const why = output.split("\n").filter((line) => /^(Fatal|\[wasm-validator|Type mismatch|Error)/.test(line)).slice(0, 6).join("\n") || output.slice(-2000);
      throw new Error(`wasm-merge failed (exit ${status}):\n${why}`);
    }
    return new Uint8Array(fs.readFileSync(out));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
