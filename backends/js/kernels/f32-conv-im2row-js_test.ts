import assert from "node:assert/strict";
import { randomFloat32, reference, seededRandom, withinTolerance } from "@mobileops/conformance";
import {
  type Activation,
  denseConv2d,
  inferGeometry,
  type Padding,
  shapeSize,
} from "@mobileops/core";
import { prepareIm2rowConv2d } from "./f32-conv2d-im2row-js.ts";

const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];
const PADDINGS: readonly Padding[] = ["valid", "same", [2, 0, 1, 3]];

// Output-channel counts 1..9 cover full and partial 4-channel tiles; output
// pixel counts from 1 up, over two batches, cover full and partial 4-pixel
// tiles, including tiles that span rows and batches; kernels, strides,
// dilations and paddings cover every branch of the gather.
Deno.test("im2row conv matches the reference for every edge size", () => {
  const random = seededRandom(31);
  let cases = 0;
  const failures: string[] = [];
  for (const kernel of [[1, 1], [3, 3], [2, 3]] as const) {
    for (const [stride, dilation] of [[1, 1], [2, 1], [1, 2]]) {
      for (const padding of PADDINGS) {
        for (let outChannels = 1; outChannels <= 9; outChannels++) {
          for (const [h, w] of [[1, 1], [3, 2], [4, 5], [5, 3]]) {
            const inChannels = 1 + (outChannels % 3);
            const bias = outChannels % 2 === 0;
            const descriptor = denseConv2d({
              inChannels,
              outChannels,
              kernel,
              stride,
              dilation,
              padding,
              bias,
              activation: ACTIVATIONS[(h + outChannels) % 3],
            });
            const shape = [2, h, w, inChannels];
            let geometry;
            try {
              geometry = inferGeometry(descriptor, [shape]);
            } catch {
              continue;
            }
            const weights = {
              filter: randomFloat32(random, outChannels * kernel[0] * kernel[1] * inChannels),
              bias: bias ? randomFloat32(random, outChannels) : undefined,
            };
            const input = randomFloat32(random, shapeSize(shape), 4);
            const output = new Float32Array(shapeSize(geometry.outputShape)).fill(NaN);
            prepareIm2rowConv2d(descriptor, weights).run([input], output, geometry);
            const check = withinTolerance(
              output,
              reference(descriptor, weights, [{ shape, data: input }]),
            );
            cases++;
            if (!check.ok) {
              failures.push(
                `${kernel} s${stride} d${dilation} ${padding} ${h}×${w}→${outChannels}: ${check.detail}`,
              );
            }
          }
        }
      }
    }
  }
  assert(cases > 500, `only ${cases} valid cases`);
  assert.deepEqual(failures, [], `${failures.length} of ${cases} cases failed`);
});
