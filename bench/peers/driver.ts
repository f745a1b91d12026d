// The Wasm driver: runs an operation stream against any allocator through
// Wasm imports, over one memory shared with it (no JS boundary per call).
//
// Operations are 8 bytes each, written by the harness at `ops`:
//   word 0: kind << 30 | slot     kind 0 malloc, 1 free, 2 realloc
//   word 1: size                  (unused by free)
// `slots` is an array of u32 pointers indexed by slot. Both live in the
// driver's region, below the allocator's heap (see bench/lib/allocators.mjs).

@external("alloc", "malloc") declare function malloc(size: usize): usize;
@external("alloc", "free") declare function free(ptr: usize): void;
@external("alloc", "realloc") declare function realloc(ptr: usize, size: usize): usize;

export function run(ops: usize, count: u32, slots: usize): void {
  let end = ops + (<usize>count << 3);
  while (ops < end) {
    let code = load<u32>(ops);
    let size = load<u32>(ops, 4);
    let slot = slots + ((code & 0x3fffffff) << 2);
    let kind = code >>> 30;
    if (kind == 0) {
      store<u32>(slot, malloc(size));
    } else if (kind == 1) {
      free(load<u32>(slot));
    } else {
      store<u32>(slot, realloc(load<u32>(slot), size));
    }
    ops += 8;
  }
}
