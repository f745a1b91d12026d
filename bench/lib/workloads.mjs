// Workloads: seeded, deterministic operation streams, generated once per run
// and fed unchanged to every allocator and both drivers.
//
// An operation stream is two parallel typed arrays:
//   codes[i] = kind << 30 | slot     kind 0 malloc, 1 free, 2 realloc
//   sizes[i] = bytes                  (0 for free)
// A slot holds one live pointer. Slots are handed out from a stack of free
// slots, so the slot count stays at the peak number of live blocks (the Wasm
// driver keeps them in a fixed table, see allocators.mjs).
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

export const MALLOC = 0;
export const FREE = 1;
export const REALLOC = 2;
export const SLOT_MASK = 0x3fffffff;

// ── Random numbers ──────────────────────────────────────────────────────────
/** mulberry32: a small seeded PRNG; returns floats in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export const uniform = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
export const logUniform = (rand, lo, hi) => Math.min(hi, Math.floor(Math.exp(Math.log(lo) + rand() * (Math.log(hi + 1) - Math.log(lo)))));

// ── The stream builder ──────────────────────────────────────────────────────
/**
 * Records operations on slots and keeps what every allocator is measured
 * against: the live payload (bytes asked for and not yet freed) and its peak.
 */
class StreamBuilder {
  constructor(capacity = 1 << 16) {
    this.codes = new Uint32Array(capacity);
    this.sizes = new Uint32Array(capacity);
    this.count = 0;
    this.freeSlots = [];
    this.slotCount = 0;
    this.slotSize = [];      // requested size per live slot (-1: not live)
    this.live = 0;           // live payload bytes
    this.liveBlocks = 0;
    this.peakLive = 0;
    this.calls = { malloc: 0, free: 0, realloc: 0 };
  }
  push(kind, slot, size) {
    if (this.count === this.codes.length) {
      const grow = (a) => { const b = new Uint32Array(a.length * 2); b.set(a); return b; };
      this.codes = grow(this.codes);
      this.sizes = grow(this.sizes);
    }
    this.codes[this.count] = ((kind << 30) | slot) >>> 0;
    this.sizes[this.count] = size;
    this.count++;
  }
  /** malloc(size) into a fresh slot; returns the slot. */
  malloc(size) {
    const slot = this.freeSlots.length ? this.freeSlots.pop() : this.slotCount++;
    this.push(MALLOC, slot, size);
    this.slotSize[slot] = size;
    this.live += size;
    this.liveBlocks++;
    if (this.live > this.peakLive) this.peakLive = this.live;
    this.calls.malloc++;
    return slot;
  }
  free(slot) {
    this.push(FREE, slot, 0);
    this.live -= this.slotSize[slot];
    this.slotSize[slot] = -1;
    this.liveBlocks--;
    this.freeSlots.push(slot);
    this.calls.free++;
  }
  realloc(slot, size) {
    this.push(REALLOC, slot, size);
    this.live += size - this.slotSize[slot];
    this.slotSize[slot] = size;
    if (this.live > this.peakLive) this.peakLive = this.live;
    this.calls.realloc++;
  }
  finish(name, description, extra = {}) {
    return {
      name,
      description,
      codes: this.codes.subarray(0, this.count),
      sizes: this.sizes.subarray(0, this.count),
      count: this.count,
      slots: this.slotCount,
      peakLive: this.peakLive,
      calls: { ...this.calls },
      ...extra,
    };
  }
}

/** A list of live slots with O(1) random removal. */
class LiveSet {
  constructor() { this.slots = []; }
  get size() { return this.slots.length; }
  add(slot) { this.slots.push(slot); }
  pick(rand) { return this.slots[Math.floor(rand() * this.slots.length)]; }
  takeRandom(rand) {
    const i = Math.floor(rand() * this.slots.length);
    const slot = this.slots[i];
    this.slots[i] = this.slots[this.slots.length - 1];
    this.slots.pop();
    return slot;
  }
}

// ── The synthetic workloads ─────────────────────────────────────────────────
// Full sizes as the issue states them; `scale` (--quick) shrinks the counts.

/** s1: malloc+free pairs, 16..256 B, each block freed at once (LIFO). */
function s1(scale, seed) {
  const pairs = Math.max(1000, Math.round(2_000_000 * scale));
  const rand = rng(seed ?? 0x5101);
  const b = new StreamBuilder(pairs * 2);
  for (let i = 0; i < pairs; i++) b.free(b.malloc(uniform(rand, 16, 256)));
  return b.finish("s1", `${fmt(pairs)} malloc+free pairs, 16..256 B uniform, each block freed right after its malloc`);
}

/** s2: a pool of live blocks churned: free a random one, malloc a new one. */
function s2(scale, seed) {
  const liveTarget = Math.max(500, Math.round(20_000 * Math.sqrt(scale)));
  const ops = Math.max(4000, Math.round(2_000_000 * scale));
  const rand = rng(seed ?? 0x5202);
  const b = new StreamBuilder(ops + 2 * liveTarget);
  const live = new LiveSet();
  for (let i = 0; i < liveTarget; i++) live.add(b.malloc(logUniform(rand, 8, 65536)));
  for (let i = 0; i < ops; i += 2) {
    b.free(live.takeRandom(rand));
    live.add(b.malloc(logUniform(rand, 8, 65536)));
  }
  while (live.size) b.free(live.takeRandom(rand));
  return b.finish("s2", `${fmt(liveTarget)} live blocks, ${fmt(ops)} ops (free a random live block, then malloc), 8 B..64 KiB log-uniform; plus the fill and the final frees`);
}

/** s3: vectors grown by doubling, 16 B to 256 KiB, 8 growing at a time. */
function s3(scale) {
  const rounds = Math.max(4, Math.round(1000 * scale));
  const b = new StreamBuilder(rounds * 128);
  for (let r = 0; r < rounds; r++) {
    const vectors = [];
    for (let v = 0; v < 8; v++) vectors.push(b.malloc(16));
    for (let size = 32; size <= 256 * 1024; size *= 2) for (const v of vectors) b.realloc(v, size);
    for (const v of vectors) b.free(v);
  }
  return b.finish("s3", `${fmt(rounds)} rounds of 8 vectors grown by realloc, doubling 16 B → 256 KiB, then freed`);
}

/** s4: large blocks, 64 KiB..4 MiB log-uniform, at most 64 live. */
function s4(scale, seed) {
  const ops = Math.max(2000, Math.round(200_000 * scale));
  const rand = rng(seed ?? 0x5404);
  const b = new StreamBuilder(ops + 64);
  const live = new LiveSet();
  for (let i = 0; i < ops; i++) {
    if (live.size === 0 || (live.size < 64 && rand() < 0.5)) live.add(b.malloc(logUniform(rand, 65536, 4 << 20)));
    else b.free(live.takeRandom(rand));
  }
  while (live.size) b.free(live.takeRandom(rand));
  return b.finish("s4", `${fmt(ops)} ops, 64 KiB..4 MiB log-uniform, at most 64 live`);
}

/** s5: random actions, 1..10,000 B, at least 50 live; with or without realloc. */
function s5(scale, withRealloc, seed) {
  const ops = Math.max(4000, Math.round(1_000_000 * scale));
  const rand = rng(seed ?? (withRealloc ? 0x5505 : 0x5506));
  const b = new StreamBuilder(ops + 4096);
  const live = new LiveSet();
  for (let i = 0; i < ops; i++) {
    const x = rand();
    if (live.size < 50) live.add(b.malloc(uniform(rand, 1, 10_000)));
    else if (withRealloc ? x < 1 / 3 : x < 0.5) live.add(b.malloc(uniform(rand, 1, 10_000)));
    else if (withRealloc ? x < 2 / 3 : true) b.free(live.takeRandom(rand));
    else b.realloc(live.pick(rand), uniform(rand, 1, 10_000));
  }
  while (live.size) b.free(live.takeRandom(rand));
  const mix = withRealloc ? "malloc, free, realloc 1/3 each" : "malloc, free 1/2 each";
  return b.finish(withRealloc ? "s5r" : "s5", `${fmt(ops)} random actions (${mix}), 1..10,000 B uniform, at least 50 live`);
}

// ── CS:APP traces ───────────────────────────────────────────────────────────
/**
 * A malloc-lab .rep trace, replayed `repeat` times back to back (a trace is a
 * few thousand operations: too short to time alone). Ids map to slots; blocks
 * a pass leaves live are freed before the next pass.
 */
export function traceWorkload(file, minOps) {
  const ops = traceOps(file);
  const repeat = Math.max(1, Math.ceil(minOps / Math.max(1, ops.length)));
  const b = new StreamBuilder(ops.length * repeat + 64);
  let peakOnePass = 0;
  for (let r = 0; r < repeat; r++) {
    const slotOf = new Map();
    for (const [op, id, size] of ops) {
      if (op === "a") slotOf.set(id, b.malloc(size));
      else if (op === "f") { b.free(slotOf.get(id)); slotOf.delete(id); }
      else if (slotOf.has(id)) b.realloc(slotOf.get(id), size);
      else slotOf.set(id, b.malloc(size)); // realloc of an id not yet live: malloc
    }
    if (r === 0) peakOnePass = b.peakLive;
    for (const slot of slotOf.values()) b.free(slot);
  }
  const name = path.basename(file);
  return b.finish(name, `${name}: ${fmt(ops.length)} ops × ${repeat}`, { trace: true, file, repeat, peakLive: peakOnePass });
}

/** A trace file's operations as [kind, id, size]; gzipped files (traces/real/) are unpacked. */
function traceOps(file) {
  const bytes = fs.readFileSync(file);
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes) : bytes).toString("utf8");
  const ops = [];
  let i = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (i++ < 4) continue; // header: heap size, ids, ops, weight
    const [op, id, size] = line.split(/\s+/);
    if (op === "a" || op === "r") ops.push([op, Number(id), Number(size)]);
    else if (op === "f") ops.push([op, Number(id), 0]);
    else throw new Error(`${file}: line ${i}: unknown operation '${op}'`);
  }
  return ops;
}

// ── Traces of real programs ─────────────────────────────────────────────────
/**
 * A trace of a real program (traces/real/NAME.rep.gz), replayed once: it is
 * long enough to time alone. Blocks still live at its end (a trace cut short,
 * or a program that exits without freeing) are freed after it, so every
 * allocator ends empty; those frees count in the operations.
 */
export function realTraceWorkload(file) {
  const ops = traceOps(file);
  const b = new StreamBuilder(ops.length + 1024);
  const slotOf = new Map();
  for (const [op, id, size] of ops) {
    if (op === "a") slotOf.set(id, b.malloc(size));
    else if (op === "f") { b.free(slotOf.get(id)); slotOf.delete(id); }
    else b.realloc(slotOf.get(id), size);
  }
  const left = slotOf.size;
  for (const slot of slotOf.values()) b.free(slot);
  const name = path.basename(file).replace(/\.rep\.gz$/, "");
  return b.finish(name, `${name}: the trace's ${fmt(ops.length)} ops${left ? `, then ${fmt(left)} frees of the blocks it leaves live` : ""}`, { real: true, file, traceOps: ops.length });
}

// ── The catalogue ───────────────────────────────────────────────────────────
export const SYNTHETIC = ["s1", "s2", "s3", "s4", "s5", "s5r"];

/**
 * Builds the named synthetic workload at `scale` (1: the issue's sizes). A
 * `seed` replaces the workload's own (the benchmark uses those; other seeds
 * show how much a figure moves with the draw: bench/seeds.mjs).
 */
export function synthetic(name, scale, seed) {
  switch (name) {
    case "s1": return s1(scale, seed);
    case "s2": return s2(scale, seed);
    case "s3": return s3(scale);
    case "s4": return s4(scale, seed);
    case "s5": return s5(scale, false, seed);
    case "s5r": return s5(scale, true, seed);
    default: throw new Error(`unknown workload '${name}'`);
  }
}

/** The codes and sizes interleaved, as the Wasm driver reads them (8 bytes per operation). */
export function packed(w) {
  if (!w.packed) {
    const p = new Uint32Array(w.count * 2);
    for (let i = 0; i < w.count; i++) {
      p[2 * i] = w.codes[i];
      p[2 * i + 1] = w.sizes[i];
    }
    w.packed = p;
  }
  return w.packed;
}

function fmt(n) { return n.toLocaleString("en-US"); }
