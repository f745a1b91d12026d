// `import { malloc, free } from "wasm-malloc"` in AssemblyScript.
//
// asc (0.28) resolves a bare package import to node_modules/<package>/index.ts; it does
// not read package.json's `ascMain` (kept there for tools that do). Same exports as
// assembly.ts ("wasm-malloc/assembly"): the C API of assembly/malloc.ts.
export * from "./assembly/malloc";
