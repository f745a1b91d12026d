// The config module of a link: what the allocator in a linked program reads
// where a host would have told it (assembly/base/link-config.ts), as
// constant globals, and the message text as a data segment. Merged in beside
// the allocator, its globals fold into the code that reads them.
//
//   memory │ program data + stack │ scratch │ message text │ heap ──►
//          0                      │ 256 B   │              │
//                       scratchAt ┘ textAt ─┘      heapAt ─┘  (each 16-aligned)
//
// scratchAt is the program's __heap_base (16-aligned up): nothing of the
// program's lies at or above it, and the heap would have begun there.

import { LAYOUT } from "../layout.js";
import { messageText } from "./messages.js";

/** Bytes the allocator's stderr reports build their line in (assembly/base/stderr.ts uses 244). */
export const SCRATCH_BYTES = 256;

/** assembly/base/link-config.ts's MISUSE_* codes, by the name --on-misuse takes. */
export const MISUSE_MODES = { abort: 0, report: 1, ignore: 2 } as const;
export type MisuseMode = keyof typeof MISUSE_MODES;

export interface LinkLayout {
  scratchAt: number;
  textAt: number;
  heapAt: number;
  /** The message text, placed at textAt. */
  text: Uint8Array;
  /** First address past the text: the memory must start at least this large. */
  textEnd: number;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** Where the scratch area, the text and the heap go above a program's `heapBase`. */
export function linkLayout(heapBase: number): LinkLayout {
  const scratchAt = align16(heapBase);
  const textAt = scratchAt + SCRATCH_BYTES;
  const text = messageText();
  const textEnd = textAt + text.length;
  return { scratchAt, textAt, heapAt: align16(textEnd), text, textEnd };
}

export interface ConfigValues {
  policy: number;
  /** OPTION_* bits. */
  options: number;
  /** The most bytes the memory may grow to (0: no limit but wasm32's). */
  maxBytes: number;
  misuse: MisuseMode;
}

/** The config module's text (WebAssembly text format): globals named as link-config.ts imports them, and the text. */
export function configModuleText(layout: LinkLayout, values: ConfigValues): string {
  const i32 = (name: string, value: number) => `  (global (export "${name}") i32 (i32.const ${value | 0}))`;
  const bytes = Array.from(layout.text, (byte) => `\\${byte.toString(16).padStart(2, "0")}`).join("");
  return [
    "(module",
    '  (import "env" "memory" (memory 0))',
    i32("policy", values.policy),
    i32("options", values.options),
    `  (global (export "max_bytes") i64 (i64.const ${values.maxBytes}))`,
    i32("misuse", MISUSE_MODES[values.misuse]),
    i32("scratch_at", layout.scratchAt),
    i32("text_at", layout.textAt),
    i32("heap_at", layout.heapAt),
    `  (data (i32.const ${layout.textAt | 0}) "${bytes}")`,
    ")",
    "",
  ].join("\n");
}

/** OPTION_* bits for the slabs option. */
export function optionBits(slabs: boolean): number {
  return slabs ? 0 : LAYOUT.OPTION_NO_SLABS;
}
