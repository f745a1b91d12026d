// Serving the heap visualizer: the built page (dist-viz/, from `vite build`) as static
// files, plus the trace the user named on the command line at /trace/<name>.
//
// node:http and nothing else, so `wasm-malloc viz` works from an installed package
// (where the bundler, a dev dependency, is absent). The page itself does all the work:
// it loads the Wasm module and replays the trace in the browser.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";

/** The built page, next to the package's dist/ folder. */
export function vizPageDir(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), "../dist-viz");
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".rep": "text/plain; charset=utf-8",
};

export interface VizServerOptions {
  /** Folder of the built page (default: dist-viz/ of this package). */
  pageDir?: string;
  /** A trace to offer the page: served at /trace/<name>. */
  trace?: { name: string; text: string };
  /** Port to listen on; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Query parameters of the printed URL besides the trace (at, policy, engine, compare). */
  query?: Record<string, string | number | undefined>;
}

export interface VizServer {
  /** The page's address, with the trace and options in its query string. */
  url: string;
  close(): Promise<void>;
}

export async function serveViz(options: VizServerOptions = {}): Promise<VizServer> {
  const root = path.resolve(options.pageDir ?? vizPageDir());
  if (!fs.existsSync(path.join(root, "index.html"))) {
    throw new Error(`the visualizer page is not built (no ${path.join(root, "index.html")}); run npm run build`);
  }
  const traceName = options.trace ? encodeURIComponent(path.basename(options.trace.name)) : undefined;
  const server = http.createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    if (options.trace && pathname === `/trace/${decodeURIComponent(traceName!)}`) {
      response.writeHead(200, { "content-type": CONTENT_TYPES[".rep"], "cache-control": "no-store" });
      response.end(options.trace.text);
      return;
    }
    // Only files inside the page folder: a resolved path outside it is not found.
    const file = path.resolve(root, "." + (pathname.endsWith("/") ? pathname + "index.html" : pathname));
    if (!file.startsWith(root + path.sep) || !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("not found\n");
      return;
    }
    response.writeHead(200, { "content-type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(response);
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const query = new URLSearchParams();
  if (traceName) query.set("trace", `trace/${traceName}`);
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) query.set(key, String(value));
  const search = query.toString();
  return {
    url: `http://${host}:${port}/${search ? "?" + search : ""}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
