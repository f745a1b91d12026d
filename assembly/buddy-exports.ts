// The buddy build's extra exports (a second entry file of the `buddy` target,
// beside index.ts): the buddy engine's constants, check codes and the
// inspection the host's buddyinfo() reads. Other builds do not include it.

import { heap } from "./state";
import { buddyFreeCount } from "./buddy";

export {
  BUDDY_MIN_ORDER, BUDDY_MAX_ORDER, BUDDY_MAX_SIZE, BUDDY_PAGE_HEADER,
  CHECK_BUDDY_TAG, CHECK_BUDDY_MERGE, CHECK_BUDDY_LIST, CHECK_BUDDY_BITMAP, CHECK_BUDDY_COUNT,
} from "./buddy";
export { LAYER_BUDDY } from "./walk";
export { PAGE_BUDDY, BUDDY } from "./constants";

/** Free buddy blocks of `order` (BUDDY_MIN_ORDER … BUDDY_MAX_ORDER) on all pages. */
export function buddy_free_count(order: u32): u32 { return heap == 0 ? 0 : buddyFreeCount(order); }
