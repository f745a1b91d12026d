// Built-in workloads: traces the CLI can run with no files at hand.

import type { Trace, TraceOp } from "./trace.js";

/**
 * A small heap that shows every layer when replayed with eager slabs (the CLI
 * does so for it): slab slots, boundary-tag blocks free and in use, a large run.
 */
export function exampleTrace(): Trace {
  const lines: [TraceOp["kind"], number, number][] = [
    ["a", 0, 40], ["a", 1, 1000], ["a", 2, 3000], ["a", 3, 200], ["a", 4, 24],
    ["a", 5, 6000], ["a", 6, 300000], ["a", 7, 500], ["f", 1, 0], ["f", 3, 0],
    ["r", 2, 4000], ["a", 8, 700], ["f", 5, 0], ["a", 9, 48],
  ];
  return fromOps("example", lines);
}

/** A seeded churn of mixed sizes (deterministic), for comparing policies. */
export function churnTrace(ops = 20000, seed = 42): Trace {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const size = () => {
    const r = random();
    if (r < 0.5) return 8 + Math.floor(random() * 248);
    if (r < 0.9) return 256 + Math.floor(random() * 8000);
    return 8192 + Math.floor(random() * 120000);
  };
  const lines: [TraceOp["kind"], number, number][] = [];
  const live: number[] = [];
  let next = 0;
  while (lines.length < ops - live.length) {
    if (live.length > 0 && random() < (live.length > 400 ? 0.6 : 0.35)) {
      const at = Math.floor(random() * live.length);
      const id = live[at];
      if (random() < 0.25) lines.push(["r", id, size()]);
      else { lines.push(["f", id, 0]); live.splice(at, 1); }
    } else {
      lines.push(["a", next, size()]);
      live.push(next++);
    }
  }
  for (const id of live) lines.push(["f", id, 0]);
  return fromOps("churn", lines);
}

function fromOps(file: string, lines: [TraceOp["kind"], number, number][]): Trace {
  const ids = new Set(lines.map((l) => l[1]));
  return {
    file, suggestedHeapSize: 0, ids: ids.size, weight: 1,
    ops: lines.map(([kind, id, size], i) => ({ kind, id, size, line: i + 5 })),
  };
}

/** The trace as .rep text. */
export function formatTrace(trace: Trace): string {
  const body = trace.ops.map((op) => (op.kind === "f" ? `f ${op.id}` : `${op.kind} ${op.id} ${op.size}`)).join("\n");
  return `${trace.suggestedHeapSize}\n${trace.ids}\n${trace.ops.length}\n${trace.weight}\n${body}\n`;
}
