// A .rep trace file read as a stream, a chunk at a time: parsing and replaying keep only
// the live ids and one chunk of text, so a trace of 40 million lines needs no more
// memory than one of 40 (reading it whole first ran V8 out of heap). Node only.

import fs from "node:fs";
import type { Heap } from "./heap.js";
import { ReplayRun, TRACE_LINE_MAX, TraceError, TraceParser, type ReplayOptions, type ReplayResult, type TraceHeader, type TraceOp } from "./trace.js";

const CHUNK_BYTES = 1 << 16;

export interface TraceFileOptions extends ReplayOptions {
  /** Called after each chunk with the bytes read so far and the file's size (for a progress bar). */
  onRead?: (bytes: number, fileBytes: number) => void;
}

function cannotRead(file: string, error: unknown): TraceError {
  return new TraceError(file, 0, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
}

/**
 * The lines of `file` in order, without line breaks, a chunk's worth at a time. A line
 * longer than TRACE_LINE_MAX is handed over as soon as it is known to be (the parser
 * rejects it), so a file with no line breaks is never held whole.
 */
async function* fileLines(file: string, onRead?: TraceFileOptions["onRead"]): AsyncGenerator<string[]> {
  let handle: fs.promises.FileHandle;
  let fileBytes: number;
  try {
    handle = await fs.promises.open(file, "r");
    fileBytes = (await handle.stat()).size;
  } catch (error) { throw cannotRead(file, error); }
  // The stream closes the handle when it ends or is destroyed.
  const stream = handle.createReadStream({ encoding: "utf8", highWaterMark: CHUNK_BYTES });
  const chunks = stream[Symbol.asyncIterator]();
  let carry = "";
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try { next = await chunks.next(); } catch (error) { throw cannotRead(file, error); }
      if (next.done) break;
      const lines = (carry + next.value).split("\n");
      carry = lines.pop()!;
      if (carry.length > TRACE_LINE_MAX) { lines.push(carry); carry = ""; }
      onRead?.(stream.bytesRead, fileBytes);
      yield lines;
    }
    yield [carry];
  } finally { stream.destroy(); }
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
