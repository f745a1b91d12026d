// Sections of RESULTS.md that other scripts write (between
// `<!-- kept: NAME -->` and `<!-- /kept: NAME -->`): the benchmark run keeps
// them when it writes the file anew, and their script replaces its own.
import fs from "node:fs";

const BLOCK = /<!-- kept: ([\w-]+) -->[\s\S]*?<!-- \/kept: \1 -->\n?/g;

/** Every kept section of `file` (none if it does not exist), as text. */
export function keptSections(file) {
  if (!fs.existsSync(file)) return "";
  return [...fs.readFileSync(file, "utf8").matchAll(BLOCK)].map((m) => m[0]).join("");
}

/** Write section `name` of `file` (replacing it, or appended). */
export function writeKept(file, name, text) {
  const block = `<!-- kept: ${name} -->\n${text.trimEnd()}\n<!-- /kept: ${name} -->\n`;
  const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const pattern = new RegExp(`<!-- kept: ${name} -->[\\s\\S]*?<!-- /kept: ${name} -->\\n?`);
  fs.writeFileSync(file, pattern.test(old) ? old.replace(pattern, block) : `${old.trimEnd()}\n\n${block}`);
}
