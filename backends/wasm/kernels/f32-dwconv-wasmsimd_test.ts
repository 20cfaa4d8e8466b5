import assert from "node:assert/strict";
import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { depthwiseConv2d, type Padding } from "@mobileops/core";
import { createWasmBackend } from "../mod.ts";
import { packDepthwiseWeights } from "./f32-dwconv-wasmsimd.ts";

const VARIANT = { variant: "f32-dwconv-wasmsimd" };

Deno.test("dwconv 3×3: every width around the border and unroll, s1/s2, channel tails, pads", async () => {
  const paddings: Padding[] = ["same", "valid", [0, 2, 2, 0], [2, 1, 1, 2]];
  for (const relaxedSimd of [true, false]) {
    using backend = await createWasmBackend({ threads: 1, relaxedSimd });
    const cases: ConformanceCase[] = [];
    let seed = 100;
    for (const stride of [1, 2]) {
      // Widths around the borders and every remainder of the 4- and 6-pixel unrolls.
      for (const width of [1, 2, 3, 4, 5, 6, 7, 9, 12, 25, 28, 31, 54]) {
        for (const channels of [2, 4, 7, 12]) {
          for (const padding of paddings) {
            const descriptor = depthwiseConv2d({
              channels,
              kernel: 3,
              stride,
              padding,
              bias: seed % 2 === 0,
              activation: (["none", "relu", "relu6"] as const)[seed % 3],
            });
            const height = 1 + (seed % 4);
            if (padding === "valid" && (width < 3 || height < 3)) continue;
            cases.push(kernelCase({
              descriptor,
              inputShapes: [[2, height + 2, width, channels]],
              seed: seed++,
              inputRange: [-2, 2],
            }));
          }
        }
      }
    }
    await assertCasesPass(backend, cases, VARIANT);
  }
});

Deno.test("dwconv: other kernels, dilation and strides on the same generator", async () => {
  using backend = await createWasmBackend({ threads: 1 });
  const cases = [
    { kernel: 5, stride: 1, dilation: 1 },
    { kernel: 3, stride: 1, dilation: 2 },
    { kernel: [1, 3] as const, stride: 3, dilation: 1 },
    { kernel: [3, 2] as const, stride: [2, 1] as const, dilation: [1, 3] as const },
  ];
  await assertCasesPass(
    backend,
    cases.map((c, i) =>
      kernelCase({
        descriptor: depthwiseConv2d({ channels: 6, padding: "same", bias: true, ...c }),
        inputShapes: [[1, 9, 11, 6]],
        seed: i,
        inputRange: [-2, 2],
      })
    ),
    VARIANT,
  );
});

Deno.test("dwconv: packing is [bias ×4][taps × 4 lanes] per 4-channel block", () => {
  const filter = Float32Array.from({ length: 5 * 2 }, (_, i) => i + 1); // 5 channels, 1×2 kernel
  const packed = packDepthwiseWeights(filter, new Float32Array([9, 8, 7, 6, 5]), 5, [1, 2]);
  assert.deepEqual([...packed.subarray(0, 12)], [9, 8, 7, 6, 1, 3, 5, 7, 2, 4, 6, 8]);
  assert.deepEqual([...packed.subarray(12)], [5, 0, 0, 0, 9, 0, 0, 0, 10, 0, 0, 0]);
});
