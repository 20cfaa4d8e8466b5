/**
 * Fully connected layer: `y[n][o] = bias[o] + Σ x[n][i]·W[o][i]`, then the
 * activation, over the flattened per-batch features.
 *
 * Loop order: batch → block of 4 outputs → input feature. The weight
 * layout `[out][in]` is already what a dot product wants (contiguous rows),
 * so it is used as given; four rows are walked together so that each input
 * value is loaded once per four multiply-adds, with the four sums in locals.
 *
 * @module
 */

import type { FullyConnectedDescriptor, FullyConnectedWeights, OpGeometry } from "@mobileops/core";
import {
  activateRange,
  type ActivationCode,
  activationCode,
  type JsKernel,
  type JsKernelVariant,
} from "../kernel.ts";

class FullyConnected implements JsKernel {
  readonly #inFeatures: number;
  readonly #outFeatures: number;
  readonly #weights: Float32Array;
  readonly #bias: Float32Array;
  readonly #activation: ActivationCode;

  constructor(descriptor: FullyConnectedDescriptor, weights: FullyConnectedWeights) {
    this.#inFeatures = descriptor.inFeatures;
    this.#outFeatures = descriptor.outFeatures;
    this.#weights = weights.weights.slice();
    this.#bias = weights.bias?.slice() ?? new Float32Array(descriptor.outFeatures);
    this.#activation = activationCode(descriptor.activation);
  }

  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const input = inputs[0];
    const batch = geometry.outputShape[0];
    const k = this.#inFeatures;
    const m = this.#outFeatures;
    const weights = this.#weights;
    const bias = this.#bias;
    const activation = this.#activation;
    for (let b = 0; b < batch; b++) {
      const x = b * k;
      const y = b * m;
      let o = 0;
      for (; o + 4 <= m; o += 4) {
        const w0 = o * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
        let s0 = bias[o], s1 = bias[o + 1], s2 = bias[o + 2], s3 = bias[o + 3];
        for (let i = 0; i < k; i++) {
          const value = input[x + i];
          s0 += value * weights[w0 + i];
          s1 += value * weights[w1 + i];
          s2 += value * weights[w2 + i];
          s3 += value * weights[w3 + i];
        }
        output[y + o] = s0;
        output[y + o + 1] = s1;
        output[y + o + 2] = s2;
        output[y + o + 3] = s3;
      }
      for (; o < m; o++) {
        const w0 = o * k;
        let s = bias[o];
        for (let i = 0; i < k; i++) s += input[x + i] * weights[w0 + i];
        output[y + o] = s;
      }
      activateRange(output, y, y + m, activation);
    }
  }
}

/**
 * `f32-fully-connected-js`: every fully connected layer. `prepare` copies
 * the weights, so later changes to the caller's arrays do not leak in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullyConnected, inferGeometry } from "@mobileops/core";
 * import { f32FullyConnectedJs } from "./f32-fully-connected-js.ts";
 * const d = fullyConnected({ inFeatures: 2, outFeatures: 1, bias: true });
 * const kernel = f32FullyConnectedJs.prepare(d, { weights: new Float32Array([2, 3]), bias: new Float32Array([1]) });
 * const output = new Float32Array(1);
 * kernel.run([new Float32Array([1, 1])], output, inferGeometry(d, [[1, 2]]));
 * assert(output[0] === 6);
 * ```
 */
export const f32FullyConnectedJs: JsKernelVariant<"fullyConnected"> = {
  name: "f32-fully-connected-js",
  matches: () => true,
  prepare: (descriptor, weights) => new FullyConnected(descriptor, weights),
};
