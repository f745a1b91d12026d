// Views over Wasm memory that survive its growth.
//
// `memory.grow` detaches the old ArrayBuffer: a Uint8Array taken before the
// growth then has length 0 and silently reads nothing (a classic bug). These
// views re-take themselves over the current buffer whenever it changed, so a
// view handed out once stays valid for the life of the block.

type Viewable = Uint8Array | DataView;

function live<T extends Viewable>(memory: WebAssembly.Memory, make: (buffer: ArrayBuffer) => T): T {
  let view = make(memory.buffer);
  const current = (): T => {
    if (view.buffer !== memory.buffer) view = make(memory.buffer);
    return view;
  };
  return new Proxy(view, {
    get(_target, prop) {
      const target = current();
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
    set(_target, prop, value) { return Reflect.set(current(), prop, value); },
    has(_target, prop) { return Reflect.has(current(), prop); },
    ownKeys() { return Reflect.ownKeys(current()); },
    getOwnPropertyDescriptor(_target, prop) { return Reflect.getOwnPropertyDescriptor(current(), prop); },
  });
}

/** A Uint8Array over [ptr, ptr + length) that stays valid when the memory grows. */
export function liveBytes(memory: WebAssembly.Memory, ptr: number, length: number): Uint8Array {
  return live(memory, (buffer) => new Uint8Array(buffer, ptr, length));
}

/** A DataView over [ptr, ptr + length) that stays valid when the memory grows. */
export function liveDataView(memory: WebAssembly.Memory, ptr: number, length: number): DataView {
  return live(memory, (buffer) => new DataView(buffer, ptr, length));
}
