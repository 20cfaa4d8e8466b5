import assert from "node:assert/strict";
import { CONTROL, controlBytes, takeChunks } from "./control.ts";
import { generateAdd } from "./kernels/f32-add-wasmsimd.ts";
import { LinearMemory } from "./memory.ts";
import { WorkerPool } from "./threads.ts";

Deno.test("takeChunks hands out every chunk once, and only while the job has some left", () => {
  const ints = new Int32Array(new SharedArrayBuffer(controlBytes(0)));
  for (const [units, chunk] of [[1, 1], [10, 4], [12, 4], [13, 6]]) {
    ints[CONTROL.units] = units;
    ints[CONTROL.chunk] = chunk;
    ints[CONTROL.completed] = 0;
    ints[CONTROL.claim] = Math.ceil(units / chunk) << 16;
    const covered: number[] = [];
    takeChunks(ints, 0, (_kernel, start, end) => {
      assert.equal(start % chunk, 0);
      for (let u = start; u < end; u++) covered.push(u);
    });
    assert.deepEqual(covered, Array.from({ length: units }, (_, u) => u));
    assert.equal(ints[CONTROL.completed], units);
    takeChunks(ints, 0, () => assert.fail("the job has no chunk left"));
  }
});

Deno.test("a worker that retired after idling is replaced, gets the kernels, runs jobs", async () => {
  const memory = new LinearMemory({ shared: true, maximumBytes: 1 << 24, owner: "test" });
  const size = 4096;
  const wasm = { initialPages: 1, maximumPages: memory.maximumPages, shared: true };
  const module = new WebAssembly.Module(generateAdd({ size, activation: "none", memory: wasm }));
  const run = new WebAssembly.Instance(module, { env: { memory: memory.memory } }).exports
    .run as (a: number, b: number, c: number, d: number, e: number) => void;
  const [a, b, out] = [0, 1, 2].map(() => memory.allocate(4 * size));
  const heap = memory.f32();
  for (let i = 0; i < size; i++) [heap[a / 4 + i], heap[b / 4 + i]] = [i, 100 * i];
  const pool = await WorkerPool.create(1, memory.memory, memory.allocate(controlBytes(1)), 30);
  try {
    pool.share(7, module);
    const expected = Array.from({ length: size }, (_, i) => 101 * i);
    for (const pause of [0, 120]) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      let chunksHere = 0;
      let chunks = 0;
      for (let job = 0; job < 40; job++) {
        heap.fill(0, out / 4, out / 4 + size);
        // This thread is slow, so the worker (a replacement, after the pause) takes chunks too.
        pool.run(7, [a, b, out], size / 4, 1, (start, end) => {
          chunksHere++;
          run(a, b, out, start, end);
          const until = performance.now() + 0.5;
          while (performance.now() < until);
        });
        chunks += 8;
        assert.deepEqual([...heap.subarray(out / 4, out / 4 + size)], expected);
      }
      assert.ok(chunksHere < chunks, `after a ${pause} ms pause the worker took no chunk`);
    }
  } finally {
    pool.terminate();
  }
});
