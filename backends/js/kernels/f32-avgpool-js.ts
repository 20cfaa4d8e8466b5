/**
 * Average pooling over NHWC, any window, stride and padding, with padded
 * cells counted in the divisor or not (`countIncludePad`).
 *
 * Loop order: output pixel → window tap (padding taps skipped) → channel,
 * summing contiguous channel rows into a float64 scratch row, then one
 * divide per output. The divisor is the full window when padding counts,
 * else the number of in-range taps, computed once per pixel from the
 * clipped window.
 *
 * @module
 */

import type { AvgPool2dDescriptor, OpGeometry } from "@mobileops/core";
import type { JsKernel, JsKernelVariant } from "../kernel.ts";

class AvgPool2d implements JsKernel {
  readonly #descriptor: AvgPool2dDescriptor;
  #sums = new Float64Array(0);

  constructor(descriptor: AvgPool2dDescriptor) {
    this.#descriptor = descriptor;
  }

  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const input = inputs[0];
    const [n, h, w, channels] = geometry.inputShapes[0];
    const [, outH, outW] = geometry.outputShape;
    const [padTop, , padLeft] = geometry.padding;
    const { kernel: [kh, kw], stride: [strideH, strideW], countIncludePad } = this.#descriptor;
    if (this.#sums.length < channels) this.#sums = new Float64Array(channels);
    const sums = this.#sums;
    let target = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < outH; oy++) {
        const yStart = Math.max(oy * strideH - padTop, 0);
        const yEnd = Math.min(oy * strideH - padTop + kh, h);
        for (let ox = 0; ox < outW; ox++, target += channels) {
          const xStart = Math.max(ox * strideW - padLeft, 0);
          const xEnd = Math.min(ox * strideW - padLeft + kw, w);
          sums.fill(0, 0, channels);
          for (let y = yStart; y < yEnd; y++) {
            for (let x = xStart; x < xEnd; x++) {
              const source = ((b * h + y) * w + x) * channels;
              for (let c = 0; c < channels; c++) sums[c] += input[source + c];
            }
          }
          const count = countIncludePad
            ? kh * kw
            : Math.max(yEnd - yStart, 0) * Math.max(xEnd - xStart, 0);
          for (let c = 0; c < channels; c++) output[target + c] = sums[c] / count;
        }
      }
    }
  }
}

/**
 * `f32-avgpool-js`: every average pooling.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { avgPool2d, inferGeometry } from "@mobileops/core";
 * import { f32AvgpoolJs } from "./f32-avgpool-js.ts";
 * const d = avgPool2d({ kernel: 2 });
 * const output = new Float32Array(1);
 * f32AvgpoolJs.prepare(d, undefined).run([new Float32Array([1, 2, 3, 6])], output, inferGeometry(d, [[1, 2, 2, 1]]));
 * assert(output[0] === 3);
 * ```
 */
export const f32AvgpoolJs: JsKernelVariant<"avgPool2d"> = {
  name: "f32-avgpool-js",
  matches: () => true,
  prepare: (descriptor) => new AvgPool2d(descriptor),
};
