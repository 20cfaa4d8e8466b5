import assert from "node:assert/strict";
import { workerModule } from "../../tools/build_worker.ts";
import { controlBytes } from "./control.ts";
import { generateAdd } from "./kernels/f32-add-wasmsimd.ts";
import { LinearMemory } from "./memory.ts";
import { WorkerPool } from "./threads.ts";

const root = new URL("../../", import.meta.url);

/**
 * A 3×3 convolution of 4.7 M multiply-adds (enough to be split over threads)
 * on a backend made with `options`, compared with the same one on a single
 * thread; prints the capabilities and the largest difference as JSON.
 */
const CONV_SCRIPT = (prelude: string, options: string) => `
${prelude}
const { createWasmBackend } = await import("@mobileops/backend-wasm");
const { conv2d } = await import("@mobileops/core");
const descriptor = conv2d({ inChannels: 16, outChannels: 32, kernel: 3, padding: "same", bias: true });
const filter = Float32Array.from({ length: 32 * 9 * 16 }, (_, i) => Math.sin(i));
const bias = Float32Array.from({ length: 32 }, (_, i) => i / 32);
const input = Float32Array.from({ length: 32 * 32 * 16 }, (_, i) => Math.cos(i));
async function conv(options) {
  using backend = await createWasmBackend(options);
  const kernel = await backend.prepare(descriptor, { filter, bias });
  const output = await backend.run(kernel, [backend.upload(input, [1, 32, 32, 16])]).download();
  return { capabilities: backend.capabilities, output };
}
const threaded = await conv(${options});
const single = await conv({ threads: 1 });
let difference = 0;
for (let i = 0; i < single.output.length; i++) {
  difference = Math.max(difference, Math.abs(threaded.output[i] - single.output[i]));
}
console.log(JSON.stringify({ capabilities: threaded.capabilities, difference }));
`;

/** Runs `script` with `deno run` and no permission at all; returns what it printed, parsed. */
async function runWithoutPermissions(script: string): Promise<{
  capabilities: { threads: number; threadsUnavailable?: string };
  difference: number;
}> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const errors = new TextDecoder().decode(stderr);
  assert.equal(code, 0, errors);
  return JSON.parse(new TextDecoder().decode(stdout));
}

Deno.test("worker_source.ts is what tools/build_worker.ts makes of worker.ts now", async () => {
  const committed = await Deno.readTextFile(new URL("worker_source.ts", import.meta.url));
  assert.ok(
    committed === await workerModule(),
    "backends/wasm/worker_source.ts is stale: run " +
      "`deno run --allow-read --allow-write --allow-run tools/build_worker.ts`",
  );
});

Deno.test("createWasmBackend starts its threads and runs a conv under `deno run` without permissions", async () => {
  const { capabilities, difference } = await runWithoutPermissions(
    CONV_SCRIPT("", "{ threads: 3 }"),
  );
  assert.equal(capabilities.threads, 3);
  assert.equal(capabilities.threadsUnavailable, undefined);
  assert.equal(difference, 0);
});

Deno.test("without SharedArrayBuffer (a page not cross-origin isolated) the backend runs on one thread and says why", async () => {
  const { capabilities, difference } = await runWithoutPermissions(CONV_SCRIPT(
    "delete globalThis.SharedArrayBuffer; globalThis.crossOriginIsolated = false;",
    "{ threads: 4 }",
  ));
  assert.equal(capabilities.threads, 1);
  assert.match(capabilities.threadsUnavailable ?? "", /not cross-origin isolated/);
  assert.equal(difference, 0);
});

Deno.test("without any Worker API the default backend runs on one thread and says why", async () => {
  const { capabilities, difference } = await runWithoutPermissions(CONV_SCRIPT(
    "delete globalThis.Worker; delete globalThis.process;",
    "undefined",
  ));
  assert.equal(capabilities.threads, 1);
  assert.match(
    capabilities.threadsUnavailable ?? "",
    /neither Web Workers nor node:worker_threads/,
  );
  assert.equal(difference, 0);
});

Deno.test("workers that fail to start (a Content-Security-Policy) leave one thread and the reason", async () => {
  const { capabilities, difference } = await runWithoutPermissions(CONV_SCRIPT(
    `globalThis.Worker = class {
      constructor() { setTimeout(() => this.onerror({ message: "blocked by CSP", preventDefault() {} })); }
      postMessage() {}
      terminate() {}
    };`,
    "{ threads: 3 }",
  ));
  assert.equal(capabilities.threads, 1);
  assert.equal(capabilities.threadsUnavailable, "kernel worker failed to start: blocked by CSP");
  assert.equal(difference, 0);
});

Deno.test("workers that receive kernels on their event loop (the browser path) run jobs", async () => {
  const memory = new LinearMemory({ shared: true, maximumBytes: 1 << 24, owner: "test" });
  const size = 4096;
  const wasm = { initialPages: 1, maximumPages: memory.maximumPages, shared: true };
  const [a, b, out] = [0, 1, 2].map(() => memory.allocate(4 * size));
  const heap = memory.f32();
  for (let i = 0; i < size; i++) [heap[a / 4 + i], heap[b / 4 + i]] = [i, 100 * i];
  const pool = await WorkerPool.create(
    2,
    memory.memory,
    memory.allocate(controlBytes(2)),
    2000,
    false,
  );
  try {
    let chunksHere = 0;
    // A new kernel before each job, as when a model meets a new shape: a worker yields for it.
    for (let job = 0; job < 20; job++) {
      const module = new WebAssembly.Module(
        generateAdd({ size, activation: job % 2 === 0 ? "none" : "relu", memory: wasm }),
      );
      const run = new WebAssembly.Instance(module, { env: { memory: memory.memory } }).exports
        .run as (a: number, b: number, c: number, d: number, e: number) => void;
      pool.share(job, module);
      heap.fill(-1, out / 4, out / 4 + size);
      pool.run(job, [a, b, out], size / 4, 1, (start, end) => {
        chunksHere++;
        run(a, b, out, start, end);
        // This thread is slow, so that the workers, once they have the kernel, take chunks too.
        const until = performance.now() + 2;
        while (performance.now() < until);
      });
      pool.forget([job]);
      assert.deepEqual(
        [...heap.subarray(out / 4, out / 4 + size)],
        Array.from({ length: size }, (_, i) => 101 * i),
      );
    }
    assert.ok(chunksHere < 20 * 12, "the workers took no chunk");
  } finally {
    pool.terminate();
  }
});
