// Serving the heap visualizer: the built page (dist-viz/, from `vite build`) as static
// files, plus the trace the user named on the command line at /trace/<name>. The page
// reads its trace and options from its query string; the bare address (/, no query)
// redirects to the page with the served trace and options, so it opens what the
// command line named however the address is typed.
//
// node:http and nothing else, so `wasm-malloc viz` works from an installed package
// (where the bundler, a dev dependency, is absent). The page itself does all the work:
// it loads the Wasm module and replays the trace in the browser.
//
// Any web page the user has open can send this server requests, so every request is
// answered, never thrown on (a malformed one gets 400, the server keeps serving), and
// only requests that name this server as localhost, 127.0.0.1, [::1] or its --host are
// answered at all: a page that renames itself to 127.0.0.1 (DNS rebinding) gets 403
// instead of the trace.

import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream";
import type { AddressInfo } from "node:net";
import { printable } from "./printable.js";

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

/** Longest request target answered; the page's own URLs are under 200 characters. */
const MAX_URL = 2048;

export interface VizServerOptions {
  /** Folder of the built page (default: dist-viz/ of this package). */
  pageDir?: string;
  /**
   * A trace to offer the page, served at /trace/<name>: its text, or a file sent from
   * disk at each request (never held in memory whole).
   */
  trace?: { name: string; text: string } | { name: string; file: string };
  /** Port to listen on; 0 picks a free one. */
  port?: number;
  /** Address to listen on (default 127.0.0.1). Any non-loopback address makes the page and trace readable from the network. */
  host?: string;
  /** Query parameters of the printed URL besides the trace (at, policy, engine, compare). */
  query?: Record<string, string | number | undefined>;
}

export interface VizServer {
  /** The page's address, with the trace and options in its query string (the bare address redirects there). */
  url: string;
  /** The port it listens on. */
  port: number;
  close(): Promise<void>;
}

/** Whether `host` keeps a server on this machine: localhost, 127.x.x.x or ::1. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost" || bare === "::1") return true;
  return net.isIPv4(bare) && bare.startsWith("127.");
}

/** `host` as a Host header names it: IPv6 in brackets, lower case. */
function hostName(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return net.isIPv6(bare) ? `[${bare}]` : bare;
}

/**
 * The host names a request may give in its Host header. Listening on every interface
 * (0.0.0.0, ::), this machine's own addresses too: an IP address cannot be rebound to
 * another site, a DNS name can.
 */
function allowedHosts(host: string): Set<string> {
  const names = new Set(["localhost", "127.0.0.1", "[::1]", hostName(host)]);
  if (host === "0.0.0.0" || host === "::") {
    for (const list of Object.values(os.networkInterfaces())) for (const address of list ?? []) names.add(hostName(address.address));
  }
  return names;
}

/** The name in a Host header without its port; undefined when it is not `name`, `name:port` or `[v6]:port`. */
function hostOfHeader(header: string | undefined): string | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header ?? "");
  return m ? m[1].toLowerCase() : undefined;
}

/**
 * The request path as folder names, each percent-decoded; a string saying what is wrong
 * when it cannot name a file (malformed escape, NUL, backslash, a "." or ".." part).
 */
function pathParts(target: string): string[] | { status: number; why: string } {
  const raw = target.split("?")[0].split("#")[0];
  if (!raw.startsWith("/")) return { status: 400, why: "the request target must be a path starting with /" };
  const parts: string[] = [];
  for (const segment of raw.slice(1).split("/")) {
    let part: string;
    try { part = decodeURIComponent(segment); } catch { return { status: 400, why: `malformed percent escape in ${JSON.stringify(printable(segment, 40))}` }; }
    if (part.includes("\0")) return { status: 400, why: "NUL in the path" };
    if (part.includes("\\") || part.includes("/")) return { status: 400, why: "a (back)slash inside a path segment" };
    // Nothing outside the page folder: ".." is not found, whether written or %2e%2e.
    if (part === "." || part === "..") return { status: 404, why: "not found" };
    parts.push(part);
  }
  return parts;
}

function sendText(response: http.ServerResponse, status: number, text: string, headers: http.OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
  response.end(`${status} ${http.STATUS_CODES[status] ?? ""}: ${text}\n`);
}

/** Whether `file` starts with gzip's magic bytes (1f 8b): a traces/real/*.rep.gz. */
function isGzipFile(file: string): boolean {
  const head = Buffer.alloc(2);
  const fd = fs.openSync(file, "r");
  try { return fs.readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b; } finally { fs.closeSync(fd); }
}

/** Send a file from disk; a read error after the headers ends the response, not the server. */
function sendFile(request: http.IncomingMessage, response: http.ServerResponse, file: string, size: number, contentType: string, headers: http.OutgoingHttpHeaders = {}): void {
  response.writeHead(200, { "content-type": contentType, "content-length": size, ...headers });
  if (request.method === "HEAD") { response.end(); return; }
  pipeline(fs.createReadStream(file), response, () => {});
}

export async function serveViz(options: VizServerOptions = {}): Promise<VizServer> {
  const root = path.resolve(options.pageDir ?? vizPageDir());
  if (!fs.existsSync(path.join(root, "index.html"))) {
    throw new Error(`the visualizer page is not built (no ${path.join(root, "index.html")}); run npm run build`);
  }
  const host = options.host ?? "127.0.0.1";
  const allowed = allowedHosts(host);
  const trace = options.trace;
  const traceName = trace ? path.basename(trace.name) : undefined;
  const query = new URLSearchParams();
  if (traceName) query.set("trace", `trace/${encodeURIComponent(traceName)}`);
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) query.set(key, String(value));
  const search = query.toString();

  const answer = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    // Never let another site's script read a response, nor a browser guess a type.
    response.setHeader("x-content-type-options", "nosniff");
    response.setHeader("cross-origin-resource-policy", "same-origin");
    const requestHost = hostOfHeader(request.headers.host);
    if (requestHost === undefined || !allowed.has(requestHost)) {
      const named = request.headers.host === undefined ? "no Host header" : `Host ${JSON.stringify(printable(request.headers.host, 60))}`;
      sendText(response, 403, `${named}; this server answers only to ${[...allowed].join(", ")} (another name may be a DNS-rebinding page reaching for the trace)`);
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      sendText(response, 405, `only GET and HEAD, not ${printable(request.method ?? "", 20)}`, { allow: "GET, HEAD" });
      return;
    }
    const target = request.url ?? "/";
    if (target.length > MAX_URL) { sendText(response, 414, `the request target is ${target.length} characters; at most ${MAX_URL}`); return; }
    const parts = pathParts(target);
    if (!Array.isArray(parts)) { sendText(response, parts.status, parts.why); return; }
    // The bare address: the page with what the command line named (a page with its own query is left alone).
    if (search && !target.includes("?") && parts.length === 1 && (parts[0] === "" || parts[0] === "index.html")) {
      response.writeHead(302, { location: `/?${search}`, "cache-control": "no-store", "content-type": "text/plain; charset=utf-8" });
      response.end(request.method === "HEAD" ? undefined : `302 Found: /?${search}\n`);
      return;
    }

    if (trace && parts.length === 2 && parts[0] === "trace" && parts[1] === traceName) {
      const headers = { "cache-control": "no-store" };
      if ("text" in trace) {
        response.writeHead(200, { "content-type": CONTENT_TYPES[".rep"], "content-length": Buffer.byteLength(trace.text), ...headers });
        response.end(request.method === "HEAD" ? undefined : trace.text);
        return;
      }
      const stat = fs.statSync(trace.file, { throwIfNoEntry: false });
      if (!stat?.isFile()) { sendText(response, 404, "the trace file is gone"); return; }
      // A gzipped trace goes as it is, marked so that the browser unpacks it.
      sendFile(request, response, trace.file, stat.size, CONTENT_TYPES[".rep"], isGzipFile(trace.file) ? { ...headers, "content-encoding": "gzip" } : headers);
      return;
    }
    // Only files inside the page folder: a resolved path outside it is not found.
    const relative = parts.filter((part) => part !== "").join(path.sep);
    const file = path.resolve(root, relative === "" || target.split("?")[0].endsWith("/") ? path.join(relative, "index.html") : relative);
    const stat = file.startsWith(root + path.sep) ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
    if (!stat?.isFile()) {
      sendText(response, 404, "not found");
      return;
    }
    sendFile(request, response, file, stat.size, CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream");
  };

  const server = http.createServer((request, response) => {
    try { answer(request, response); } catch (error) {
      // A bug here answers 500 and the server keeps serving the next request.
      if (!response.headersSent) sendText(response, 500, printable((error as Error).message));
      else response.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => { server.off("error", reject); resolve(); });
  });
  // After listening, an error (such as a socket's) is logged, never thrown out of the process.
  server.on("error", (error) => console.error(`wasm-malloc viz: ${printable(error.message)}`));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${hostName(host)}:${port}/${search ? "?" + search : ""}`,
    port,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
