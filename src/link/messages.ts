// The message text of a linked module: the words its misuse reports are made
// of, written into its memory by the linker (a data segment of the config
// module, src/link/config.ts) and gathered into a line by the allocator
// (assembly/base/stderr.ts, which draws the format and says how it reads it).
//
// The words are the host's own (errors.ts): a report on a linked program's
// stderr reads as the WasmMallocError message of the same report, after
// "wasm-malloc: ".

import { ADVICE, COUNTED, DEFAULT_ADVICE, REASONS, namesByValue, operationName } from "../errors.js";

/** Codes per group: a code past the last slot reads the last (stderr.ts). */
const SLOTS = 16;

/** The glue between the words, entries 0 to 12 (stderr.ts's TEXT_PREFIX … TEXT_NEWLINE). */
const GLUE = [
  "wasm-malloc: ", " in ", "(0x", ")", " (block 0x", ", ", " bytes", ": ", " byte ", " bytes ",
  " went on and its result is valid", "; ", "\n",
];

/** The entries, in order: the glue, padded to 16, then per code the kind, reason, operation, advice and counted clause. */
export function messageEntries(): string[] {
  const kinds = namesByValue("ERR_");
  const reasons = namesByValue("REASON_");
  const slots = (entry: (code: number) => string) => Array.from({ length: SLOTS }, (_, code) => entry(code));
  const kindName = (code: number) => kinds.get(code) ?? `error-${code}`;
  return [
    ...GLUE, ...Array<string>(SLOTS - GLUE.length).fill(""),
    ...slots(kindName),
    ...slots((code) => REASONS[reasons.get(code) ?? ""] ?? ""),
    ...slots(operationName),
    ...slots((code) => ADVICE[kindName(code)] ?? DEFAULT_ADVICE),
    ...slots((code) => COUNTED[kindName(code)] ?? ""),
  ];
}

/** The text as it lies in memory: each entry its UTF-8 length in one byte, then its bytes. */
export function messageText(): Uint8Array {
  const encoder = new TextEncoder();
  const parts = messageEntries().map((entry) => {
    const bytes = encoder.encode(entry);
    if (bytes.length > 255) throw new RangeError(`message text entry "${entry.slice(0, 40)}…" is ${bytes.length} bytes; an entry holds at most 255`);
    return bytes;
  });
  const text = new Uint8Array(parts.reduce((sum, part) => sum + 1 + part.length, 0));
  let at = 0;
  for (const part of parts) {
    text[at++] = part.length;
    text.set(part, at);
    at += part.length;
  }
  return text;
}
