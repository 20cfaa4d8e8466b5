import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { type Activation, depthwiseConv2d, type Padding } from "@mobileops/core";
import { createWebGpuBackend } from "../mod.ts";
import { webgpuUnavailable } from "../testing.ts";

const ignore = await webgpuUnavailable() !== undefined;
const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6", { min: -1, max: 0.5 }];

Deno.test({
  name: "f32-dwconv-2x4-wgsl: run edges, strides, kernels and paddings",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases: ConformanceCase[] = [];
    let seed = 1;
    // Output widths at every remainder of a 4-pixel run, under, at and past one and two runs,
    // for each stride and kernel.
    for (
      const [kernel, stride] of [[3, 1], [3, 2], [5, 1], [5, 2], [7, 2], [7, 1], [1, 2], [2, 1]]
    ) {
      for (const [h, w] of [[1, 1], [7, 9], [8, 8], [16, 17], [3, 19], [2, 6], [5, 10], [4, 3]]) {
        const paddings: readonly Padding[] = ["same", "valid", [kernel - 1, 0, 0, kernel - 1]];
        const padding = paddings[seed % 3];
        if (padding === "valid" && (h < kernel || w < kernel)) continue;
        cases.push(kernelCase({
          descriptor: depthwiseConv2d({
            channels: [4, 8, 12][seed % 3],
            kernel,
            stride,
            padding,
            bias: seed % 2 === 0,
            activation: ACTIVATIONS[seed % 4],
          }),
          inputShapes: [[1 + (seed % 2), h, w, [4, 8, 12][seed % 3]]],
          seed: seed++,
        }));
      }
    }
    cases.push(kernelCase({
      descriptor: depthwiseConv2d({ channels: 8, kernel: [3, 5], stride: [2, 1], padding: "same" }),
      inputShapes: [[1, 11, 10, 8]],
      seed: seed++,
    }));
    await assertCasesPass(backend, cases, { variant: "f32-dwconv-2x4-wgsl" });
  },
});

Deno.test({
  name: "f32-dwconv-2x4-wgsl: NaN and ±∞ at run and image borders stay in their windows",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const c = 8;
    const at = (y: number, x: number, channel: number) => (y * 17 + x) * c + channel;
    const specials = [
      { input: 0, index: at(0, 0, 0), value: Infinity }, // image corner, next to the padding
      { input: 0, index: at(7, 8, 5), value: NaN }, // first column of a run, last tap of the one before
      { input: 0, index: at(8, 7, 3), value: -Infinity }, // a column two runs share
      { input: 0, index: at(16, 16, 7), value: Infinity }, // last pixel, last channel
    ];
    const cases = ACTIVATIONS.flatMap((activation, i) =>
      [1, 2].map((stride) =>
        kernelCase({
          descriptor: depthwiseConv2d({
            channels: c,
            kernel: 3,
            stride,
            padding: "same",
            activation,
          }),
          inputShapes: [[1, 17, 17, c]],
          seed: 2 * i + stride,
          specials,
        })
      )
    );
    await assertCasesPass(backend, cases, { variant: "f32-dwconv-2x4-wgsl" });
  },
});

Deno.test({
  name: "f32-dwconv-2x4-wgsl: small workgroups, split dispatches and windowed bindings",
  ignore,
  async fn() {
    // 16 invocations a workgroup, 3 workgroups a dimension and 4 KiB bindings: the runs of a
    // call are split over dispatches, each binding only the input rows its runs read.
    using backend = await createWebGpuBackend({
      limits: {
        maxComputeInvocationsPerWorkgroup: 16,
        maxComputeWorkgroupsPerDimension: 3,
        maxStorageBufferBindingSize: 4096,
      },
    });
    const cases = [[3, 1, 9], [3, 2, 10], [5, 2, 7]].map(([kernel, stride, w], i) =>
      kernelCase({
        descriptor: depthwiseConv2d({
          channels: 8,
          kernel,
          stride,
          padding: "same",
          bias: true,
          activation: ACTIVATIONS[i + 1],
        }),
        inputShapes: [[2, 9, w, 8]],
        seed: 100 + i,
      })
    );
    await assertCasesPass(backend, cases, { variant: "f32-dwconv-2x4-wgsl" });
  },
});
