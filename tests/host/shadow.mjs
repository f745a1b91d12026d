// The shadow model of the randomized tests: what should be live, where, and
// holding which bytes. Every check here can fail: it compares the allocator's
// answers with this independent bookkeeping.
import assert from "node:assert/strict";

export class ShadowHeap {
  constructor(heap) {
    this.heap = heap;
    /** Live blocks sorted by address: { ptr, end, size, tag }. */
    this.blocks = [];
  }

  indexOf(ptr) {
    let lo = 0, hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.blocks[mid].ptr < ptr) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Record a new block, checking alignment, usable size and that it overlaps no live block. */
  add(ptr, size, align, tag, what) {
    assert.notEqual(ptr, 0, `${what}: returned 0`);
    assert.equal(ptr % Math.max(align, 16), 0, `${what}: 0x${ptr.toString(16)} is not ${Math.max(align, 16)}-aligned`);
    const usable = this.heap.usableSize(ptr);
    assert.ok(usable >= size, `${what}: usable size ${usable} < requested ${size}`);
    const end = ptr + Math.max(usable, 1);
    assert.ok(end <= this.heap.memory.buffer.byteLength, `${what}: block passes the end of memory`);
    const at = this.indexOf(ptr);
    const before = this.blocks[at - 1];
    const after = this.blocks[at];
    if (before) assert.ok(before.end <= ptr, `${what}: 0x${ptr.toString(16)} overlaps the live block at 0x${before.ptr.toString(16)}`);
    if (after) assert.ok(end <= after.ptr, `${what}: 0x${ptr.toString(16)}+${usable} overlaps the live block at 0x${after.ptr.toString(16)}`);
    const block = { ptr, end, size, tag };
    this.blocks.splice(at, 0, block);
    return block;
  }

  remove(block) {
    const at = this.indexOf(block.ptr);
    assert.equal(this.blocks[at], block, "shadow model lost a block");
    this.blocks.splice(at, 1);
  }

  fill(block) {
    if (block.size > 0) new Uint8Array(this.heap.memory.buffer, block.ptr, block.size).fill(block.tag);
  }

  /** Check the bytes written into `block` (its first `length` bytes) are still there. */
  verify(block, length = block.size, what = "") {
    if (length === 0) return;
    const bytes = new Uint8Array(this.heap.memory.buffer, block.ptr, length);
    const tag = block.tag;
    if (length <= 1024) {
      for (let i = 0; i < length; i++) {
        if (bytes[i] !== tag) assert.fail(`${what}: byte ${i} of the block at 0x${block.ptr.toString(16)} is ${bytes[i]}, wrote ${tag}`);
      }
      return;
    }
    const step = Math.max(1, Math.floor(length / 97));
    for (let i = 0; i < length; i += step) {
      if (bytes[i] !== tag) assert.fail(`${what}: byte ${i} of the block at 0x${block.ptr.toString(16)} is ${bytes[i]}, wrote ${tag}`);
    }
    assert.equal(bytes[length - 1], tag, `${what}: last byte of the block at 0x${block.ptr.toString(16)} changed`);
  }
}
