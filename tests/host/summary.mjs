// The counts tests/run.mjs reads from each runner's output, and its last line.
// CI parses "N passed, N failed" from that line: skips are added after it, never inside.

/** as-pect's summary ("[Tests]: 10 / 12") and its todos (one "[Todo]:" line each; it has no skip). */
export function aspectCounts(text) {
  const m = /\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/.exec(text);
  if (!m) return undefined;
  const passed = Number(m[1]);
  return { passed, failed: Number(m[2]) - passed, skipped: (text.match(/\[Todo\]:/g) ?? []).length };
}

/** node:test's TAP totals ("# pass 5", "# fail 0", "# cancelled 0", "# skipped 1", "# todo 0"). */
export function tapCounts(tap) {
  const count = (name) => Number((new RegExp(`^# ${name} (\\d+)`, "m").exec(tap) ?? [0, 0])[1]);
  return { passed: count("pass"), failed: count("fail") + count("cancelled"), skipped: count("skipped") + count("todo") };
}

/** "N passed, N failed", and " (N skipped)" when any test was skipped. */
export function summaryLine({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped ? ` (${skipped} skipped)` : ""}`;
}
