// `import { malloc, free } from "wasm-malloc/assembly"` in AssemblyScript.
//
// asc resolves "wasm-malloc/assembly" to node_modules/wasm-malloc/assembly.ts
// before it tries assembly/index.ts (the allocator's own module exports), so
// this file is what such an import gets. See assembly/malloc.ts.
export * from "./assembly/malloc";
