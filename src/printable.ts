// Text from outside (a trace line, a file name, a Host header) made safe to print in an
// error message: a binary file or a hostile name must not reach the terminal as escape
// sequences, and a 100 KB line must not fill the screen.

/** Longest piece of outside text an error message quotes, in characters. */
export const QUOTE_LIMIT = 80;

// C0 and C1 controls, DEL, and the invisible or direction-changing characters a terminal
// would act on or hide (zero-width, bidi overrides, line/paragraph separators, BOM).
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

function escapeChar(char: string): string {
  const code = char.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}

/**
 * `text` with every control character shown as \xNN (others as \u{...}) and cut to
 * `limit` characters with "…": safe to print whatever the bytes were.
 */
export function printable(text: string, limit = QUOTE_LIMIT): string {
  // Cut first (by code points, so a surrogate pair stays whole), then escape: an
  // escape's four characters count as one, so a line of NULs still shows `limit` of them.
  const chars = Array.from(text.length > limit * 2 + 2 ? text.slice(0, limit * 2 + 2) : text);
  const cut = chars.length > limit;
  const kept = cut ? chars.slice(0, limit).join("") : text;
  return kept.replace(UNPRINTABLE, escapeChar) + (cut ? "…" : "");
}

/** `text` in double quotes, made printable. */
export function quoted(text: string, limit = QUOTE_LIMIT): string {
  return `"${printable(text, limit)}"`;
}

/** `text` with every unprintable character but the line break escaped, nothing cut: for whole messages (commander's, an error's). */
export function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => (char === "\n" ? char : escapeChar(char)));
}
