/**
 * Channel concatenation of NHWC tensors with a fused activation (the
 * shortcut join of ShuffleNet's stride-2 units).
 *
 * Loop order: input → pixel → channel: each input is read once, front to
 * back, and its channel rows land at their offset in each output pixel's
 * row, so both sides are walked in memory order. The activation is one
 * pass over the output at the end.
 *
 * @module
 */

import type { ConcatDescriptor, OpGeometry } from "@mobileops/core";
import {
  activateRange,
  type ActivationCode,
  activationCode,
  type JsKernel,
  type JsKernelVariant,
} from "../kernel.ts";

class Concat implements JsKernel {
  readonly #activation: ActivationCode;

  constructor(descriptor: ConcatDescriptor) {
    this.#activation = activationCode(descriptor.activation);
  }

  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const outChannels = geometry.outputShape[3];
    const pixels = output.length / outChannels;
    let offset = 0;
    for (let t = 0; t < inputs.length; t++) {
      const input = inputs[t];
      const channels = geometry.inputShapes[t][3];
      for (let p = 0; p < pixels; p++) {
        const source = p * channels;
        const target = p * outChannels + offset;
        for (let c = 0; c < channels; c++) {
          output[target + c] = input[source + c];
        }
      }
      offset += channels;
    }
    activateRange(output, 0, output.length, this.#activation);
  }
}

/**
 * `f32-concat-js`: every channel concatenation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat, inferGeometry } from "@mobileops/core";
 * import { f32ConcatJs } from "./f32-concat-js.ts";
 * const d = concat();
 * const output = new Float32Array(3);
 * const inputs = [new Float32Array([1]), new Float32Array([2, 3])];
 * f32ConcatJs.prepare(d, undefined).run(inputs, output, inferGeometry(d, [[1, 1, 1, 1], [1, 1, 1, 2]]));
 * assert(output.join() === "1,2,3");
 * ```
 */
export const f32ConcatJs: JsKernelVariant<"concat"> = {
  name: "f32-concat-js",
  matches: () => true,
  prepare: (descriptor) => new Concat(descriptor),
};
