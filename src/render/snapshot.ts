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
