import assert from "node:assert/strict";
import { randomFloat32, reference, seededRandom, withinTolerance } from "@mobileops/conformance";
import { type Activation, conv2d, inferGeometry, type Padding, shapeSize } from "@mobileops/core";
import { prepareGenericConv2d } from "./f32-conv2d-generic-js.ts";

const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];
const PADDINGS: readonly Padding[] = ["valid", "same", [2, 0, 1, 3]];

// Group layouts from depthwise (one input channel per group, with and
// without a multiplier) to wide groups, over kernels, strides, dilations and
// paddings that put taps in the padding on every side.
Deno.test("generic conv matches the reference across groups, windows and paddings", () => {
  const random = seededRandom(41);
  let cases = 0;
  const failures: string[] = [];
  for (const [groups, groupIn, groupOut] of [[4, 1, 1], [3, 1, 2], [2, 3, 5], [1, 2, 3]]) {
    for (const kernel of [[1, 1], [3, 3], [2, 3]] as const) {
      for (const [stride, dilation] of [[1, 1], [2, 1], [1, 2]]) {
        for (const padding of PADDINGS) {
          for (const [h, w] of [[1, 2], [4, 5], [6, 3]]) {
            const bias = (h + groups) % 2 === 0;
            const descriptor = conv2d({
              inChannels: groups * groupIn,
              outChannels: groups * groupOut,
              groups,
              kernel,
              stride,
              dilation,
              padding,
              bias,
              activation: ACTIVATIONS[(w + groupOut) % 3],
            });
            const shape = [2, h, w, groups * groupIn];
            let geometry;
            try {
              geometry = inferGeometry(descriptor, [shape]);
            } catch {
              continue;
            }
            const weights = {
              filter: randomFloat32(random, groups * groupOut * kernel[0] * kernel[1] * groupIn),
              bias: bias ? randomFloat32(random, groups * groupOut) : undefined,
            };
            const input = randomFloat32(random, shapeSize(shape), 4);
            const output = new Float32Array(shapeSize(geometry.outputShape)).fill(NaN);
            prepareGenericConv2d(descriptor, weights).run([input], output, geometry);
            const check = withinTolerance(
              output,
              reference(descriptor, weights, [{ shape, data: input }]),
            );
            cases++;
            if (!check.ok) {
              failures.push(
                `g${groups} ${groupIn}→${groupOut} ${kernel} s${stride} d${dilation} ` +
                  `${padding} ${h}×${w}: ${check.detail}`,
              );
            }
          }
        }
      }
    }
  }
  assert(cases > 250, `only ${cases} valid cases`);
  assert.deepEqual(failures, [], `${failures.length} of ${cases} cases failed`);
});
