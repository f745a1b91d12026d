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
// The threads build keeps each page's owner in the same byte: a boundary-tag
// or slab page belongs to one thread's heap, whose index (1 … MAX_HEAPS) is
// the entry's top five bits; every other kind is shared and has none.
//
//   entry bits:  7 … 3  owner (threads build; 0 elsewhere)   2 … 0  kind
//
// Invariants (checked by heapCheck):
//   - every page in [basePage, top) has a kind other than NONE, except pages
//     someone else grew between our growths (NONE: foreign);
//   - every entry at or past top is NONE.

import { PAGE_NONE, PAGE_HEAP, PAGE_SLAB, THREADS } from "../base/constants";
import { shared, heap, S_PAGE_MAP, S_PAGE_MAP_CAP, S_BASE_PAGE, H_INDEX } from "../base/state";

/** Where a page's owner lies in its entry (threads build). */
export const OWNER_SHIFT: u32 = 3;
const KIND_MASK: u8 = 7;

/** A page's whole entry: its kind, and in the threads build its owner's index above it. */
@inline export function pageEntry(page: u32): u8 {
  let index = page - load<u32>(shared(), S_BASE_PAGE);
  // Pages below the base wrap to huge indices and fail the bound too.
  if (index >= load<u32>(shared(), S_PAGE_MAP_CAP)) return PAGE_NONE;
  return load<u8>(load<u32>(shared(), S_PAGE_MAP) + index);
}

@inline export function pageKind(page: u32): u8 {
  return THREADS ? pageEntry(page) & KIND_MASK : pageEntry(page);
}

/** The index of the heap owning `page` (threads build; 0 for a shared page, and in every other build). */
@inline export function pageOwner(page: u32): u32 { return THREADS ? <u32>pageEntry(page) >> OWNER_SHIFT : 0; }

/** The entry `kind` gets when this heap takes a page: its own index on its own kinds. */
@inline export function entryFor(kind: u8): u8 {
  if (!THREADS || (kind != PAGE_HEAP && kind != PAGE_SLAB)) return kind;
  return kind | <u8>(load<u32>(heap, H_INDEX) << OWNER_SHIFT);
}

/**
 * This heap's owner bits (threads build; 0 elsewhere): an entry xor them is
 * the bare kind exactly for this heap's pages and the shared ones, so one
 * load of the index serves several kind tests.
 */
@inline export function ownerBits(): u8 { return THREADS ? <u8>(load<u32>(heap, H_INDEX) << OWNER_SHIFT) : 0; }

/** Is `page` of `kind` and, in the threads build, this heap's (for HEAP and SLAB)? */
@inline export function pageIsMine(page: u32, kind: u8): bool { return pageEntry(page) == entryFor(kind); }

@inline export function setPageKinds(page: u32, count: u32, kind: u8): void {
  let index = page - load<u32>(shared(), S_BASE_PAGE);
  memory.fill(load<u32>(shared(), S_PAGE_MAP) + index, entryFor(kind), count);
}

@inline export function setPageKind(page: u32, kind: u8): void {
  let index = page - load<u32>(shared(), S_BASE_PAGE);
  store<u8>(load<u32>(shared(), S_PAGE_MAP) + index, entryFor(kind));
}

/** Entries the map can hold. */
@inline export function pageMapCapacity(): u32 { return load<u32>(shared(), S_PAGE_MAP_CAP); }
