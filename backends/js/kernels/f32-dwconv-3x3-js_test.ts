import assert from "node:assert/strict";
import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import {
  type Activation,
  depthwiseConv2d,
  type DepthwiseConv2dOptions,
  inferGeometry,
  type Padding,
  ShapeError,
} from "@mobileops/core";
import { createBackend } from "@mobileops/registry";
import { f32Dwconv3x3Js } from "./f32-dwconv-3x3-js.ts";

const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];
const PADDINGS: readonly Padding[] = ["valid", "same", [1, 1, 1, 1], [0, 2, 2, 0], [3, 4, 4, 3]];
const STRIDES = [[1, 1], [2, 2], [1, 2], [2, 1]] as const;

// Heights 1..7 and widths 1..13 take every split of a row into left border,
// 4-pixel interior blocks, single interior pixels and right border, at both
// strides, with padding on no side, every side, one side only, and wider
// than the window (rows and columns of windows that lie wholly in padding).
Deno.test("3×3 depthwise conv matches the reference for every edge size", async () => {
  const channels = 5;
  const cases: ConformanceCase[] = [];
  for (const stride of STRIDES) {
    for (const padding of PADDINGS) {
      for (let h = 1; h <= 7; h++) {
        for (let w = 1; w <= 13; w++) {
          const descriptor = depthwiseConv2d({
            channels,
            kernel: 3,
            stride,
            padding,
            bias: (h + w) % 2 === 0,
            activation: ACTIVATIONS[(h * w) % 3],
          });
          const inputShapes = [[1, h, w, channels]];
          try {
            inferGeometry(descriptor, inputShapes);
          } catch (error) {
            if (error instanceof ShapeError) continue;
            throw error;
          }
          cases.push(
            kernelCase({
              descriptor,
              inputShapes,
              seed: 21_000 + cases.length,
              inputRange: [-4, 4],
            }),
          );
        }
      }
    }
  }
  assert(cases.length > 1300, `only ${cases.length} valid cases`);
  using backend = await createBackend("js");
  await assertCasesPass(backend, cases, { variant: "f32-dwconv-3x3-js" });
});

Deno.test("3×3 depthwise conv keeps batches apart", async () => {
  const descriptor = depthwiseConv2d({ channels: 3, kernel: 3, padding: "same", bias: true });
  using backend = await createBackend("js");
  const cases = [kernelCase({ descriptor, inputShapes: [[3, 6, 9, 3]], seed: 22 })];
  await assertCasesPass(backend, cases, { variant: "f32-dwconv-3x3-js" });
});

Deno.test("f32-dwconv-3x3-js leaves multipliers, dilation, stride 3 and 5×5 to the generic kernel", () => {
  const base = { channels: 4, kernel: 3 };
  const matches = (options: DepthwiseConv2dOptions) =>
    f32Dwconv3x3Js.matches(depthwiseConv2d(options), undefined);
  assert(!matches({ ...base, multiplier: 2 }));
  assert(!matches({ ...base, dilation: 2 }));
  assert(!matches({ ...base, stride: 3 }));
  assert(!matches({ ...base, kernel: 5 }));
});
