// Size-class slabs: small objects in spans of one size each.
//
// Sizes up to SLAB_MAX map to 12 classes; a class owns whole spans, each cut
// into equal slots, so a slot costs no header at all and malloc/free are O(1):
//
//   class:  0   1   2   3   4   5    6    7    8    9    10   11
//   size:   16  32  48  64  80  96   112  128  160  192  224  256
//
// A span is SLAB_SPAN (16 KiB) aligned to its size, so a slot's span is its
// address with the low bits cleared. A slab page (kind SLAB in the page map)
// holds SPANS_PER_PAGE spans, each a slab of any class or free:
//
//   page P:  [ span 0 ][ span 1 ][ span 2 ][ span 3 ]     16 KiB each
//            the page's count of slab spans lives in span 0 (+44), slab or free
//
// ╒═══════════════ Slab span (16 KiB, at S) ═══════════════╕
//   S+0   u32  SLAB_MAGIC | class
//   S+4   u32  inUse        slots allocated
//   S+8   u32  freeList     first freed slot (its first word links on), 0 = none
//   S+12  u32  bump         slots below this index have been handed out once
//   S+16  u32  next         next span of the class with a free slot
//   S+20  u32  prev
//   S+24  u32  objSize
//   S+28  u32  firstOffset  where slot 0 starts (16-aligned)
//   S+32  u32  capacity     slots in the span
//   S+36  u32  reciprocal   ceil(2^32 / objSize): slot index without a division
//   S+40  u32  (scratch mark of the heap checker, 0 between calls)
//   S+44  u32  span 0 only: the page's spans that are slabs (1 … SPANS_PER_PAGE)
//   S+48  u32  bitmap[]     one bit per slot, set = allocated (out of band:
//                           double free is caught in O(1), and a slot's free-list
//                           link is trusted only if its bit says free)
//   S+firstOffset          slot 0, slot 1, ... slot capacity-1
// ╘═════════════════════════════════════════════════════════╛
// ╒═══════════════ Free span (at S) ═══════════════╕
//   S+0   u32  SPAN_FREE_MAGIC
//   S+16  u32  next         the heap's list of free spans (H_FREE_SPANS)
//   S+20  u32  prev
//   S+40  u32  (scratch mark of the heap checker)
//   S+44  u32  span 0 only: as above
// ╘════════════════════════════════════════════════╛
// Bitmap words are cleared lazily as `bump` reaches them, so taking a span
// costs O(1) whatever the class. In the threads build a thread freeing
// another heap's slot clears its bit to claim it (api/remote.ts), so bits
// change by atomic read-modify-writes there.
//
// Spans with a free slot are on their class's list. A span that empties goes
// back to the free spans, unless it is the class's last span with room (kept
// to avoid taking and returning a span on every malloc/free pair); the page
// goes back to the page layer when its last slab span does. The page layer
// reclaims the kept spans before it grows memory, and at the memory limit
// (reclaim.ts).
//
// Invariants (checked by heapCheck):
//   - header magic and class agree with objSize/capacity of the class;
//   - inUse == number of set bits below bump; bump <= capacity;
//   - the free list holds exactly bump - inUse slots, each on a slot boundary
//     below bump with its bit clear, no slot twice;
//   - a span is on its class list exactly when inUse < capacity;
//   - every span of a slab page is a slab or free; free spans are exactly
//     those on the free-span list; span 0's count is the page's slab spans,
//     at least 1.

import { PAGE_SIZE, PAGE_BITS, PAGE_SLAB, SLAB_CLASSES, SLAB_MAX, SLAB_SPAN, SPANS_PER_PAGE, THREADS } from "../base/constants";
import { pagesLock, pagesUnlock } from "../base/lock";
import { heap, H_SLAB_CLASSES, H_CLASS_PAGES, H_FREE_SPANS } from "../base/state";
import { setPageKind } from "../pages/pagemap";
import { pagesAlloc, pagesRelease } from "../pages/pages";
import { notice, ERR_USE_AFTER_FREE, REASON_NONE, OP_MALLOC } from "../base/report";

export const SLAB_MAGIC: u32 = 0x534C4100; // "SLA" + class
export const SPAN_FREE_MAGIC: u32 = 0x5350414E; // "SPAN"
export const SLAB_HEADER: u32 = 48;
/** Where span 0 keeps its page's count of slab spans. */
export const SPAN_PAGE_COUNT: u32 = 44;

@inline export function slabClassOf(size: usize): u32 {
  if (size <= 128) return size == 0 ? 0 : (<u32>size - 1) >> 4;
  return 8 + ((<u32>size - 129) >> 5);
}

@inline export function slabClassSize(cls: u32): u32 {
  return cls < 8 ? (cls + 1) << 4 : 128 + ((cls - 7) << 5);
}

/** The span holding `ptr`, an address on a slab page. */
@inline export function spanOf(ptr: usize): usize { return ptr & ~<usize>(SLAB_SPAN - 1); }

@inline function classAt(cls: u32): usize { return heap + H_SLAB_CLASSES + (cls << 4); }
@inline export function classPartial(cls: u32): usize { return load<u32>(classAt(cls)); }
/** Slab spans class `cls` holds (0: its sizes go to the boundary-tag layer for now). */
@inline export function classPages(cls: u32): u32 { return load<u32>(heap + H_CLASS_PAGES + (cls << 2)); }
@inline function addClassPages(cls: u32, delta: i32): void {
  let at = heap + H_CLASS_PAGES + (cls << 2);
  store<u32>(at, load<u32>(at) + delta);
}

/** Fill in the class table (objSize, capacity, reciprocal, first offset). */
export function slabInit(): void {
  for (let cls: u32 = 0; cls < SLAB_CLASSES; cls++) {
    let size = slabClassSize(cls);
    let capacity = (SLAB_SPAN - SLAB_HEADER) / size;
    while (firstOffsetFor(capacity) + capacity * size > SLAB_SPAN) capacity--;
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

// Span header fields
@inline export function slabInUse(span: usize): u32 { return load<u32>(span, 4); }
@inline export function slabFreeList(span: usize): usize { return load<u32>(span, 8); }
@inline export function slabBump(span: usize): u32 { return load<u32>(span, 12); }
@inline export function slabNext(span: usize): usize { return load<u32>(span, 16); }
@inline export function slabObjSize(span: usize): u32 { return load<u32>(span, 24); }
@inline export function slabFirst(span: usize): u32 { return load<u32>(span, 28); }
@inline export function slabCapacity(span: usize): u32 { return load<u32>(span, 32); }
@inline export function slabClass(span: usize): u32 { return load<u32>(span) & 0xFF; }
@inline export function slabMagicOk(span: usize): bool { return (load<u32>(span) & ~0xFF) == SLAB_MAGIC; }

/** Slot index of `ptr` (offset from slot 0 must be below 64 KiB). */
@inline export function slabIndex(span: usize, offset: u32): u32 {
  return <u32>((<u64>offset * <u64>load<u32>(span, 36)) >> 32);
}
@inline export function slabBit(span: usize, index: u32): bool {
  let at = span + SLAB_HEADER + ((index >> 5) << 2);
  return (((THREADS ? atomic.load<u32>(at) : load<u32>(at)) >> (index & 31)) & 1) != 0;
}
@inline function flipBit(span: usize, index: u32): void {
  let at = span + SLAB_HEADER + ((index >> 5) << 2);
  if (THREADS) atomic.xor<u32>(at, 1 << (index & 31));
  else store<u32>(at, load<u32>(at) ^ (1 << (index & 31)));
}

/**
 * Threads build: clear the bit of live slot `index` of `span` (another heap's),
 * claiming it for its owner to take back; false if it was clear (nothing changed).
 */
export function slabClaim(span: usize, index: u32): bool {
  let bit: u32 = 1 << (index & 31);
  return (atomic.and<u32>(span + SLAB_HEADER + ((index >> 5) << 2), ~bit) & bit) != 0;
}
/** Threads build: set a claimed slot's bit again (the claim given up, or the slot being taken back). */
export function slabUnclaim(span: usize, index: u32): void {
  atomic.or<u32>(span + SLAB_HEADER + ((index >> 5) << 2), 1 << (index & 31));
}

// ── Lists: a class's spans with room, the heap's free spans ────────────────
// Both link through +16 (next) and +20 (prev); `head` is the list's head word.

function linkSpan(head: usize, span: usize): void {
  let first: usize = load<u32>(head);
  store<u32>(span, <u32>first, 16);
  store<u32>(span, 0, 20);
  if (first) store<u32>(first, <u32>span, 20);
  store<u32>(head, <u32>span);
}

function unlinkSpan(head: usize, span: usize): void {
  let next: usize = load<u32>(span, 16);
  let prev: usize = load<u32>(span, 20);
  if (next) store<u32>(next, <u32>prev, 20);
  if (prev) store<u32>(prev, <u32>next, 16);
  else store<u32>(head, <u32>next);
}

// ── Free spans ──────────────────────────────────────────────────────────────

/** First free span of the heap (0: none). */
@inline export function freeSpans(): usize { return load<u32>(heap + H_FREE_SPANS); }
/** The page's count of slab spans (span 0's word). */
@inline export function spanPageCount(page: usize): u32 { return load<u32>(page, SPAN_PAGE_COUNT); }

@inline function freeSpanPush(span: usize): void {
  store<u32>(span, SPAN_FREE_MAGIC);
  store<u32>(span, 0, 40);
  linkSpan(heap + H_FREE_SPANS, span);
}

/** A span for a new slab: a free one, or a new page's first (its others go free); 0 if no page. */
function takeSpan(): usize {
  let span = freeSpans();
  if (span != 0) {
    unlinkSpan(heap + H_FREE_SPANS, span);
  } else {
    pagesLock();
    span = pagesAlloc(1);
    if (span != 0) setPageKind(<u32>(span >>> PAGE_BITS), PAGE_SLAB);
    pagesUnlock();
    if (span == 0) return 0;
    store<u32>(span, 0, SPAN_PAGE_COUNT);
    // Pushed last first, so the page fills from its start.
    for (let i = SPANS_PER_PAGE - 1; i > 0; i--) freeSpanPush(span + i * SLAB_SPAN);
  }
  let page = span & ~<usize>(PAGE_SIZE - 1);
  store<u32>(page, spanPageCount(page) + 1, SPAN_PAGE_COUNT);
  return span;
}

/** An empty slab span goes free; the page goes back to the page layer with its last slab span. */
function releaseSpan(span: usize): void {
  let page = span & ~<usize>(PAGE_SIZE - 1);
  let count = spanPageCount(page) - 1;
  store<u32>(page, count, SPAN_PAGE_COUNT);
  if (count != 0) {
    freeSpanPush(span);
    return;
  }
  for (let i: u32 = 0; i < SPANS_PER_PAGE; i++) {
    let other = page + i * SLAB_SPAN;
    if (other != span) unlinkSpan(heap + H_FREE_SPANS, other);
  }
  pagesLock();
  pagesRelease(page, 1);
  pagesUnlock();
}

// ── Slabs ───────────────────────────────────────────────────────────────────

function newSpan(cls: u32): usize {
  let span = takeSpan();
  if (span == 0) return 0;
  let at = classAt(cls);
  store<u32>(span, SLAB_MAGIC | cls);
  store<u32>(span, 0, 4);
  store<u32>(span, 0, 8);
  store<u32>(span, 0, 12);
  store<u32>(span, load<u32>(at, 4), 24);
  store<u32>(span, firstOffsetFor(load<u32>(at, 8)), 28);
  store<u32>(span, load<u32>(at, 8), 32);
  store<u32>(span, load<u32>(at, 12), 36);
  // The checker's mark starts clear: the span may have been anything before
  // (a boundary-tag segment's, with a program's data in it).
  store<u32>(span, 0, 40);
  linkSpan(at, span);
  addClassPages(cls, 1);
  return span;
}

/** A slot of class `cls`, or 0 when no span can be had. */
export function slabAlloc(cls: u32): usize {
  let span: usize = load<u32>(classAt(cls));
  if (span == 0) {
    span = newSpan(cls);
    if (span == 0) return 0;
  }
  return slabTake(span, cls);
}

/** Take a slot from `span`, a span of class `cls` with room (the malloc fast path). */
@inline export function slabTake(span: usize, cls: u32): usize {
  let slot: usize = load<u32>(span, 8);
  let index: u32;
  let first = span + slabFirst(span);
  let size = slabObjSize(span);
  if (slot != 0) {
    index = slabIndex(span, <u32>(slot - first));
    let next: usize = load<u32>(slot);
    // The link sits in freed memory: trust it only if it names a free slot
    // other than this one (a link to itself would hand the slot out twice).
    if (next != 0 && (next == slot || !linkValid(span, next, first, size))) next = linkCorrupted(span, slot, size);
    store<u32>(span, <u32>next, 8);
  } else {
    index = slabBump(span);
    store<u32>(span, index + 1, 12);
    if ((index & 31) == 0) {
      if (THREADS) atomic.store<u32>(span + SLAB_HEADER + ((index >> 5) << 2), 0);
      else store<u32>(span + SLAB_HEADER + ((index >> 5) << 2), 0);
    }
    slot = first + index * size;
  }
  flipBit(span, index);
  let inUse = slabInUse(span) + 1;
  store<u32>(span, inUse, 4);
  if (inUse == slabCapacity(span)) unlinkSpan(classAt(cls), span);
  return slot;
}

/** A freed slot's link was overwritten: report it, and rebuild the list from the bitmap. */
function linkCorrupted(span: usize, slot: usize, size: u32): usize {
  // The malloc goes on with `slot`, which is sound: the damage is noticed, not a rejection.
  notice(ERR_USE_AFTER_FREE, REASON_NONE, OP_MALLOC, slot, slot, size);
  return rebuildFreeList(span, slot);
}

@inline function linkValid(span: usize, next: usize, first: usize, size: u32): bool {
  let offset = next - first;
  if (offset >= <usize>(slabBump(span) * size)) return false;
  let index = slabIndex(span, <u32>offset);
  return index * size == <u32>offset && !slabBit(span, index);
}

/** Rebuild a span's free list from its bitmap (after a corrupted link); `skip` is being taken. */
function rebuildFreeList(span: usize, skip: usize): usize {
  let first = span + slabFirst(span);
  let size = slabObjSize(span);
  let bump = slabBump(span);
  let head: usize = 0;
  for (let i = bump; i > 0; i--) {
    let slot = first + (i - 1) * size;
    if (!slabBit(span, i - 1) && slot != skip) { store<u32>(slot, <u32>head); head = slot; }
  }
  return head;
}

/** Free a validated slot of `span`. */
@inline export function slabFree(span: usize, slot: usize, index: u32): void {
  flipBit(span, index);
  store<u32>(slot, load<u32>(span, 8));
  store<u32>(span, <u32>slot, 8);
  let cls = slabClass(span);
  let inUse = slabInUse(span) - 1;
  store<u32>(span, inUse, 4);
  if (inUse == slabCapacity(span) - 1) linkSpan(classAt(cls), span);
  if (inUse == 0) spanEmptied(cls, span);
}

/** Keep the class's only span with room; give back any other. */
function spanEmptied(cls: u32, span: usize): void {
  let head: usize = load<u32>(classAt(cls));
  if (head != span || slabNext(span) != 0) releaseEmpty(cls, span);
}

/**
 * Give back the empty span each class kept, if it is first on the class's
 * list; true if any. Called before growing memory: O(classes).
 */
export function slabReclaimEmpty(): bool {
  let any = false;
  for (let cls: u32 = 0; cls < SLAB_CLASSES; cls++) {
    let span: usize = load<u32>(classAt(cls));
    if (span != 0 && slabInUse(span) == 0) {
      releaseEmpty(cls, span);
      any = true;
    }
  }
  return any;
}

/**
 * Give back every empty span the classes hold; true if any. A class keeps at
 * most one (spanEmptied), but it stays first on the class's list only until
 * another span gains room, so at the memory limit the whole lists are walked.
 */
export function slabReclaimAllEmpty(): bool {
  let any = false;
  for (let cls: u32 = 0; cls < SLAB_CLASSES; cls++) {
    let span: usize = load<u32>(classAt(cls));
    while (span != 0) {
      let next = slabNext(span);
      if (slabInUse(span) == 0) {
        releaseEmpty(cls, span);
        any = true;
      }
      span = next;
    }
  }
  return any;
}

@inline function releaseEmpty(cls: u32, span: usize): void {
  unlinkSpan(classAt(cls), span);
  releaseSpan(span);
  addClassPages(cls, -1);
}

/** Usable size of slots of class `cls`. */
export { SLAB_MAX };
