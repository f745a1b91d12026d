// The README's "Use it from C / AssemblyScript / JS" sections, run as written:
// every file they show is written, every command they show is run (in a
// throwaway project whose node_modules holds this package), and every output
// they show is compared. The sections live in docs/readme-embedding.md until
// they are merged into README.md; the test reads them wherever they are.
//
// In the Markdown, `<!-- file: NAME -->` before a code block makes it a file,
// a ```sh block is commands, and `<!-- output -->` before a ```text block is
// what the commands just before it print.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { repo, userProject, needsClang, run } from "./embed/toolchain.mjs";

const readme = fs.readFileSync(path.join(repo, "README.md"), "utf8");
const source = readme.includes("## Use it from C") ? "README.md" : path.join("docs", "readme-embedding.md");
const markdown = fs.readFileSync(path.join(repo, source), "utf8");

/** The section under `## title`, up to the next `## ` heading. */
function section(title) {
  const start = markdown.indexOf(`## ${title}\n`);
  assert.notEqual(start, -1, `${source} has a section "## ${title}"`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** Its steps in order: { file, text } | { commands } | { output }. */
function steps(text) {
  const out = [];
  const fence = /(?:<!-- (file: ([^\s]+)|output) -->\n)?```(\w*)\n([\s\S]*?)```/g;
  for (let m; (m = fence.exec(text));) {
    const [, marker, file, lang, body] = m;
    if (file) out.push({ file, text: body });
    else if (marker === "output") out.push({ output: body });
    else if (lang === "sh") out.push({ commands: body.replace(/\\\n\s*/g, "").split("\n").filter((l) => l.trim()) });
  }
  return out;
}

const project = userProject("wasm-malloc-docs-");
after(() => fs.rmSync(project, { recursive: true, force: true })); // symlinks are removed, never followed
fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "demo", private: true, type: "module" }));
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` };

async function runSection(title) {
  const list = steps(section(title));
  assert.ok(list.some((s) => s.commands), "the section shows commands");
  let printed = "";
  for (const step of list) {
    if (step.file) fs.writeFileSync(path.join(project, step.file), step.text);
    else if (step.commands) {
      printed = "";
      for (const command of step.commands) {
        const { status, stdout, stderr } = await run("bash", ["-c", command], { cwd: project, env });
        assert.equal(status, 0, `\`${command}\` failed:\n${stdout}${stderr}`);
        printed += stdout;
      }
    } else if (step.output !== undefined) {
      assert.equal(printed, step.output, `the output ${source} shows`);
    }
  }
  return list;
}

// The sections run at once (each in its own files of the project): two compilers on two cores.
const skipC = needsClang();
const started = (title) => runSection(title).then((list) => ({ list }), (error) => ({ error }));
const sections = {
  c: skipC.skip ? null : started("Use it from C"),
  as: started("Use it from AssemblyScript"),
  js: started("Use it from JS"),
};
async function finished(promise) {
  const { list, error } = await promise;
  if (error) throw error;
  assert.ok(list.some((s) => s.output), "the section shows what its commands print");
  return list;
}

test(`${source}: "Use it from C" runs as written`, skipC, async () => {
  await finished(sections.c);
  assert.ok(fs.existsSync(path.join(project, "hello.wasm")));
});

test(`${source}: "Use it from AssemblyScript" runs as written`, async () => {
  await finished(sections.as);
});

test(`${source}: "Use it from JS" runs as written`, async () => {
  await finished(sections.js);
});
