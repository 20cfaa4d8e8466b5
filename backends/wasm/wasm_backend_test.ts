import assert from "node:assert/strict";
import { assertCasesPass, caseData, kernelCase } from "@mobileops/conformance";
import {
  avgPool2d,
  type Backend,
  denseConv2d,
  depthwiseConv2d,
  fullyConnected,
  InvalidArgumentError,
  maxPool2d,
  type OpDescriptor,
  OutOfMemoryError,
  pointwiseConv2d,
  type Shape,
  shapeSize,
} from "@mobileops/core";
import { relaxedSimdSupported } from "./assembler.ts";
import { createWasmBackend } from "./mod.ts";

/** Layers big enough that the backend splits them across threads. */
const THREADED_LAYERS: [OpDescriptor, Shape][] = [
  [pointwiseConv2d({ inChannels: 64, outChannels: 72, bias: true, activation: "relu6" }), [
    1,
    28,
    29,
    64,
  ]],
  [pointwiseConv2d({ inChannels: 120, outChannels: 120, groups: 3, activation: "relu" }), [
    2,
    14,
    14,
    120,
  ]],
  [depthwiseConv2d({ channels: 70, kernel: 3, padding: "same", bias: true }), [1, 31, 30, 70]],
  [depthwiseConv2d({ channels: 64, kernel: 3, stride: 2, padding: "same" }), [1, 57, 56, 64]],
  [denseConv2d({ inChannels: 3, outChannels: 32, kernel: 3, stride: 2, padding: "same" }), [
    1,
    96,
    96,
    3,
  ]],
  [maxPool2d({ kernel: 3, stride: 2, padding: "same" }), [1, 112, 112, 24]],
  [avgPool2d({ kernel: 3, stride: 2, padding: "same" }), [1, 56, 56, 120]],
  [fullyConnected({ inFeatures: 1024, outFeatures: 1000, bias: true }), [1, 1024]],
];

const THREADED_CASES = THREADED_LAYERS.map(([descriptor, shape], i) =>
  kernelCase({ descriptor, inputShapes: [shape], seed: i, inputRange: [-2, 2] })
);

/** Checks every threaded layer against the reference, then returns each one's output. */
async function outputs(backend: Backend): Promise<Float32Array[]> {
  await assertCasesPass(backend, THREADED_CASES);
  const results: Float32Array[] = [];
  for (const testCase of THREADED_CASES) {
    const { weights, inputs } = caseData(testCase);
    using kernel = await backend.prepare(testCase.descriptor, weights);
    using input = backend.upload(inputs[0], testCase.inputShapes[0]);
    using output = backend.run(kernel, [input]);
    results.push(await output.download());
  }
  return results;
}

Deno.test("results are bit-identical with 1 and 2 threads, in both FMA modes", async () => {
  for (const relaxedSimd of [true, false]) {
    using single = await createWasmBackend({ threads: 1, relaxedSimd });
    using double = await createWasmBackend({ threads: 2, relaxedSimd });
    assert.equal(double.capabilities.threads, 2);
    const [a, b] = [await outputs(single), await outputs(double)];
    a.forEach((values, i) => assert.deepEqual(b[i], values, `layer ${i}`));
  }
});

Deno.test("threads: 1 starts no Worker", async () => {
  const original = globalThis.Worker;
  globalThis.Worker = class {
    constructor() {
      throw new Error("a Worker was started");
    }
  } as unknown as typeof Worker;
  try {
    using backend = await createWasmBackend({ threads: 1 });
    assert.equal(backend.capabilities.threads, 1);
    await assertCasesPass(backend, [THREADED_CASES[0]]);
  } finally {
    globalThis.Worker = original;
  }
});

Deno.test("relaxedSimd: false is reported and the default follows the engine", async () => {
  using forced = await createWasmBackend({ threads: 1, relaxedSimd: false });
  assert.equal(forced.capabilities.relaxedSimd, false);
  using auto = await createWasmBackend({ threads: 1 });
  assert.equal(auto.capabilities.relaxedSimd, relaxedSimdSupported());
});

Deno.test("bad options are typed errors naming the option", async () => {
  for (const threads of [0, 1.5, -2, Number.NaN]) {
    await assert.rejects(createWasmBackend({ threads }), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.equal(error.field, "options.threads");
      return true;
    });
  }
  await assert.rejects(
    createWasmBackend({ threads: 1, maximumMemoryBytes: 0 }),
    InvalidArgumentError,
  );
});

Deno.test("memory growth failure is an OutOfMemoryError and the backend stays usable", async () => {
  using backend = await createWasmBackend({ threads: 1, maximumMemoryBytes: 4 << 20 });
  const big = [1, 1024, 1024, 2]; // 8 MiB
  assert.throws(() => backend.zeros(big), (error: unknown) => {
    assert.ok(error instanceof OutOfMemoryError);
    assert.equal(error.requestedBytes, 4 * shapeSize(big));
    return true;
  });
  using small = backend.upload([1, 2, 3], [1, 1, 1, 3]);
  assert.deepEqual([...await small.download()], [1, 2, 3]);
});

Deno.test("disposed tensors return their space; stats report use and peak", async () => {
  using backend = await createWasmBackend({ threads: 1 });
  const before = backend.memoryStats().detail!;
  const a = backend.zeros([1, 64, 64, 16]);
  const inUse = backend.memoryStats().detail!.arenaBytesInUse;
  assert.ok(inUse >= before.arenaBytesInUse + 4 * a.size);
  a.dispose();
  assert.equal(backend.memoryStats().detail!.arenaBytesInUse, before.arenaBytesInUse);
  const b = backend.zeros([1, 64, 64, 16]);
  const stats = backend.memoryStats().detail!;
  assert.equal(stats.arenaPeakBytes, inUse, "the second tensor reused the first one's block");
  assert.equal(stats.linearMemoryBytes % 65536, 0);
  b.dispose();
});
