#!/usr/bin/env node
// What the release build's pointer checks cost, in exact instructions per
// operation (callgrind, through bench/instructions.mjs): the `embed` build
// against the same source built with WASM_MALLOC_UNCHECKED (it trusts every
// pointer given to free/realloc, but keeps the start map up to date), and any
// other builds given (an older commit's embed.wasm, say). Writes the table
// into RESULTS.md's "pointer-checks" section. Slow: a minute or more per
// figure; needs valgrind and the peers' driver (npm run bench builds it).
//
//   node bench/pointer-checks.mjs [--label NAME=FILE.wasm]... [WORKLOAD]...
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BENCH, OUT, REPO } from "./lib/build.mjs";
import { writeKept } from "./lib/kept.mjs";

const args = process.argv.slice(2);
const extra = [];
const workloads = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--label") {
    const [label, file] = (args[++i] ?? "").split("=");
    if (!label || !file) { console.error("--label takes NAME=FILE.wasm"); process.exit(2); }
    extra.push({ label, file: path.resolve(file) });
  } else workloads.push(args[i]);
}
if (workloads.length === 0) workloads.push("s1", "s2", "s5", "cccp-bal.rep", "random-bal.rep");

// The unchecked variant of the embed build, from this tree.
const unchecked = path.join(OUT, "embed-unchecked.wasm");
fs.mkdirSync(OUT, { recursive: true });
const asc = spawnSync(process.execPath, [path.join(REPO, "node_modules/assemblyscript/bin/asc.js"), "assembly/index.ts", "--config", "asconfig.json",
  "--target", "embed", "--use", "WASM_MALLOC_UNCHECKED=1", "-o", unchecked], { cwd: REPO, encoding: "utf8" });
if (asc.status !== 0) { console.error(asc.stderr); process.exit(1); }

const builds = [
  ...extra,
  { label: "release pointer checks (build/embed.wasm)", file: path.join(REPO, "build/embed.wasm") },
  { label: "unchecked (for this measurement only)", file: unchecked },
];
const rows = [];
for (const w of workloads) {
  const out = spawnSync(process.execPath, [path.join(BENCH, "instructions.mjs"), w, ...builds.map((b) => b.file)], { encoding: "utf8" });
  if (out.status !== 0) { console.error(out.stderr); process.exit(1); }
  const figures = [...out.stdout.matchAll(/(\d+) instructions\/op/g)].map((m) => Number(m[1]));
  rows.push({ w, figures });
  console.log(w, figures.join(" "));
}

const checked = builds.length - 2;
const md = [
  "## What the release build's pointer checks cost (instructions per operation)",
  "",
  `\`node bench/pointer-checks.mjs${extra.map((b) => ` --label "${b.label}=…"`).join("")}\`: exact instructions per operation (callgrind, Wasm driver, bench/instructions.mjs).`,
  "The unchecked build trusts every pointer given to free and realloc (no page-map, slot, start-map or header checks) but keeps the start map up to date.",
  "",
  `| workload | ${builds.map((b) => b.label).join(" | ")} | checks cost |`,
  `|---|${builds.map(() => "---:").join("|")}|---:|`,
  ...rows.map(({ w, figures }) => `| ${w} | ${figures.join(" | ")} | +${figures[checked] - figures[checked + 1]} |`),
];
writeKept(path.join(BENCH, "RESULTS.md"), "pointer-checks", md.join("\n"));
console.log(md.join("\n"));
