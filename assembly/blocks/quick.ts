// Quick lists: freed boundary-tag blocks held for reuse at the same size.
//
// A program that frees a block and soon asks for the same size again (the
// commonest pattern there is: a node, a string, a page-sized buffer) should
// not pay for a coalesce on free and a split on malloc. So free() of a
// boundary-tag block of at most QUICK_MAX bytes may not coalesce it (under
// segregated fit with slabs on: quick lists belong with the slabs to the
// small-object machinery, and OPTION_NO_SLABS, which compares the policies on
// every size, turns both off): the block keeps its in-use bit, gains
// TAG_QUICK, and goes on a LIFO list of its exact size; malloc of that size
// takes it back in O(1). dlmalloc's fastbins, in effect, up to 4 KiB.
//
// Which blocks are held (api.ts, cFree): every block up to QUICK_ALWAYS_MAX;
// a larger one only if its size is common (the census of live blocks by size,
// medium.ts, counts at least QUICK_CENSUS_MIN) and neither neighbour is free,
// so that holding it delays no merge. (Held blocks next to free space cost s2
// and s5 about 2.5 points of utilization; held blocks of one-off sizes split
// random-bal's free space and made it 1.4x slower.)
//
// ╒══════════ A quick block (size s ≤ QUICK_MAX, at B) ══════════╕
//   B+0   u32  header: s | TAG_QUICK | TAG_IN_USE | P
//   B+4   u32  next block on the same quick list, 0 = none
// ╘═══════════════════════════════════════════════════════════════╛
//   list heads: quick[s / 16] in the heap state (H_QUICK), s = 16 … QUICK_MAX;
//   quickBytes (H_QUICK_BYTES): the bytes all lists hold.
//
// To its neighbours a quick block is in use, so nothing merges with it.
// That costs memory only if it is kept while memory grows: every quick block
// is released (coalesced as a normal free) before the heap grows, or when a
// search for a larger block fails (medium.ts, quickFlush: the boundary-tag
// layer takes the lists and frees their blocks; quickBytes makes an empty
// flush one load). Not before the reserve is carved: a program whose few
// live blocks come from the reserve would flush on every malloc of a size
// not held (s1: 8x slower), and over six seeds of s2 and s5 it saved nothing. It is not live: the counters and the
// small-block census dropped it when it was freed, a second free or a
// realloc of it is reported as a double free (api.ts), walks show it free.
//
// The link sits in freed memory, where a use-after-free write can reach it:
// a pop trusts the next link only if it names a held block of the same size
// (on a boundary-tag page, tagged, 12 mod 16); otherwise the misuse is
// reported and the lists are rebuilt from the start map (quickRescue).
//
// Invariants (checked by heapCheck):
//   - every block on list i has size 16·i and TAG_QUICK | TAG_IN_USE set;
//   - every block with TAG_QUICK is on exactly one quick list;
//   - quickBytes is the sum of the held blocks' sizes.

import { TAG_IN_USE, TAG_MASK, TAG_PREV_FREE, TAG_QUICK, QUICK_MAX, SMALL, THREADS, PAGE_BITS, PAGE_HEAP } from "../base/constants";
import { shared, heap, H_QUICK, H_QUICK_ON, H_QUICK_BYTES, S_BASE_PAGE, S_TOP } from "../base/state";
import { pageIsMine } from "../pages/pagemap";
import { notice, ERR_USE_AFTER_FREE, REASON_NONE, OP_MALLOC } from "../base/report";
import { startIsLive, startsNextSet } from "./starts";

/** Does free() hold small blocks on quick lists in this heap? */
@inline export function quickOn(): bool { return !SMALL && load<u32>(heap, H_QUICK_ON) != 0; }
/** Bytes held on the quick lists. */
@inline export function quickBytes(): u32 { return load<u32>(heap, H_QUICK_BYTES); }

@inline function headAt(size: u32): usize { return heap + H_QUICK + ((size >> 4) << 2); }

/** Hold free block `block` of `size` bytes (in use until now, size ≤ QUICK_MAX) on its quick list. */
@inline export function quickPush(block: usize, size: u32): void {
  let at = headAt(size);
  store<u32>(heap, quickBytes() + size, H_QUICK_BYTES);
  store<u32>(block, load<u32>(block) | TAG_QUICK);
  store<u32>(block, load<u32>(at), 4);
  store<u32>(at, <u32>block);
}

/** A held block of exactly `size` bytes (≤ QUICK_MAX), back in use; 0 if none. */
@inline export function quickPop(size: u32): usize {
  if (SMALL) return 0; // (quickOn is false: nothing is ever held)
  let at = headAt(size);
  let block: usize = load<u32>(at);
  if (block != 0) {
    // (Counted out first: a rescue recounts the lists without this block.)
    store<u32>(heap, quickBytes() - size, H_QUICK_BYTES);
    // Untagged first, so a link back to this block fails the check below.
    store<u32>(block, load<u32>(block) & ~TAG_QUICK);
    let next: usize = load<u32>(block, 4);
    if (next != 0 && !heldOfSize(next, size)) next = linkCorrupted(block, size);
    store<u32>(at, <u32>next);
  }
  return block;
}

/**
 * Is `block` a held block of `size` bytes? (A link read from freed memory.)
 * The start map (starts.ts) says whether a live or held block starts there,
 * so a forged header inside another block does not pass; its header then says
 * which of the two it is.
 */
@inline function heldOfSize(block: usize, size: u32): bool {
  // (A bit is set only at a boundary-tag block's payload, and the map ends
  // before anything past it is read: no page-map look-up is needed. Below the
  // heap the map would be read before its start.)
  // (The threads build's map holds every heap's blocks: this heap's pages only, anywhere in memory.)
  if (THREADS) {
    return (block & 15) == 12 && block > (<usize>load<u32>(shared(), S_BASE_PAGE) << PAGE_BITS) &&
      block < <usize>load<u32>(shared(), S_TOP) && pageIsMine(<u32>(block >>> PAGE_BITS), PAGE_HEAP) &&
      startIsLive(block + 4) && (load<u32>(block) & ~TAG_PREV_FREE) == (size | TAG_QUICK | TAG_IN_USE);
  }
  return (block & 15) == 12 && block > heap && startIsLive(block + 4) &&
    (load<u32>(block) & ~TAG_PREV_FREE) == (size | TAG_QUICK | TAG_IN_USE);
}

/**
 * The link after `block` (being taken) was overwritten: report it, and rebuild
 * every quick list from the blocks the segments hold tagged. Returns the new
 * head of `size`'s list.
 */
function linkCorrupted(block: usize, size: u32): usize {
  // The malloc goes on with `block`, which is sound: the damage is noticed, not a rejection.
  notice(ERR_USE_AFTER_FREE, REASON_NONE, OP_MALLOC, block + 4, block, size);
  quickRescue(); // (`block`, being taken, is untagged already: not listed again)
  return load<u32>(headAt(size));
}

/**
 * Empty the lists, then list again every held block: the start map (starts.ts)
 * has a bit at every live or held block, whatever the headers and links
 * around it say; its header says which it is.
 */
function quickRescue(): void {
  for (let size: u32 = 16; size <= QUICK_MAX; size += 16) store<u32>(headAt(size), 0);
  let bytes: u32 = 0;
  for (let payload = startsNextSet(0); payload != 0; payload = startsNextSet(payload + 16)) {
    if (THREADS && !pageIsMine(<u32>(payload >>> PAGE_BITS), PAGE_HEAP)) continue; // (another heap's)
    let block = payload - 4;
    let h = load<u32>(block);
    let size = h & ~TAG_MASK;
    if (isQuick(h) && size >= 16 && size <= QUICK_MAX) {
      let at = headAt(size);
      store<u32>(block, load<u32>(at), 4);
      store<u32>(at, <u32>block);
      bytes += size;
    }
  }
  store<u32>(heap, bytes, H_QUICK_BYTES);
}

/**
 * Before the held blocks are released (medium.ts, quickFlush): every link is
 * checked before a list is touched, since a link overwritten after free would
 * otherwise make a free block of foreign memory. A bad one is reported and
 * the lists are rebuilt (quickRescue).
 */
export function quickCheckLinks(): void {
  for (let size: u32 = 16; size <= QUICK_MAX; size += 16) {
    let block: usize = load<u32>(headAt(size));
    let bound = quickBytes() / size; // more links than held blocks: a cycle
    while (block != 0) {
      if (bound-- == 0 || !heldOfSize(block, size)) {
        notice(ERR_USE_AFTER_FREE, REASON_NONE, OP_MALLOC, block + 4, block, size);
        quickRescue();
        break;
      }
      block = load<u32>(block, 4);
    }
  }
}

/** Take the whole list of block size `size` (its links checked by quickCheckLinks): its first block, 0 if empty. */
@inline export function quickTakeList(size: u32): usize {
  let at = headAt(size);
  let block: usize = load<u32>(at);
  store<u32>(at, 0);
  return block;
}

/** Once every list is taken: no bytes held. */
@inline export function quickEmptied(): void { store<u32>(heap, 0, H_QUICK_BYTES); }

/** First block of the quick list for `size` (for the checker and inspection). */
export function quickHead(size: u32): usize { return load<u32>(headAt(size)); }
/** Is the block at `block` (a header that has TAG_IN_USE) held on a quick list? */
@inline export function isQuick(h: u32): bool { return (h & (TAG_QUICK | TAG_IN_USE)) == (TAG_QUICK | TAG_IN_USE); }
