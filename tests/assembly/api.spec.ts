// The C API: malloc, free, calloc, realloc, aligned_alloc, posix_memalign,
// malloc_usable_size, with C semantics (see assembly/api.ts).
import {
  freshHeap, lastReportKind, lastReportReason, lastReportPtr, reportCount, clearReport,
} from "./helpers";
import {
  cMalloc, cFree, cCalloc, cRealloc, cAlignedAlloc, cPosixMemalign, cMallocUsableSize, EINVAL,
} from "../../assembly/api/calls";
import { heapCheck } from "../../assembly/inspect/check";
import { POLICY_SEGREGATED, LARGE_MIN, MAX_ALIGNMENT, OPTION_EAGER_SLABS } from "../../assembly/base/constants";
import {
  statGet, heap as stateStart, STAT_LIVE, STAT_IN_USE, STAT_FREES, STAT_MALLOCS, STAT_FAILED, STAT_ERRORS,
} from "../../assembly/base/state";
import {
  ERR_INVALID_FREE, REASON_MISALIGNED, REASON_NOT_OWNED,
} from "../../assembly/base/report";

/** Sizes across every layer: slabs, boundary tags, large runs. */
const SIZES: StaticArray<usize> = [
  0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 48, 63, 100, 127, 128, 129, 200, 255, 256, 257, 300,
  500, 1000, 1023, 1024, 1025, 4000, 4096, 10000, 65535, 65536, 100000, 262143, 262144, 300000,
];

describe("malloc and free", () => {
  it("every pointer returned is 16-aligned, for sizes of every layer", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let ptrs = new StaticArray<usize>(SIZES.length * 2);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < SIZES.length; i++) {
        let p = cMalloc(SIZES[i]);
        ptrs[round * SIZES.length + i] = p;
        expect(p).not.toBe(0);
        expect(p & 15).toBe(0, "size " + SIZES[i].toString());
        expect(cMallocUsableSize(p)).toBeGreaterThanOrEqual(SIZES[i]);
      }
    }
    // All distinct.
    for (let i = 1; i < ptrs.length; i++) {
      for (let j = 0; j < i; j++) expect(ptrs[i]).not.toBe(ptrs[j]);
    }
    expect(heapCheck()).toBe(0);
    for (let i = 0; i < ptrs.length; i++) cFree(ptrs[i]);
    expect(statGet(STAT_LIVE)).toBe(0);
    expect(heapCheck()).toBe(0);
  });

  it("malloc(0) returns a unique pointer that can be freed", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let reports = reportCount();
    let a = cMalloc(0), b = cMalloc(0);
    expect(a).not.toBe(0);
    expect(b).not.toBe(0);
    expect(a).not.toBe(b);
    expect(statGet(STAT_LIVE)).toBe(2);
    cFree(a);
    cFree(b);
    expect(statGet(STAT_LIVE)).toBe(0);
    expect(reportCount()).toBe(reports);
    expect(heapCheck()).toBe(0);
  });

  it("free(0) does nothing", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(40);
    let reports = reportCount(), frees = statGet(STAT_FREES), live = statGet(STAT_LIVE);
    cFree(0);
    expect(reportCount()).toBe(reports);
    expect(statGet(STAT_FREES)).toBe(frees);
    expect(statGet(STAT_LIVE)).toBe(live);
    expect(heapCheck()).toBe(0);
    cFree(p);
  });

  it("sizes no heap can hold (0xFFFFFFFF, 0xFFFF0000, 2^31) return 0 and report nothing", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS, 16 << 20); // a 16 MiB limit keeps 2^31 from being grown
    let reports = reportCount(), failed = statGet(STAT_FAILED), live = statGet(STAT_LIVE);
    expect(cMalloc(0xFFFFFFFF)).toBe(0);
    expect(cMalloc(0xFFFF0000)).toBe(0);
    expect(cMalloc(0x80000000)).toBe(0);
    expect(reportCount()).toBe(reports);
    expect(statGet(STAT_FAILED)).toBe(failed + 3);
    expect(statGet(STAT_LIVE)).toBe(live);
    expect(heapCheck()).toBe(0);
    // The heap still works.
    expect(cMalloc(100)).not.toBe(0);
  });
});

describe("calloc", () => {
  it("returns zeroed memory, even where a freed block was dirty", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    const sizes: StaticArray<usize> = [24, 200, 1000, 5000, LARGE_MIN];
    for (let k = 0; k < sizes.length; k++) {
      let size = sizes[k];
      let p = cMalloc(size);
      memory.fill(p, 0xAA, size);
      cFree(p);
      let q = cCalloc(1, size);
      expect(q).not.toBe(0);
      if (size <= 256) expect(q).toBe(p, "the dirty slot is reused"); // slabs are LIFO
      let nonzero = 0;
      for (let i: usize = 0; i < size; i++) if (load<u8>(q + i) != 0) nonzero++;
      expect(nonzero).toBe(0, "size " + size.toString());
      cFree(q);
    }
    let r = cCalloc(25, 8); // count × size
    expect(cMallocUsableSize(r)).toBeGreaterThanOrEqual(200);
    expect(heapCheck()).toBe(0);
  });

  it("returns 0 when count × size overflows 32 bits", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let reports = reportCount(), live = statGet(STAT_LIVE);
    expect(cCalloc(0x10000, 0x10001)).toBe(0);
    expect(cCalloc(0x10000, 0x10000)).toBe(0);
    expect(cCalloc(0xFFFFFFFF, 2)).toBe(0);
    expect(reportCount()).toBe(reports);
    expect(statGet(STAT_LIVE)).toBe(live);
    expect(heapCheck()).toBe(0);
  });
});

describe("realloc", () => {
  it("realloc(0, n) is malloc(n)", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let mallocs = statGet(STAT_MALLOCS);
    let p = cRealloc(0, 40);
    expect(p).not.toBe(0);
    expect(cMallocUsableSize(p)).toBe(48);
    expect(statGet(STAT_MALLOCS)).toBe(mallocs + 1);
    expect(statGet(STAT_LIVE)).toBe(1);
    expect(heapCheck()).toBe(0);
  });

  it("realloc(p, 0) frees p and returns 0", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(40), q = cMalloc(40);
    let reports = reportCount();
    expect(cRealloc(p, 0)).toBe(0);
    expect(statGet(STAT_LIVE)).toBe(1);
    expect(reportCount()).toBe(reports);
    expect(heapCheck()).toBe(0);
    expect(cMalloc(40)).toBe(p); // the slot was freed, so it comes back first
    cFree(q);
  });

  it("keeps the contents up to the smaller size when it moves a block", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(40);
    for (let i: usize = 0; i < 40; i++) store<u8>(p + i, <u8>(i + 1));
    let q = cRealloc(p, 3000); // another layer: must move
    expect(q).not.toBe(p);
    for (let i: usize = 0; i < 40; i++) expect(load<u8>(q + i)).toBe(<u8>(i + 1));
    expect(statGet(STAT_LIVE)).toBe(1);
    expect(heapCheck()).toBe(0);
  });
});

describe("aligned allocation", () => {
  it("aligned_alloc returns pointers aligned to every power of two from 1 to 65536", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    for (let shift: u32 = 0; shift <= 16; shift++) {
      let align: usize = 1 << shift;
      let p = cAlignedAlloc(align, 100);
      let q = cAlignedAlloc(align, 1);
      expect(p).not.toBe(0);
      expect(q).not.toBe(0);
      expect(p & (align - 1)).toBe(0, "align " + align.toString());
      expect(q & (align - 1)).toBe(0, "align " + align.toString());
      expect(cMallocUsableSize(p)).toBeGreaterThanOrEqual(100);
      expect(heapCheck()).toBe(0);
      cFree(p);
      cFree(q);
    }
    expect(statGet(STAT_LIVE)).toBe(0);
    expect(heapCheck()).toBe(0);
  });

  it("aligned_alloc rejects alignments that are 0, not a power of two, or above 64 KiB", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let reports = reportCount();
    expect(cAlignedAlloc(0, 64)).toBe(0);
    expect(cAlignedAlloc(3, 64)).toBe(0);
    expect(cAlignedAlloc(24, 64)).toBe(0);
    expect(cAlignedAlloc(MAX_ALIGNMENT * 2, 64)).toBe(0);
    expect(reportCount()).toBe(reports);
    expect(statGet(STAT_LIVE)).toBe(0);
    expect(heapCheck()).toBe(0);
  });

  it("posix_memalign returns EINVAL for a bad alignment and leaves the out pointer alone", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let out = cMalloc(16);
    const bad: StaticArray<usize> = [0, 2, 3, 24, 131072];
    for (let i = 0; i < bad.length; i++) {
      store<u32>(out, 0xDEADBEEF);
      expect(cPosixMemalign(out, bad[i], 64)).toBe(EINVAL, "align " + bad[i].toString());
      expect(load<u32>(out)).toBe(0xDEADBEEF);
    }
    expect(statGet(STAT_LIVE)).toBe(1);
  });

  it("posix_memalign returns 0 and writes an aligned pointer for a good alignment", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let out = cMalloc(16);
    const good: StaticArray<usize> = [4, 16, 256, 4096, 65536];
    for (let i = 0; i < good.length; i++) {
      store<u32>(out, 0);
      expect(cPosixMemalign(out, good[i], 64)).toBe(0);
      let p = <usize>load<u32>(out);
      expect(p).not.toBe(0);
      expect(p & (good[i] - 1)).toBe(0);
      cFree(p);
    }
    expect(statGet(STAT_LIVE)).toBe(1);
    expect(heapCheck()).toBe(0);
  });
});

/** Free `ptr`, expecting one ERR_INVALID_FREE with `reason` and no change to the heap. */
function expectRejected(ptr: usize, reason: u32): void {
  let live = statGet(STAT_LIVE), inUse = statGet(STAT_IN_USE), errors = statGet(STAT_ERRORS);
  let reports = reportCount();
  clearReport();
  cFree(ptr);
  expect(lastReportKind()).toBe(ERR_INVALID_FREE);
  expect(lastReportReason()).toBe(reason);
  expect(lastReportPtr()).toBe(<u32>ptr);
  expect(reportCount()).toBe(reports + 1);
  expect(statGet(STAT_ERRORS)).toBe(errors + 1);
  expect(statGet(STAT_LIVE)).toBe(live);
  expect(statGet(STAT_IN_USE)).toBe(inUse);
  expect(heapCheck()).toBe(0);
}

describe("invalid frees", () => {
  it("a misaligned pointer is reported as misaligned and changes nothing", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let slot = cMalloc(40), block = cMalloc(1000);
    expectRejected(slot + 1, REASON_MISALIGNED);
    expectRejected(block + 8, REASON_MISALIGNED);
    cFree(slot);
    cFree(block);
    expect(statGet(STAT_LIVE)).toBe(0);
  });

  it("a pointer outside the heap is reported as not owned and changes nothing", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(40);
    expectRejected(16, REASON_NOT_OWNED);
    expectRejected(stateStart - 4096, REASON_NOT_OWNED);
    cFree(p);
  });

  it("a pointer into the heap state is reported as not owned and changes nothing", () => {
    freshHeap(POLICY_SEGREGATED, OPTION_EAGER_SLABS);
    let p = cMalloc(1000);
    expectRejected(stateStart + 16, REASON_NOT_OWNED);
    expectRejected(stateStart + 256, REASON_NOT_OWNED);
    cFree(p);
    expect(statGet(STAT_LIVE)).toBe(0);
  });
});
