// From samples to figures, and from figures to RESULTS.md, results.json and
// the SVG charts.
import { keptSections } from "./kept.mjs";
import fs from "node:fs";
import path from "node:path";
import { REPO } from "./build.mjs";
import { ratioChart } from "./chart.mjs";
import { CHUNK_OPS } from "./allocators.mjs";

const BIG_TRACE = 512 * 1024; // the issue's "traces whose peak live payload is at least 512 KiB"

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * results[driver][workload][alloc] = { medianNs, minNs (per op), totalNs
 * (median, whole run), ratio (to TLSF's median), peakMemory, heapStart,
 * utilization, grows, growMs (median), growShare, failed, error, rounds }.
 */
export function aggregate({ samples, workloads, allocators, drivers }) {
  const results = {};
  for (const driver of drivers) {
    results[driver] = {};
    for (const w of workloads) {
      const row = {};
      for (const a of allocators) {
        const mine = samples.filter((s) => s.driver === driver && s.workload === w.name && s.alloc === a.id);
        if (mine.length === 0) continue;
        const bad = mine.find((s) => s.error);
        if (bad) { row[a.id] = { error: bad.error, rounds: mine.length }; continue; }
        const ns = mine.map((s) => s.ns);
        const peakMemory = Math.max(...mine.map((s) => s.peakMemory));
        const heapStart = mine[0].heapStart;
        row[a.id] = {
          rounds: mine.length,
          totalNs: median(ns),
          medianNs: median(ns) / w.count,
          medianNsNoGrow: median(mine.map((s) => s.ns - s.growNs)) / w.count,
          minNs: Math.min(...ns) / w.count,
          peakMemory,
          heapStart,
          utilization: w.peakLive / Math.max(1, peakMemory - heapStart),
          grows: median(mine.map((s) => s.grows)),
          growMs: median(mine.map((s) => s.growNs)) / 1e6,
          growShare: median(mine.map((s) => s.growNs / Math.max(1, s.ns))),
          failed: Math.max(...mine.map((s) => s.failed ?? 0)),
          statGrows: mine[0].statGrows,
        };
      }
      const tlsf = row.TLSF;
      for (const cell of Object.values(row)) if (!cell.error) cell.ratio = tlsf && !tlsf.error ? cell.medianNs / tlsf.medianNs : NaN;
      results[driver][w.name] = row;
    }
  }
  return results;
}

// ── Formatting ──────────────────────────────────────────────────────────────
const int = (x) => Math.round(x).toLocaleString("en-US");
const nsFmt = (x) => (!Number.isFinite(x) ? "–" : x < 100 ? x.toFixed(1) : int(x));
const ratioFmt = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "–");
const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "–");
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const bytesFmt = (b) => (b >= 2 ** 20 ? mib(b) : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);
const ms = (x) => (x >= 100 ? int(x) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const table = (header, rows, align) => [
  `| ${header.join(" | ")} |`,
  `|${header.map((_, i) => ((align?.[i] ?? (i === 0 ? "l" : "r")) === "l" ? "---" : "---:")).join("|")}|`,
  ...rows.map((r) => `| ${r.join(" | ")} |`),
].join("\n");

/** Traces summed: total median time over total operations, per allocator. */
function traceTotals(results, driver, workloads, allocId) {
  const traces = workloads.filter((w) => w.trace);
  let ns = 0, ops = 0;
  for (const w of traces) {
    const cell = results[driver]?.[w.name]?.[allocId];
    if (!cell || cell.error) return null;
    ns += cell.totalNs;
    ops += w.count;
  }
  return ops ? ns / ops : null;
}
function traceMeanUtil(results, driver, workloads, allocId, big) {
  const traces = workloads.filter((w) => w.trace && (!big || w.peakLive >= BIG_TRACE));
  const us = traces.map((w) => results[driver]?.[w.name]?.[allocId]).filter((c) => c && !c.error).map((c) => c.utilization);
  return us.length && us.length === traces.length ? { mean: us.reduce((a, b) => a + b, 0) / us.length, n: us.length } : null;
}

const DRIVER_TITLE = { js: "JS driver (a JS loop calling the exports)", wasm: "Wasm driver (Wasm-to-Wasm calls over one shared memory)" };

// ── The report ──────────────────────────────────────────────────────────────
export async function writeReport({ results, checked, workloads, allocators, drivers, machine, command, opts, notes, outDir }) {
  fs.mkdirSync(outDir, { recursive: true });
  const ids = allocators.map((a) => a.id);
  const traces = workloads.filter((w) => w.trace);
  const synth = workloads.filter((w) => !w.trace);
  const out = [];
  const md = (s = "") => out.push(s);

  md("# Benchmark results");
  md();
  md(`\`${command}\`${opts.quick ? " (quick: a smoke test, not figures to quote)" : ""} · ${machine.date} · ${opts.rounds} rounds · ${machine.seconds} s`);
  md();
  md(`Machine: ${machine.cpu}, ${machine.nproc} CPUs (nproc), ${machine.memory} RAM, ${machine.os}; Node ${machine.node}` +
    `${machine.clang ? `; ${machine.clang}` : ""}. Load average (1, 5, 15 min): ${machine.load}.`);
  md();
  md(`Allocator source: commit ${machine.commit}; the builds as found in build/ (sizes and hashes below).`);
  md();
  md("Re-run: `npm run bench` (builds, then runs `node bench/run.mjs`); `--quick`, `--only real,s1,s2,traces`, `--rounds N`, `--drivers js,wasm`, `--policies segregated,first,best`, `--out DIR`.");
  for (const note of notes) { md(); md(`Note: ${note}.`); }
  md();
  const real = workloads.filter((w) => w.real);
  if (real.length) {
    md(realProgramsSection({ results, real, drivers }));
    md();
  }
  md("## What is measured");
  md();
  md("- **Allocators.** `wasm-malloc`: our `release` build, default policy (segregated fit); `wasm-malloc first` / `best`: the same build under first fit / best fit" +
    " (they walk a free list per malloc: first fit skips s2, where that takes tens of µs per operation, and `best` runs on the traces only);" +
    " the `checked` build is measured apart, against release (its own section);" +
    " `TLSF`: AssemblyScript 0.28's own TLSF (`heap.alloc/free/realloc`, `--runtime minimal -O3 --noAssert`, bench/peers/tlsf.ts);" +
    " `dlmalloc`: wasi-libc's malloc (clang -O2, bench/peers/dlmalloc.c); `bump`: free does nothing, and it bumps through a 1 MiB arena, starting over when it is full" +
    " (bench/peers/bump.ts): the call plus a pointer bump in cached memory, the speed floor (not on realloc, where it copies)." +
    " The Wasm driver runs our `embed` build (`heap_init_with(1 MiB, 0, policy, 0)`) and the peers' `-shared` builds (heap base above 1 MiB).");
  md("- **Drivers.** JS: a JS loop calls the exports, one call per operation. Wasm: bench/peers/driver.ts reads the operations from the shared memory" +
    ` and calls the allocator through Wasm imports (no JS per call); the harness copies operations in chunks of ${int(CHUNK_OPS)} and times only the driver's calls.`);
  md("- **Workloads.** Seeded and generated once; every allocator gets the same operation stream. The CS:APP traces are replayed back to back" +
    " until at least 200,000 operations (each pass frees what it left live); the traces of real programs once, then the blocks they leave live freed." +
    " ns/op counts every call: malloc, free and realloc.");
  md(`- **Time.** Median and minimum over ${opts.rounds} fresh instances (a new memory each), allocators interleaved and rotated within each round,` +
    " a full GC before each instance, a warm-up of every allocator before round 1. Grow time is included in ns/op.");
  md("- **Memory.** Peak memory = the memory's size after the run (it never shrinks). Utilization = peak live payload (bytes asked for, from the operation stream)" +
    " / (peak memory − heap start); heap start = `__heap_base` (the JS driver), the base given to the allocator (the Wasm driver). Metadata counts against it." +
    " `bump` starts over in a 1 MiB arena (bench/peers/bump.ts): its memory figures mean nothing.");
  md("- **memory.grow.** Each build runs as a copy whose `memory.grow` instructions call a JS import that grows the memory and times it" +
    " (a Binaryen text round trip of the module; dlmalloc's sbrk calls the import directly). Grows = calls that added pages; time = all such calls, median per run.");
  md();

  md("| workload | operations | malloc / free / realloc | peak live payload | what |");
  md("|---|---:|---:|---:|---|");
  for (const w of workloads) md(`| ${w.name} | ${int(w.count)} | ${int(w.calls.malloc)} / ${int(w.calls.free)} / ${int(w.calls.realloc)} | ${bytesFmt(w.peakLive)} | ${w.description} |`);
  md();

  // Targets.
  md("## Against the targets of issue 6 (default `release` build, this run)");
  md();
  md(targetsTable({ results, workloads, drivers, allocators }));
  md();

  for (const driver of drivers) {
    const present = ids.filter((id) => workloads.some((w) => results[driver][w.name][id]));
    md(`## ${DRIVER_TITLE[driver]}`);
    md();
    md(`### Speed: ns per operation, median (× TLSF's median)`);
    md();
    const speedRows = workloads.map((w) => [w.name, int(w.count), ...present.map((id) => speedCell(results[driver][w.name][id]))]);
    if (traces.length) {
      const tl = traceTotals(results, driver, workloads, "TLSF");
      speedRows.push(["**traces, total**", int(traces.reduce((s, w) => s + w.count, 0)), ...present.map((id) => {
        const t = traceTotals(results, driver, workloads, id);
        return t == null ? "–" : `${nsFmt(t)} (${ratioFmt(tl ? t / tl : NaN)})`;
      })]);
    }
    md(table(["workload", "ops", ...present], speedRows));
    md();
    md(`### Memory: utilization · memory.grow calls (time in them, median ms)`);
    md();
    const byId = Object.fromEntries(allocators.map((a) => [a.id, a]));
    const memRows = workloads.map((w) => [w.name, bytesFmt(w.peakLive), ...present.map((id) => memCell(results[driver][w.name][id], byId[id]))]);
    if (traces.length) {
      for (const big of [false, true]) {
        const label = big ? `**traces, mean of the ${traces.filter((w) => w.peakLive >= BIG_TRACE).length} with peak ≥ 512 KiB**` : `**traces, mean of ${traces.length}**`;
        memRows.push([label, "", ...present.map((id) => { const u = byId[id].bump ? null : traceMeanUtil(results, driver, workloads, id, big); return u ? pct(u.mean) : "–"; })]);
      }
    }
    md(table(["workload", "peak live", ...present], memRows));
    md();
    md("<details><summary>Every figure</summary>");
    md();
    const detail = [];
    for (const w of workloads) for (const id of present) {
      const c = results[driver][w.name][id];
      if (!c) continue;
      if (c.error) { detail.push([w.name, id, `failed: ${c.error}`, "", "", "", "", "", "", "", "", ""]); continue; }
      detail.push([w.name, id, nsFmt(c.medianNs), nsFmt(c.minNs), ratioFmt(c.ratio), nsFmt(c.medianNsNoGrow), mib(c.peakMemory), `0x${c.heapStart.toString(16)}`,
        byId[id].bump ? "n/a" : pct(c.utilization), int(c.grows), ms(c.growMs), pct(c.growShare)]);
    }
    md(table(["workload", "allocator", "median ns/op", "min ns/op", "× TLSF", "ns/op less grow time", "peak memory", "heap start", "utilization", "grows", "grow ms", "grow share of time"], detail, ["l", "l"]));
    md();
    md("</details>");
    md();
  }

  // The checked build.
  if (checked) {
    md("## The checked build's slowdown (JS driver)");
    md();
    const rows = [];
    const ratios = [];
    for (const w of checked.workloads) {
      const r = checked.results[w.name]?.["wasm-malloc"], c = checked.results[w.name]?.["wasm-malloc checked"];
      if (!r || !c) continue;
      if (r.error || c.error) { rows.push([w.name, int(w.count), r.error ? "failed" : nsFmt(r.medianNs), c.error ? `failed: ${c.error}` : nsFmt(c.medianNs), "–"]); continue; }
      ratios.push(c.medianNs / r.medianNs);
      rows.push([w.name, int(w.count), nsFmt(r.medianNs), nsFmt(c.medianNs), ratioFmt(c.medianNs / r.medianNs)]);
    }
    const geo = ratios.length ? Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length) : NaN;
    rows.push(["**geometric mean**", "", "", "", `**${ratioFmt(geo)}**`]);
    md(`The checked build (canaries, poisoning, quarantine, interior-pointer checks) against the release build, same rounds:` +
      ` **${ratioFmt(geo)}** the release build's ns/op, geometric mean over ${ratios.length} workloads.` +
      (checked.smaller ? " Both ran smaller versions of the workloads (the ops column): 1/10 of s1, s3, s5 and s5r, 1/50 of s2 and s4" +
        " (the checked build takes minutes per round on the full s2 and s4), the traces replayed to 20,000 operations." : ""));
    md();
    md(table(["workload", "ops", "release ns/op", "checked ns/op", "slowdown"], rows));
    md();
  }

  // Sizes.
  md("## Build sizes");
  md();
  const sizeRows = [];
  const seen = new Set();
  for (const a of allocators) {
    for (const b of a.builds) {
      if (seen.has(b.file)) continue;
      seen.add(b.file);
      sizeRows.push([`\`${path.relative(REPO, b.file)}\``, int(b.size), int(b.gzipped), `${(b.size / 1024).toFixed(1)} KiB`, b.sha256]);
    }
  }
  md(table(["file", "bytes", "gzip -9", "size", "sha256"], sizeRows, ["l", "r", "r", "r", "l"]));
  md();
  md("Sizes of the files as built (before the grow instrumentation). The release, embed, buddy and checked builds include the inspection and checker exports; the small build is the C API alone.");
  md();

  // Charts.
  const files = [];
  const charts = await writeCharts({ results, workloads, allocators, drivers, outDir });
  if (charts.length) {
    md("## Charts");
    md();
    for (const c of charts) { md(`![${c.alt}](${path.basename(c.file)})`); md(); }
    files.push(...charts.map((c) => c.file));
  }

  const mdFile = path.join(outDir, "RESULTS.md");
  // Sections other scripts measured (bench/pointer-checks.mjs) stay.
  const kept = keptSections(mdFile);
  fs.writeFileSync(mdFile, out.join("\n") + (kept ? `\n${kept}` : ""));
  const jsonFile = path.join(outDir, "results.json");
  fs.writeFileSync(jsonFile, JSON.stringify({
    command, machine, rounds: opts.rounds, quick: opts.quick,
    workloads: workloads.map((w) => ({ name: w.name, description: w.description, ops: w.count, peakLive: w.peakLive, calls: w.calls, trace: !!w.trace, real: !!w.real })),
    allocators: allocators.map((a) => ({ id: a.id, size: a.size, builds: a.builds, drivers: Object.keys(a.compiled) })),
    results,
  }, null, 1));
  files.unshift(mdFile, jsonFile);

  // The terminal summary: speed ratios per driver.
  const summary = [];
  for (const driver of drivers) {
    const present = ids.filter((id) => workloads.some((w) => results[driver][w.name][id]));
    summary.push(`\n${DRIVER_TITLE[driver]}: ns/op median (× TLSF) · utilization`);
    const bumpIds = new Set(allocators.filter((a) => a.bump).map((a) => a.id));
    const rows = workloads.map((w) => [w.name, ...present.map((id) => {
      const c = results[driver][w.name][id];
      return !c ? "–" : c.error ? "failed" : `${nsFmt(c.medianNs)} (${ratioFmt(c.ratio)}) ${bumpIds.has(id) ? "" : pct(c.utilization)}`.trim();
    })]);
    const widths = [Math.max(8, ...workloads.map((w) => w.name.length)), ...present.map((id, i) => Math.max(id.length, ...rows.map((r) => r[i + 1].length)))];
    summary.push(["workload", ...present].map((s, i) => s.padEnd(widths[i])).join("  "));
    for (const r of rows) summary.push(r.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join("  "));
  }
  return { files, summary: summary.join("\n") };
}

function speedCell(c) {
  if (!c) return "–";
  if (c.error) return "failed";
  return `${nsFmt(c.medianNs)} (${ratioFmt(c.ratio)})`;
}
function memCell(c, alloc) {
  if (!c) return "–";
  if (c.error) return "failed";
  return `${alloc?.bump ? "n/a" : pct(c.utilization)} · ${int(c.grows)} (${ms(c.growMs)})`;
}

// ── Real programs ───────────────────────────────────────────────────────────
/**
 * The traces of traces/real/: per driver, utilization of wasm-malloc (default
 * policy), dlmalloc and TLSF, and time against dlmalloc's; then issue 19's
 * targets, each measured as the issue states it.
 */
function realProgramsSection({ results, real, drivers }) {
  const peers = ["wasm-malloc", "dlmalloc", "TLSF"];
  const out = [];
  const geo = (xs) => (xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : NaN);
  const points = (x) => `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)}`;
  out.push("## Real programs");
  out.push("");
  out.push("The traces of `traces/real/` (what each program ran: [traces/real/README.md](../traces/real/README.md)), each replayed once as recorded," +
    " then the blocks it leaves live freed. wasm-malloc: the release build, default policy (the `embed` build under the Wasm driver); dlmalloc: wasi-libc's;" +
    " TLSF: AssemblyScript's. Utilization = peak live payload / (peak memory − heap start); time = median ns per operation, as a multiple of dlmalloc's.");
  const short = real.filter((w) => w.count < 10_000).map((w) => w.name);
  if (short.length) {
    out.push("");
    out.push(`The short traces (${short.join(", ")}: under 10,000 operations, a few large blocks) take a few milliseconds, mostly in` +
      " growing memory (the \"Every figure\" tables below give the share): their time ratios move the most from run to run.");
  }
  const summary = {};
  for (const driver of drivers) {
    const rows = [];
    const ratios = { "wasm-malloc": [], TLSF: [] };
    const utils = { "wasm-malloc": [], dlmalloc: [], TLSF: [] };
    const gaps = [];
    for (const w of real) {
      const cells = Object.fromEntries(peers.map((id) => [id, results[driver][w.name]?.[id]]));
      const ok = (id) => cells[id] && !cells[id].error;
      const dl = ok("dlmalloc") ? cells.dlmalloc.medianNs : NaN;
      const ratio = (id) => (ok(id) ? cells[id].medianNs / dl : NaN);
      for (const id of peers) if (ok(id)) utils[id].push(cells[id].utilization);
      for (const id of ["wasm-malloc", "TLSF"]) if (Number.isFinite(ratio(id))) ratios[id].push(ratio(id));
      if (ok("wasm-malloc") && ok("dlmalloc")) gaps.push({ name: w.name, gap: cells["wasm-malloc"].utilization - cells.dlmalloc.utilization, ratio: ratio("wasm-malloc") });
      rows.push([w.name, int(w.count), bytesFmt(w.peakLive),
        ...peers.map((id) => (!cells[id] ? "–" : cells[id].error ? "failed" : pct(cells[id].utilization))),
        ...peers.map((id) => (!cells[id] ? "–" : cells[id].error ? "failed" : nsFmt(cells[id].medianNs))),
        ratioFmt(ratio("wasm-malloc")), ratioFmt(ratio("TLSF"))]);
    }
    const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    rows.push([`**mean of ${real.length}** (time: geometric)`, "", "", ...peers.map((id) => `**${pct(mean(utils[id]))}**`), "", "", "",
      `**${ratioFmt(geo(ratios["wasm-malloc"]))}**`, `**${ratioFmt(geo(ratios.TLSF))}**`]);
    out.push("");
    out.push(`### ${DRIVER_TITLE[driver]}`);
    out.push("");
    out.push(table(["trace", "ops", "peak live", "util. wasm-malloc", "util. dlmalloc", "util. TLSF", "ns/op wasm-malloc", "ns/op dlmalloc", "ns/op TLSF", "wasm-malloc × dlmalloc", "TLSF × dlmalloc"], rows));
    summary[driver] = { meanGap: mean(gaps.map((g) => g.gap)), worstGap: gaps.reduce((w, g) => (!w || g.gap < w.gap ? g : w), null),
      geo: geo(ratios["wasm-malloc"]), slowest: gaps.reduce((w, g) => (!w || g.ratio > w.ratio ? g : w), null), n: gaps.length };
  }
  const mark = (ok) => (ok ? "✓ " : "✗ ");
  const rows = [];
  const cell = (driver, fn) => (summary[driver]?.n === real.length ? fn(summary[driver]) : "–");
  rows.push(["mean utilization ≥ dlmalloc's + 3 points", ...drivers.map((d) => cell(d, (s) => `${mark(s.meanGap >= 0.03)}${points(s.meanGap)} points`))]);
  rows.push(["no trace more than 2 points below dlmalloc", ...drivers.map((d) => cell(d, (s) => `${mark(s.worstGap.gap >= -0.02)}worst ${points(s.worstGap.gap)} (${s.worstGap.name})`))]);
  rows.push(["time: geometric mean ≤ 0.8× dlmalloc's", ...drivers.map((d) => cell(d, (s) => `${mark(s.geo <= 0.8)}${ratioFmt(s.geo)}`))]);
  rows.push(["time: no trace slower than 1.1×", ...drivers.map((d) => cell(d, (s) => `${mark(s.slowest.ratio <= 1.1)}slowest ${ratioFmt(s.slowest.ratio)} (${s.slowest.name})`))]);
  out.push("");
  out.push("### Against the targets of issue 19 (wasm-malloc's default policy against dlmalloc, this run)");
  out.push("");
  out.push(table(["target", ...drivers.map((d) => `${d === "js" ? "JS" : "Wasm"} driver`)], rows, ["l"]));
  return out.join("\n");
}

// ── Targets ─────────────────────────────────────────────────────────────────
function targetsTable({ results, workloads, drivers, allocators }) {
  const ids = new Set(allocators.map((a) => a.id));
  const ours = "wasm-malloc";
  const has = (name) => workloads.some((w) => w.name === name);
  const rows = [];
  const mark = (ok) => (ok == null ? "" : ok ? "✓ " : "✗ ");
  const perDriver = (fn) => drivers.map((d) => fn(d));
  const speed = (name, limit) => perDriver((d) => {
    const c = results[d][name]?.[ours];
    return !c || c.error ? "–" : `${mark(c.ratio <= limit)}${ratioFmt(c.ratio)}`;
  });
  const util = (name, limit) => perDriver((d) => {
    const c = results[d][name]?.[ours];
    return !c || c.error ? "–" : `${mark(c.utilization >= limit)}${pct(c.utilization)}`;
  });
  const pad = (cells) => [...cells, ...Array(Math.max(0, 2 - cells.length)).fill("")];
  if (has("s1")) {
    rows.push(["s1 small LIFO", "≤ 0.4× TLSF", ...pad(speed("s1", 0.4))]);
    if (ids.has("dlmalloc") && drivers.includes("wasm")) {
      const c = results.wasm.s1?.[ours], dl = results.wasm.s1?.dlmalloc;
      const r = c && dl && !c.error && !dl.error ? c.medianNs / dl.medianNs : NaN;
      rows.push(["s1 small LIFO", "≤ 1.1× dlmalloc (Wasm driver)", ...pad(drivers.map((d) => (d === "wasm" ? `${mark(r <= 1.1)}${ratioFmt(r)} dlmalloc` : "")))]);
    }
  }
  if (has("s2")) {
    rows.push(["s2 churn", "≤ 0.5× TLSF, grow time included", ...pad(speed("s2", 0.5))]);
    rows.push(["s2 churn", "utilization ≥ 90%", ...pad(util("s2", 0.9))]);
  }
  if (has("s3")) {
    rows.push(["s3 realloc", "≤ 0.5× TLSF", ...pad(speed("s3", 0.5))]);
    rows.push(["s3 realloc", "utilization ≥ 75%", ...pad(util("s3", 0.75))]);
  }
  if (has("s4")) {
    rows.push(["s4 large", "≤ 1.0× TLSF", ...pad(speed("s4", 1.0))]);
    rows.push(["s4 large", "utilization ≥ 85%", ...pad(util("s4", 0.85))]);
  }
  if (has("s5")) rows.push(["s5 random actions", "≥ 2× TLSF's actions/µs (≤ 0.5× ns/op)", ...pad(speed("s5", 0.5))]);
  if (has("s5r")) rows.push(["s5r random actions with realloc", "≥ 2× TLSF's actions/µs (≤ 0.5× ns/op)", ...pad(speed("s5r", 0.5))]);
  if (workloads.some((w) => w.trace)) {
    rows.push(["malloc-lab traces", "total ns/op ≤ TLSF's", ...pad(perDriver((d) => {
      const a = traceTotals(results, d, workloads, ours), t = traceTotals(results, d, workloads, "TLSF");
      return a && t ? `${mark(a <= t)}${ratioFmt(a / t)}` : "–";
    }))]);
    const big = workloads.filter((w) => w.trace && w.peakLive >= BIG_TRACE).length;
    const meanUtil = (id, limit) => perDriver((d) => {
      const u = ids.has(id) ? traceMeanUtil(results, d, workloads, id, true) : null;
      return u ? `${limit == null ? "" : mark(u.mean >= limit)}${pct(u.mean)}` : "–";
    });
    rows.push(["malloc-lab traces", `mean utilization over the ${big} traces with peak live ≥ 512 KiB: ≥ 90% (default policy)`, ...pad(meanUtil(ours, 0.9))]);
    rows.push(["malloc-lab traces", "… ≥ 95% (best policy)", ...pad(ids.has("wasm-malloc best") ? meanUtil("wasm-malloc best", 0.95) : ["not run (--policies …,best)"])]);
    for (const peer of ["dlmalloc", "TLSF"]) if (ids.has(peer)) rows.push(["malloc-lab traces", `(for comparison: ${peer})`, ...pad(meanUtil(peer, null))]);
  }
  const release = allocators.find((a) => a.id === ours);
  if (release) rows.push(["size", "release.wasm ≤ 16 KiB", ...pad([`${mark(release.size <= 16 * 1024)}${(release.size / 1024).toFixed(1)} KiB (${int(release.size)} B)`])]);
  const small = allocators.find((a) => a.id === "wasm-malloc small");
  if (small) rows.push(["size", "small.wasm ≤ 6 KiB", ...pad([`${mark(small.size <= 6 * 1024)}${(small.size / 1024).toFixed(1)} KiB (${int(small.size)} B)`])]);
  const header = ["workload", "target", ...drivers.map((d) => `${d === "js" ? "JS" : "Wasm"} driver`)];
  if (header.length < 4) header.push("");
  return table(header, rows, ["l", "l"]);
}

// ── Charts ──────────────────────────────────────────────────────────────────
// Speed: hand-drawn, log scale (chart.mjs). Utilization: the project's own
// renderer (dist/, after `npm run build`), skipped when it is not built.
async function writeCharts({ results, workloads, allocators, drivers, outDir }) {
  const charts = [];
  const series = allocators.filter((a) => !a.checkedBuild).map((a) => a.id);
  const label = (w) => w.name.replace(/\.rep$/, "");
  for (const driver of drivers) {
    const rows = workloads.map((w) => ({
      label: label(w),
      bars: series.filter((id) => results[driver][w.name][id]).map((id) => {
        const c = results[driver][w.name][id];
        return { series: id, value: c.error ? NaN : c.ratio };
      }),
    }));
    if (workloads.some((w) => w.trace)) {
      const tlsf = traceTotals(results, driver, workloads, "TLSF");
      rows.push({
        label: "traces, total",
        bars: series.filter((id) => workloads.some((w) => w.trace && results[driver][w.name][id])).map((id) => {
          const t = traceTotals(results, driver, workloads, id);
          return { series: id, value: t != null && tlsf ? t / tlsf : NaN };
        }),
      });
    }
    const file = path.join(outDir, `speed-${driver}.svg`);
    fs.writeFileSync(file, ratioChart(rows, { title: `ns/op relative to TLSF, ${driver === "js" ? "JS" : "Wasm"} driver (log scale; left of 1× is faster)`, series }));
    charts.push({ file, alt: `ns per operation relative to TLSF, ${driver} driver, per workload and allocator` });
  }
  let render;
  try {
    ({ renderComparisonSvg: render } = await import("../../dist/index.js"));
  } catch {
    render = null;
  }
  if (typeof render === "function") {
    const d = drivers.includes("wasm") ? "wasm" : drivers[0];
    const useries = series.filter((id) => id !== "bump");
    const urows = workloads.map((w) => ({
      label: label(w),
      series: useries.filter((id) => results[d][w.name][id]).map((id) => {
        const c = results[d][w.name][id];
        return { name: id, value: c.error ? NaN : c.utilization };
      }),
    }));
    const ufile = path.join(outDir, "utilization.svg");
    fs.writeFileSync(ufile, render(urows, { title: `Utilization: peak live payload / (peak memory − heap start), ${d === "js" ? "JS" : "Wasm"} driver`, unit: "%", width: 900 }));
    charts.push({ file: ufile, alt: "utilization per workload and allocator" });
  }
  return charts;
}
