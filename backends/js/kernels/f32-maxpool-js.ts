/**
 * Max pooling over NHWC, any window, stride and padding, floor or ceil mode.
 *
 * Loop order: output pixel → window tap (padding taps, and a ceil-mode
 * window's overhang past the padding, skipped: neither ever wins) →
 * channel. The channel loop runs over contiguous input and output rows: the
 * output row starts at −∞ and each in-range tap takes the maximum into it,
 * so no scratch memory is needed.
 *
 * A NaN in the window makes the output NaN, as `Math.max` does: a NaN tap
 * is taken (`value !== value`), and once stored nothing compares greater
 * than it. The extra test runs only when `value > current` is false and is
 * never taken on ordinary data, so it is predicted; `Math.max` itself was
 * slower in V8 (measured on the 112×112×24 3×3 stride-2 pool of ShuffleNet).
 *
 * @module
 */

import type { MaxPool2dDescriptor, OpGeometry } from "@mobileops/core";
import type { JsKernel, JsKernelVariant } from "../kernel.ts";

class MaxPool2d implements JsKernel {
  readonly #descriptor: MaxPool2dDescriptor;

  constructor(descriptor: MaxPool2dDescriptor) {
    this.#descriptor = descriptor;
  }

  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const input = inputs[0];
    const [n, h, w, channels] = geometry.inputShapes[0];
    const [, outH, outW] = geometry.outputShape;
    const [padTop, , padLeft] = geometry.padding;
    const { kernel: [kh, kw], stride: [strideH, strideW] } = this.#descriptor;
    let target = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < outH; oy++) {
        const yStart = Math.max(oy * strideH - padTop, 0);
        const yEnd = Math.min(oy * strideH - padTop + kh, h);
        for (let ox = 0; ox < outW; ox++, target += channels) {
          const xStart = Math.max(ox * strideW - padLeft, 0);
          const xEnd = Math.min(ox * strideW - padLeft + kw, w);
          output.fill(-Infinity, target, target + channels);
          for (let y = yStart; y < yEnd; y++) {
            for (let x = xStart; x < xEnd; x++) {
              const source = ((b * h + y) * w + x) * channels;
              for (let c = 0; c < channels; c++) {
                const value = input[source + c];
                if (value > output[target + c] || value !== value) output[target + c] = value;
              }
            }
          }
        }
      }
    }
  }
}

/**
 * `f32-maxpool-js`: every max pooling.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inferGeometry, maxPool2d } from "@mobileops/core";
 * import { f32MaxpoolJs } from "./f32-maxpool-js.ts";
 * const d = maxPool2d({ kernel: 2 });
 * const output = new Float32Array(1);
 * f32MaxpoolJs.prepare(d, undefined).run([new Float32Array([1, -2, 5, 3])], output, inferGeometry(d, [[1, 2, 2, 1]]));
 * assert(output[0] === 5);
 * f32MaxpoolJs.prepare(d, undefined).run([new Float32Array([1, NaN, 5, 3])], output, inferGeometry(d, [[1, 2, 2, 1]]));
 * assert(Number.isNaN(output[0]));
 * // Ceil mode on 1×3: windows {−1, −2} and {−6}; the overhang is not a 0 that wins.
 * const ceil = maxPool2d({ kernel: [1, 2], ceilMode: true });
 * const pair = new Float32Array(2);
 * f32MaxpoolJs.prepare(ceil, undefined).run([new Float32Array([-1, -2, -6])], pair, inferGeometry(ceil, [[1, 1, 3, 1]]));
 * assert.deepEqual([...pair], [-1, -6]);
 * ```
 */
export const f32MaxpoolJs: JsKernelVariant<"maxPool2d"> = {
  name: "f32-maxpool-js",
  matches: () => true,
  prepare: (descriptor) => new MaxPool2d(descriptor),
};
