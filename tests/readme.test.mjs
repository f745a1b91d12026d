// The README and docs/ as a reader meets them: the README stays short enough
// to read (the depth lives in docs/), its contents list leads to its headings,
// every relative link in README.md and docs/*.md reaches a file (and a heading,
// where it names one), and the test command the README tells a user to run is
// the one CI runs. The runnable snippets are run by tests/embed-docs.test.mjs.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const README_MAX_CHARACTERS = 30_000;

const read = (file) => fs.readFileSync(path.join(repo, file), "utf8");
const readme = read("README.md");
const docs = fs.readdirSync(path.join(repo, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`);

/**
 * The Markdown with its fenced code blocks blanked (links and headings in code are
 * not links), keeping their line breaks so that line numbers stay right.
 */
function prose(markdown) {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ""));
}

/**
 * GitHub's anchor for a heading: lower case, punctuation dropped (letters, digits,
 * spaces, hyphens and underscores kept), each space a hyphen; repeats get -1, -2, ….
 */
function anchors(markdown) {
  const seen = new Map();
  const out = new Set();
  for (const [, title] of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = title.replace(/`/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every inline link and image target in the prose: { target, line }. */
function links(markdown) {
  const out = [];
  const text = prose(markdown);
  for (const m of text.matchAll(/!?\[(?:[^\]`]|`[^`]*`)*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    out.push({ target: m[1], line: text.slice(0, m.index).split("\n").length });
  }
  return out;
}

test(`README.md is at most ${README_MAX_CHARACTERS.toLocaleString("en")} characters, counted as UTF-8 bytes`, () => {
  // Bytes, as `wc -c` counts: the diagrams' box-drawing characters take three each.
  const bytes = Buffer.byteLength(readme, "utf8");
  assert.ok(bytes <= README_MAX_CHARACTERS, `README.md has ${bytes} bytes; move detail into docs/ and link it`);
});

test("README.md has a contents list, and each entry leads to a heading of the README", () => {
  const start = readme.indexOf("\n## Contents\n");
  assert.notEqual(start, -1, 'README.md has a "## Contents" section');
  const end = readme.indexOf("\n## ", start + 1);
  const entries = [...readme.slice(start, end).matchAll(/^- \[[^\]]+\]\(#([^)]+)\)/gm)].map((m) => m[1]);
  assert.ok(entries.length >= 8, `the contents list has ${entries.length} entries`);
  const headings = anchors(readme);
  for (const anchor of entries) assert.ok(headings.has(anchor), `contents entry #${anchor} matches no heading of README.md`);
  // And every section of the README is in the list.
  const sections = [...prose(readme).matchAll(/^## (.+)$/gm)].map((m) => m[1]).filter((t) => t !== "Contents");
  const listed = new Set(entries);
  for (const title of sections) {
    const [anchor] = anchors(`## ${title}\n`);
    assert.ok(listed.has(anchor), `the section "## ${title}" is missing from the contents list`);
  }
});

for (const file of ["README.md", ...docs]) {
  test(`${file}: every relative link reaches an existing file, and heading where it names one`, () => {
    const markdown = read(file);
    const problems = [];
    for (const { target, line } of links(markdown)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [pathPart, anchor] = target.split("#");
      const resolved = pathPart ? path.join(path.dirname(path.join(repo, file)), decodeURIComponent(pathPart)) : path.join(repo, file);
      const where = `${file}:${line}: (${target})`;
      if (!fs.existsSync(resolved)) { problems.push(`${where} points to a missing file`); continue; }
      if (anchor && resolved.endsWith(".md") && !anchors(fs.readFileSync(resolved, "utf8")).has(anchor)) {
        problems.push(`${where}: ${path.relative(repo, resolved)} has no heading #${anchor}`);
      }
    }
    assert.deepEqual(problems, [], problems.join("\n"));
  });
}

test("the test command the README gives is the one CI runs (.ci/run)", () => {
  const start = readme.indexOf("\n## Quick start\n");
  assert.notEqual(start, -1, 'README.md has a "## Quick start" section');
  const quickStart = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const commands = [...quickStart.matchAll(/^```sh\n([\s\S]*?)^```/gm)]
    .flatMap((m) => m[1].split("\n")).map((l) => l.replace(/#.*/, "").trim()).filter(Boolean);
  const readmeTest = commands.filter((c) => /^npm (run )?test\b/.test(c));
  assert.equal(readmeTest.length, 1, `the quick start shows one test command (found: ${readmeTest.join(", ") || "none"})`);
  const ciCommands = read(".ci/run").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const ciTest = ciCommands.filter((c) => /^npm (run )?test\b/.test(c));
  assert.deepEqual(ciTest, readmeTest, ".ci/run runs the README's test command");
  assert.equal(ciCommands.at(-1), readmeTest[0], ".ci/run ends with the README's test command (its result is CI's result)");
});

test("docs/cli.md's dump is what `wasm-malloc dump` prints for the command it names", () => {
  const text = fs.readFileSync(path.join(repo, "docs", "cli.md"), "utf8");
  const command = /`wasm-malloc dump ([^`]+)` prints the heap/.exec(text);
  assert.ok(command, "docs/cli.md names a dump command");
  const shown = /```\n(wasm-malloc heap: [\s\S]*?)```/.exec(text);
  assert.ok(shown, "docs/cli.md shows a dump");
  const printed = execFileSync(process.execPath, [path.join(repo, "dist", "cli.js"), "dump", ...command[1].split(" ")], { cwd: repo, encoding: "utf8" });
  assert.equal(printed, shown[1]);
});
