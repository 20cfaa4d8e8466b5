import assert from "node:assert/strict";
import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { type Activation, conv2d, inferGeometry, type Padding } from "@mobileops/core";
import { createBackend } from "@mobileops/registry";

const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];
const PADDINGS: readonly Padding[] = ["valid", "same", [2, 0, 1, 3]];

// Group layouts from depthwise (one input channel per group, with and
// without a multiplier) to wide groups, over kernels, strides, dilations and
// paddings that put taps in the padding on every side.
Deno.test("generic conv matches the reference across groups, windows and paddings", async () => {
  // The backend gives 1×1 stride-1 layers without padding, 3×3 depthwise
  // layers without dilation and ungrouped layers to its specialised
  // variants; they stay in the sweep, checked on the variant that runs them.
  const casesByVariant = new Map<string, ConformanceCase[]>([
    ["f32-conv-generic-js", []],
    ["f32-gemm-1x1-js", []],
    ["f32-dwconv-3x3-js", []],
    ["f32-conv-im2row-js", []],
  ]);
  let cases = 0;
  for (const [groups, groupIn, groupOut] of [[4, 1, 1], [3, 1, 2], [2, 3, 5], [1, 2, 3]]) {
    for (const kernel of [[1, 1], [3, 3], [2, 3]] as const) {
      for (const [stride, dilation] of [[1, 1], [2, 1], [1, 2]]) {
        for (const padding of PADDINGS) {
          for (const [h, w] of [[1, 2], [4, 5], [6, 3]]) {
            const descriptor = conv2d({
              inChannels: groups * groupIn,
              outChannels: groups * groupOut,
              groups,
              kernel,
              stride,
              dilation,
              padding,
              bias: (h + groups) % 2 === 0,
              activation: ACTIVATIONS[(w + groupOut) % 3],
            });
            const inputShapes = [[2, h, w, groups * groupIn]];
            try {
              inferGeometry(descriptor, inputShapes);
            } catch {
              continue;
            }
            const variant = kernel[0] === 1 && kernel[1] === 1 && stride === 1 &&
                typeof padding === "string"
              ? "f32-gemm-1x1-js"
              : groupIn === 1 && groupOut === 1 && kernel[0] === 3 && kernel[1] === 3 &&
                  dilation === 1
              ? "f32-dwconv-3x3-js"
              : groups === 1
              ? "f32-conv-im2row-js"
              : "f32-conv-generic-js";
            casesByVariant.get(variant)!.push(
              kernelCase({ descriptor, inputShapes, seed: 41_000 + cases, inputRange: [-4, 4] }),
            );
            cases++;
          }
        }
      }
    }
  }
  assert(cases > 250, `only ${cases} valid cases`);
  using backend = await createBackend("js");
  for (const [variant, group] of casesByVariant) {
    await assertCasesPass(backend, group, { variant });
  }
});
