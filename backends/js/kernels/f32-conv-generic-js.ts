/**
 * Any 2-D convolution: every kernel size, stride, dilation, padding, group
 * count and depthwise multiplier. Last in the backend's convolution list, it
 * runs the grouped layers the specialised variants do not cover (depthwise
 * with a multiplier, dilated or non-3×3 depthwise, grouped ones other than
 * stride-1 1×1); ungrouped ones go to `f32-conv-im2row-js`.
 *
 * Loop order: output pixel → group → kernel tap (padding taps skipped
 * before the inner loops) → input channel → output channel. The filter is
 * packed at prepare as `[group][kh][kw][in][out]`, so the innermost loop
 * walks one contiguous row of weights and one contiguous row of sums: one
 * input value is loaded once and reused for every output channel of its
 * group. Sums start from the bias in a float64 scratch row; each output
 * pixel is activated once its groups are stored.
 *
 * @module
 */

import type { Conv2dDescriptor, ConvWeights, OpGeometry } from "@mobileops/core";
import {
  activateRange,
  type ActivationCode,
  activationCode,
  type JsKernel,
  type JsKernelVariant,
} from "../kernel.ts";

class GenericConv2d implements JsKernel {
  readonly #descriptor: Conv2dDescriptor;
  readonly #filter: Float32Array;
  readonly #bias: Float32Array;
  readonly #sums: Float64Array;
  readonly #activation: ActivationCode;

  constructor(descriptor: Conv2dDescriptor, weights: ConvWeights) {
    const { groups, kernel: [kh, kw] } = descriptor;
    const groupIn = descriptor.inChannels / groups;
    const groupOut = descriptor.outChannels / groups;
    const filter = new Float32Array(weights.filter.length);
    for (let g = 0; g < groups; g++) {
      for (let o = 0; o < groupOut; o++) {
        for (let tap = 0; tap < kh * kw; tap++) {
          for (let i = 0; i < groupIn; i++) {
            filter[((g * kh * kw + tap) * groupIn + i) * groupOut + o] =
              weights.filter[((g * groupOut + o) * kh * kw + tap) * groupIn + i];
          }
        }
      }
    }
    this.#descriptor = descriptor;
    this.#filter = filter;
    this.#bias = weights.bias?.slice() ?? new Float32Array(descriptor.outChannels);
    this.#sums = new Float64Array(groupOut);
    this.#activation = activationCode(descriptor.activation);
  }

  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const input = inputs[0];
    const [n, h, w, inChannels] = geometry.inputShapes[0];
    const [, outH, outW, outChannels] = geometry.outputShape;
    const [padTop, , padLeft] = geometry.padding;
    const {
      groups,
      kernel: [kh, kw],
      stride: [strideH, strideW],
      dilation: [dilationH, dilationW],
    } = this.#descriptor;
    const groupIn = inChannels / groups;
    const groupOut = outChannels / groups;
    const filter = this.#filter;
    const bias = this.#bias;
    const sums = this.#sums;
    const activation = this.#activation;
    let out = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < outH; oy++) {
        const y0 = oy * strideH - padTop;
        for (let ox = 0; ox < outW; ox++, out += outChannels) {
          const x0 = ox * strideW - padLeft;
          for (let g = 0; g < groups; g++) {
            for (let o = 0; o < groupOut; o++) sums[o] = bias[g * groupOut + o];
            for (let ky = 0; ky < kh; ky++) {
              const y = y0 + ky * dilationH;
              if (y < 0 || y >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const x = x0 + kx * dilationW;
                if (x < 0 || x >= w) continue;
                const source = ((b * h + y) * w + x) * inChannels + g * groupIn;
                let weight = ((g * kh + ky) * kw + kx) * groupIn * groupOut;
                for (let i = 0; i < groupIn; i++) {
                  const value = input[source + i];
                  for (let o = 0; o < groupOut; o++) sums[o] += value * filter[weight + o];
                  weight += groupOut;
                }
              }
            }
            const target = out + g * groupOut;
            for (let o = 0; o < groupOut; o++) {
              output[target + o] = sums[o];
            }
          }
          activateRange(output, out, out + outChannels, activation);
        }
      }
    }
  }
}

/**
 * `f32-conv-generic-js`: every convolution. `prepare` packs the filter as
 * `[group][kh][kw][in][out]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conv2d, inferGeometry } from "@mobileops/core";
 * import { f32ConvGenericJs } from "./f32-conv-generic-js.ts";
 * // 2×1 kernel, "same" padding: the bottom row sees one real pixel and one padded zero.
 * const d = conv2d({ inChannels: 1, outChannels: 1, kernel: [2, 1], padding: "same" });
 * assert(f32ConvGenericJs.matches(d, undefined));
 * const kernel = f32ConvGenericJs.prepare(d, { filter: new Float32Array([1, 10]) });
 * const output = new Float32Array(2);
 * kernel.run([new Float32Array([1, 2])], output, inferGeometry(d, [[1, 2, 1, 1]]));
 * assert(output.join() === "21,2");
 * ```
 */
export const f32ConvGenericJs: JsKernelVariant<"conv2d"> = {
  name: "f32-conv-generic-js",
  matches: () => true,
  prepare: (descriptor, weights) => new GenericConv2d(descriptor, weights),
};
