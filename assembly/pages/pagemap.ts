// The page map: one byte per 64 KiB page saying which layer owns it.
//
// A pointer's page (`ptr >>> 16`) indexes the map, so `free` finds the owner
// of any address in O(1), and an address no layer owns is rejected, never
// followed. Entries are relative to the heap's base page.
//
//   page:   basePage   basePage+1   ...   top/64K - 1  |  top/64K ...
//   entry:  [ HEAP ]   [ SLAB ]     ...   [ FREE ]     |  NONE (not ours)
//
// The map starts inline in the heap state (512 entries: the first 32 MiB), so
// a small heap pays 512 bytes for it. When the heap passes 32 MiB the map moves
// to one META page, which holds an entry for every page of a 4 GiB memory.
// Metadata thus stays proportional to the memory in use. The META page is
// taken where the growth that needs it lands; at the memory limit it moves to
// the lowest free page when it parts the free pages a request needs
// (pages.ts, pageMapMoveFor), so an emptied heap is one run above it.
//
// Invariants (checked by heapCheck):
//   - every page in [basePage, top) has a kind other than NONE, except pages
//     someone else grew between our growths (NONE: foreign);
//   - every entry at or past top is NONE.

import { PAGE_NONE } from "../base/constants";
import { shared, heap, S_PAGE_MAP, S_PAGE_MAP_CAP, S_BASE_PAGE } from "../base/state";

@inline export function pageKind(page: u32): u8 {
  let index = page - load<u32>(shared(), S_BASE_PAGE);
  // Pages below the base wrap to huge indices and fail the bound too.
  if (index >= load<u32>(shared(), S_PAGE_MAP_CAP)) return PAGE_NONE;
  return load<u8>(load<u32>(shared(), S_PAGE_MAP) + index);
}

@inline export function setPageKinds(page: u32, count: u32, kind: u8): void {
  let index = page - load<u32>(shared(), S_BASE_PAGE);
  memory.fill(load<u32>(shared(), S_PAGE_MAP) + index, kind, count);
}

@inline export function setPageKind(page: u32, kind: u8): void {
  let index = page - load<u32>(shared(), S_BASE_PAGE);
  store<u8>(load<u32>(shared(), S_PAGE_MAP) + index, kind);
}

/** Entries the map can hold. */
@inline export function pageMapCapacity(): u32 { return load<u32>(shared(), S_PAGE_MAP_CAP); }
