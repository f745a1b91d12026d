// The speed floor: a bump allocator whose free does nothing.
//
//   │ … │ size (4 B) │ payload (16-aligned) … │ size │ payload … │ top →
//
// It bumps through an arena of ARENA bytes past __heap_base and starts over at
// the base when the arena is full, overwriting what was there: contents are
// not kept. So it measures the call and a pointer bump, in memory that stays
// in cache, with no page faults and no memory.grow after the first pass: a
// floor for speed, not an allocator, and its memory figures mean nothing. A
// block larger than the arena grows the memory to fit (doubling, as TLSF).
// realloc moves and copies (up to the new size), so on realloc workloads it
// is no floor.

// @ts-ignore: decorator
@inline const ARENA: usize = 1 << 20;

let top: usize = 0;

export function malloc(size: usize): usize {
  let base = (__heap_base + 15) & ~15;
  if (top == 0) top = base;
  let ptr = (top + 4 + 15) & ~15;
  let end = ptr + size;
  if (end - base > ARENA) {
    ptr = base + 16;
    end = ptr + size;
  }
  let have = <usize>memory.size() << 16;
  if (end > have) {
    let need = <i32>((end - have + 0xffff) >>> 16);
    let want = max(need, memory.size());
    if (memory.grow(want) < 0 && memory.grow(need) < 0) return 0;
  }
  store<u32>(ptr - 4, <u32>size);
  top = end;
  return ptr;
}

export function free(ptr: usize): void {}

export function realloc(ptr: usize, size: usize): usize {
  if (ptr == 0) return malloc(size);
  if (size == 0) return 0;
  // The old size is read from its header; after a wrap the header may belong
  // to a newer block, so the copy is only kept inside the memory.
  let count = min(<usize>load<u32>(ptr - 4), size);
  let moved = malloc(size);
  if (moved == 0) return 0;
  let end = <usize>memory.size() << 16;
  if (ptr + count > end) count = end - ptr;
  memory.copy(moved, ptr, count);
  return moved;
}

export { __heap_base };
