/**
 * Element-wise sum of two same-shaped tensors with a fused activation (the
 * residual connection of ShuffleNet's stride-1 units).
 *
 * One flat loop (the shapes are equal, so layout does not matter), in
 * chunks small enough that the activation pass over each chunk's sums
 * reads them back from L1.
 *
 * @module
 */

import type { AddDescriptor } from "@mobileops/core";
import {
  activateRange,
  type ActivationCode,
  activationCode,
  type JsKernel,
  type JsKernelVariant,
} from "../kernel.ts";

/** Values summed before each activation pass: 16 KiB of float32. */
const CHUNK = 4096;

class Add implements JsKernel {
  readonly #activation: ActivationCode;

  constructor(descriptor: AddDescriptor) {
    this.#activation = activationCode(descriptor.activation);
  }

  run(inputs: readonly Float32Array[], output: Float32Array): void {
    const a = inputs[0];
    const b = inputs[1];
    const activation = this.#activation;
    const size = output.length;
    for (let start = 0; start < size; start += CHUNK) {
      const end = Math.min(start + CHUNK, size);
      for (let i = start; i < end; i++) output[i] = a[i] + b[i];
      activateRange(output, start, end, activation);
    }
  }
}

/**
 * `f32-add-js`: every add.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { add, inferGeometry } from "@mobileops/core";
 * import { f32AddJs } from "./f32-add-js.ts";
 * const d = add({ activation: "relu" });
 * const output = new Float32Array(2);
 * f32AddJs.prepare(d, undefined).run([new Float32Array([1, -5]), new Float32Array([2, 1])], output, inferGeometry(d, [[2], [2]]));
 * assert(output.join() === "3,0");
 * ```
 */
export const f32AddJs: JsKernelVariant<"add"> = {
  name: "f32-add-js",
  matches: () => true,
  prepare: (descriptor) => new Add(descriptor),
};
