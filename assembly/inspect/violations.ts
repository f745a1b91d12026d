// Heap check violations: what heapCheck (check.ts), a heap walk (walk.ts) or
// a list walk (lists.ts) found broken, as CHECK_* codes. Each names the
// invariant (written in the layer file it belongs to) that does not hold;
// the host turns them into names and advice (src/errors.ts), the C header
// lists them. The guard layer's (28 … 31) are in api/guard.ts, the buddy
// engine's (40 … 44) in buddy/buddy.ts.

export const CHECK_OK: u32 = 0;
export const CHECK_PAGE_KIND: u32 = 1;          // a page map entry names no kind
export const CHECK_PAGE_BEYOND_TOP: u32 = 2;    // a page past the top is claimed
export const CHECK_RUN_LINKS: u32 = 3;          // free run list links disagree
export const CHECK_RUN_ORDER: u32 = 4;          // free runs out of order, or touching
export const CHECK_RUN_PAGES: u32 = 5;          // a free run's page is not PAGE_FREE
export const CHECK_RUN_FOOTER: u32 = 6;         // a free run's footer does not name it
export const CHECK_RUN_COUNT: u32 = 7;          // free pages not all on the run list
export const CHECK_BLOCK_SIZE: u32 = 8;         // a block size is not a multiple of 16, too small, or overruns
export const CHECK_BLOCK_FOOTER: u32 = 9;       // a free block's footer differs from its header
export const CHECK_PREV_FREE_BIT: u32 = 10;     // P bit disagrees with the previous block
export const CHECK_ADJACENT_FREE: u32 = 11;     // two free blocks side by side
export const CHECK_EPILOGUE: u32 = 12;          // a segment does not end with its epilogue
export const CHECK_FREE_NOT_LISTED: u32 = 13;   // a free block is on no list
export const CHECK_LISTED_NOT_FREE: u32 = 14;   // a list holds a block that is not free (or not a block)
export const CHECK_LIST_LINKS: u32 = 15;        // free list links disagree
export const CHECK_LIST_ORDER: u32 = 16;        // address-ordered list out of order
export const CHECK_WRONG_LIST: u32 = 17;        // a free block on another size's list
export const CHECK_BITMAP: u32 = 18;            // bitmap bit and list emptiness disagree
export const CHECK_LIST_DUPLICATE: u32 = 19;    // a block twice on the lists
export const CHECK_ROVER: u32 = 20;             // next fit's rover is not a listed block
export const CHECK_SLAB_HEADER: u32 = 21;       // slab span header corrupt
export const CHECK_SLAB_COUNT: u32 = 22;        // in-use count disagrees with the bitmap
export const CHECK_SLAB_FREE_LIST: u32 = 23;    // slab free list names a bad slot, or misses some
export const CHECK_SLAB_LIST: u32 = 24;         // class span list wrong (missing, duplicate, full span)
export const CHECK_LARGE: u32 = 25;             // a large-run tail page with no run before it, or a run past the top
export const CHECK_COUNTERS: u32 = 26;          // in-use/live counters disagree with the blocks
export const CHECK_STATE: u32 = 27;             // the heap state itself is implausible
export const CHECK_QUICK_LIST: u32 = 32;        // a quick list names a bad block, or a held block is on none
export const CHECK_WALK_CURSOR: u32 = 33;       // a walk reached an address where no entry starts (walk.ts)
export const CHECK_START_MAP: u32 = 34;         // a live block's start bit is clear, or a bit is set where no live block starts
export const CHECK_SPANS: u32 = 35;             // a free slab span off the free-span list (or the list names a non-free one), or a slab page's span count wrong

