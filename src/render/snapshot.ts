// The renderer's input: one moment of a heap as plain, JSON-ready data.
//
// Plain data, not a Heap, so the same picture can be drawn from a live heap, from a
// saved JSON file, or step by step in a browser replaying a trace.

import type { Block, HeapStats } from "../heap.js";

/** What a 64 KiB page holds, by the module's page map (PAGE_NONE … PAGE_META). */
export type PageKind = "none" | "free" | "heap" | "slab" | "large" | "large-tail" | "meta";

export interface HeapSnapshot {
  /** Placement policy, e.g. "segregated". */
  policy: string;
  /** Address of the heap state: the first byte the heap uses. */
  heapStart: number;
  /** End of the heap's memory (page aligned). */
  top: number;
  /** 65536 for Wasm. */
  pageSize: number;
  /** Every block, in address order; `name` is a label given with Heap.name(). */
  blocks: (Block & { name?: string })[];
  /** Non-empty free lists of the boundary-tag layer, each in list order. */
  freeLists: { index: number; blocks: { address: number; size: number }[] }[];
  /** One entry per page, from heapStart's page up to top. */
  pageMap: { page: number; kind: PageKind }[];
  stats: HeapStats;
  title?: string;
  /** Operation number shown, when stepping through a trace. */
  step?: number;
}

/** The most pages a picture is drawn of: wasm32's 4 GiB of memory. */
const MAX_PAGES = 65536;

/**
 * Throw a RangeError naming the first thing in `snapshot` that would not draw as a bounded
 * picture: a page size that is not a positive whole number, a top below the start or more than
 * 4 GiB of pages after it, a block that is not inside [heapStart, top). The drawing loops over
 * pages and over the pages each block crosses, so these bounds are what keep it finite.
 * Heap.snapshot() always passes; a saved or hand-made snapshot may not.
 */
export function checkSnapshot(snapshot: HeapSnapshot): void {
  const { pageSize, heapStart, top, blocks } = snapshot;
  const whole = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  if (!whole(pageSize) || pageSize === 0) throw new RangeError(`snapshot pageSize ${pageSize} is not a positive whole number of bytes (Wasm pages are 65536)`);
  if (!whole(heapStart) || !whole(top) || top < heapStart || (top - heapStart) / pageSize > MAX_PAGES) {
    throw new RangeError(`snapshot heap [${heapStart}, ${top}) is not a range of at most ${MAX_PAGES} pages: heapStart and top must be byte addresses, top at or above heapStart`);
  }
  for (const b of blocks) {
    if (!whole(b.address) || !whole(b.size) || b.address < heapStart || b.address + b.size > top) {
      throw new RangeError(`snapshot block at ${b.address} (${b.size} bytes) is not inside the heap [${heapStart}, ${top}); take snapshots with Heap.snapshot()`);
    }
  }
}
