// Kernel-style views of a heap as text: buddyinfo (free blocks per order, like
// /proc/buddyinfo) and slabinfo (per size class, like /proc/slabinfo).
//
//   zone buddy   16 B  32 B  64 B  …  32 KiB         zone pages  64 KiB  128 KiB  …
//   free            3     1     0  …       2         free             1        0  …
//
//   # name     <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : slabdata <active_slabs> <num_slabs>
//   size-48              120       1364        48         1364               1 : slabdata              1           1
//
// The data comes from Heap.buddyinfo() / Heap.slabinfo() (plain objects); this
// file only lays it out, so a browser view can lay out the same data its own way.

import type { BuddyInfo, SlabInfo } from "./heap.js";

/** 16 → "16 B", 2048 → "2 KiB", 65536 → "64 KiB", 2^20 → "1 MiB". */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

function aligned(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ").trimEnd());
}

/** buddyinfo as text: per zone, one line of block sizes and one of free counts. */
export function formatBuddyinfo(zones: BuddyInfo[]): string {
  const lines: string[] = [];
  for (const zone of zones) {
    if (zone.zone === "buddy") {
      lines.push("buddy engine: free blocks per order (a block of order k is 2^k bytes)");
    } else {
      lines.push("page layer: free page runs per order (order k: runs of 2^k to 2^(k+1)-1 pages)");
    }
    const orders = zone.free.length ? zone.free : [0];
    lines.push(...aligned([
      ["order", ...orders.map((_, i) => String(zone.minOrder + i))],
      [`zone ${zone.zone}`, ...orders.map((_, i) => sizeLabel(zone.unit * 2 ** i))],
      ["free", ...orders.map((n) => String(n))],
    ]));
    lines.push("");
  }
  return lines.join("\n");
}

/** slabinfo as text, in the column order of /proc/slabinfo (without tunables). */
export function formatSlabinfo(classes: SlabInfo[]): string {
  const rows = [["# name", "<active_objs>", "<num_objs>", "<objsize>", "<objperslab>", "<pagesperslab>", ":", "slabdata", "<active_slabs>", "<num_slabs>"]];
  for (const c of classes) {
    rows.push([c.name, String(c.activeObjects), String(c.totalObjects), String(c.objectSize), String(c.objectsPerSlab),
      String(c.pagesPerSlab), ":", "slabdata", String(c.activeSlabs), String(c.totalSlabs)]);
  }
  const lines = aligned(rows);
  if (classes.length === 0) lines.push("(no slab pages: no size class has reached its first slab, or this engine has no slabs)");
  return lines.join("\n") + "\n";
}
