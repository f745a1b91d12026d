#!/usr/bin/env node
// wasm-malloc: replay traces, compare policies, dump and draw the heap.
//
// Exit codes: 0 success; 1 a trace or heap error (unreadable or malformed
// trace, an operation on an id that is not live, a failed heap check, out of
// memory); 2 bad usage (no command or an unknown one, an unknown option, a bad
// value, --at past the end of the trace, --policy with --engine buddy).
// Output into a closed pipe (`wasm-malloc replay ... | head -1`) ends the
// command quietly with 0, as if the reader had read everything.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { SingleBar } from "cli-progress";
import { ENGINES, Heap, HeapOptions } from "./heap.js";
import { POLICY_NAMES, PolicyName, isPolicyName, resolvePolicy } from "./policy.js";
import { Trace, TRACE_NUMBER_MAX, parseU32, replay, type ReplayResult } from "./trace.js";
import { checkTraceFile, replayTraceFile, type TraceFileOptions } from "./trace-file.js";
import { escapeUnprintable, printable } from "./printable.js";
import { formatDump } from "./dump.js";
import { formatBuddyinfo, formatSlabinfo } from "./views.js";
import { renderHeapSvg, renderComparisonSvg } from "./render/svg.js";
import { churnTrace, exampleTrace } from "./workloads.js";
import { isLoopbackHost, serveViz } from "./viz-server.js";
import { DEFAULT_OPTIMIZE, OPTIMIZE_LEVELS, linkProgram, type OptimizeLevel } from "./link/standalone.js";
import { MISUSE_MODES, type MisuseMode } from "./link/config.js";

const EXIT_TRACE = 1;
const EXIT_USAGE = 2;

/** Bad usage found past the option parser (exit 2): the message says what to pass instead. */
class UsageError extends Error {}

/** The package's version, from its package.json (one folder above dist/). */
function packageVersion(): string {
  const file = new URL("../package.json", import.meta.url);
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

/**
 * A trace to replay: a built-in one, already parsed, or a file, read as a stream at each
 * replay (never whole: memory stays bounded by the trace's live ids, not its length).
 */
type TraceSource = Trace | string;

/** The trace's file name, safe to print. */
const sourceName = (source: TraceSource) => printable(path.basename(typeof source === "string" ? source : source.file), 160);

/**
 * How `replay --json` and `compare --json` name a trace, alike: `trace` is its file name
 * (as the tables print it), `file` the path as given (a built-in trace: its name).
 */
const traceNames = (source: TraceSource) => ({ trace: sourceName(source), file: typeof source === "string" ? source : source.file });

function replaySource(heap: Heap, source: TraceSource, options: TraceFileOptions): Promise<ReplayResult> | ReplayResult {
  return typeof source === "string" ? replayTraceFile(heap, source, options) : replay(heap, source, options);
}

// Number flags take whole decimal numbers only: no sign, fraction, exponent or hex, and
// nothing a 32-bit size would wrap ("1e3", "0x10", "1.5", "-1", "4294967296" all fail, exit 2).
function count(value: string): number {
  const n = parseU32(value);
  if (n === undefined) throw new InvalidArgumentError(`expected a whole number of operations, 0..${TRACE_NUMBER_MAX}`);
  return n;
}

function byteLimit(value: string): number {
  const n = parseU32(value);
  if (n === undefined) throw new InvalidArgumentError(`expected a whole number of bytes, 0..${TRACE_NUMBER_MAX} (0: no limit but wasm32's 4 GiB)`);
  return n;
}

function port(value: string): number {
  const n = parseU32(value);
  if (n === undefined || n > 65535) throw new InvalidArgumentError("expected a port number, 0..65535 (0: any free port)");
  return n;
}

/** An address to listen on: an IP address (IPv6 with or without brackets) or a host name; never empty (which would mean every interface). */
function hostAddress(value: string): string {
  const host = /^\[.*\]$/.test(value) ? value.slice(1, -1) : value;
  if (!/^[A-Za-z0-9._:%-]{1,253}$/.test(host)) throw new InvalidArgumentError("expected an IP address or a host name to listen on, such as 127.0.0.1");
  return host;
}

function policyOption(allowAll: boolean): Option {
  const choices = allowAll ? [...POLICY_NAMES, "all"] : [...POLICY_NAMES];
  return new Option("-p, --policy <policy>", `placement policy${allowAll ? ' ("all": each in turn)' : ""}; default: WASM_MALLOC_POLICY or segregated`).choices(choices);
}

function heapOptions(opts: { policy?: string; slabs?: boolean; eagerSlabs?: boolean; engine?: string }, policy?: PolicyName): HeapOptions {
  return { policy: policy ?? opts.policy, slabs: opts.slabs === false ? false : opts.eagerSlabs ? "eager" : true, engine: opts.engine };
}

const num = (n: number) => Math.round(n).toLocaleString("en-US");
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")).join("\n");
}

/** Files this large (about 100,000 operations) get a progress bar on a terminal. */
const PROGRESS_BYTES = 1 << 20;

/** Replay a trace file, with a progress bar (bytes read) on a terminal for long ones. */
async function replayWithProgress(heap: Heap, file: string, options: { check?: boolean }) {
  const progress: { bar?: SingleBar } = {};
  const onRead = (bytes: number, fileBytes: number) => {
    if (!progress.bar && process.stderr.isTTY && fileBytes >= PROGRESS_BYTES) {
      progress.bar = new SingleBar({ format: `${sourceName(file)} {bar} {percentage}%`, stream: process.stderr, clearOnComplete: true });
      progress.bar.start(fileBytes, 0);
    }
    progress.bar?.update(bytes);
  };
  try {
    return await replayTraceFile(heap, file, { ...options, onRead });
  } finally { progress.bar?.stop(); }
}

async function runReplay(files: string[], opts: { policy?: string; check?: boolean; json?: boolean; slabs?: boolean; engine?: string }) {
  // The buddy engine has no placement policy: one run per trace.
  const buddy = opts.engine === "buddy";
  const policies: (PolicyName | undefined)[] = buddy ? [undefined] : opts.policy === "all" ? [...POLICY_NAMES] : [opts.policy as PolicyName | undefined];
  const results = [];
  for (const file of files) {
    for (const policy of policies) {
      const heap = await Heap.create(heapOptions(buddy ? { ...opts, policy: undefined } : opts, policy));
      const r = await replayWithProgress(heap, file, { check: opts.check });
      results.push({
        ...traceNames(file), engine: heap.engine, policy: heap.engine === "buddy" ? "buddy" : heap.policy, ops: r.ops, opsPerSecond: r.seconds > 0 ? r.ops / r.seconds : 0,
        peakLivePayload: r.peakLivePayload, heapBytes: r.heapBytes, utilization: r.utilization, checked: Boolean(opts.check),
      });
    }
  }
  if (opts.json) { console.log(JSON.stringify(results, null, 2)); return; }
  const rows = [["trace", "policy", "ops", "ops/s", "peak live", "heap bytes", "utilization"]];
  for (const r of results) rows.push([sourceName(r.trace), r.policy, num(r.ops), num(r.opsPerSecond), num(r.peakLivePayload), num(r.heapBytes), pct(r.utilization)]);
  console.log(table(rows));
}

async function heapAt(file: string | undefined, opts: { policy?: string; at?: number; slabs?: boolean; eagerSlabs?: boolean; engine?: string }) {
  const source: TraceSource = file ?? exampleTrace();
  // The built-in example is a dozen blocks: only eager slabs show that layer.
  const heap = await Heap.create(heapOptions(file || opts.slabs === false ? opts : { ...opts, eagerSlabs: true }));
  // With --at, the rest of the trace is still read (and checked) to count its operations.
  const r = await replaySource(heap, source, { limit: opts.at, nameIds: true });
  if (opts.at !== undefined && opts.at > r.total) throw pastTheEnd(opts.at, file ? sourceName(source) : "the built-in example", r.total);
  const done = r.ops;
  const slabs = opts.slabs === false ? ", slabs off" : !file || opts.eagerSlabs ? ", eager slabs" : "";
  const how = heap.engine === "buddy" ? "buddy engine" : `${heap.policy} fit${slabs}`;
  const title = `wasm-malloc heap: ${sourceName(source)} after ${done} of ${r.total} operations, ${how}`;
  return { heap, title, done };
}

/** --at N for a trace of `total` operations: N may be 0 (the empty heap) up to `total`. */
function pastTheEnd(at: number, name: string, total: number): UsageError {
  return new UsageError(`--at ${at} is past the end of ${name}: it has ${total} operation${total === 1 ? "" : "s"}; pass --at 0..${total}`);
}

async function runDump(file: string | undefined, opts: { policy?: string; at?: number; json?: boolean; slabs?: boolean; engine?: string }) {
  const { heap, title, done } = await heapAt(file, opts);
  if (opts.json) { console.log(JSON.stringify(heap.snapshot({ title, step: done }), null, 2)); return; }
  process.stdout.write(formatDump(heap, { title }));
}

async function runInfo(file: string | undefined, opts: { policy?: string; at?: number; json?: boolean; slabs?: boolean; eagerSlabs?: boolean; engine?: string; buddy?: boolean; slab?: boolean }) {
  const { heap, title } = await heapAt(file, opts);
  const views = { buddyinfo: opts.buddy ? heap.buddyinfo() : undefined, slabinfo: opts.slab ? heap.slabinfo() : undefined };
  if (opts.json) { console.log(JSON.stringify({ title, ...views }, null, 2)); return; }
  const parts = [title.replace("wasm-malloc heap: ", "wasm-malloc info: "), ""];
  if (views.buddyinfo) parts.push(formatBuddyinfo(views.buddyinfo));
  if (views.slabinfo) parts.push(formatSlabinfo(views.slabinfo));
  process.stdout.write(parts.join("\n").replace(/\n+$/, "") + "\n");
}

async function runMap(file: string | undefined, opts: { policy?: string; at?: number; out: string; links?: boolean; slabs?: boolean; engine?: string }) {
  const { heap, title, done } = await heapAt(file, opts);
  const svg = renderHeapSvg(heap.snapshot({ title, step: done }), { showFreeLinks: opts.links });
  fs.writeFileSync(opts.out, svg);
  const pages = heap.stats().pages;
  console.log(`wrote ${opts.out} (${heap.walk().length} blocks, ${pages} page${pages === 1 ? "" : "s"})`);
}

interface CompareRow { trace: string; file: string; results: Record<string, { utilization: number; opsPerSecond: number; heapBytes: number }> }

/** Every policy on each trace, and the buddy engine as one more series when `buddy`. */
async function comparePolicies(traces: TraceSource[], slabs?: boolean, buddy = false): Promise<CompareRow[]> {
  const rows: CompareRow[] = [];
  const series: { name: string; options: HeapOptions }[] = POLICY_NAMES.map((policy) => ({ name: policy, options: { policy, slabs } }));
  if (buddy) series.push({ name: "buddy", options: { engine: "buddy" } });
  for (const trace of traces) {
    const row: CompareRow = { ...traceNames(trace), results: {} };
    for (const { name, options } of series) {
      const heap = await Heap.create(options);
      const r = await replaySource(heap, trace, {});
      row.results[name] = { utilization: r.utilization, opsPerSecond: r.seconds > 0 ? r.ops / r.seconds : 0, heapBytes: r.heapBytes };
    }
    rows.push(row);
  }
  return rows;
}

function printComparison(rows: CompareRow[]): void {
  const names = Object.keys(rows[0]?.results ?? {});
  const head = ["trace", ...names.map((p) => `${p} util`), ...names.map((p) => `${p} kops/s`)];
  const body = rows.map((r) => [r.trace, ...names.map((p) => pct(r.results[p].utilization)), ...names.map((p) => num(r.results[p].opsPerSecond / 1000))]);
  console.log(table([head, ...body]));
}

function comparisonChart(rows: CompareRow[], title: string): string {
  return renderComparisonSvg(
    rows.map((r) => ({ label: r.trace, series: Object.keys(r.results).map((p) => ({ name: p, value: r.results[p].utilization })) })),
    { title, unit: "%" },
  );
}

async function runCompare(files: string[], opts: { out: string; json?: boolean; slabs?: boolean; engine?: string }) {
  const rows = await comparePolicies(files, opts.slabs, opts.engine === "buddy");
  if (opts.json) { console.log(JSON.stringify(rows, null, 2)); return; }
  printComparison(rows);
  const by = opts.engine === "buddy" ? "policy, and the buddy engine" : "policy";
  fs.writeFileSync(opts.out, comparisonChart(rows, `Utilization by ${by} (peak live payload / heap bytes)`));
  console.log(`\nchart: ${opts.out}`);
}

async function runDemo(opts: { out?: string }) {
  console.log("wasm-malloc demo: every placement policy on a built-in workload (20,000 operations, seeded churn)\n");
  const rows = await comparePolicies([churnTrace(), exampleTrace()]);
  printComparison(rows);
  const { heap, title } = await heapAt(undefined, {});
  console.log(`\nA small example heap (${title.replace("wasm-malloc heap: ", "")}):\n`);
  process.stdout.write(formatDump(heap, { title }));
  const out = opts.out ?? path.join(os.tmpdir(), "wasm-malloc-demo.svg");
  fs.writeFileSync(out, renderHeapSvg(heap.snapshot({ title }), { showFreeLinks: true }));
  console.log(`\npicture of that heap: ${out}`);
}

async function runViz(file: string | undefined, opts: { port: number; host: string; at?: number; policy?: string; compare?: string; slabs?: boolean; eagerSlabs?: boolean; engine?: string }) {
  // Check the whole trace here (read as a stream), so a bad file fails with exit 1 before
  // anything is served. The server then sends the file from disk, never holding it whole.
  const ops = file ? (await checkTraceFile(file)).ops : exampleTrace().ops.length;
  if (opts.at !== undefined && opts.at > ops) throw pastTheEnd(opts.at, file ? sourceName(file) : "the built-in example", ops);
  const trace = file ? { name: path.basename(file), file } : undefined;
  const allocator = opts.engine === "buddy" ? "buddy" : opts.policy;
  const slabs = opts.slabs === false ? "off" : opts.eagerSlabs ? "eager" : undefined;
  const server = await serveViz({ trace, port: opts.port, host: opts.host, query: { at: opts.at, allocator, compare: opts.compare, slabs } })
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") throw new Error(`port ${opts.port} is in use: pick another with --port N (0: any free port)`);
      if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND" || error.code === "EACCES") {
        throw new Error(`cannot listen on ${printable(opts.host)} port ${opts.port} (${error.code}): pick an address of this machine with --host (default 127.0.0.1)`);
      }
      throw error;
    });
  console.log(`wasm-malloc viz: ${server.url}`);
  console.log("serving the heap visualizer; stop with Ctrl+C");
  if (!isLoopbackHost(opts.host)) {
    console.error(`wasm-malloc viz: warning: --host ${printable(opts.host)} is not a loopback address: anyone who can reach this machine on port ${server.port} can read the page${file ? ` and the trace ${sourceName(file)}` : ""}; use --host 127.0.0.1 to keep it on this machine`);
  }
}

interface LinkCommandOptions {
  out: string; policy?: string; maxMemory?: number; slabs?: boolean; onMisuse: MisuseMode; inspect?: boolean; small?: boolean;
  optimize: OptimizeLevel; keepImports?: boolean; names?: boolean;
}

async function runLink(file: string, opts: LinkCommandOptions) {
  const name = printable(file, 160);
  // Options that cannot go together are bad usage (exit 2), as --policy with --engine buddy is.
  if (opts.small && opts.inspect) throw new UsageError("link: --small and --inspect do not go together: the small build has no inspection exports");
  if (opts.small && opts.policy !== undefined && resolvePolicy(opts.policy) !== "segregated") {
    throw new UsageError(`link: --policy ${printable(opts.policy, 40)} does not apply with --small (the small build places blocks by segregated fit only)`);
  }
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(fs.readFileSync(file));
  } catch (error) {
    throw new Error(`link: cannot read ${name} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass the .wasm file clang wrote`);
  }
  const linked = await linkProgram(bytes, {
    policy: opts.policy, maxMemory: opts.maxMemory, slabs: opts.slabs !== false, onMisuse: opts.onMisuse, inspect: opts.inspect === true, small: opts.small === true,
    optimize: opts.optimize, keepImports: opts.keepImports === true, names: opts.names === true,
  }, `link ${name}`).catch((error: Error) => {
    // A limit below what the program needs is a bad option value, as an unknown policy is.
    throw error instanceof RangeError ? new UsageError(error.message) : error;
  });
  try {
    fs.writeFileSync(opts.out, linked.wasm);
  } catch (error) {
    throw new Error(`link: cannot write ${printable(opts.out, 160)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass a writable path to --out`);
  }
  const byModule = new Map<string, string[]>();
  for (const name of linked.imports) {
    const dot = name.indexOf(".");
    byModule.set(name.slice(0, dot), [...(byModule.get(name.slice(0, dot)) ?? []), name.slice(dot + 1)]);
  }
  const imports = [...byModule].map(([module, names]) => `${module} ${names.join(", ")}`).join("; ") || "nothing";
  console.log(`wrote ${printable(opts.out, 160)}: ${path.basename(name)} with wasm-malloc (${linked.policy} fit, heap from 0x${linked.heapAt.toString(16)}, misuse: ${opts.onMisuse}); it imports ${printable(imports, 400)}`);
}

export function buildProgram(): Command {
  const program = new Command("wasm-malloc")
    .description("Replay malloc traces on wasm-malloc, compare placement policies, dump and draw the heap; link it into a C program.")
    .addHelpText("after", [
      "",
      "Examples (traces/ holds the CS:APP sample traces and traces/real/ gzipped traces of real programs, in a checkout of the repository):",
      "  wasm-malloc replay traces/cccp-bal.rep --policy all",
      "  wasm-malloc compare traces/*.rep --out compare.svg",
      "  wasm-malloc dump traces/short1-bal.rep --at 10",
      "  wasm-malloc viz traces/amptjp-bal.rep --compare buddy",
      "  wasm-malloc replay traces/real/cc1-pngtest.rep.gz",
      "  wasm-malloc link hello.wasm -o hello-linked.wasm   (a C program built with c/wasm_malloc.c)",
      "",
      "Exit codes: 0 success, 1 trace or heap error, 2 bad usage.",
      "The policy also comes from WASM_MALLOC_POLICY; an option wins over it.",
    ].join("\n"))
    // A usage error is one line and a pointer to the help, not the whole help.
    .showHelpAfterError("(add --help for usage)")
    // Commander quotes the bad value as typed: shown escaped, never as raw control bytes.
    .configureOutput({ writeErr: (text) => process.stderr.write(escapeUnprintable(text)) })
    .version(packageVersion(), "-V, --version", "print the version of wasm-malloc")
    .exitOverride();
  const common = (cmd: Command) => cmd
    .option("--no-slabs", "send small sizes through the policy too (no size-class slabs)")
    .option("--eager-slabs", "give a size class slab pages from its first object (default: once 4 KiB of it is live)")
    .addOption(new Option("--engine <engine>", "allocator engine (buddy: power-of-two buddy blocks, its own build; takes no --policy)").choices([...ENGINES]).default("default"))
    .hook("preAction", (cmd) => {
      // The buddy engine places every block by size alone: a policy asked for would be ignored.
      const { engine, policy } = cmd.opts();
      if (engine === "buddy" && policy !== undefined) {
        cmd.error(`error: --policy ${policy} does not apply to --engine buddy: the buddy engine has no placement policy; drop --policy (compare FILE --engine buddy shows both side by side)`, { exitCode: EXIT_USAGE });
      }
    })
    .exitOverride();

  common(program.command("replay")
    .description("replay .rep traces: ops/s, peak live payload, heap bytes and utilization per trace and policy")
    .argument("<files...>", "CS:APP malloc-lab traces (.rep, or gzipped)")
    .addOption(policyOption(true))
    .option("--check", "run the heap check after every operation")
    .option("--json", "print JSON instead of a table"))
    .action(runReplay);

  common(program.command("dump")
    .description("list the heap after a trace (or the built-in example) block by block, view_chunk style")
    .argument("[file]", "a .rep trace (default: a built-in example)")
    .addOption(policyOption(false))
    .option("--at <n>", "stop after the first N operations", count)
    .option("--json", "print the heap as JSON (blocks, free lists, page map, stats)"))
    .action(runDump);

  common(program.command("map")
    .description("draw the heap to scale as an SVG picture: blocks by state and layer, page map, free lists")
    .argument("[file]", "a .rep trace (default: a built-in example)")
    .addOption(policyOption(false))
    .option("--at <n>", "stop after the first N operations", count)
    .option("-o, --out <file>", "where to write the SVG", "heap.svg")
    .option("--links", "draw the free-list links"))
    .action(runMap);

  common(program.command("info")
    .description("kernel-style views after a trace (or the built-in example): --buddy free blocks per order (/proc/buddyinfo), --slab size classes (/proc/slabinfo)")
    .argument("[file]", "a .rep trace (default: a built-in example)")
    .addOption(policyOption(false))
    .option("--at <n>", "stop after the first N operations", count)
    .option("--buddy", "free blocks per order: the buddy engine's blocks and the page layer's free runs")
    .option("--slab", "per size class: active and total objects, object size, objects per slab, slabs")
    .option("--json", "print the views as JSON"))
    .hook("preAction", (cmd) => {
      if (!cmd.opts().buddy && !cmd.opts().slab) cmd.error("error: info needs a view: --buddy (free blocks per order) or --slab (size classes)", { exitCode: EXIT_USAGE });
    })
    .action(runInfo);

  common(program.command("compare")
    .description("every policy side by side on each trace (--engine buddy: and the buddy engine): a table, and an SVG chart of utilization")
    .argument("<files...>", "CS:APP malloc-lab traces (.rep, or gzipped)")
    .option("-o, --out <file>", "where to write the chart", "compare.svg")
    .option("--json", "print JSON instead of the table (no chart)"))
    .action(runCompare);

  common(program.command("viz")
    .description("serve the heap visualizer on 127.0.0.1 and print its URL: step through a trace (or the built-in example) in the browser")
    .argument("[file]", "a .rep trace, opened at its last step (default: the page's built-in example)")
    .addOption(policyOption(false))
    .option("--at <n>", "open at operation N instead of the last", count)
    .addOption(new Option("--compare <allocator>", "side by side with another policy, or the buddy engine").choices([...POLICY_NAMES, "buddy"]))
    .option("--port <n>", "port to listen on (0: any free port)", port, 5173)
    .option("--host <address>", "address to listen on. Only 127.0.0.1 (or localhost, ::1) keeps the page and the trace on this machine: any other address, such as 0.0.0.0, makes them readable from the network (a warning says so). The server answers only requests whose Host is localhost, 127.0.0.1, [::1] or this address", hostAddress, "127.0.0.1"))
    .action(runViz);

  program.command("link")
    .description("merge wasm-malloc into a C program: one module that imports only WASI, for any runtime (wasmtime, a browser, node:wasi)")
    .argument("<program>", "a wasm32-wasi program built with c/wasm_malloc.c, -Wl,--import-memory and -Wl,--export=__heap_base")
    .requiredOption("-o, --out <file>", "where to write the linked module")
    .addOption(policyOption(false))
    .option("--max-memory <bytes>", "most bytes the memory may grow to: malloc returns 0 past it (0: no limit but wasm32's)", byteLimit)
    .option("--no-slabs", "send small sizes through the policy too (no size-class slabs)")
    .addOption(new Option("--on-misuse <mode>", "a double or invalid free: abort (a line on stderr, then a trap), report (the line, then the call returns 0 or nothing), ignore (the call returns, silently)").choices(Object.keys(MISUSE_MODES)).default("abort"))
    .option("--inspect", "keep the C API and the inspection exports (heap_check, walk_*, …) for a host to read the heap")
    .option("--small", "merge the small build: segregated fit, no inspection or statistics (docs/performance.md, Build sizes)")
    .addOption(new Option("-O, --optimize <level>", "binaryen's optimization level over the merged module (0: only unused code dropped; 2 and up also inline the allocator into the program: smaller, but slower on SQLite)").choices([...OPTIMIZE_LEVELS]).default(DEFAULT_OPTIMIZE))
    .option("--keep-imports", "leave the program's other imports (env functions of its own) as imports of the output, for its host to give")
    .option("--names", "keep function names (a name section) in the output")
    .exitOverride()
    .action(runLink);

  program.command("demo")
    .description("compare every policy on a built-in workload, dump a small heap and draw it (what `npm start` runs)")
    .option("-o, --out <file>", "where to write the picture (default: in the temp folder)")
    .exitOverride()
    .action(runDemo);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = buildProgram();
    // `help frobnicate`: commander would print the whole help; say what is wrong, as for `frobnicate`.
    if (argv[0] === "help" && argv[1] !== undefined && !program.commands.some((c) => c.name() === argv[1])) {
      program.error(`error: unknown command '${argv[1]}'`, { exitCode: EXIT_USAGE });
    }
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help or the version asked for is 0; help printed because of a mistake (no command) is bad usage.
      const asked = error.code === "commander.helpDisplayed" || error.code === "commander.version" || (error.code === "commander.help" && error.exitCode === 0);
      return asked ? 0 : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      console.error(`wasm-malloc: ${escapeUnprintable(error.message)}`);
      return EXIT_USAGE;
    }
    if (error instanceof Error && (error.name === "RangeError") && /policy|engine|WASM_MALLOC_POLICY/.test(error.message)) {
      console.error(`wasm-malloc: ${escapeUnprintable(error.message)}`);
      return EXIT_USAGE;
    }
    // One line, no stack: the message says what, where and what to do.
    console.error(`wasm-malloc: ${escapeUnprintable((error as Error)?.message ?? String(error))}`);
    return EXIT_TRACE;
  }
}

/**
 * A reader that stops early (`| head`) closes the pipe: the next write fails with EPIPE.
 * That is the reader's choice, not an error: stop at once, quietly, with 0.
 */
function exitQuietlyOnClosedPipe(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  // A closed stderr: nothing more can be said there, and the exit code still tells.
  process.stderr.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

const invokedDirectly = process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname);
if (invokedDirectly) {
  exitQuietlyOnClosedPipe();
  process.exitCode = await main(process.argv.slice(2));
}
export { isPolicyName };
