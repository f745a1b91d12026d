// Bundles the heap visualizer (viz/) into static files: dist-viz/, relative paths only
// (base "./"), so any static host, or `wasm-malloc viz`, can serve it from any folder.
// The page imports the host library from src/ and gets the Wasm builds through
// src/module.ts's `new URL("../build/<build>.wasm", import.meta.url)`, which Vite turns
// into emitted assets.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "./",
  // No public/ folder: everything the page needs is imported.
  publicDir: false,
  logLevel: "warn",
  build: {
    outDir: here("../dist-viz"),
    emptyOutDir: true,
    target: "es2022",
    // The Wasm files stay files (fetched once, compiled per heap), not base64 in the JS.
    assetsInlineLimit: 0,
    rollupOptions: {
      onwarn(warning, warn) {
        // src/heap.ts loads the trace log (node:fs) only when asked to log to a file,
        // which the page never does: Vite stubs node:fs for the browser, and says so.
        if (/externalized for browser compatibility/.test(warning.message)) return;
        // src/trace.ts's replayTrace imports heap.ts lazily (for Node); the page imports it
        // up front anyway, so one chunk is right.
        if (/dynamic import will not move module into another chunk/.test(warning.message)) return;
        warn(warning);
      },
    },
  },
  server: { host: "127.0.0.1", fs: { allow: [here("..")] } },
  preview: { host: "127.0.0.1" },
});
