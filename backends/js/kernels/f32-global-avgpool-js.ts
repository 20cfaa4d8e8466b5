/**
 * Global average pooling: `[N, H, W, C]` → `[N, 1, 1, C]`.
 *
 * Loop order: batch → pixel → channel, summing each contiguous channel row
 * into a float64 scratch row, so the input is read once in memory order and
 * long sums (e.g. 7×7 or 49×49 pixels) do not lose float32 precision.
 *
 * @module
 */

import type { OpGeometry } from "@mobileops/core";
import type { JsKernel, JsKernelVariant } from "../kernel.ts";

class GlobalAvgPool implements JsKernel {
  #sums = new Float64Array(0);

  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const input = inputs[0];
    const [n, h, w, channels] = geometry.inputShapes[0];
    if (this.#sums.length < channels) this.#sums = new Float64Array(channels);
    const sums = this.#sums;
    const pixels = h * w;
    for (let b = 0; b < n; b++) {
      sums.fill(0, 0, channels);
      for (let p = 0, source = b * pixels * channels; p < pixels; p++, source += channels) {
        for (let c = 0; c < channels; c++) sums[c] += input[source + c];
      }
      for (let c = 0; c < channels; c++) output[b * channels + c] = sums[c] / pixels;
    }
  }
}

/**
 * `f32-global-avgpool-js`: every global average pooling.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPool, inferGeometry } from "@mobileops/core";
 * import { f32GlobalAvgpoolJs } from "./f32-global-avgpool-js.ts";
 * const d = globalAvgPool();
 * const output = new Float32Array(1);
 * f32GlobalAvgpoolJs.prepare(d, undefined).run([new Float32Array([1, 2, 3, 6])], output, inferGeometry(d, [[1, 2, 2, 1]]));
 * assert(output[0] === 3);
 * ```
 */
export const f32GlobalAvgpoolJs: JsKernelVariant<"globalAvgPool"> = {
  name: "f32-global-avgpool-js",
  matches: () => true,
  prepare: () => new GlobalAvgPool(),
};
