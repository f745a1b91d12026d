#!/usr/bin/env node
// Where a module's bytes go: its sections, then its functions' bodies by size,
// summed by source file when the module has names.
//
//   node tools/wasm-sizes.mjs FILE.wasm [--top N]
//
// Release builds carry no names; build one with them to see where code comes
// from (asc's --debug adds the name section and changes no code):
//   npx asc assembly/index.ts --config asconfig.json --target release --debug -o /tmp/named.wasm
//   npx asc assembly/small.ts --config asconfig.json --target small --debug --transform ./tools/asc-no-inline.mjs -o /tmp/named.wasm
import fs from "node:fs";
import binaryen from "binaryen";

const SECTION_NAMES = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "data count"];

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--"));
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args[topAt + 1]) : 30;
if (!file || !Number.isInteger(top) || top < 0) {
  console.error("usage: node tools/wasm-sizes.mjs FILE.wasm [--top N]");
  process.exit(2);
}
const bytes = fs.readFileSync(file);

let at = 8;
const leb = () => {
  let value = 0, shift = 0, byte;
  do { byte = bytes[at++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
  return value;
};

// Function names from binaryen (those of imported functions come first in the index space).
const module = binaryen.readBinary(bytes);
const names = [];
let imported = 0;
for (let i = 0; i < module.getNumFunctions(); i++) {
  const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
  if (info.module) imported++;
  names.push(info.name);
}
module.dispose();

const sections = [];
const bodies = [];
while (at < bytes.length) {
  const id = bytes[at++];
  const length = leb();
  const start = at;
  sections.push([SECTION_NAMES[id] ?? `#${id}`, length]);
  if (id === 10) {
    const count = leb();
    for (let i = 0; i < count; i++) {
      const size = leb();
      bodies.push([size, names[imported + i] ?? `#${imported + i}`]);
      at += size;
    }
  }
  at = start + length;
}

console.log(`${file}: ${bytes.length} bytes`);
for (const [name, length] of sections) console.log(`  ${String(length).padStart(7)}  ${name} section`);
bodies.sort((a, b) => b[0] - a[0]);
console.log(`\nfunction bodies: ${bodies.length}, ${bodies.reduce((s, [n]) => s + n, 0)} bytes; the ${Math.min(top, bodies.length)} largest:`);
for (const [size, name] of bodies.slice(0, top)) console.log(`  ${String(size).padStart(7)}  ${name}`);
const named = bodies.filter(([, name]) => name.includes("/"));
if (named.length) {
  const byFile = new Map();
  for (const [size, name] of named) {
    const source = name.slice(0, name.lastIndexOf("/"));
    byFile.set(source, (byFile.get(source) ?? 0) + size);
  }
  console.log("\nby source file:");
  for (const [source, size] of [...byFile].sort((a, b) => b[1] - a[1])) console.log(`  ${String(size).padStart(7)}  ${source}`);
} else {
  console.log("\n(no names: see the header of tools/wasm-sizes.mjs for a build with them)");
}
