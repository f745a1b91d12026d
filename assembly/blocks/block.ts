// Boundary-tag blocks: the memory of the medium layer.
//
// ╒══════════ Block header word (at B, B ≡ 12 mod 16) ══════════╕
//    3                                       0
//    1 ──────────────────────────── 4  3  2  1  0   bits
//   ┌───────────────────────────────┬──┬──┬──┬──┐
//   │ size (bytes, a multiple of 16)│ M│ Q│ P│ U│
//   └───────────────────────────────┴──┴──┴──┴──┘
//     U  TAG_IN_USE     the block is allocated (or held on a quick list)
//     P  TAG_PREV_FREE  the block just before this one is free
//     Q  TAG_QUICK      freed, held on a quick list (U stays set: see quick.ts)
//     M  TAG_MARK       scratch bit of the heap checker, 0 between calls
// ╘═════════════════════════════════════════════════════════════╛
//
//   in use:  ┌────────┬───────────────────────────────────┐
//            │ header │ payload (16-aligned, size-4 bytes) │
//            └────────┴───────────────────────────────────┘
//            B        B+4                                  B+size
//
//   free:    ┌────────┬──────┬──────┬─────────┬────────┐
//            │ header │ next │ prev │  ...    │ footer │  footer = size
//            └────────┴──────┴──────┴─────────┴────────┘
//            B        B+4    B+8              B+size-4
//
// A footer exists only in free blocks: the block after a free one reads it
// (through its P bit) to find where the free block starts, so in-use blocks
// pay 4 bytes of overhead and no more.
//
// ╒══════════ Segment: a run of pages holding blocks ══════════╕
//   S (page aligned, or just after the heap state for segment 0)
//   ┌──────────┬─────────┬─────────┬─ ─ ─┬──────────┐
//   │ prologue │ block   │ block   │ ... │ epilogue │   epilogue: size 0, U set
//   │ 12 bytes │         │         │     │ 4 bytes  │
//   └──────────┴─────────┴─────────┴─ ─ ─┴──────────┘
//   S          S+12                      end-4      end (page aligned)
// ╘═════════════════════════════════════════════════════════════╛
// Contiguous PAGE_HEAP pages always form one segment: a segment that gains
// pages next to another one merges with it.
//
// Invariants (checked by heapCheck):
//   - sizes are multiples of 16, at least MIN_BLOCK, and tile the segment
//     exactly up to the epilogue;
//   - P of every block equals "the previous block is free";
//   - no two adjacent blocks are free (coalescing is immediate);
//   - a free block's footer equals its size.

import { BLOCK_HEADER, MIN_BLOCK, TAG_IN_USE, TAG_PREV_FREE, TAG_MASK, ALIGN_MASK } from "../base/constants";

@inline export function header(block: usize): u32 { return load<u32>(block); }
@inline export function blockSize(block: usize): u32 { return load<u32>(block) & ~TAG_MASK; }
@inline export function isInUse(block: usize): bool { return (load<u32>(block) & TAG_IN_USE) != 0; }
@inline export function isPrevFree(block: usize): bool { return (load<u32>(block) & TAG_PREV_FREE) != 0; }
@inline export function setHeader(block: usize, value: u32): void { store<u32>(block, value); }
@inline export function setFooter(block: usize, size: u32): void { store<u32>(block + size - 4, size); }
@inline export function nextBlock(block: usize): usize { return block + blockSize(block); }
/** The free block before `block` (valid only when `block` has TAG_PREV_FREE). */
@inline export function prevFreeBlock(block: usize): usize { return block - load<u32>(block - 4); }
@inline export function payloadOf(block: usize): usize { return block + BLOCK_HEADER; }
@inline export function blockOf(payload: usize): usize { return payload - BLOCK_HEADER; }
/** Usable bytes of an in-use block. */
@inline export function usableOf(block: usize): u32 { return blockSize(block) - BLOCK_HEADER; }

@inline export function setPrevFree(block: usize): void { store<u32>(block, load<u32>(block) | TAG_PREV_FREE); }
@inline export function clearPrevFree(block: usize): void { store<u32>(block, load<u32>(block) & ~TAG_PREV_FREE); }

// Free-list links live in the first payload words of a free block.
@inline export function linkNext(block: usize): usize { return load<u32>(block, 4); }
@inline export function linkPrev(block: usize): usize { return load<u32>(block, 8); }
@inline export function setLinkNext(block: usize, to: usize): void { store<u32>(block, <u32>to, 4); }
@inline export function setLinkPrev(block: usize, to: usize): void { store<u32>(block, <u32>to, 8); }

/** Block size that serves a request of `size` bytes (header included, 16-aligned). */
@inline export function blockSizeFor(size: usize): u32 {
  let s = (<u32>size + BLOCK_HEADER + ALIGN_MASK) & ~ALIGN_MASK;
  return s < MIN_BLOCK ? MIN_BLOCK : s;
}
