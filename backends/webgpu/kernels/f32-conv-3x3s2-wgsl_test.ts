import assert from "node:assert/strict";
import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { type Activation, type Backend, conv2d, type Padding } from "@mobileops/core";
import { createWebGpuBackend } from "../mod.ts";
import { webgpuUnavailable } from "../testing.ts";

const ignore = await webgpuUnavailable() !== undefined;
const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6", { min: -1, max: 0.5 }];
const NAME = "f32-conv-3x3s2-wgsl";

function stem(inChannels: number, outChannels: number, padding: Padding, seed: number) {
  return conv2d({
    inChannels,
    outChannels,
    kernel: 3,
    stride: 2,
    padding,
    bias: seed % 2 === 0,
    activation: ACTIVATIONS[seed % 4],
  });
}

Deno.test({
  name: `${NAME}: channel quads and blocks, image edges, paddings and batches`,
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases: ConformanceCase[] = [];
    let seed = 1;
    const paddings: readonly Padding[] = ["same", "valid", [1, 1, 1, 1], [0, 2, 2, 0], [
      2,
      0,
      1,
      1,
    ]];
    // Output channels: under a quad, every quad remainder, one block (8 quads) exactly, past it.
    for (const outChannels of [1, 2, 3, 4, 5, 7, 24, 32, 33, 40]) {
      for (const inChannels of [1, 3, 4]) {
        // Even and odd sides: "same" pads one side only on odd ones; 1- and 2-pixel images.
        for (const [h, w] of [[1, 1], [2, 3], [7, 6], [9, 11]]) {
          const padding = paddings[seed % paddings.length];
          if (padding === "valid" && (h < 3 || w < 3)) continue;
          cases.push(kernelCase({
            descriptor: stem(inChannels, outChannels, padding, seed),
            inputShapes: [[1 + (seed % 3 === 0 ? 1 : 0), h, w, inChannels]],
            seed: seed++,
          }));
        }
      }
    }
    await assertCasesPass(backend, cases, { variant: NAME });
  },
});

Deno.test({
  name: `${NAME}: NaN and ±∞ at image borders and corners stay in their windows`,
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const [h, w, c] = [9, 8, 3];
    const at = (n: number, y: number, x: number, channel: number) =>
      ((n * h + y) * w + x) * c + channel;
    const specials = [
      { input: 0, index: at(0, 0, 0, 0), value: Infinity }, // corner beside the padding
      { input: 0, index: at(0, 4, 7, 2), value: NaN }, // right edge, shared by two windows
      { input: 0, index: at(0, 8, 3, 1), value: -Infinity }, // bottom row
      { input: 0, index: at(1, 8, 7, 2), value: Infinity }, // last pixel of the second image
      { input: 0, index: at(1, 0, 5, 0), value: NaN }, // top row of the second image
    ];
    const paddings: readonly Padding[] = ["same", [1, 1, 1, 1], "valid"];
    const cases = ACTIVATIONS.flatMap((_, i) =>
      paddings.map((padding, j) =>
        kernelCase({
          descriptor: stem(c, [5, 32][(i + j) % 2], padding, i),
          inputShapes: [[2, h, w, c]],
          seed: 3 * i + j + 1,
          specials,
        })
      )
    );
    await assertCasesPass(backend, cases, { variant: NAME });
  },
});

Deno.test({
  name: `${NAME}: other shapes and a filter past the binding limit fall back`,
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const prepare = (on: Backend, options: Parameters<typeof conv2d>[0]) => {
      const descriptor = conv2d(options);
      const { outChannels, kernel: [kh, kw], inChannels, groups } = descriptor;
      return on.prepare(descriptor, {
        filter: new Float32Array(outChannels * kh * kw * (inChannels / groups)),
      });
    };
    const variant = async (options: Parameters<typeof conv2d>[0]) => {
      using kernel = await prepare(backend, options);
      return kernel.variant;
    };
    const base = { inChannels: 3, outChannels: 32, kernel: 3, stride: 2, padding: "same" as const };
    assert.equal(await variant(base), NAME);
    assert.equal(await variant({ ...base, stride: 1 }), "f32-conv-wgsl");
    assert.equal(await variant({ ...base, kernel: [3, 5] }), "f32-conv-wgsl");
    assert.equal(await variant({ ...base, dilation: 2 }), "f32-conv-wgsl");
    assert.equal(await variant({ ...base, inChannels: 5 }), "f32-conv-wgsl");
    assert.equal(
      await variant({ ...base, inChannels: 6, groups: 3, outChannels: 6 }),
      "f32-conv-wgsl",
    );
    // 32 output channels × 9 taps × 4 input channels: 4608 bytes, more than a 4 KiB binding.
    using small = await createWebGpuBackend({ limits: { maxStorageBufferBindingSize: 4096 } });
    using wide = await prepare(small, { ...base, inChannels: 4 });
    assert.equal(wide.variant, "f32-conv-wgsl");
    using narrow = await prepare(small, base);
    assert.equal(narrow.variant, NAME);
  },
});
