import { assertCasesPass, kernelCase } from "@mobileops/conformance";
import { groupConv2d, pointwiseConv2d } from "@mobileops/core";
import { createWebGpuBackend } from "../mod.ts";
import { webgpuUnavailable } from "../testing.ts";

const ignore = await webgpuUnavailable() !== undefined;

Deno.test({
  name: "f32-gemm-1x1-16x4-wgsl: block remainders of pixels, channels, K and groups",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases = [];
    let seed = 1;
    // Pixels: under, at and past one and two 16-pixel blocks; K and outputs: one and several
    // 4-wide steps.
    for (const [h, w] of [[1, 1], [1, 3], [4, 8], [5, 7], [3, 11], [9, 8]]) {
      for (const [cin, cout] of [[4, 4], [16, 32], [20, 36], [36, 8], [64, 68]]) {
        cases.push(kernelCase({
          descriptor: pointwiseConv2d({
            inChannels: cin,
            outChannels: cout,
            bias: seed % 2 === 0,
            activation: (["none", "relu", "relu6", { min: -0.5, max: 0.25 }] as const)[seed % 4],
          }),
          inputShapes: [[1 + (seed % 2), h, w, cin]],
          seed: seed++,
        }));
      }
    }
    for (const [groups, cg, og] of [[2, 4, 4], [3, 8, 20], [4, 20, 36], [8, 4, 40]]) {
      cases.push(kernelCase({
        descriptor: groupConv2d({
          inChannels: groups * cg,
          outChannels: groups * og,
          groups,
          kernel: 1,
          bias: true,
        }),
        inputShapes: [[1, 7, 5, groups * cg]],
        seed: seed++,
      }));
    }
    await assertCasesPass(backend, cases, { variant: "f32-gemm-1x1-16x4-wgsl" });
  },
});

Deno.test({
  name: "f32-gemm-1x1-16x4-wgsl: NaN and ±∞ stay in their pixel and channel",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const descriptor = pointwiseConv2d({ inChannels: 20, outChannels: 36, activation: "relu" });
    const specials = [
      { input: 0, index: 0, value: Infinity },
      { input: 0, index: 20 * 33 + 19, value: NaN }, // the last channel of pixel 33
      { input: 0, index: 20 * 40 + 5, value: -Infinity },
    ];
    await assertCasesPass(
      backend,
      [kernelCase({ descriptor, inputShapes: [[1, 5, 9, 20]], specials })],
      { variant: "f32-gemm-1x1-16x4-wgsl" },
    );
  },
});
