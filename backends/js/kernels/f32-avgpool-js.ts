/**
 * Average pooling over NHWC, any window, stride and padding, floor or ceil
 * mode, with padded cells counted in the divisor or not (`countIncludePad`).
 *
 * Loop order: output pixel → window tap (padding taps skipped) → channel,
 * summing contiguous channel rows into a float64 scratch row, then one
 * divide per output. The divisor, computed once per pixel, is the number of
 * window cells inside the padded input when padding counts (the full window,
 * except for a ceil-mode window hanging past the bottom/right padding, whose
 * overhang never counts), else the number of in-range taps.
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
    const [padTop, padBottom, padLeft, padRight] = geometry.padding;
    const { kernel: [kh, kw], stride: [strideH, strideW], countIncludePad } = this.#descriptor;
    if (this.#sums.length < channels) this.#sums = new Float64Array(channels);
    const sums = this.#sums;
    let target = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < outH; oy++) {
        const y0 = oy * strideH - padTop;
        const yStart = Math.max(y0, 0);
        const yEnd = Math.min(y0 + kh, h);
        const paddedRows = Math.min(y0 + kh, h + padBottom) - y0;
        for (let ox = 0; ox < outW; ox++, target += channels) {
          const x0 = ox * strideW - padLeft;
          const xStart = Math.max(x0, 0);
          const xEnd = Math.min(x0 + kw, w);
          sums.fill(0, 0, channels);
          for (let y = yStart; y < yEnd; y++) {
            for (let x = xStart; x < xEnd; x++) {
              const source = ((b * h + y) * w + x) * channels;
              for (let c = 0; c < channels; c++) sums[c] += input[source + c];
            }
          }
          const count = countIncludePad
            ? paddedRows * (Math.min(x0 + kw, w + padRight) - x0)
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
 * // Ceil mode on 1×3: windows {1, 2} and {6}; the overhang never counts, padding or not.
 * const ceil = avgPool2d({ kernel: [1, 2], countIncludePad: true, ceilMode: true });
 * const pair = new Float32Array(2);
 * f32AvgpoolJs.prepare(ceil, undefined).run([new Float32Array([1, 2, 6])], pair, inferGeometry(ceil, [[1, 1, 3, 1]]));
 * assert.deepEqual([...pair], [1.5, 6]);
 * ```
 */
export const f32AvgpoolJs: JsKernelVariant<"avgPool2d"> = {
  name: "f32-avgpool-js",
  matches: () => true,
  prepare: (descriptor) => new AvgPool2d(descriptor),
};
