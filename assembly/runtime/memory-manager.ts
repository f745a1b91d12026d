// The memory manager of the wasm-malloc AssemblyScript runtime (see incremental.ts).
//
// AssemblyScript's own runtime is TLSF (memory) + ITCMS (the incremental
// garbage collector). This runtime keeps ITCMS as it is, imported from the
// standard library, and replaces TLSF: `__alloc`, `__realloc` and `__free`
// call wasm-malloc, which lives in another module over the same memory. The
// host links the two (wasm-malloc's `linkAllocator`); build the program with
// `--importMemory`. The program's managed objects (strings, arrays, maps,
// class instances) and its raw `heap.alloc` blocks are then wasm-malloc
// blocks: walk, stats, check and the trace log of the host see them all.
//
// ╒═══ A block as ITCMS sees it, and as wasm-malloc holds it ═══╕
//
//   raw (from malloc, 16-aligned)                    ptr = raw + 16
//   │                                                │
//   ▼                                                ▼
//   ├──────────── 12 bytes, unused ────────┬─ mmInfo ┼──── payload: capacity bytes ────┤
//   │                                      │  u32    │ (GC header + object, or raw)    │
//   raw                                    raw+12    raw+16
//
//   mmInfo = capacity: the request rounded up to 16; the low 2 bits are 0.
// ╘═════════════════════════════════════════════════════════════╛
//
// Why a header of our own. ITCMS reads the word at ptr - 4 (BLOCK_OVERHEAD)
// as TLSF's mmInfo: `mmInfo & ~3` must be the payload capacity at ptr (it
// sizes the object for its accounting and lets `__renew` grow in place up to
// it). wasm-malloc has no such word that would do: a boundary-tag block's
// header at ptr - 4 holds the block size *including* the 4-byte header (so the
// capacity would be overstated by 4 and `__renew` would write over the next
// block's header), slab slots have no header at all (ptr - 4 is the end of the
// previous slot), and a large run's header is 16 bytes with other fields.
// Forcing every object through the boundary-tag layer would still overstate,
// would give up the slabs (the fast path for the small objects a GC makes most
// of), and would tie this file to the allocator's internal layout. So the
// runtime asks for 16 bytes more and writes its own word; 16 and not 4, to
// keep the payload 16-aligned as TLSF does (v128, and AssemblyScript's object
// data at ptr + 16). Cost: 16 bytes per object; the allocator's own
// overhead (4 bytes in a boundary-tag block, none in a slab slot) is on top.
//
// Zeroing. Under a custom runtime the compiler assumes the incremental
// runtime's contract: `__new` and `__renew` hand out zeroed memory, so Array,
// ArrayBuffer and StaticArray skip their own memory.fill. ITCMS's `__new`
// zeroes the `size` bytes it asked for; `__renew` grows in place when the new
// size fits the capacity, exposing bytes past the old size. wasm-malloc reuses
// freed memory without clearing it, so `__alloc` zeroes the rounding tail
// [size, capacity) here: every byte a later in-place growth can expose starts
// at zero, as it would with a fresh TLSF block.
//
// Static objects (below __heap_base, in the program's data segments) are never
// freed; reallocating one copies it into a new block, as TLSF does.
//
// Out of memory: `abort`, like TLSF (which traps). Misuse (a double free of a
// raw block) is reported by wasm-malloc to the host, which throws by default.

import { BLOCK_MAXSIZE } from "~lib/rt/common";
import { E_ALLOCATION_TOO_LARGE } from "~lib/util/error";

@external("env", "wasm_malloc")
declare function wasm_malloc(size: usize): usize;
@external("env", "wasm_realloc")
declare function wasm_realloc(ptr: usize, size: usize): usize;
@external("env", "wasm_free")
declare function wasm_free(ptr: usize): void;

/** Tells wasm-malloc/assembly (assembly/malloc.ts) to call the linked allocator too. */
// @ts-ignore: decorator
@global export const WASM_MALLOC_LINKED_RUNTIME: bool = true;

/** Bytes in front of every payload: 12 unused + the 4-byte mmInfo word. */
// @ts-ignore: decorator
@inline const HEADER: usize = 16;
// @ts-ignore: decorator
@inline const CAPACITY_MASK: usize = 15;

// @ts-ignore: decorator
@inline function capacityFor(size: usize): usize {
  if (size > BLOCK_MAXSIZE) throw new Error(E_ALLOCATION_TOO_LARGE);
  return (size + CAPACITY_MASK) & ~CAPACITY_MASK;
}

/** A block of `size` bytes from wasm-malloc, its mmInfo set and its rounding tail zeroed. */
// @ts-ignore: decorator
@global @unsafe
export function __alloc(size: usize): usize {
  let capacity = capacityFor(size);
  let raw = wasm_malloc(HEADER + capacity);
  if (raw == 0) abort("wasm-malloc: out of memory");
  let ptr = raw + HEADER;
  store<u32>(ptr - 4, <u32>capacity);
  memory.fill(ptr + size, 0, capacity - size);
  return ptr;
}

/** Resize a block (in place when wasm-malloc can); the contents up to the smaller size are kept. */
// @ts-ignore: decorator
@global @unsafe
export function __realloc(ptr: usize, size: usize): usize {
  let capacity = capacityFor(size);
  if (ptr < __heap_base) {
    // A static object: copy it out of the data segment.
    let moved = __alloc(size);
    memory.copy(moved, ptr, min<usize>(size, load<u32>(ptr - 4) & ~3));
    return moved;
  }
  let raw = wasm_realloc(ptr - HEADER, HEADER + capacity);
  if (raw == 0) abort("wasm-malloc: out of memory");
  let moved = raw + HEADER;
  store<u32>(moved - 4, <u32>capacity);
  memory.fill(moved + size, 0, capacity - size);
  return moved;
}

/** Give a block back to wasm-malloc (static objects are never freed). */
// @ts-ignore: decorator
@global @unsafe
export function __free(ptr: usize): void {
  if (ptr < __heap_base) return;
  wasm_free(ptr - HEADER);
}
