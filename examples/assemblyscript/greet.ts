// greet: strings and typed arrays crossing between JS and AssemblyScript,
// through @assemblyscript/loader, with every object on wasm-malloc.
//
//   asc greet.ts --runtime node_modules/wasm-malloc/assembly/runtime/incremental \
//     --importMemory --exportRuntime -o greet.wasm
//
// --exportRuntime exports __new, __pin, __unpin, __collect and __rtti_base,
// which the loader's helpers (__newString, __getString, __getArray) need.

export function greet(name: string): string {
  return "Hello, " + name + "!";
}
export function squares(n: i32): Int32Array {
  let a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i * i;
  return a;
}
