// A worker of tests/threads-host.test.mjs: joins the shared heap through the host
// library, allocates blocks with a pattern, frees the ones the parent allocated, detaches.
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "../../dist/index.js";

const heap = await Heap.join(workerData.memory);
const mine = [];
for (let i = 0; i < 200; i++) {
  const size = 8 + (i * 37) % 3000;
  const ptr = heap.malloc(size);
  heap.bytes(ptr, size).fill(i & 0xff);
  mine.push({ ptr, size, pattern: i & 0xff });
}
for (const ptr of workerData.theirs) heap.free(ptr);
let doubleFree = null;
try { heap.free(workerData.theirs[0]); } catch (e) { doubleFree = e.kind; }
heap.detach();
parentPort.postMessage({ mine, doubleFree, check: 0 });
