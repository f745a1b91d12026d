// Logging every allocator operation to a .rep trace file, as it happens.
//
// Operations arrive from the traced (or checked) build's `env.wasm_malloc_op`
// import, so calls made by other Wasm modules through the allocator are
// logged too, not only those made from JS. Each operation is appended to the
// file at once (buffered a little); the header is written first with padded
// placeholder counts and rewritten in place when the log closes, on close()
// or at process exit. If the process dies first, the operations are all on
// disk and only the header counts are stale.

import fs from "node:fs";

const HEADER_WIDTH = 12; // digits per header number: room for any 32-bit count

/** Operation codes, from the module's OP_* exports. */
export interface OpCodes {
  malloc: number;
  calloc: number;
  realloc: number;
  free: number;
  alignedAlloc: number;
}

export class TraceLog {
  readonly path: string;
  private fd: number;
  private ids = new Map<number, number>();
  private nextId = 0;
  private count = 0;
  private pending: string[] = [];
  private peakMemory = 0;
  private closed = false;
  private readonly onExit = () => this.close();

  constructor(path: string, private readonly codes: OpCodes, private readonly memory: () => number) {
    this.path = path;
    this.fd = fs.openSync(path, "w");
    fs.writeSync(this.fd, this.header());
    process.on("exit", this.onExit);
  }

  /** Operations logged so far. */
  get operations(): number { return this.count; }

  /** The id a live pointer has in the log (undefined if none). */
  idOf(ptr: number): number | undefined { return this.ids.get(ptr); }

  private header(): string {
    const pad = (n: number) => String(n).padStart(HEADER_WIDTH, " ");
    return `${pad(this.peakMemory)}\n${pad(this.nextId)}\n${pad(this.count)}\n${pad(1)}\n`;
  }

  private emit(line: string): void {
    this.pending.push(line);
    this.count++;
    if (this.pending.length >= 256) this.flush();
  }

  /** One operation as the Wasm module reported it. */
  record(op: number, a: number, b: number, result: number): void {
    if (this.closed) return;
    const c = this.codes;
    this.peakMemory = Math.max(this.peakMemory, this.memory());
    if (op === c.malloc || op === c.calloc || op === c.alignedAlloc) {
      const size = op === c.malloc ? a : op === c.calloc ? a * b : b;
      const id = this.nextId++;
      this.ids.set(result, id);
      this.emit(`a ${id} ${size}\n`);
    } else if (op === c.free) {
      const id = this.ids.get(a);
      if (id === undefined) return;
      this.ids.delete(a);
      this.emit(`f ${id}\n`);
    } else if (op === c.realloc) {
      if (a === 0) { this.record(c.malloc, b, 0, result); return; }
      const id = this.ids.get(a);
      if (id === undefined) return;
      this.ids.delete(a);
      if (b === 0) { this.emit(`f ${id}\n`); return; }
      this.ids.set(result, id);
      this.emit(`r ${id} ${b}\n`);
    }
  }

  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    fs.writeSync(this.fd, this.pending.join(""));
    this.pending.length = 0;
  }

  /** Write what is buffered and the final header counts. */
  close(): void {
    if (this.closed) return;
    this.flush();
    fs.writeSync(this.fd, this.header(), 0);
    fs.closeSync(this.fd);
    this.closed = true;
    process.off("exit", this.onExit);
  }
}
