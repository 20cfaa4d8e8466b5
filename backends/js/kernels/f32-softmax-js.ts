/**
 * Softmax over the last axis, numerically stable: each row's maximum is
 * subtracted before `exp`, so no term overflows and the largest is exactly 1.
 *
 * Loop order: row → three passes over the contiguous row: maximum, sum of
 * exponentials (float64), then each exponential recomputed and divided by
 * the sum. Recomputing `exp` instead of storing it in the float32 output
 * between passes rounds each result once instead of twice.
 *
 * Non-finite values follow the reference: a NaN makes the maximum NaN
 * (`Math.max`), and +∞ makes `+∞ − max` NaN, so either turns its whole row
 * into NaN; a −∞ contributes `exp(−∞) = 0`, and a row of −∞ only is NaN
 * (`−∞ − (−∞)`).
 *
 * @module
 */

import type { OpGeometry } from "@mobileops/core";
import type { JsKernel, JsKernelVariant } from "../kernel.ts";

class Softmax implements JsKernel {
  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const input = inputs[0];
    const shape = geometry.inputShapes[0];
    const length = shape[shape.length - 1];
    for (let start = 0; start < input.length; start += length) {
      const end = start + length;
      let max = -Infinity;
      for (let i = start; i < end; i++) max = Math.max(max, input[i]);
      let sum = 0;
      for (let i = start; i < end; i++) sum += Math.exp(input[i] - max);
      for (let i = start; i < end; i++) output[i] = Math.exp(input[i] - max) / sum;
    }
  }
}

/**
 * `f32-softmax-js`: every softmax.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inferGeometry, softmax } from "@mobileops/core";
 * import { f32SoftmaxJs } from "./f32-softmax-js.ts";
 * const output = new Float32Array(2);
 * f32SoftmaxJs.prepare(softmax(), undefined).run([new Float32Array([1000, 1000])], output, inferGeometry(softmax(), [[1, 2]]));
 * assert(output.join() === "0.5,0.5");
 * ```
 */
export const f32SoftmaxJs: JsKernelVariant<"softmax"> = {
  name: "f32-softmax-js",
  matches: () => true,
  prepare: () => new Softmax(),
};
