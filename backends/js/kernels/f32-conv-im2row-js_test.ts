import assert from "node:assert/strict";
import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { type Activation, denseConv2d, inferGeometry, type Padding } from "@mobileops/core";
import { createBackend } from "@mobileops/registry";

const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];
const PADDINGS: readonly Padding[] = ["valid", "same", [2, 0, 1, 3]];

// Output-channel counts 1..9 cover full and partial 4-channel tiles; output
// pixel counts from 1 up, over two batches, cover full and partial 4-pixel
// tiles, including tiles that span rows and batches; kernels, strides,
// dilations and paddings cover every branch of the gather.
Deno.test("im2row conv matches the reference for every edge size", async () => {
  // The backend runs 1×1 stride-1 layers without padding as a plain matrix
  // product; they stay in the sweep, checked on that variant.
  const casesByVariant = new Map<string, ConformanceCase[]>([
    ["f32-conv-im2row-js", []],
    ["f32-gemm-1x1-js", []],
  ]);
  let cases = 0;
  for (const kernel of [[1, 1], [3, 3], [2, 3]] as const) {
    for (const [stride, dilation] of [[1, 1], [2, 1], [1, 2]]) {
      for (const padding of PADDINGS) {
        for (let outChannels = 1; outChannels <= 9; outChannels++) {
          for (const [h, w] of [[1, 1], [3, 2], [4, 5], [5, 3]]) {
            const inChannels = 1 + (outChannels % 3);
            const descriptor = denseConv2d({
              inChannels,
              outChannels,
              kernel,
              stride,
              dilation,
              padding,
              bias: outChannels % 2 === 0,
              activation: ACTIVATIONS[(h + outChannels) % 3],
            });
            const inputShapes = [[2, h, w, inChannels]];
            try {
              inferGeometry(descriptor, inputShapes);
            } catch {
              continue;
            }
            const pointwise = kernel[0] === 1 && kernel[1] === 1 && stride === 1 &&
              typeof padding === "string";
            casesByVariant.get(pointwise ? "f32-gemm-1x1-js" : "f32-conv-im2row-js")!.push(
              kernelCase({ descriptor, inputShapes, seed: 31_000 + cases, inputRange: [-4, 4] }),
            );
            cases++;
          }
        }
      }
    }
  }
  assert(cases > 500, `only ${cases} valid cases`);
  using backend = await createBackend("js");
  for (const [variant, group] of casesByVariant) {
    await assertCasesPass(backend, group, { variant });
  }
});
