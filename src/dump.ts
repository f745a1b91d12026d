// The heap as a listing, one line per block: the classic `view_chunk` dump.
//
//   address     layer        state   size     prev  flags  payload  fd          bk          name
//   0x00000e0c  medium       in-use  2048     -     U      2040     -           -           id 0
//
// Boundary-tag blocks show their header bits (U in use, P previous block
// free), the previous block's size when it is free (what the footer holds),
// and for free blocks their free-list links. Runs of free slab slots are
// folded into one line.

import type { Block, Heap } from "./heap.js";

const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
const num = (n: number) => n.toLocaleString("en-US");

export interface DumpOptions {
  /** First line (what was replayed). */
  title?: string;
}

export function formatDump(heap: Heap, options: DumpOptions = {}): string {
  const blocks = heap.walk();
  const stats = heap.stats();
  const e = heap.exports;
  const lines: string[] = [];
  lines.push(options.title ?? `wasm-malloc heap dump: ${heap.policy} fit, ${heap.build} build`);
  lines.push(`heap ${hex(e.heap_start() >>> 0)} .. ${hex(e.heap_top() >>> 0)} (${stats.pages} page${stats.pages === 1 ? "" : "s"} of memory), __heap_base ${hex(stats.heapBase)}`);
  lines.push("");
  const header = ["address", "layer", "state", "size", "prev", "flags", "payload", "fd", "bk", "name"];
  const rows: string[][] = [header];
  let previous: Block | null = null;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    if (b.layer === "slab" && b.state === "free") {
      // Fold a run of free slots.
      let j = i;
      while (j + 1 < blocks.length && blocks[j + 1].layer === "slab" && blocks[j + 1].state === "free" && blocks[j + 1].address === blocks[j].address + blocks[j].size) j++;
      const count = j - i + 1;
      rows.push([hex(b.address), "slab", "free", count > 1 ? `${b.size}×${count}` : `${b.size}`, "-", "", "-", "-", "-", ""]);
      previous = blocks[j];
      i = j;
      continue;
    }
    const medium = b.layer === "medium";
    const prevFree = medium && previous !== null && previous.layer === "medium" && previous.state === "free" && previous.address + previous.size === b.address;
    const flags = medium ? `${b.state === "in-use" ? "U" : "-"}${prevFree ? "P" : "-"}` : "";
    const free = medium && b.state === "free";
    rows.push([
      hex(b.address), b.layer, b.state, num(b.size), prevFree ? num(previous!.size) : "-", flags,
      b.state === "in-use" ? num(b.payload) : "-",
      free ? link(e.free_block_next(b.address) >>> 0) : "-",
      free ? link(e.free_block_prev(b.address) >>> 0) : "-",
      b.name ?? "",
    ]);
    previous = b;
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) lines.push(r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ").trimEnd());
  lines.push("");
  const used = blocks.filter((b) => b.state === "in-use");
  const requested = used.reduce((s, b) => s + b.payload, 0);
  const freeSlots = blocks.filter((b) => b.state === "free" && b.layer === "slab").length;
  const freeBlocks = blocks.filter((b) => b.state === "free").length - freeSlots;
  lines.push(
    `summary: ${used.length} blocks in use (${num(requested)} bytes asked, ${num(stats.inUse)} usable), ` +
    `${freeBlocks} free blocks and runs and ${freeSlots} free slab slots (${num(stats.free)} bytes), metadata ${num(stats.metadata)} bytes, ` +
    `fragmentation ${(stats.fragmentation * 100).toFixed(1)}%, utilization ${(stats.utilization * 100).toFixed(1)}%`,
  );
  return lines.join("\n") + "\n";
}

function link(address: number): string {
  return address === 0 ? "0" : `0x${address.toString(16)}`;
}
