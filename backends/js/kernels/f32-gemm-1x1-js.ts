/**
 * 1×1 convolution, stride 1, no padding, any number of groups: per group, a
 * matrix product `[pixels × Kg] · [Kg × Ng]` over NHWC data, where a
 * pixel's input channels are already a contiguous row of the left matrix.
 *
 * Loop order: group → block of 4 pixels → block of 4 output channels → K
 * (inside {@link gemm4Rows}). The four input rows of a pixel block
 * (4·Kg floats) stay in L1 while every channel block reuses them; the
 * weights are packed at prepare into 4-channel panels (see
 * `gemm.ts`).
 *
 * @module
 */

import type { Conv2dDescriptor, ConvWeights, OpGeometry } from "@mobileops/core";
import {
  type ActivationCode,
  activationCode,
  type JsKernel,
  type JsKernelVariant,
} from "../kernel.ts";
import { gemm1Row, gemm4Rows, type GemmPanels, packGemmPanels } from "./gemm.ts";

class PointwiseConv2d implements JsKernel {
  readonly #groups: number;
  readonly #packed: GemmPanels;
  readonly #activation: ActivationCode;

  constructor(descriptor: Conv2dDescriptor, weights: ConvWeights) {
    const groups = descriptor.groups;
    this.#groups = groups;
    this.#packed = packGemmPanels(
      groups,
      descriptor.inChannels / groups,
      descriptor.outChannels / groups,
      weights.filter,
      weights.bias,
    );
    this.#activation = activationCode(descriptor.activation);
  }

  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const input = inputs[0];
    const [n, h, w, inChannels] = geometry.inputShapes[0];
    const outChannels = geometry.outputShape[3];
    const pixels = n * h * w;
    const groups = this.#groups;
    const groupIn = inChannels / groups;
    const groupOut = outChannels / groups;
    const packed = this.#packed;
    const activation = this.#activation;
    for (let g = 0; g < groups; g++) {
      let p = 0;
      for (; p + 4 <= pixels; p += 4) {
        gemm4Rows(
          input,
          p * inChannels + g * groupIn,
          inChannels,
          groupIn,
          packed,
          g,
          output,
          p * outChannels + g * groupOut,
          outChannels,
          groupOut,
          activation,
        );
      }
      for (; p < pixels; p++) {
        gemm1Row(
          input,
          p * inChannels + g * groupIn,
          groupIn,
          packed,
          g,
          output,
          p * outChannels + g * groupOut,
          groupOut,
          activation,
        );
      }
    }
  }
}

/**
 * `f32-gemm-1x1-js`: a 1×1 kernel with stride 1 whose padding is zero
 * whatever the input size, any number of groups. `prepare` packs the
 * weights into matrix-product panels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inferGeometry, pointwiseConv2d } from "@mobileops/core";
 * import { f32Gemm1x1Js } from "./f32-gemm-1x1-js.ts";
 * assert(f32Gemm1x1Js.matches(pointwiseConv2d({ inChannels: 8, outChannels: 4, groups: 2 }), undefined));
 * const d = pointwiseConv2d({ inChannels: 2, outChannels: 1 });
 * const kernel = f32Gemm1x1Js.prepare(d, { filter: new Float32Array([2, 3]) });
 * const output = new Float32Array(1);
 * kernel.run([new Float32Array([1, 1])], output, inferGeometry(d, [[1, 1, 1, 2]]));
 * assert.equal(output[0], 5);
 * ```
 */
export const f32Gemm1x1Js: JsKernelVariant<"conv2d"> = {
  name: "f32-gemm-1x1-js",
  matches: ({ kernel, stride, padding }) =>
    kernel[0] === 1 && kernel[1] === 1 && stride[0] === 1 && stride[1] === 1 &&
    (typeof padding === "string" || padding.every((side) => side === 0)),
  prepare: (descriptor, weights) => new PointwiseConv2d(descriptor, weights),
};
