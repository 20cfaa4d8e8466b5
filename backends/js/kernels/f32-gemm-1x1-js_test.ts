import assert from "node:assert/strict";
import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { type Activation, type Conv2dDescriptor, pointwiseConv2d } from "@mobileops/core";
import { createBackend } from "@mobileops/registry";
import { f32Gemm1x1Js } from "./f32-gemm-1x1-js.ts";

const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];

// Every output-channel count 1..17 covers full and partial 4-channel blocks
// (and several of each); every pixel count 1..9 covers full and partial
// 4-pixel blocks; groups 1 and 3 cover the group offsets.
Deno.test("pointwise conv matches the reference for every edge size", async () => {
  const cases: ConformanceCase[] = [];
  for (const groups of [1, 3]) {
    for (const groupIn of [1, 6]) {
      for (let groupOut = 1; groupOut <= 17; groupOut++) {
        for (let pixels = 1; pixels <= 9; pixels++) {
          const descriptor = pointwiseConv2d({
            inChannels: groups * groupIn,
            outChannels: groups * groupOut,
            groups,
            bias: (groupOut + pixels) % 2 === 0,
            activation: ACTIVATIONS[(groupOut + pixels + groups) % 3],
          });
          cases.push(kernelCase({
            descriptor,
            inputShapes: [[1, 1, pixels, groups * groupIn]],
            seed: 11_000 + cases.length,
            inputRange: [-4, 4],
          }));
        }
      }
    }
  }
  using backend = await createBackend("js");
  await assertCasesPass(backend, cases, { variant: "f32-gemm-1x1-js" });
});

Deno.test("pointwise conv treats batch, rows and columns as one pixel list", async () => {
  const descriptor = pointwiseConv2d({ inChannels: 5, outChannels: 6, bias: true });
  using backend = await createBackend("js");
  const cases = [kernelCase({ descriptor, inputShapes: [[2, 3, 5, 5]], seed: 12 })];
  await assertCasesPass(backend, cases, { variant: "f32-gemm-1x1-js" });
});

Deno.test("f32-gemm-1x1-js rejects strided, padded and larger kernels", () => {
  const base = { inChannels: 4, outChannels: 4 };
  const matches = (descriptor: Conv2dDescriptor) => f32Gemm1x1Js.matches(descriptor, undefined);
  assert(!matches(pointwiseConv2d({ ...base, stride: 2 })));
  assert(!matches({ ...pointwiseConv2d(base), padding: [0, 1, 0, 0] }));
  assert(!matches({ ...pointwiseConv2d(base), kernel: [1, 3] }));
  assert(matches({ ...pointwiseConv2d(base), padding: "same" }));
});
