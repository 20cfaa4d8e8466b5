import assert from "node:assert/strict";
import { createJsBackend } from "@mobileops/backend-js";
import {
  assertCasesPass,
  caseData,
  type ConformanceCase,
  kernelCase,
} from "@mobileops/conformance";
import {
  avgPool2d,
  channelShuffle,
  concat,
  conv2d,
  denseConv2d,
  depthwiseConv2d,
  fullyConnected,
  globalAvgPool,
  MAX_WINDOW,
  maxPool2d,
  type OpDescriptor,
  type Shape,
  shapeSize,
} from "@mobileops/core";
import { createWasmBackend } from "./mod.ts";

const W = MAX_WINDOW;

/**
 * Calls at the size limits: kernel, stride, dilation and padding of 4096, 64×64 kernels, 2¹⁶
 * channels, thousands of inputs. With every size baked into the code, each of these used to
 * unroll one instruction per tap, column or channel (or overflow 32 bits).
 */
const EXTREME: [OpDescriptor, Shape[]][] = [
  [depthwiseConv2d({ channels: 4, kernel: 3, dilation: W, padding: "same" }), [[1, 3, 3, 4]]],
  [depthwiseConv2d({ channels: 5, kernel: 3, dilation: W, padding: "same" }), [[1, 3, W + 4, 5]]],
  [depthwiseConv2d({ channels: 4, kernel: 3, stride: W }), [[1, W + 3, 5, 4]]],
  [depthwiseConv2d({ channels: 4, kernel: 3, padding: [0, 0, W, W] }), [[1, 3, 1, 4]]],
  [conv2d({ inChannels: 2, outChannels: 3, kernel: 3, padding: [W, 0, 0, 0] }), [[1, 3, 3, 2]]],
  [conv2d({ inChannels: 2, outChannels: 3, kernel: 1, stride: [W, 1] }), [[1, W + 1, 1, 2]]],
  [denseConv2d({ inChannels: 3, outChannels: 8, kernel: 64, padding: "same" }), [[1, 5, 5, 3]]],
  [denseConv2d({ inChannels: 2, outChannels: 5, kernel: 64, bias: true }), [[1, 64, 64, 2]]],
  [maxPool2d({ kernel: [1, W], padding: "same" }), [[1, 2, 5, 3]]],
  [maxPool2d({ kernel: [W, 1], padding: "same" }), [[1, 5, 2, 3]]],
  [avgPool2d({ kernel: [1, W], padding: "same" }), [[1, 2, 5, 3]]],
  [avgPool2d({ kernel: [W, 1], padding: "same", countIncludePad: true }), [[1, 5, 2, 3]]],
  [maxPool2d({ kernel: 3, stride: W }), [[1, W + 3, 3, 2]]],
  [depthwiseConv2d({ channels: 4, kernel: 3, padding: "same" }), [[1, 2, 2 ** 16 + 5, 4]]],
  [maxPool2d({ kernel: 3, padding: "same" }), [[1, 2, 2 ** 16 + 5, 4]]],
  [maxPool2d({ kernel: W, stride: W, padding: [W - 1, W - 1, W - 1, W - 1] }), [[1, 3, 3, 2]]],
  [channelShuffle({ groups: 2 }), [[1, 1, 1, 2 ** 16]]],
  [channelShuffle({ groups: 16 }), [[1, 1, 2, 2 ** 16]]],
  [channelShuffle({ groups: 256 }), [[1, 1, 1, 2 ** 16]]],
  [channelShuffle({ groups: 2 ** 16 }), [[1, 1, 1, 2 ** 16]]],
  [concat({ activation: "relu" }), [[1, 1, 2, 2 ** 15 + 3], [1, 1, 2, 2 ** 15 + 1]]],
  [concat({ activation: "relu6" }), Array.from({ length: 1000 }, () => [1, 1, 2, 1 + 2])],
  [fullyConnected({ inFeatures: 2 ** 18, outFeatures: 3, activation: "relu" }), [[2, 2 ** 18]]],
  [globalAvgPool(), [[2, 3, 3, 2500]]],
];

/** Generated code per kernel: the loops these calls take are a few hundred bytes. */
const MODULE_BYTES = 16 * 1024;
/** Linear memory for any of them: their tensors are a few MiB at most. */
const MEMORY_BYTES = 64 * 2 ** 20;

function extremeCase([descriptor, shapes]: [OpDescriptor, Shape[]], seed: number): ConformanceCase {
  const size = shapeSize(shapes[0]);
  return kernelCase({
    descriptor,
    inputShapes: shapes,
    seed,
    inputRange: [-2, 2],
    specials: [
      { input: 0, index: seed % size, value: NaN },
      { input: 0, index: (7 * seed + 3) % size, value: seed % 2 === 0 ? Infinity : -Infinity },
    ],
  });
}

Deno.test("sizes at the limits: bounded generated code and memory, the reference's answers", async () => {
  const cases = EXTREME.map(extremeCase);
  for (const relaxedSimd of [true, false]) {
    using backend = await createWasmBackend({ threads: 1, relaxedSimd });
    for (const testCase of cases) {
      const { weights, inputs } = caseData(testCase);
      using kernel = await backend.prepare(testCase.descriptor, weights as never);
      const tensors = inputs.map((data, i) => backend.upload(data, testCase.inputShapes[i]));
      backend.run(kernel, tensors).dispose();
      for (const tensor of tensors) tensor.dispose();
      const detail = backend.memoryStats().detail!;
      assert.ok(
        detail.cachedModuleBytes <= MODULE_BYTES,
        `${testCase.name}: ${detail.cachedModuleBytes} bytes of code`,
      );
      assert.ok(
        detail.linearMemoryBytes <= MEMORY_BYTES,
        `${testCase.name}: ${detail.linearMemoryBytes} bytes of memory`,
      );
    }
    await assertCasesPass(backend, cases);
  }
  using threaded = await createWasmBackend({ threads: 2 });
  await assertCasesPass(threaded, cases);
});

Deno.test("dilation 4096, 'same' padding on a 3×3 image: the js backend's answer", async () => {
  using js = await createJsBackend();
  using wasm = await createWasmBackend({ threads: 1 });
  for (const channels of [1, 4]) {
    const descriptor = depthwiseConv2d({ channels, kernel: 3, dilation: W, padding: "same" });
    const filter = new Float32Array(9 * channels).fill(1);
    const input = Float32Array.from(
      { length: 9 * channels },
      (_, i) => 1 + Math.floor(i / channels),
    );
    const results: number[][] = [];
    for (const backend of [js, wasm]) {
      using kernel = await backend.prepare(descriptor, { filter });
      using x = backend.upload(input, [1, 3, 3, channels]);
      results.push([...await backend.run(kernel, [x]).download()]);
    }
    // Only the centre tap lands in the image: the output is the input.
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[1], [...input]);
  }
});
