// The threads build's start map, as pages: one META page of bits for each
// 8 MiB of memory, listed in the shared part's directory (S_START_BITS) by
// address >> 23. The page layer makes a region's page when memory first
// grows into it (pages.ts), under its lock, so every boundary-tag page below
// the top has its bits; pages are never moved or freed, so a heap reads and
// changes bits without a lock (blocks/starts.ts says what the bits mean).

import { PAGE_SIZE } from "../base/constants";
import { shared, S_START_BITS } from "../base/state";

/** Bits of memory one META page of start bits covers: 8 MiB. */
export const START_REGION_BITS: u32 = 23;

/** The META page holding the start bits of `payload`'s 8 MiB, 0 if none yet. */
@inline export function startRegionPage(payload: usize): usize {
  return load<u32>(shared() + S_START_BITS + ((payload >>> START_REGION_BITS) << 2));
}

/** The page of region `region`'s bits, 0 if none yet. */
@inline export function startRegion(region: u32): usize { return load<u32>(shared() + S_START_BITS + (region << 2)); }

/** Make `page` (a META page, under the page lock) region `region`'s bits, all clear. */
export function startRegionSet(region: u32, page: usize): void {
  memory.fill(page, 0, PAGE_SIZE);
  atomic.store<u32>(shared() + S_START_BITS + (region << 2), <u32>page);
}
