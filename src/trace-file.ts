// A .rep trace file read as a stream, a chunk at a time: parsing and replaying keep only
// the live ids and one chunk of text, so a trace of 40 million lines needs no more
// memory than one of 40 (reading it whole first ran V8 out of heap). A gzipped file
// (traces/real/*.rep.gz) is read through gunzip, known by its first two bytes
// whatever its name. Node only.

import fs from "node:fs";
import zlib from "node:zlib";
import type { Heap } from "./heap.js";
import { ReplayRun, TRACE_LINE_MAX, TraceError, TraceParser, type ReplayOptions, type ReplayResult, type Trace, type TraceHeader, type TraceOp } from "./trace.js";

const CHUNK_BYTES = 1 << 16;

export interface TraceFileOptions extends ReplayOptions {
  /** Called after each chunk with the bytes read so far and the file's size (for a progress bar). */
  onRead?: (bytes: number, fileBytes: number) => void;
}

function cannotRead(file: string, error: unknown, gzipped = false): TraceError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  // zlib's codes (Z_DATA_ERROR, Z_BUF_ERROR for a cut-off file) say the gzip data is bad, not the disk.
  if (gzipped && /^Z_/.test(String(code))) {
    return new TraceError(file, 0, `cannot read the file: it starts as gzip data but does not unpack (${code}: ${(error as Error).message}); gunzip it by hand to see`);
  }
  return new TraceError(file, 0, `cannot read the file (${code})`);
}

/**
 * The lines of `file` in order, without line breaks, a chunk's worth at a time. A line
 * longer than TRACE_LINE_MAX is handed over as soon as it is known to be (the parser
 * rejects it), so a file with no line breaks is never held whole.
 */
async function* fileLines(file: string, onRead?: TraceFileOptions["onRead"]): AsyncGenerator<string[]> {
  let handle: fs.promises.FileHandle;
  let fileBytes: number;
  let gzipped: boolean;
  try {
    handle = await fs.promises.open(file, "r");
    fileBytes = (await handle.stat()).size;
    gzipped = await isGzip(handle);
  } catch (error) { throw cannotRead(file, error); }
  // The stream closes the handle when it ends or is destroyed.
  const raw = handle.createReadStream({ start: 0, highWaterMark: CHUNK_BYTES });
  const text = gzipped ? raw.pipe(zlib.createGunzip({ chunkSize: CHUNK_BYTES })) : raw;
  text.setEncoding("utf8");
  if (gzipped) raw.on("error", (error) => text.destroy(error));
  const chunks = text[Symbol.asyncIterator]() as AsyncIterator<string>;
  let carry = "";
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try { next = await chunks.next(); } catch (error) { throw cannotRead(file, error, gzipped); }
      if (next.done) break;
      const lines = (carry + next.value).split("\n");
      carry = lines.pop()!;
      if (carry.length > TRACE_LINE_MAX) { lines.push(carry); carry = ""; }
      onRead?.(raw.bytesRead, fileBytes);
      yield lines;
    }
    yield [carry];
  } finally {
    text.destroy();
    raw.destroy();
  }
}

/** Whether the file starts with gzip's magic bytes (1f 8b). */
async function isGzip(handle: fs.promises.FileHandle): Promise<boolean> {
  const head = Buffer.alloc(2);
  const { bytesRead } = await handle.read(head, 0, 2, 0);
  return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Read `file` through `parser`, handing each chunk's operations to `each`. */
async function readOps(file: string, parser: TraceParser, each: (ops: TraceOp[]) => void, onRead?: TraceFileOptions["onRead"]): Promise<TraceHeader> {
  const ops: TraceOp[] = [];
  for await (const batch of fileLines(file, onRead)) {
    ops.length = 0;
    for (const line of batch) {
      const op = parser.line(line);
      if (op) ops.push(op);
    }
    each(ops);
  }
  return parser.end();
}

/** Parse and replay the trace in `file` on `heap`, as a stream. Throws TraceError (file:line) as replay() does. */
export async function replayTraceFile(heap: Heap, file: string, options: TraceFileOptions = {}): Promise<ReplayResult & TraceHeader & { file: string }> {
  const parser = new TraceParser(file);
  const run = new ReplayRun(heap, parser, options);
  const header = await readOps(file, parser, (ops) => run.steps(ops), options.onRead);
  return { file, ...header, ...run.result(parser.operations) };
}

/** Check the trace in `file` without replaying it: its header and its number of operations. */
export async function checkTraceFile(file: string): Promise<TraceHeader & { file: string; ops: number }> {
  const parser = new TraceParser(file);
  const header = await readOps(file, parser, () => {});
  return { file, ...header, ops: parser.operations };
}

/**
 * The whole trace in `file` parsed into memory (gzipped or not), named `name` in errors
 * and results. For a trace to replay more than once; one replay streams (replayTraceFile).
 */
export async function parseTraceFile(file: string, name = file): Promise<Trace> {
  const parser = new TraceParser(name);
  const ops: TraceOp[] = [];
  const header = await readOps(file, parser, (batch) => { for (const op of batch) ops.push(op); });
  return { file: name, ...header, ops };
}
