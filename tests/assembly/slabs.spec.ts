// Size-class slabs: small sizes in 16 KiB spans of equal slots, four spans to a
// slab page (see assembly/slabs/slab.ts).
//
//   class:  0   1   2   3   4   5    6    7    8    9    10   11
//   size:   16  32  48  64  80  96   112  128  160  192  224  256
import { freshHeap, lastReportKind, lastReportReason, lastReportPtr, reportCount, clearReport } from "./helpers";
import { cMalloc, cFree, cMallocUsableSize } from "../../assembly/api/calls";
import { heapCheck } from "../../assembly/inspect/check";
import {
  POLICY_SEGREGATED, OPTION_NO_SLABS, PAGE_SLAB, PAGE_FREE, PAGE_HEAP, SLAB_MAX, OPTION_EAGER_SLABS, SLAB_START_BYTES,
  SLAB_SMALL_OBJECT, SLAB_START_BYTES_BIG,
} from "../../assembly/base/constants";
import { pageKind } from "../../assembly/pages/pagemap";
import {
  slabClassOf, slabClassSize, slabCapacity, slabInUse, spanOf, slabMagicOk, freeSpans, spanPageCount, slabReclaimEmpty,
  SPAN_FREE_MAGIC, SPAN_PAGE_COUNT,
} from "../../assembly/slabs/slab";
import { statGet, STAT_LIVE, STAT_IN_USE, STAT_FREES, STAT_ERRORS, heap, H_FREE_SPANS } from "../../assembly/base/state";
import { SLAB_SPAN } from "../../assembly/base/constants";
import { CHECK_SPANS, CHECK_SLAB_HEADER } from "../../assembly/inspect/violations";
import {
  ERR_DOUBLE_FREE, ERR_INVALID_FREE, REASON_NONE, REASON_INTERIOR, REASON_NOT_ALLOCATED,
} from "../../assembly/base/report";

@inline function pageOf(ptr: usize): usize { return ptr & ~<usize>0xFFFF; }
@inline function kindOf(ptr: usize): u8 { return pageKind(<u32>(ptr >>> 16)); }
@inline function classSizeFor(size: usize): u32 { return slabClassSize(slabClassOf(size)); }

describe("size classes", () => {
  it("map 0 and 1..16 to 16, 17 to 32, 128 to 128, 129 to 160, 256 to 256", () => {
    expect(classSizeFor(0)).toBe(16);
    expect(classSizeFor(1)).toBe(16);
    expect(classSizeFor(16)).toBe(16);
    expect(classSizeFor(17)).toBe(32);
    expect(classSizeFor(128)).toBe(128);
    expect(classSizeFor(129)).toBe(160);
    expect(classSizeFor(160)).toBe(160);
    expect(classSizeFor(161)).toBe(192);
    expect(classSizeFor(256)).toBe(256);
    expect(slabClassOf(256)).toBe(11);
  });

  it("every size up to 256 gets the smallest class that holds it", () => {
    for (let size: usize = 1; size <= SLAB_MAX; size++) {
      let cls = slabClassOf(size);
      expect(slabClassSize(cls)).toBeGreaterThanOrEqual(<u32>size);
      if (cls > 0) expect(slabClassSize(cls - 1)).toBeLessThan(<u32>size);
    }
  });
});

describe("slab allocation", () => {
  it("small mallocs of every size up to 256 land on slab pages", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    for (let size: usize = 0; size <= SLAB_MAX; size += 5) {
      let p = cMalloc(size);
      expect(p).not.toBe(0);
      expect(kindOf(p)).toBe(PAGE_SLAB);
    }
    let big = cMalloc(SLAB_MAX + 1);
    expect(kindOf(big)).toBe(PAGE_HEAP);
    expect(heapCheck()).toBe(0);
  });

  it("slots of one class are objSize apart in one span", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(40), b = cMalloc(40), c = cMalloc(33);
    let x = cMalloc(129), y = cMalloc(150);
    expect(b - a).toBe(48);
    expect(c - b).toBe(48);
    expect(y - x).toBe(160);
    expect(spanOf(b)).toBe(spanOf(a));
    expect(spanOf(x)).not.toBe(spanOf(a)); // each class owns its spans
  });

  it("malloc_usable_size of a slot is its class size", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    expect(cMallocUsableSize(cMalloc(1))).toBe(16);
    expect(cMallocUsableSize(cMalloc(40))).toBe(48);
    expect(cMallocUsableSize(cMalloc(129))).toBe(160);
    expect(cMallocUsableSize(cMalloc(256))).toBe(256);
  });

  it("the slot freed last is handed out first", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(24), b = cMalloc(24), c = cMalloc(24);
    cFree(a);
    cFree(c);
    let first = cMalloc(24), second = cMalloc(24), third = cMalloc(24);
    expect(first).toBe(c);
    expect(second).toBe(a);
    expect(third).toBe(c + 32); // free list empty: the next never-used slot
    expect(b).toBe(a + 32);
    expect(heapCheck()).toBe(0);
  });
});

describe("slab misuse", () => {
  it("a double free of a slot is reported as a double free and changes nothing", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(32), b = cMalloc(32);
    cFree(a);
    let live = statGet(STAT_LIVE), inUse = statGet(STAT_IN_USE), frees = statGet(STAT_FREES);
    let errors = statGet(STAT_ERRORS), pageInUse = slabInUse(pageOf(a)), reports = reportCount();
    clearReport();
    cFree(a);
    expect(lastReportKind()).toBe(ERR_DOUBLE_FREE);
    expect(lastReportReason()).toBe(REASON_NONE);
    expect(lastReportPtr()).toBe(<u32>a);
    expect(reportCount()).toBe(reports + 1);
    expect(statGet(STAT_ERRORS)).toBe(errors + 1);
    expect(heapCheck()).toBe(0);
    expect(statGet(STAT_LIVE)).toBe(live);
    expect(statGet(STAT_IN_USE)).toBe(inUse);
    expect(statGet(STAT_FREES)).toBe(frees);
    expect(slabInUse(pageOf(a))).toBe(pageInUse);
    // The slot is on the free list once, not twice.
    expect(cMalloc(32)).toBe(a);
    expect(cMalloc(32)).toBe(b + 32);
    expect(heapCheck()).toBe(0);
  });

  it("a pointer into the middle of a slot is an invalid free (interior) and changes nothing", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(64), q = cMalloc(64);
    let live = statGet(STAT_LIVE), pageInUse = slabInUse(pageOf(p));
    clearReport();
    cFree(p + 16);
    expect(lastReportKind()).toBe(ERR_INVALID_FREE);
    expect(lastReportReason()).toBe(REASON_INTERIOR);
    expect(lastReportPtr()).toBe(<u32>(p + 16));
    clearReport();
    cFree(q + 48);
    expect(lastReportReason()).toBe(REASON_INTERIOR);
    expect(statGet(STAT_LIVE)).toBe(live);
    expect(slabInUse(pageOf(p))).toBe(pageInUse);
    expect(heapCheck()).toBe(0);
    // p itself is still live and frees cleanly.
    let reports = reportCount();
    cFree(p);
    expect(reportCount()).toBe(reports);
    expect(statGet(STAT_LIVE)).toBe(live - 1);
  });

  it("a slot never handed out is an invalid free (not allocated) and changes nothing", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(32);
    let live = statGet(STAT_LIVE);
    clearReport();
    cFree(p + 32); // the next slot: not yet handed out
    expect(lastReportKind()).toBe(ERR_INVALID_FREE);
    expect(lastReportReason()).toBe(REASON_NOT_ALLOCATED);
    clearReport();
    cFree(p + 32 * 7);
    expect(lastReportReason()).toBe(REASON_NOT_ALLOCATED);
    expect(statGet(STAT_LIVE)).toBe(live);
    expect(heapCheck()).toBe(0);
    expect(cMalloc(32)).toBe(p + 32); // and it is still handed out in order
  });
});

// Each case: three slots of the 48-byte class freed (list: c -> b -> a),
// then a use-after-free write to a freed slot's link. The next mallocs must
// notice it (one report, the malloc still succeeds) and never hand out a
// slot twice or a live one.
const LINK_SELF: u32 = 0, LINK_LIVE: u32 = 1, LINK_INTERIOR: u32 = 2, LINK_OTHER_PAGE: u32 = 3, LINK_CYCLE: u32 = 4;
function overwriteLink(how: u32): void {
  freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
  let a = cMalloc(40), b = cMalloc(40), c = cMalloc(40), live = cMalloc(40);
  cFree(a); cFree(b); cFree(c);
  if (how == LINK_SELF) store<u32>(c, <u32>c);
  else if (how == LINK_LIVE) store<u32>(c, <u32>live);
  else if (how == LINK_INTERIOR) store<u32>(b, <u32>(a + 8));
  else if (how == LINK_OTHER_PAGE) store<u32>(c, <u32>(a + 0x10000));
  else store<u32>(a, <u32>c);
  clearReport();
  let before = reportCount();
  let got = new StaticArray<usize>(6);
  for (let i = 0; i < 6; i++) got[i] = cMalloc(40);
  expect(reportCount()).toBe(before + 1);
  for (let i = 0; i < 6; i++) {
    expect(got[i]).toBeGreaterThan(0);
    expect(got[i] == live).toBe(false);
    for (let j = 0; j < i; j++) expect(got[i] == got[j]).toBe(false);
  }
  expect(heapCheck()).toBe(0);
  for (let i = 0; i < 6; i++) cFree(got[i]);
  cFree(live);
  expect(heapCheck()).toBe(0);
}

describe("slab free-list links overwritten after free", () => {
  it("a link to the slot itself", () => { overwriteLink(LINK_SELF); });
  it("a link to a live slot", () => { overwriteLink(LINK_LIVE); });
  it("a link into the middle of a free slot", () => { overwriteLink(LINK_INTERIOR); });
  it("a link to another page", () => { overwriteLink(LINK_OTHER_PAGE); });
  it("a link back up the list (a cycle)", () => { overwriteLink(LINK_CYCLE); });
});

describe("slab pages", () => {
  it("four classes share one page, a span each; a fifth takes a new page", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let a = cMalloc(16), b = cMalloc(32), c = cMalloc(48), d = cMalloc(64), e = cMalloc(80);
    expect(spanOf(b) - spanOf(a)).toBe(SLAB_SPAN);
    expect(spanOf(c) - spanOf(b)).toBe(SLAB_SPAN);
    expect(spanOf(d) - spanOf(c)).toBe(SLAB_SPAN);
    expect(pageOf(d)).toBe(pageOf(a));
    expect(pageOf(e)).not.toBe(pageOf(a));
    expect(spanPageCount(pageOf(a))).toBe(4);
    expect(spanPageCount(pageOf(e))).toBe(1);
    expect(freeSpans()).toBe(pageOf(e) + SLAB_SPAN); // the new page's other three spans are free
    expect(heapCheck()).toBe(0);
  });

  it("when a class has two spans and one empties, the span goes free; the page goes back with its last slab", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let first = cMalloc(256);
    let capacity = slabCapacity(spanOf(first));
    let ptrs = new StaticArray<usize>(capacity + 1);
    ptrs[0] = first;
    for (let i: u32 = 1; i <= capacity; i++) ptrs[i] = cMalloc(256);
    let lone = ptrs[capacity];
    expect(spanOf(ptrs[capacity - 1])).toBe(spanOf(first)); // the first span holds `capacity` slots
    expect(spanOf(lone)).toBe(spanOf(first) + SLAB_SPAN);    // the next span of the same page
    cFree(first);  // the first span has room again
    cFree(lone);   // the second span empties: free, the page still a slab page
    expect(slabMagicOk(spanOf(lone))).toBe(false);
    expect(load<u32>(spanOf(lone))).toBe(SPAN_FREE_MAGIC);
    expect(freeSpans()).toBe(spanOf(lone));
    expect(spanPageCount(pageOf(first))).toBe(1);
    expect(kindOf(first)).toBe(PAGE_SLAB);
    expect(heapCheck()).toBe(0);
    for (let i: u32 = 1; i < capacity; i++) cFree(ptrs[i]);
    expect(kindOf(first)).toBe(PAGE_SLAB); // empty, but kept: the class's only span with room
    expect(slabReclaimEmpty()).toBe(true); // (before memory grows)
    expect(kindOf(first)).toBe(PAGE_FREE);
    expect(freeSpans()).toBe(0);
    expect(heapCheck()).toBe(0);
  });

  it("a pointer into a free span is rejected, and nothing changes", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let keep = cMalloc(16);
    let slots = new StaticArray<usize>(2);
    slots[0] = cMalloc(32);
    slots[1] = cMalloc(32);
    let other = cMalloc(48); // a third class, so the 32-byte span is not the page's last
    cFree(slots[0]);
    cFree(slots[1]);
    expect(slabReclaimEmpty()).toBe(true); // the 32-byte class's kept span goes free
    expect(load<u32>(spanOf(slots[1]))).toBe(SPAN_FREE_MAGIC);
    clearReport();
    let live = statGet(STAT_LIVE);
    cFree(slots[1]);
    expect(lastReportKind()).toBe(ERR_INVALID_FREE);
    expect(statGet(STAT_LIVE)).toBe(live);
    expect(heapCheck()).toBe(0);
    cFree(keep);
    cFree(other);
    expect(heapCheck()).toBe(0);
  });

  it("the heap check finds a free span off the list, and a wrong count of a page's spans", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(16);
    let page = pageOf(p);
    let head = freeSpans();
    expect(head).toBe(page + SLAB_SPAN);
    store<u32>(heap + H_FREE_SPANS, load<u32>(head, 16)); // the first free span dropped from the list
    expect(heapCheck()).toBe(CHECK_SPANS);
    store<u32>(heap + H_FREE_SPANS, <u32>head);
    expect(heapCheck()).toBe(0);
    store<u32>(page, 2, SPAN_PAGE_COUNT); // one slab span counted twice
    expect(heapCheck()).toBe(CHECK_SPANS);
    store<u32>(page, 1, SPAN_PAGE_COUNT);
    store<u32>(head, 0x12345678); // a listed span's header overwritten: neither a slab's nor a free span's
    expect(heapCheck()).toBe(CHECK_SLAB_HEADER);
    store<u32>(head, SPAN_FREE_MAGIC);
    expect(heapCheck()).toBe(0);
    cFree(p);
  });

  it("a slab page made from a page that held a program's data passes the heap check", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let buffer = cMalloc(65536); // fills its page: a run
    for (let i: usize = 0; i < 64; i += 4) store<u32>(buffer + i, 1); // the data looks like the checker's marks
    let page = pageOf(buffer);
    cFree(buffer);
    let slot = cMalloc(24); // the first slab page of its class: the freed page
    expect(pageOf(slot)).toBe(page);
    expect(kindOf(slot)).toBe(PAGE_SLAB);
    expect(heapCheck()).toBe(0);
    cFree(slot);
  });

  it("the class's last page with room is kept when it empties", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(200);
    cFree(p);
    expect(kindOf(p)).toBe(PAGE_SLAB);
    expect(heapCheck()).toBe(0);
    expect(cMalloc(200)).toBe(p);
  });

  it("with OPTION_NO_SLABS small sizes go to the boundary-tag heap", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_NO_SLABS);
    let a = cMalloc(16), b = cMalloc(1), c = cMalloc(200);
    expect(kindOf(a)).toBe(PAGE_HEAP);
    expect(kindOf(b)).toBe(PAGE_HEAP);
    expect(kindOf(c)).toBe(PAGE_HEAP);
    expect(cMallocUsableSize(a)).toBe(28); // a 32-byte block, not a 16-byte slot
    expect(b - a).toBe(32);
    expect(heapCheck()).toBe(0);
  });

  it("a size class starts using slab pages once SLAB_START_BYTES (4 KiB) of its size is live in the boundary-tag layer", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    expect(SLAB_START_BYTES).toBe(4096);
    // 100-byte requests take 112-byte blocks: 36 of them hold 4,032 bytes, 37 reach 4 KiB.
    let before: usize = 0;
    for (let i = 0; i < 37; i++) {
      before = cMalloc(100);
      expect(pageKind(<u32>(before >>> 16))).toBe(PAGE_HEAP);
    }
    let first = cMalloc(100);
    expect(pageKind(<u32>(first >>> 16))).toBe(PAGE_SLAB);
    // Other classes are not affected.
    expect(pageKind(<u32>(cMalloc(40) >>> 16))).toBe(PAGE_HEAP);
    expect(heapCheck()).toBe(0);
  });

  it("a class of objects over SLAB_SMALL_OBJECT bytes waits for SLAB_START_BYTES_BIG (56 KiB) live", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    expect(SLAB_SMALL_OBJECT).toBe(128);
    expect(SLAB_START_BYTES_BIG).toBe(57344);
    // 160-byte requests take 176-byte blocks: 325 of them hold 57,200 bytes, 326 reach 56 KiB.
    for (let i = 0; i < 326; i++) {
      let p = cMalloc(160);
      expect(pageKind(<u32>(p >>> 16))).toBe(PAGE_HEAP, "object " + i.toString());
    }
    expect(pageKind(<u32>(cMalloc(160) >>> 16))).toBe(PAGE_SLAB);
    // 128 bytes is a small object: 4 KiB (29 blocks of 144 bytes) is enough.
    for (let i = 0; i < 29; i++) expect(pageKind(<u32>(cMalloc(128) >>> 16))).toBe(PAGE_HEAP);
    expect(pageKind(<u32>(cMalloc(128) >>> 16))).toBe(PAGE_SLAB);
    expect(heapCheck()).toBe(0);
  });
});
