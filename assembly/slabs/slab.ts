// Size-class slabs: small objects in pages of one size each.
//
// Sizes up to SLAB_MAX map to 12 classes; a class owns whole pages, each cut
// into equal slots, so a slot costs no header at all and malloc/free are O(1):
//
//   class:  0   1   2   3   4   5    6    7    8    9    10   11
//   size:   16  32  48  64  80  96   112  128  160  192  224  256
//
// ╒═══════════════ Slab page (one 64 KiB page, at P) ═══════════════╕
//   P+0   u32  SLAB_MAGIC | class
//   P+4   u32  inUse        slots allocated
//   P+8   u32  freeList     first freed slot (its first word links on), 0 = none
//   P+12  u32  bump         slots below this index have been handed out once
//   P+16  u32  next         next page of the class with a free slot
//   P+20  u32  prev
//   P+24  u32  objSize
//   P+28  u32  firstOffset  where slot 0 starts (16-aligned)
//   P+32  u32  capacity     slots in the page
//   P+36  u32  reciprocal   ceil(2^32 / objSize): slot index without a division
//   P+40  u32  (scratch mark of the heap checker, 0 between calls)
//   P+48  u32  bitmap[]     one bit per slot, set = allocated (out of band:
//                           double free is caught in O(1), and a slot's free-list
//                           link is trusted only if its bit says free)
//   P+firstOffset          slot 0, slot 1, ... slot capacity-1
// ╘══════════════════════════════════════════════════════════════════╛
// Bitmap words are cleared lazily as `bump` reaches them, so taking a page
// costs O(1) whatever the class.
//
// Pages with a free slot are on their class's list. A page that empties goes
// back to the page layer, unless it is the class's last page with room (kept
// to avoid taking and returning a page on every malloc/free pair); the page
// layer reclaims such kept pages before it grows memory, and at the memory
// limit (reclaim.ts).
//
// Invariants (checked by heapCheck):
//   - header magic and class agree with objSize/capacity of the class;
//   - inUse == number of set bits below bump; bump <= capacity;
//   - the free list holds exactly bump - inUse slots, each on a slot boundary
//     below bump with its bit clear, no slot twice;
//   - a page is on its class list exactly when inUse < capacity.

import { PAGE_SIZE, PAGE_BITS, PAGE_SLAB, SLAB_CLASSES, SLAB_MAX } from "../base/constants";
import { heap, H_SLAB_CLASSES, H_CLASS_PAGES } from "../base/state";
import { setPageKind } from "../pages/pagemap";
import { pagesAlloc, pagesRelease } from "../pages/pages";
import { notice, ERR_USE_AFTER_FREE, REASON_NONE, OP_MALLOC } from "../base/report";

export const SLAB_MAGIC: u32 = 0x534C4100; // "SLA" + class
export const SLAB_HEADER: u32 = 48;

@inline export function slabClassOf(size: usize): u32 {
  if (size <= 128) return size == 0 ? 0 : (<u32>size - 1) >> 4;
  return 8 + ((<u32>size - 129) >> 5);
}

@inline export function slabClassSize(cls: u32): u32 {
  return cls < 8 ? (cls + 1) << 4 : 128 + ((cls - 7) << 5);
}

@inline function classAt(cls: u32): usize { return heap + H_SLAB_CLASSES + (cls << 4); }
@inline export function classPartial(cls: u32): usize { return load<u32>(classAt(cls)); }
/** Slab pages class `cls` holds (0: its sizes go to the boundary-tag layer for now). */
@inline export function classPages(cls: u32): u32 { return load<u32>(heap + H_CLASS_PAGES + (cls << 2)); }
@inline function addClassPages(cls: u32, delta: i32): void {
  let at = heap + H_CLASS_PAGES + (cls << 2);
  store<u32>(at, load<u32>(at) + delta);
}

/** Fill in the class table (objSize, capacity, reciprocal, first offset). */
export function slabInit(): void {
  for (let cls: u32 = 0; cls < SLAB_CLASSES; cls++) {
    let size = slabClassSize(cls);
    let capacity = (PAGE_SIZE - SLAB_HEADER) / size;
    while (firstOffsetFor(capacity) + capacity * size > PAGE_SIZE) capacity--;
    let at = classAt(cls);
    store<u32>(at, 0);
    store<u32>(at, size, 4);
    store<u32>(at, capacity, 8);
    store<u32>(at, <u32>(((<u64>1 << 32) + size - 1) / size), 12);
  }
}

@inline function firstOffsetFor(capacity: u32): u32 {
  return (SLAB_HEADER + (((capacity + 31) >> 5) << 2) + 15) & ~15;
}

// Page header fields
@inline export function slabInUse(page: usize): u32 { return load<u32>(page, 4); }
@inline export function slabFreeList(page: usize): usize { return load<u32>(page, 8); }
@inline export function slabBump(page: usize): u32 { return load<u32>(page, 12); }
@inline export function slabNext(page: usize): usize { return load<u32>(page, 16); }
@inline export function slabObjSize(page: usize): u32 { return load<u32>(page, 24); }
@inline export function slabFirst(page: usize): u32 { return load<u32>(page, 28); }
@inline export function slabCapacity(page: usize): u32 { return load<u32>(page, 32); }
@inline export function slabClass(page: usize): u32 { return load<u32>(page) & 0xFF; }
@inline export function slabMagicOk(page: usize): bool { return (load<u32>(page) & ~0xFF) == SLAB_MAGIC; }

/** Slot index of `ptr` (offset from slot 0 must be below 64 KiB). */
@inline export function slabIndex(page: usize, offset: u32): u32 {
  return <u32>((<u64>offset * <u64>load<u32>(page, 36)) >> 32);
}
@inline export function slabBit(page: usize, index: u32): bool {
  return ((load<u32>(page + SLAB_HEADER + ((index >> 5) << 2)) >> (index & 31)) & 1) != 0;
}
@inline function flipBit(page: usize, index: u32): void {
  let at = page + SLAB_HEADER + ((index >> 5) << 2);
  store<u32>(at, load<u32>(at) ^ (1 << (index & 31)));
}

function linkPage(cls: u32, page: usize): void {
  let at = classAt(cls);
  let head: usize = load<u32>(at);
  store<u32>(page, <u32>head, 16);
  store<u32>(page, 0, 20);
  if (head) store<u32>(head, <u32>page, 20);
  store<u32>(at, <u32>page);
}

function unlinkPage(cls: u32, page: usize): void {
  let next: usize = load<u32>(page, 16);
  let prev: usize = load<u32>(page, 20);
  if (next) store<u32>(next, <u32>prev, 20);
  if (prev) store<u32>(prev, <u32>next, 16);
  else store<u32>(classAt(cls), <u32>next);
}

function newPage(cls: u32): usize {
  let page = pagesAlloc(1);
  if (page == 0) return 0;
  setPageKind(<u32>(page >>> PAGE_BITS), PAGE_SLAB);
  let at = classAt(cls);
  store<u32>(page, SLAB_MAGIC | cls);
  store<u32>(page, 0, 4);
  store<u32>(page, 0, 8);
  store<u32>(page, 0, 12);
  store<u32>(page, load<u32>(at, 4), 24);
  store<u32>(page, firstOffsetFor(load<u32>(at, 8)), 28);
  store<u32>(page, load<u32>(at, 8), 32);
  store<u32>(page, load<u32>(at, 12), 36);
  // The checker's mark starts clear: the page may have been anything before
  // (a boundary-tag segment's, with a program's data in it).
  store<u32>(page, 0, 40);
  linkPage(cls, page);
  addClassPages(cls, 1);
  return page;
}

/** A slot of class `cls`, or 0 when no page can be had. */
export function slabAlloc(cls: u32): usize {
  let page: usize = load<u32>(classAt(cls));
  if (page == 0) {
    page = newPage(cls);
    if (page == 0) return 0;
  }
  return slabTake(page, cls);
}

/** Take a slot from `page`, a page of class `cls` with room (the malloc fast path). */
@inline export function slabTake(page: usize, cls: u32): usize {
  let slot: usize = load<u32>(page, 8);
  let index: u32;
  let first = page + slabFirst(page);
  let size = slabObjSize(page);
  if (slot != 0) {
    index = slabIndex(page, <u32>(slot - first));
    let next: usize = load<u32>(slot);
    // The link sits in freed memory: trust it only if it names a free slot
    // other than this one (a link to itself would hand the slot out twice).
    if (next != 0 && (next == slot || !linkValid(page, next, first, size))) next = linkCorrupted(page, slot, size);
    store<u32>(page, <u32>next, 8);
  } else {
    index = slabBump(page);
    store<u32>(page, index + 1, 12);
    if ((index & 31) == 0) store<u32>(page + SLAB_HEADER + ((index >> 5) << 2), 0);
    slot = first + index * size;
  }
  flipBit(page, index);
  let inUse = slabInUse(page) + 1;
  store<u32>(page, inUse, 4);
  if (inUse == slabCapacity(page)) unlinkPage(cls, page);
  return slot;
}

/** A freed slot's link was overwritten: report it, and rebuild the list from the bitmap. */
function linkCorrupted(page: usize, slot: usize, size: u32): usize {
  // The malloc goes on with `slot`, which is sound: the damage is noticed, not a rejection.
  notice(ERR_USE_AFTER_FREE, REASON_NONE, OP_MALLOC, slot, slot, size);
  return rebuildFreeList(page, slot);
}

@inline function linkValid(page: usize, next: usize, first: usize, size: u32): bool {
  let offset = next - first;
  if (offset >= <usize>(slabBump(page) * size)) return false;
  let index = slabIndex(page, <u32>offset);
  return index * size == <u32>offset && !slabBit(page, index);
}

/** Rebuild a page's free list from its bitmap (after a corrupted link); `skip` is being taken. */
function rebuildFreeList(page: usize, skip: usize): usize {
  let first = page + slabFirst(page);
  let size = slabObjSize(page);
  let bump = slabBump(page);
  let head: usize = 0;
  for (let i = bump; i > 0; i--) {
    let slot = first + (i - 1) * size;
    if (!slabBit(page, i - 1) && slot != skip) { store<u32>(slot, <u32>head); head = slot; }
  }
  return head;
}

/** Free a validated slot of `page`. */
@inline export function slabFree(page: usize, slot: usize, index: u32): void {
  flipBit(page, index);
  store<u32>(slot, load<u32>(page, 8));
  store<u32>(page, <u32>slot, 8);
  let cls = slabClass(page);
  let inUse = slabInUse(page) - 1;
  store<u32>(page, inUse, 4);
  if (inUse == slabCapacity(page) - 1) linkPage(cls, page);
  if (inUse == 0) pageEmptied(cls, page);
}

/** Keep the class's only page with room; give back any other. */
function pageEmptied(cls: u32, page: usize): void {
  let head: usize = load<u32>(classAt(cls));
  if (head != page || slabNext(page) != 0) {
    unlinkPage(cls, page);
    pagesRelease(page, 1);
    addClassPages(cls, -1);
  }
}

/**
 * Give back the empty page each class kept, if it is first on the class's
 * list; true if any. Called before growing memory: O(classes).
 */
export function slabReclaimEmpty(): bool {
  let any = false;
  for (let cls: u32 = 0; cls < SLAB_CLASSES; cls++) {
    let page: usize = load<u32>(classAt(cls));
    if (page != 0 && slabInUse(page) == 0) {
      releaseEmpty(cls, page);
      any = true;
    }
  }
  return any;
}

/**
 * Give back every empty page the classes hold; true if any. A class keeps at
 * most one (pageEmptied), but it stays first on the class's list only until
 * another page gains room, so at the memory limit the whole lists are walked.
 */
export function slabReclaimAllEmpty(): bool {
  let any = false;
  for (let cls: u32 = 0; cls < SLAB_CLASSES; cls++) {
    let page: usize = load<u32>(classAt(cls));
    while (page != 0) {
      let next = slabNext(page);
      if (slabInUse(page) == 0) {
        releaseEmpty(cls, page);
        any = true;
      }
      page = next;
    }
  }
  return any;
}

@inline function releaseEmpty(cls: u32, page: usize): void {
  unlinkPage(cls, page);
  pagesRelease(page, 1);
  addClassPages(cls, -1);
}

/** Usable size of slots of class `cls`. */
export { SLAB_MAX };
