// churn: an allocation-heavy AssemblyScript program that checks its own results.
//
// Maps of strings to class instances, arrays that grow and shrink, strings
// built and split, trees of objects created and dropped, explicit full
// collections (__collect) between phases. Each phase prints one line through
// the imported `env.line`; any wrong result aborts. The output is the same
// under any correct memory manager: AssemblyScript's TLSF, or wasm-malloc
// (--runtime node_modules/wasm-malloc/assembly/runtime/incremental).
//
// One phase also uses raw memory through `import { malloc, free } from
// "wasm-malloc/assembly"`: under TLSF that is wasm-malloc compiled into the
// program beside TLSF; under wasm-malloc's runtime, the linked allocator.

import { malloc, free, calloc, realloc, malloc_usable_size, heap_check } from "wasm-malloc/assembly";

@external("env", "line")
declare function line(text: usize, length: i32): void;

function print(text: string): void { line(changetype<usize>(text), text.length); }

let seed: u32 = 2463534242;
function rng(): u32 {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

class Account {
  history: Array<i32> = new Array<i32>();
  constructor(public id: i32, public owner: string, public balance: i64) {}
  deposit(amount: i32): void { this.history.push(amount); this.balance += amount; }
}

class TreeNode {
  children: Array<TreeNode> = [];
  label: string;
  constructor(public depth: i32, public value: i32) { this.label = "node-" + value.toString(); }
}

function buildTree(depth: i32, value: i32): TreeNode {
  let node = new TreeNode(depth, value);
  if (depth > 0) for (let i = 0; i < 3; i++) node.children.push(buildTree(depth - 1, value * 3 + i + 1));
  return node;
}

function sumTree(node: TreeNode): i64 {
  let sum: i64 = node.value;
  assert(node.label == "node-" + node.value.toString(), "tree label");
  for (let i = 0; i < node.children.length; i++) sum += sumTree(node.children[i]);
  return sum;
}

function hashString(s: string): u32 {
  let h: u32 = 2166136261;
  for (let i = 0; i < s.length; i++) h = (h ^ <u32>s.charCodeAt(i)) * 16777619;
  return h;
}

/** Maps of objects: insert, update, delete, check against a plain array model. */
function phaseMaps(): void {
  let accounts = new Map<string, Account>();
  let model = new Array<i64>(3000); // balance + 1 of live accounts, 0 = absent
  let ops = 0;
  for (let n = 0; n < 30000; n++) {
    let id = <i32>(rng() % 3000);
    let key = "acct:" + id.toString();
    let choice = rng() % 10;
    if (choice < 6) {
      if (!accounts.has(key)) { accounts.set(key, new Account(id, "owner " + id.toString(), 0)); model[id] = 1; }
      let amount = <i32>(rng() % 1000);
      accounts.get(key).deposit(amount);
      model[id] += amount;
    } else if (choice < 9) {
      if (accounts.has(key)) { accounts.delete(key); model[id] = 0; }
    } else {
      assert(accounts.has(key) == (model[id] != 0), "map membership");
    }
    ops++;
  }
  let total: i64 = 0;
  let live = 0;
  for (let id = 0; id < 3000; id++) {
    let key = "acct:" + id.toString();
    assert(accounts.has(key) == (model[id] != 0), "final membership");
    if (model[id] != 0) {
      let a = accounts.get(key);
      assert(a.balance + 1 == model[id], "balance");
      let sum: i64 = 0;
      for (let i = 0; i < a.history.length; i++) sum += a.history[i];
      assert(sum == a.balance, "history");
      total += a.balance;
      live++;
    }
  }
  print("maps: " + ops.toString() + " operations, " + live.toString() + " accounts, total " + total.toString());
}

/** Arrays: grow by push, shrink by pop and length, splice, sort; dirty memory first. */
function phaseArrays(): void {
  // Leave garbage behind: arrays filled with non-zero bytes, then dropped and collected.
  for (let round = 0; round < 20; round++) {
    let junk = new Array<u32>(1000 + round * 37);
    for (let i = 0; i < junk.length; i++) junk[i] = 0xdeadbeef;
  }
  __collect();
  // Byte arrays grown in place (within the block's rounding) over dirty memory: the
  // runtime promises zeros there, and Array skips its own fill under it.
  for (let round = 0; round < 200; round++) {
    let dirty = new Array<u8>(16);
    for (let i = 0; i < 16; i++) dirty[i] = 0xff;
  }
  __collect();
  let zeros = 0;
  for (let round = 0; round < 200; round++) {
    let bytes = new Array<u8>(9);
    for (let i = 0; i < 9; i++) bytes[i] = 1;
    bytes.length = 16;
    for (let i = 9; i < 16; i++) assert(bytes[i] == 0, "array grown in place not zeroed");
    zeros += 7;
  }
  // New arrays over that memory must read zero wherever they were not written.
  for (let round = 0; round < 20; round++) {
    let a = new Array<u32>(0);
    for (let i = 0; i < 700 + round * 13; i++) {
      a.push(<u32>i);
      if (i % 97 == 0) { a.length = a.length + 5; zeros += 5; for (let k = 0; k < 5; k++) assert(a[a.length - 1 - k] == 0, "grown array not zeroed"); }
    }
    let f = new Float64Array(512 + round);
    for (let i = 0; i < f.length; i++) assert(f[i] == 0, "typed array not zeroed");
    let s = new StaticArray<u64>(300 + round);
    for (let i = 0; i < s.length; i++) assert(s[i] == 0, "static array not zeroed");
  }
  let numbers = new Array<i32>();
  for (let i = 0; i < 20000; i++) numbers.push(<i32>(rng() % 100000));
  numbers.sort((a, b) => a - b);
  for (let i = 1; i < numbers.length; i++) assert(numbers[i - 1] <= numbers[i], "sorted");
  let removed = numbers.splice(1000, 5000);
  while (numbers.length > 7000) numbers.pop();
  let sum: i64 = 0;
  for (let i = 0; i < numbers.length; i++) sum += numbers[i];
  print("arrays: " + zeros.toString() + " zeroed slots checked, kept " + numbers.length.toString() + ", removed " + removed.length.toString() + ", sum " + sum.toString());
}

/** Strings: concatenation, split, join, replace, a rope of pieces. */
function phaseStrings(): void {
  let pieces = new Array<string>();
  for (let i = 0; i < 5000; i++) pieces.push("w" + (rng() % 1000).toString());
  let text = pieces.join(" ");
  let words = text.split(" ");
  assert(words.length == pieces.length, "split");
  for (let i = 0; i < words.length; i++) assert(words[i] == pieces[i], "word");
  let built = "";
  for (let i = 0; i < 3000; i++) built += String.fromCharCode(97 + i % 26);
  let replaced = text.replaceAll("w1", "W-ONE");
  let upper = built.toUpperCase();
  print("strings: " + text.length.toString() + " chars, hash " + hashString(text).toString() + ", replaced hash " +
    hashString(replaced).toString() + ", built " + hashString(upper).toString());
}

/** Trees of objects built and dropped, with collections in between. */
function phaseTrees(): void {
  let kept = new Array<TreeNode>();
  let total: i64 = 0;
  for (let round = 0; round < 12; round++) {
    let tree = buildTree(5, round);
    total += sumTree(tree);
    if (round % 4 == 0) kept.push(tree);
    if (round % 3 == 2) __collect();
  }
  __collect();
  let keptSum: i64 = 0;
  for (let i = 0; i < kept.length; i++) keptSum += sumTree(kept[i]);
  print("trees: total " + total.toString() + ", kept " + kept.length.toString() + " with sum " + keptSum.toString());
}

/** Raw blocks outside the GC: a linked list in malloc'd nodes, a buffer grown with realloc. */
function phaseRaw(): void {
  // Node: next (u32), value (u32), 8 more bytes of payload.
  let head: usize = 0;
  for (let i: u32 = 0; i < 5000; i++) {
    let node = malloc(16);
    assert(node != 0 && (node & 15) == 0, "malloc alignment");
    store<u32>(node, <u32>head);
    store<u32>(node, i, 4);
    store<u64>(node, <u64>i * 3, 8);
    head = node;
  }
  let buffer = calloc(1, 64);
  let capacity: usize = 64;
  let length: usize = 0;
  let sum: u64 = 0;
  let count = 0;
  while (head != 0) {
    let next = <usize>load<u32>(head);
    let value = load<u32>(head, 4);
    assert(load<u64>(head, 8) == <u64>value * 3, "node payload");
    sum += value;
    count++;
    if (length + 4 > capacity) {
      capacity *= 2;
      buffer = realloc(buffer, capacity);
      assert(malloc_usable_size(buffer) >= capacity, "usable size");
    }
    store<u32>(buffer + length, value);
    length += 4;
    free(head);
    head = next;
  }
  for (let i: usize = 0; i < length; i += 4) assert(load<u32>(buffer + i) == 4999 - <u32>(i / 4), "buffer contents");
  free(buffer);
  print("raw: " + count.toString() + " nodes, sum " + sum.toString() + ", buffer " + capacity.toString() + " bytes, heap check " + heap_check().toString());
}

export function run(): void {
  phaseRaw();
  phaseMaps();
  __collect();
  phaseArrays();
  __collect();
  phaseStrings();
  __collect();
  phaseTrees();
  print("churn: ok");
}
