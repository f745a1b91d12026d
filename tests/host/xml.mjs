// Reading the SVG the renderer writes, once parsed by fast-xml-parser.

/** Every element named `tag` anywhere under `node` (a parsed document or part of one). */
export function all(node, tag, out = []) {
  if (Array.isArray(node)) { for (const n of node) all(n, tag, out); return out; }
  if (node === null || typeof node !== "object") return out;
  for (const [key, value] of Object.entries(node)) {
    if (key === tag) for (const v of [value].flat()) out.push(v);
    all(value, tag, out);
  }
  return out;
}
