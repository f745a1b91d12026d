// A recorded .rep trace read once: its profile (operations, peak live payload,
// ids, sizes), and its first N operations as a trace of their own. Cutting
// keeps the trace valid: every kept free or realloc refers to a kept
// allocation, and blocks live at the cut are simply never freed.
import fs from "node:fs";
import readline from "node:readline";

/** The figures of a run of operations (the whole trace, or its kept part). */
function newProfile() {
  return { ops: 0, mallocs: 0, frees: 0, reallocs: 0, ids: 0, peakLiveBytes: 0, peakLiveBlocks: 0, minSize: Infinity, maxSize: 0, live: new Map(), liveBytes: 0 };
}

function apply(p, kind, id, size, where) {
  if (kind === "a") {
    if (p.live.has(id)) throw new Error(`${where}: a ${id}: id ${id} is already live`);
    p.live.set(id, size);
    p.liveBytes += size;
    p.mallocs++;
    if (id + 1 > p.ids) p.ids = id + 1;
  } else {
    const old = p.live.get(id);
    if (old === undefined) throw new Error(`${where}: ${kind} of id ${id}, which is not live`);
    if (kind === "f") {
      p.live.delete(id);
      p.liveBytes -= old;
      p.frees++;
    } else {
      p.live.set(id, size);
      p.liveBytes += size - old;
      p.reallocs++;
    }
  }
  if (kind !== "f") {
    if (size < p.minSize) p.minSize = size;
    if (size > p.maxSize) p.maxSize = size;
  }
  p.ops++;
  if (p.liveBytes > p.peakLiveBytes) p.peakLiveBytes = p.liveBytes;
  if (p.live.size > p.peakLiveBlocks) p.peakLiveBlocks = p.live.size;
}

function finish(p) {
  const { live, ...figures } = p;
  return { ...figures, liveAtEnd: live.size, minSize: p.ops ? p.minSize : 0 };
}

/**
 * Read the trace in `file`; keep its first `maxOps` operations (all when the
 * trace is shorter). Returns { whole, kept, text }: the profiles of the whole
 * trace and of the kept part, and the kept part as .rep text with its header.
 */
export async function cutTrace(file, maxOps = Infinity) {
  const whole = newProfile();
  const kept = newProfile();
  const lines = [];
  let header = 0;
  let lineNumber = 0;
  const input = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const raw of input) {
    lineNumber++;
    const line = raw.trim();
    if (line === "") continue;
    if (header < 4) { header++; continue; }
    const [kind, idText, sizeText] = line.split(/\s+/);
    if (kind !== "a" && kind !== "f" && kind !== "r") throw new Error(`${file}:${lineNumber}: not a trace line: ${line}`);
    const id = Number(idText);
    const size = kind === "f" ? 0 : Number(sizeText);
    apply(whole, kind, id, size, `${file}:${lineNumber}`);
    if (kept.ops < maxOps) {
      apply(kept, kind, id, size, `${file}:${lineNumber}`);
      lines.push(line);
    }
  }
  if (header < 4) throw new Error(`${file}: no trace header (4 numbers)`);
  // The header: the peak live payload as the suggested heap size (readers ignore it), ids, operations, weight.
  const text = `${Math.min(kept.peakLiveBytes, 0xffffffff)}\n${kept.ids}\n${kept.ops}\n1\n${lines.join("\n")}\n`;
  return { whole: finish(whole), kept: finish(kept), text };
}
