// Free lists whose links were overwritten after free (a use after free in a
// free block or a freed page run): no malloc or free loops or reads past the
// memory; the walk ends and the damage is reported (freelists.ts nextListed,
// pages.ts nextRun, medium.ts mediumTrimFree).
import { freshHeap, reportCount, clearReport, lastReportKind } from "./helpers";
import { cMalloc, cFree } from "../../assembly/api/calls";
import { POLICY_FIRST, POLICY_BEST, POLICY_NEXT, POLICY_SEGREGATED, OPTION_NO_SLABS } from "../../assembly/base/constants";
import { ERR_CORRUPTION } from "../../assembly/base/report";

const policies: u32[] = [POLICY_FIRST, POLICY_NEXT, POLICY_BEST];
const walking: u32[] = [POLICY_FIRST, POLICY_BEST]; // (next fit may find a fit before the bad link)

describe("overwritten free-list links", () => {
  it("an address-ordered list made into a cycle: malloc and free end, and report it", () => {
    for (let i = 0; i < walking.length; i++) {
      freshHeap(walking[i], OPTION_NO_SLABS);
      let a = cMalloc(1000), b = cMalloc(1000), c = cMalloc(1000), d = cMalloc(1000);
      cFree(a); cFree(c); // list: a -> c
      store<u32>(c, <u32>(a - 4)); // c's next link (payload word 0) names a: a cycle
      clearReport();
      let before = reportCount();
      let big = cMalloc(5000); // searches the list, finds no fit, grows
      expect(big).toBeGreaterThan(0);
      cFree(b); // inserts in address order, walking the list
      expect(reportCount()).toBeGreaterThan(before);
      expect(lastReportKind()).toBe(ERR_CORRUPTION);
      cFree(big); cFree(d);
    }
  });

  it("a link past the memory: no read past it", () => {
    for (let i = 0; i < policies.length; i++) {
      freshHeap(policies[i], OPTION_NO_SLABS);
      let a = cMalloc(1000), b = cMalloc(1000), c = cMalloc(1000);
      cFree(a); // list: a (and the rest of the segment after c)
      store<u32>(a, 0xFFFFFFF0);
      clearReport();
      let big = cMalloc(3000);
      expect(big).toBeGreaterThan(0);
      expect(reportCount()).toBeGreaterThan(0);
      cFree(big); cFree(b); cFree(c);
    }
  });

  it("the free page-run list made into a cycle: page allocation ends, and reports it", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let r1 = cMalloc(1 << 20), g1 = cMalloc(1 << 18), r2 = cMalloc(1 << 20), g2 = cMalloc(1 << 18);
    cFree(r1); cFree(r2); // free runs r1 -> r2 (page aligned, headerless)
    store<u32>(r2, <u32>r1, 4); // r2's next names r1
    clearReport();
    let big = cMalloc(3 << 20); // fits neither run: the list is walked, then memory grows
    expect(big).toBeGreaterThan(0);
    expect(reportCount()).toBeGreaterThan(0);
    expect(lastReportKind()).toBe(ERR_CORRUPTION);
    cFree(big); cFree(g1); cFree(g2);
  });

  it("a freed run's length overwritten: no run is taken or merged on its word", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    let r1 = cMalloc(1 << 20), g1 = cMalloc(1 << 18), r2 = cMalloc(1 << 20), g2 = cMalloc(1 << 18);
    cFree(r1);
    store<u32>(r1, 0xFFFF); // the run's length: 65535 pages
    clearReport();
    let x = cMalloc(1 << 20); // walks the runs
    expect(x).toBeGreaterThan(0);
    cFree(r2); // no merge with a neighbour whose length lies
    expect(reportCount()).toBeGreaterThan(0);
    cFree(x); cFree(g1); cFree(g2);
  });

  it("a segregated list made into a cycle: the trim before growth ends, and reports it", () => {
    freshHeap(POLICY_SEGREGATED, 0);
    // Two free blocks of six pages (two 200,000-byte blocks merged), apart, on one list.
    let a1 = cMalloc(200000), a2 = cMalloc(200000), sep = cMalloc(3000);
    let b1 = cMalloc(200000), b2 = cMalloc(200000), sep2 = cMalloc(3000);
    cFree(a1); cFree(a2); cFree(b1); cFree(b2);
    store<u32>(a1, <u32>(b1 - 4)); // a's next names b, which names a: a cycle
    store<u32>(b1, <u32>(a1 - 4));
    clearReport();
    let big = cMalloc(16 << 20); // no run: the layers are asked for pages (trim) before growth
    expect(big).toBeGreaterThan(0);
    expect(reportCount()).toBeGreaterThan(0);
    cFree(big); cFree(sep); cFree(sep2);
  });
});
