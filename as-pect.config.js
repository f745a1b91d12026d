// as-pect: unit tests of the Wasm side (tests/assembly/*.spec.ts).
// The allocator's misuse reports go to `env.wasm_malloc_report`; the tests
// read the last one back through `env.test_last_report(field)`.
let lastReport = [0, 0, 0, 0, 0, 0];
let reportCount = 0;

export default {
  entries: ["tests/assembly/**/*.spec.ts"],
  include: ["tests/assembly/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    const imports = {
      env: {
        memory,
        wasm_malloc_report(kind, reason, op, ptr, block, size) {
          lastReport = [kind, reason, op, ptr, block, size];
          reportCount++;
        },
        test_last_report(field) { return field < 6 ? lastReport[field] : reportCount; },
        test_clear_report() { lastReport = [0, 0, 0, 0, 0, 0]; },
      },
    };
    return instantiate(binary, createImports(imports));
  },
  outputBinary: false,
};
