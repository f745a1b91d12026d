// Checks on the values JS hands the allocator, made before any Wasm call.
//
// A Wasm i32 parameter takes any JS value and converts it without a word:
//
//   JS value       arrives as      so, unchecked
//   2**32 + 64     64              malloc(2**32 + 64) returns a 76-byte block
//   2**32          0               realloc(p, 2**32) frees p and returns 0
//   -1             4294967295      free(-1) reports a pointer nobody passed
//   2.9            2               calloc(2.9, 100) zeroes 200 bytes, not 290
//   NaN, "8MB"     0               maxMemory NaN means "no limit"
//   8n             TypeError from the engine, after nothing was checked
//
// So every size, count, alignment, pointer and option is checked here first:
// a non-number is a TypeError, a number that is not an integer in range a
// RangeError, and the message names the function, the argument, the value
// and what is accepted. Nothing reaches the module, so nothing changes.
// Values C accepts stay accepted (a size of 2^32-1 is legal C: malloc
// returns 0, as C does).

/** The largest wasm32 size, count or address. */
export const U32_MAX = 2 ** 32 - 1;

/** A value as the caller would recognise it in a message. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "function") return "a function";
  if (value === null || value === undefined || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return "an array";
  const kind = Object.getPrototypeOf(value)?.constructor?.name;
  return kind && kind !== "Object" ? `a ${kind}` : "an object";
}

/**
 * `value` as an integer in [min, max], else throw: TypeError for a non-number
 * (with a hint for a BigInt), RangeError otherwise. `accepted` says what is
 * accepted ("a byte count from 0 to 4294967295"). -0 is taken as 0.
 */
export function integerIn(where: string, what: string, value: unknown, min: number, max: number, accepted: string): number {
  if (typeof value !== "number") {
    const hint = typeof value === "bigint" ? " (convert a BigInt with Number())" : "";
    throw new TypeError(`${where}: ${what} ${show(value)} is not a number; pass ${accepted}${hint}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${where}: ${what} ${show(value)} is not ${accepted}`);
  return value + 0;
}

// The checks of the C API's arguments run on every call: the common case is
// one test (`x >>> 0 === x` holds exactly for the integers 0 … 2^32-1, and
// turns -0 into 0); the message is built only on the way to a throw.

/** A size in bytes as C takes it (size_t on wasm32). */
export function byteCount(where: string, what: string, value: unknown): number {
  if (typeof value === "number" && value >>> 0 === value) return value >>> 0;
  return integerIn(where, what, value, 0, U32_MAX, `a byte count from 0 to ${U32_MAX}`);
}

/** A number of elements (calloc's count). */
export function elementCount(where: string, what: string, value: unknown): number {
  if (typeof value === "number" && value >>> 0 === value) return value >>> 0;
  return integerIn(where, what, value, 0, U32_MAX, `a count from 0 to ${U32_MAX}`);
}

/** A pointer: any wasm32 address (the module judges whether it is a live block). */
export function address(where: string, what: string, value: unknown): number {
  if (typeof value === "number" && value >>> 0 === value) return value >>> 0;
  return integerIn(where, what, value, 0, U32_MAX, `an address from 0 to ${U32_MAX}`);
}

/**
 * An alignment as C's aligned_alloc takes it. Any size_t is a legal C input:
 * 0 and values that are not powers of two up to 65536 make aligned_alloc
 * return 0, as C does.
 */
export function alignment(where: string, what: string, value: unknown): number {
  if (typeof value === "number" && value >>> 0 === value) return value >>> 0;
  return integerIn(where, what, value, 0, U32_MAX, `an alignment from 0 to ${U32_MAX} (powers of two up to 65536 get memory)`);
}

/** A string argument. */
export function text(where: string, what: string, value: unknown): string {
  if (typeof value !== "string") throw new TypeError(`${where}: ${what} ${show(value)} is not a string`);
  return value;
}

// ── Options objects ───────────────────────────────────────────────────────
// An option left out (or undefined) takes its default; every other value,
// null included, must be of the option's type. Unknown names are ignored.

/** The options object itself: undefined (all defaults) or a plain object. */
export function optionsObject<T extends object>(where: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${where}: options ${show(value)} is not an object; pass { ... } or nothing`);
  }
  return value as Partial<T>;
}

/** A numeric option (undefined if left out). */
export function integerOption(where: string, name: string, value: unknown, min: number, max: number, accepted: string): number | undefined {
  return value === undefined ? undefined : integerIn(where, `option ${name}`, value, min, max, accepted);
}

/** An option that is one of a few strings (undefined if left out). */
export function oneOfOption<T extends string>(where: string, name: string, value: unknown, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const list = choices.map((c) => JSON.stringify(c)).join(", ");
  if (typeof value !== "string") throw new TypeError(`${where}: option ${name} ${show(value)} is not a string; pass one of ${list}`);
  if (!(choices as readonly string[]).includes(value)) throw new RangeError(`${where}: option ${name} ${show(value)} is not one of ${list}`);
  return value as T;
}

/** A string option (undefined if left out); `nonEmpty` refuses "". */
export function stringOption(where: string, name: string, value: unknown, nonEmpty = false): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new TypeError(`${where}: option ${name} ${show(value)} is not a string`);
  if (nonEmpty && value.length === 0) throw new RangeError(`${where}: option ${name} is the empty string; pass a file name`);
  return value;
}

/** A function option (undefined if left out). */
export function functionOption<F>(where: string, name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") throw new TypeError(`${where}: option ${name} ${show(value)} is not a function`);
  return value as F;
}

/** Where a Wasm module comes from: bytes, a URL or path, or a fetch Response (or, if `module`, a compiled Module). */
export function wasmSource(where: string, what: string, value: unknown, module = false): void {
  const ok = typeof value === "string" || value instanceof URL || value instanceof ArrayBuffer || ArrayBuffer.isView(value) ||
    (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer) ||
    (typeof Response !== "undefined" && value instanceof Response) || (module && value instanceof WebAssembly.Module);
  if (!ok) {
    throw new TypeError(`${where}: ${what} ${show(value)} is not a Wasm source; pass its bytes (ArrayBuffer, Uint8Array), a URL or path, a Response${module ? " or a WebAssembly.Module" : ""}`);
  }
}
