// Misuse reports of the link build, written to stderr as a libc would.
//
// Merged into a program by `wasm-malloc link`, the allocator has no host to
// hand a report to. It writes one line to file descriptor 2 through WASI's
// fd_write, then traps (`unreachable`, as abort() stops a C program) unless
// the linker was told otherwise (base/link-config.ts, MISUSE_*):
//
//   wasm-malloc: double-free in free(0x12340) (block 0x12330, 112 bytes); the block was already freed; free each pointer once and drop it afterwards
//
// The same words, in the same order, as the host's WasmMallocError message
// (src/errors.ts), whose vocabulary the linker writes into memory as the
// message text: no text lives in this module, so it has no data segment to
// place. The line is gathered, not copied: each piece is one iovec pointing
// into the text, or at digits formatted in the scratch area.
//
// ╒═══ Message text (at text_at; written by src/link/messages.ts) ═══╕
//   entry i: u8 length, then that many bytes (UTF-8, no terminator)
//   0..12   the glue: "wasm-malloc: ", " in ", "(0x", ")", " (block 0x",
//           ", ", " bytes", ": ", " byte ", " bytes ",
//           " went on and its result is valid", "; ", "\n"
//   16 + k  kind k's name (ERR_*: "double-free", …)
//   32 + r  reason r's clause (REASON_*: "it is not 16-byte aligned", …)
//   48 + o  operation o's C name (OP_*: "free", "malloc_usable_size", …)
//   64 + k  kind k's advice
//   80 + k  kind k's counted clause ("past the end of the block were
//           overwritten"), empty for kinds whose reason is not a count
//   codes past 15 read slot 15 of their group
// ╘═══════════════════════════════════════════════════════════════════╛
// ╒═══ Scratch area (at scratch_at, 256 bytes the linker reserves) ═══╕
//   +0    iovec[24]   { u32 ptr, u32 len }: the pieces of the line (23 at most)
//   +192  u8[4][12]   digits of the numbers (hex pointers, decimal sizes)
//   +240  u32         fd_write's count of bytes written (unread)
// ╘═══════════════════════════════════════════════════════════════════╛

import { linkMisuse, linkScratchAt, linkTextAt, MISUSE_ABORT, MISUSE_IGNORE } from "./link-config";

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, count: usize, written: usize): u32;

const STDERR: u32 = 2;

// Entries of the message text (above).
const TEXT_PREFIX: u32 = 0;
const TEXT_IN: u32 = 1;
const TEXT_OPEN: u32 = 2;
const TEXT_CLOSE: u32 = 3;
const TEXT_BLOCK: u32 = 4;
const TEXT_COMMA: u32 = 5;
const TEXT_BYTES: u32 = 6;
const TEXT_COLON: u32 = 7;
const TEXT_BYTE_COUNTED: u32 = 8;
const TEXT_BYTES_COUNTED: u32 = 9;
const TEXT_WENT_ON: u32 = 10;
const TEXT_SEMICOLON: u32 = 11;
const TEXT_NEWLINE: u32 = 12;
const TEXT_KIND: u32 = 16;
const TEXT_REASON: u32 = 32;
const TEXT_OP: u32 = 48;
const TEXT_ADVICE: u32 = 64;
const TEXT_COUNTED: u32 = 80;

// The scratch area (above).
const IOVECS_AT: usize = 0;
const DIGITS_AT: usize = 192;
const DIGITS_BYTES: usize = 12;
const WRITTEN_AT: usize = 240;

/** iovecs gathered so far for the line being built. */
let pieces: usize = 0;

/** Entry `index` of the message text: its length byte (the text follows). */
function textEntry(index: u32): usize {
  let at = linkTextAt;
  for (let i: u32 = 0; i < index; i++) at += 1 + <usize>load<u8>(at);
  return at;
}

/** Entry `group + code` of the text, codes past 15 read slot 15. */
@inline function textSlot(group: u32, code: u32): u32 { return group + min<u32>(code, 15); }

function addBytes(at: usize, length: usize): void {
  let iovec = linkScratchAt + IOVECS_AT + (pieces << 3);
  store<u32>(iovec, <u32>at);
  store<u32>(iovec, <u32>length, 4);
  pieces++;
}

function addText(index: u32): void {
  let entry = textEntry(index);
  addBytes(entry + 1, <usize>load<u8>(entry));
}

/** `value` in `radix` (10 or 16, lower case), written into digit slot `slot`. */
function addNumber(value: u32, radix: u32, slot: usize): void {
  let end = linkScratchAt + DIGITS_AT + (slot + 1) * DIGITS_BYTES;
  let at = end;
  do {
    let digit = value % radix;
    store<u8>(--at, digit < 10 ? 0x30 + digit : 0x57 + digit); // '0'…'9', 'a'…'f'
    value /= radix;
  } while (value != 0);
  addBytes(at, end - at);
}

/** Build the line for a report (see report.ts for the fields) and write it to stderr. */
function writeReport(kind: u32, reason: u32, op: u32, ptr: usize, block: usize, size: usize, noticed: bool): void {
  pieces = 0;
  addText(TEXT_PREFIX);
  addText(textSlot(TEXT_KIND, kind));
  addText(TEXT_IN);
  addText(textSlot(TEXT_OP, op));
  addText(TEXT_OPEN);
  addNumber(<u32>ptr, 16, 0);
  addText(TEXT_CLOSE);
  if (block != 0) {
    addText(TEXT_BLOCK);
    addNumber(<u32>block, 16, 1);
    if (size != 0) {
      addText(TEXT_COMMA);
      addNumber(<u32>size, 10, 2);
      addText(TEXT_BYTES);
    }
    addText(TEXT_CLOSE);
  }
  // A kind whose `reason` is a byte count (overflow, use after free) says how
  // many; any other names the reason, if it has a clause.
  let counted = textEntry(textSlot(TEXT_COUNTED, kind));
  if (load<u8>(counted) != 0) {
    if (reason != 0) {
      addText(TEXT_COLON);
      addNumber(reason, 10, 3);
      addText(reason == 1 ? TEXT_BYTE_COUNTED : TEXT_BYTES_COUNTED);
      addBytes(counted + 1, <usize>load<u8>(counted));
    }
  } else {
    let clause = textEntry(textSlot(TEXT_REASON, reason));
    if (load<u8>(clause) != 0) {
      addText(TEXT_COLON);
      addBytes(clause + 1, <usize>load<u8>(clause));
    }
  }
  if (noticed) {
    addText(TEXT_SEMICOLON);
    addText(textSlot(TEXT_OP, op));
    addText(TEXT_WENT_ON);
  }
  addText(TEXT_SEMICOLON);
  addText(textSlot(TEXT_ADVICE, kind));
  addText(TEXT_NEWLINE);
  // A failed write (stderr closed) leaves nothing else to do: the mode decides what follows.
  fd_write(STDERR, linkScratchAt + IOVECS_AT, pieces, linkScratchAt + WRITTEN_AT);
}

/** A call rejected as misuse: reported as the linker was told, then a trap unless told to go on. */
export function misuseToStderr(kind: u32, reason: u32, op: u32, ptr: usize, block: usize, size: usize): void {
  if (linkMisuse == MISUSE_IGNORE) return;
  writeReport(kind, reason, op, ptr, block, size, false);
  if (linkMisuse == MISUSE_ABORT) unreachable();
}

/** Damage noticed and worked around during a call that goes on: reported, never a trap. */
export function noticeToStderr(kind: u32, reason: u32, op: u32, ptr: usize, block: usize, size: usize): void {
  if (linkMisuse == MISUSE_IGNORE) return;
  writeReport(kind, reason, op, ptr, block, size, true);
}
