// Shared helpers for the as-pect specs: a fresh heap per test, report access.
import { heapSetup } from "../../assembly/api/init";
import { POLICY_SEGREGATED } from "../../assembly/base/constants";

@external("env", "test_last_report")
declare function test_last_report(field: u32): u32;
@external("env", "test_clear_report")
declare function test_clear_report(): void;

/** Set up a new heap in fresh pages past the end of memory (the test runtime owns the rest). */
export function freshHeap(policy: u32 = POLICY_SEGREGATED, options: u32 = 0, maxBytes: u64 = 0): void {
  // The test runtime's own allocator claims all memory present when it first
  // runs: make sure it has run before pages are grown for our heap.
  heap.free(heap.alloc(16));
  let base = <usize>memory.size() << 16;
  test_clear_report();
  assert(heapSetup(base, policy, options, maxBytes == 0 ? 0 : (<u64>base + maxBytes)), "heap set up");
}

export function lastReportKind(): u32 { return test_last_report(0); }
export function lastReportReason(): u32 { return test_last_report(1); }
export function lastReportPtr(): u32 { return test_last_report(3); }
export function reportCount(): u32 { return test_last_report(6); }
export function clearReport(): void { test_clear_report(); }

import { walkFirst, walkEnd, walkEntry, walk_layer, walk_state, walk_size, walk_address } from "../../assembly/inspect/walk";

/** Number of walk entries of `layer` in `state`. */
export function countEntries(layer: u32, state: u32): u32 {
  let n: u32 = 0;
  let cursor = walkFirst();
  let end = walkEnd();
  while (cursor < end) {
    cursor = walkEntry(cursor);
    if (walk_layer == layer && walk_state == state) n++;
  }
  return n;
}

/** The last free boundary-tag block in the walk (address), 0 if none. */
export function lastFreeMedium(): usize {
  let found: usize = 0;
  let cursor = walkFirst();
  let end = walkEnd();
  while (cursor < end) {
    cursor = walkEntry(cursor);
    if (walk_layer == 1 && walk_state == 0) found = walk_address;
  }
  return found;
}

/** Size of the entry starting at `address`, 0 if none does. */
export function entrySize(address: usize): usize {
  let cursor = walkFirst();
  let end = walkEnd();
  while (cursor < end) {
    cursor = walkEntry(cursor);
    if (walk_address == address) return walk_size;
  }
  return 0;
}

import { buddyInit, BUDDY_STATE_SIZE } from "../../assembly/buddy/buddy";
import { cMalloc } from "../../assembly/api/calls";
import { pagesAllowGrowth, GROWTH_ALLOWED } from "../../assembly/pages/pages";

/**
 * A fresh heap whose buddy engine can be driven directly (buddyAlloc/buddyFree):
 * the test build is not the buddy build, so the buddy state lives in a block of
 * its own. Returns the state's address. Use buddyCheck(), not heapCheck(): this
 * build's checker does not know buddy pages. The test stands in for the engine,
 * which would reclaim before it lets memory grow: here memory may always grow.
 */
export function freshBuddyHeap(): usize {
  freshHeap();
  let state = cMalloc(BUDDY_STATE_SIZE);
  assert(state != 0, "buddy state");
  buddyInit(state);
  pagesAllowGrowth(GROWTH_ALLOWED);
  return state;
}
