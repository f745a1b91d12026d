// What the host needs to know about a client module before instantiating it:
// the memory it imports (its declared limits) and the value of the
// `__heap_base` global it exports. The JS API tells neither, so this reads
// them from the binary: the import, global and export sections only.
//
//   section  id  what is read
//   import    2  memory limits (and how many globals are imported, for indices)
//   global    6  each global's initializer (i32.const N for __heap_base)
//   export    7  which global is exported as __heap_base

export interface MemoryImport {
  module: string;
  name: string;
  /** Pages. */
  initial: number;
  /** Pages; undefined when the module sets no maximum. */
  maximum?: number;
  shared: boolean;
}

export interface ModuleInfo {
  /** The memory the module imports, if it imports one. */
  memoryImport?: MemoryImport;
  /** True if the module defines its own memory. */
  definesMemory: boolean;
  /** The value of the exported `__heap_base` global, if exported with a constant initializer. */
  heapBase?: number;
  /** Names of the module's custom sections (e.g. "name"). */
  customSections: string[];
}

class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}
  get done(): boolean { return this.offset >= this.bytes.length; }
  byte(): number {
    if (this.offset >= this.bytes.length) throw new RangeError("unexpected end of the Wasm binary");
    return this.bytes[this.offset++];
  }
  u32(): number {
    let result = 0, shift = 0, b: number;
    do { b = this.byte(); result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return result;
  }
  s64(): bigint {
    let result = 0n, shift = 0n, b: number;
    do { b = this.byte(); result |= BigInt(b & 0x7f) << shift; shift += 7n; } while (b & 0x80);
    if (b & 0x40) result -= 1n << shift;
    return result;
  }
  name(): string {
    const length = this.u32();
    const text = new TextDecoder().decode(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return text;
  }
  skip(n: number): void { this.offset += n; }
  limits(): { initial: number; maximum?: number; shared: boolean } {
    const flags = this.byte();
    const initial = this.u32();
    const maximum = flags & 1 ? this.u32() : undefined;
    return { initial, maximum, shared: (flags & 2) !== 0 };
  }
  /** A constant expression; returns its value when it is a lone i32.const. */
  constExpr(): number | undefined {
    let value: number | undefined;
    let count = 0;
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return count === 1 ? value : undefined;
      count++;
      switch (op) {
        case 0x41: value = Number(BigInt.asUintN(32, this.s64())); break;   // i32.const
        case 0x42: this.s64(); value = undefined; break;                    // i64.const
        case 0x43: this.skip(4); value = undefined; break;                  // f32.const
        case 0x44: this.skip(8); value = undefined; break;                  // f64.const
        case 0x23: case 0xd2: this.u32(); value = undefined; break;         // global.get, ref.func
        case 0xd0: this.byte(); value = undefined; break;                   // ref.null
        case 0xfd: this.u32(); this.skip(16); value = undefined; break;     // v128.const
        case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e:    // extended const
          value = undefined; break;
        default: throw new RangeError(`unsupported instruction 0x${op.toString(16)} in a constant expression`);
      }
    }
  }
}

/** Read a module's memory import and exported `__heap_base` from its binary. */
export function moduleInfo(source: BufferSource): ModuleInfo {
  const bytes = ArrayBuffer.isView(source)
    ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
    : new Uint8Array(source);
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new TypeError("not a WebAssembly binary (no \\0asm magic)");
  }
  const r = new Reader(bytes);
  r.skip(8);
  const info: ModuleInfo = { definesMemory: false, customSections: [] };
  let importedGlobals = 0;
  const globalValues: (number | undefined)[] = [];
  let heapBaseIndex: number | undefined;
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const end = r.offset + size;
    if (id === 0) info.customSections.push(r.name());
    else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) r.u32();
        else if (kind === 1) { r.byte(); r.limits(); }
        else if (kind === 2) info.memoryImport = { module, name, ...r.limits() };
        else if (kind === 3) { r.byte(); r.byte(); importedGlobals++; globalValues.push(undefined); }
        else if (kind === 4) { r.byte(); r.u32(); }
        else throw new RangeError(`unknown import kind ${kind}`);
      }
    } else if (id === 5) {
      info.definesMemory = r.u32() > 0;
    } else if (id === 6) {
      for (let n = r.u32(); n > 0; n--) {
        r.byte(); // value type
        r.byte(); // mutability
        globalValues.push(r.constExpr());
      }
    } else if (id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        const name = r.name();
        const kind = r.byte();
        const index = r.u32();
        if (kind === 3 && name === "__heap_base") heapBaseIndex = index;
      }
    }
    r.offset = end;
  }
  if (heapBaseIndex !== undefined && heapBaseIndex >= importedGlobals) info.heapBase = globalValues[heapBaseIndex];
  return info;
}
