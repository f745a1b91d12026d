// The link build's settings: constant globals of a small module that
// `wasm-malloc link` writes for each program (src/link/config.ts) and merges
// in beside the allocator. Imported here, they are constants once merged: the
// optimizer folds them into the code that reads them.
//
//   program memory (addresses the linker chose from the program's __heap_base)
//   │ program data + stack │ scratch (256 B) │ message text │ heap ──► grows
//                          scratch_at        text_at        heap_at
//
// The scratch area is where base/stderr.ts builds a misuse report (the
// iovecs and digits handed to fd_write); the message text is a data segment
// of the config module (src/link/messages.ts). The heap starts at heap_at.
// Only the link build reads these (under `if (LINK)`), so no other build
// imports them.

/** Misuse: print the report on stderr, then trap (as a libc's abort). */
export const MISUSE_ABORT: u32 = 0;
/** Misuse: print the report, and the call returns as the C API says (0, or nothing). */
export const MISUSE_REPORT: u32 = 1;
/** Misuse: print nothing; the call returns as the C API says. */
export const MISUSE_IGNORE: u32 = 2;

/** Placement policy (POLICY_*). */
@external("link_config", "policy") export declare const linkPolicy: u32;
/** OPTION_* bits. */
@external("link_config", "options") export declare const linkOptions: u32;
/** The most bytes the memory may grow to (0: no limit but wasm32's). */
@external("link_config", "max_bytes") export declare const linkMaxBytes: u64;
/** MISUSE_*. */
@external("link_config", "misuse") export declare const linkMisuse: u32;
/** The scratch area: 256 bytes above the program's data, for base/stderr.ts. */
@external("link_config", "scratch_at") export declare const linkScratchAt: usize;
/** The message text (src/link/messages.ts says its format). */
@external("link_config", "text_at") export declare const linkTextAt: usize;
/** Where the heap starts, above the text. */
@external("link_config", "heap_at") export declare const linkHeapAt: usize;
