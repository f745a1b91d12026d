// AssemblyScript's own TLSF (std/assembly/rt/tlsf.ts) behind one global lock,
// for the threads benchmark (bench/threads.mjs): one instance per thread over
// one shared, imported memory. Built by bench/lib/build.mjs with --runtime
// minimal --enable threads --importMemory --sharedMemory.
//
// What is shared and what is not. TLSF's state lives in linear memory (its
// root at __heap_base, then the blocks), so every instance sees the same heap;
// but the runtime finds the root through the Wasm global ROOT, which is per
// instance and starts at 0, and the first heap.alloc of an instance whose ROOT
// is 0 lays a fresh root over the heap. So one instance initializes
// (heap_init) and publishes the root's address; every other instance copies it
// into its own ROOT (heap_attach) before its first call. Only heap.alloc,
// heap.realloc and heap.free run; nothing of the GC (minimal runtime, never
// collected), whose state would be per instance.
//
// The lock cannot sit in this module's static data: with an imported memory,
// every instantiation writes the module's data segments again, and a worker
// starting up would reset a lock another holds. So the lock and the published
// root live at `base`, 8 bytes the harness reserves outside TLSF's heap (below
// __heap_base): [base] lock word, [base + 4] root address.
//
// heap.realloc and heap.free expect a live block, so the C edge cases are
// handled here, as in peers/tlsf.ts.
import { ROOT } from "rt/tlsf";

/** This instance's copy of `base` (0 until heap_init or heap_attach). */
let control: usize = 0;

// ── The lock: 0 free, 1 held, 2 held with waiters (Drepper's futex mutex) ──
// A bounded spin first (the critical sections are short), then
// memory.atomic.wait32 until the holder's unlock notifies.
@inline function lock(): void {
  for (let spin = 0; spin < 100; spin++) {
    if (atomic.cmpxchg<i32>(control, 0, 1) == 0) return;
  }
  while (atomic.xchg<i32>(control, 2) != 0) atomic.wait<i32>(control, 2, -1);
}

@inline function unlock(): void {
  if (atomic.xchg<i32>(control, 0) == 2) atomic.notify(control, 1);
}

/** `ptr` as a value of `like`'s type (ROOT's class is not exported by name). */
function retype<T>(like: T, ptr: usize): T {
  return changetype<T>(ptr);
}

/** One instance, first. maxBytes is not enforced: TLSF grows to the memory's maximum. 0 on success. */
export function heap_init(base: usize, maxBytes: usize): i32 {
  if (base == 0 || (base & 3) != 0 || base + 8 > __heap_base) return 1;
  control = base;
  atomic.store<i32>(control, 0);
  heap.free(heap.alloc(0)); // lays the root at __heap_base (sets this instance's ROOT)
  atomic.store<u32>(control, changetype<usize>(ROOT), 4); // publish
  return 0;
}

/** Every other instance, before its first call: 0 once heap_init has published the root. */
export function heap_attach(base: usize): i32 {
  if (base == 0 || (base & 3) != 0 || base + 8 > __heap_base) return 1;
  let root = atomic.load<u32>(base, 4);
  if (root == 0) return 1;
  control = base;
  ROOT = retype(ROOT, root);
  return 0;
}

export function malloc(size: usize): usize {
  lock();
  let ptr = heap.alloc(size);
  unlock();
  return ptr;
}

export function free(ptr: usize): void {
  if (ptr == 0) return;
  lock();
  heap.free(ptr);
  unlock();
}

export function realloc(ptr: usize, size: usize): usize {
  lock();
  let result: usize = 0;
  if (ptr == 0) result = heap.alloc(size);
  else if (size == 0) heap.free(ptr);
  else result = heap.realloc(ptr, size);
  unlock();
  return result;
}

export { __heap_base };
