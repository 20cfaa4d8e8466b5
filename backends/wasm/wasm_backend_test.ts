import assert from "node:assert/strict";
import { assertCasesPass, caseData, kernelCase } from "@mobileops/conformance";
import {
  add,
  avgPool2d,
  type Backend,
  concat,
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
import { MAX_CACHED_SHAPES } from "./kernel.ts";
import { createWasmBackend, type WasmBackendOptions } from "./mod.ts";

/** The four configurations the conformance suite runs: relaxed FMA on/off × 1/2 threads. */
const CONFIGURATIONS: WasmBackendOptions[] = [
  { threads: 1 },
  { threads: 1, relaxedSimd: false },
  { threads: 2 },
  { threads: 2, relaxedSimd: false },
];

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

Deno.test("NaN goes through fused ReLU / ReLU6 and max pooling, in every configuration", async () => {
  for (const options of CONFIGURATIONS) {
    using backend = await createWasmBackend(options);
    const config = JSON.stringify(options);
    const one = [1, 1, 1, 1];
    using relu = await backend.prepare(add({ activation: "relu" }), undefined);
    using nan = backend.upload([NaN], one);
    using zero = backend.upload([0], one);
    assert.ok(Number.isNaN((await backend.run(relu, [nan, zero]).download())[0]), config);
    using pointwise = await backend.prepare(
      pointwiseConv2d({ inChannels: 1, outChannels: 1, activation: "relu" }),
      { filter: new Float32Array([1]) },
    );
    assert.ok(Number.isNaN((await backend.run(pointwise, [nan]).download())[0]), config);
    using pool = await backend.prepare(maxPool2d({ kernel: [1, 2] }), undefined);
    for (const pair of [[NaN, 1], [1, NaN], [-Infinity, NaN], [NaN, Infinity]]) {
      using input = backend.upload(pair, [1, 1, 2, 1]);
      assert.ok(
        Number.isNaN((await backend.run(pool, [input]).download())[0]),
        `${config} ${pair}`,
      );
    }
    // ±∞ clamp as numbers do: relu(−∞) = 0, relu6(+∞) = 6, and NaN survives relu6.
    using relu6 = await backend.prepare(concat({ activation: "relu6" }), undefined);
    using specials = backend.upload([-Infinity, Infinity, NaN, 3, -2], [1, 1, 1, 5]);
    using rest = backend.upload([7, Number.NaN, -Infinity], [1, 1, 1, 3]);
    const out = await backend.run(relu6, [specials, rest]).download();
    assert.deepEqual([...out], [0, 6, NaN, 3, 0, 6, NaN, 0], config);
  }
});

Deno.test("options: every bad option is an InvalidArgumentError naming it", async () => {
  const bad: [unknown, string][] = [
    [null, "options"],
    [[], "options"],
    [5, "options"],
    ["threads", "options"],
    [{ thread: 2 }, "options.thread"],
    [{ relaxedSIMD: true }, "options.relaxedSIMD"],
    [{ relaxedSimd: "yes" }, "options.relaxedSimd"],
    [{ relaxedSimd: 1 }, "options.relaxedSimd"],
    [{ relaxedSimd: null }, "options.relaxedSimd"],
    [{ maximumMemoryBytes: "1e9" }, "options.maximumMemoryBytes"],
    [{ maximumMemoryBytes: Infinity }, "options.maximumMemoryBytes"],
    [{ maximumMemoryBytes: -1 }, "options.maximumMemoryBytes"],
    [{ maximumMemoryBytes: 2 ** 32 + 1 }, "options.maximumMemoryBytes"],
    [{ maximumMemoryBytes: null }, "options.maximumMemoryBytes"],
    [{ threads: 2 ** 31 }, "options.threads"],
    [{ threads: 257 }, "options.threads"],
    [{ threads: "2" }, "options.threads"],
    [{ threads: Infinity }, "options.threads"],
    [{ threads: null }, "options.threads"],
  ];
  for (const [options, field] of bad) {
    await assert.rejects(
      createWasmBackend(options as WasmBackendOptions),
      (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError, `${JSON.stringify(options)}: ${error}`);
        assert.equal(error.field, field);
        assert.ok(error.message.startsWith(`${field} = `), error.message);
        return true;
      },
    );
  }
  // Absent options, an empty object and the limits themselves are fine.
  for (const options of [undefined, {}, { threads: undefined }, { maximumMemoryBytes: 2 ** 32 }]) {
    using backend = await createWasmBackend(options);
    assert.equal(backend.name, "wasm");
  }
});

Deno.test("kernel cache: 1,000 input widths keep the last few shapes' modules and memory", async () => {
  using backend = await createWasmBackend({ threads: 1 });
  const before = backend.memoryStats().detail!;
  using kernel = await backend.prepare(
    depthwiseConv2d({ channels: 4, kernel: 3, padding: "same", activation: "relu6" }),
    { filter: new Float32Array(36).fill(0.25) },
  );
  const afterPrepare = backend.memoryStats().detail!;
  let largest = 0;
  for (let width = 1; width <= 1000; width++) {
    using input = backend.upload(new Float32Array(4 * width).fill(1), [1, 1, width, 4]);
    using output = backend.run(kernel, [input]);
    if (width % 97 === 0) {
      const values = await output.download();
      assert.equal(values[4 * (width - 1)], width === 1 ? 0.25 : 0.5, `width ${width}`);
    }
    const detail = backend.memoryStats().detail!;
    assert.ok(detail.cachedModules <= MAX_CACHED_SHAPES, `width ${width}`);
    largest = Math.max(largest, detail.arenaBytesInUse);
  }
  const detail = backend.memoryStats().detail!;
  assert.equal(detail.cachedModules, MAX_CACHED_SHAPES);
  assert.ok(detail.cachedModuleBytes > 0 && detail.cachedModuleBytes < MAX_CACHED_SHAPES * 65536);
  // Live: the weights and the pad rows of the cached shapes (≤ 1000 × 4 floats each), no more.
  const padRows = MAX_CACHED_SHAPES * (4 * 4 * 1000 + 80);
  assert.ok(detail.arenaBytesInUse <= afterPrepare.arenaBytesInUse + padRows);
  assert.ok(largest <= afterPrepare.arenaBytesInUse + padRows + 2 * (4 * 4 * 1000 + 80));
  assert.ok(detail.linearMemoryBytes <= 2 ** 21, `${detail.linearMemoryBytes} bytes of memory`);
  kernel.dispose();
  const released = backend.memoryStats().detail!;
  assert.equal(released.cachedModules, 0);
  assert.equal(released.cachedModuleBytes, 0);
  assert.equal(released.arenaBytesInUse, before.arenaBytesInUse);
});

Deno.test("kernel cache: a shape run again after eviction is rebuilt, also on 2 threads", async () => {
  using backend = await createWasmBackend({ threads: 2 });
  const testCase = kernelCase({
    descriptor: pointwiseConv2d({ inChannels: 64, outChannels: 64, bias: true }),
    inputShapes: [[1, 32, 32, 64]],
    seed: 5,
  });
  const { weights, inputs } = caseData(testCase);
  using kernel = await backend.prepare(testCase.descriptor, weights);
  using input = backend.upload(inputs[0], [1, 32, 32, 64]);
  const first = await backend.run(kernel, [input]).download();
  // Evict the threaded module: the workers are told to forget it.
  for (let width = 1; width <= MAX_CACHED_SHAPES; width++) {
    using small = backend.upload(new Float32Array(64 * width), [1, 1, width, 64]);
    backend.run(kernel, [small]).dispose();
  }
  assert.deepEqual(await backend.run(kernel, [input]).download(), first);
});
