// The buddy build's extra exports (a second entry file of the `buddy` target,
// beside index.ts): the inspection the host's buddyinfo() reads. The buddy
// engine's constants and check codes are in layout.ts. Other builds do not
// include this file.

import { heap } from "./base/state";
import { buddyFreeCount, buddyCountBroken, CHECK_BUDDY_LIST } from "./buddy/buddy";
import { inspectBegin, walkStop } from "./inspect/walk";

/**
 * Free buddy blocks of `order` (BUDDY_MIN_ORDER … BUDDY_MAX_ORDER) on all
 * pages; on a broken list link, the blocks before it, with walk_error
 * (CHECK_BUDDY_LIST) and walk_error_address set.
 */
export function buddy_free_count(order: u32): u32 {
  if (heap == 0 || !inspectBegin()) return 0;
  let n = buddyFreeCount(order);
  if (buddyCountBroken != 0) walkStop(CHECK_BUDDY_LIST, buddyCountBroken);
  return n;
}
