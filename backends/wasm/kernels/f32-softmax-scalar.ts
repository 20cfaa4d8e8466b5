/**
 * Softmax in plain JavaScript over float offsets into the wasm heap: it
 * needs `exp`, which WebAssembly lacks, and at a network's end touches a
 * few thousand values once.
 *
 * @module
 */

import { type DescriptorOf, type KernelVariant, shapeSize } from "@mobileops/core";
import { shapeKernel, type WasmContext, type WasmKernel } from "../kernel.ts";

/**
 * Softmax over rows of `length` floats, max-subtracted for range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmaxScalar } from "./f32-softmax-scalar.ts";
 * const heap = new Float32Array([0, 0, 0, 0]);
 * softmaxScalar(heap, 0, 2, 1, 2);
 * assert(heap[2] === 0.5 && heap[3] === 0.5);
 * ```
 */
export function softmaxScalar(
  heap: Float32Array,
  input: number,
  out: number,
  rows: number,
  length: number,
): void {
  for (let r = 0; r < rows; r++) {
    const from = input + r * length;
    const to = out + r * length;
    let max = -Infinity;
    for (let i = 0; i < length; i++) max = Math.max(max, heap[from + i]);
    let sum = 0;
    for (let i = 0; i < length; i++) sum += Math.exp(heap[from + i] - max);
    for (let i = 0; i < length; i++) heap[to + i] = Math.exp(heap[from + i] - max) / sum;
  }
}

/**
 * The `f32-softmax-scalar` variant: every softmax, as scalar JavaScript
 * inside the wasm backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmax } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32SoftmaxScalar } from "./f32-softmax-scalar.ts";
 * assert(f32SoftmaxScalar.matches(softmax(), {} as WasmContext));
 * ```
 */
export const f32SoftmaxScalar: KernelVariant<DescriptorOf<"softmax">, WasmKernel, WasmContext> = {
  name: "f32-softmax-scalar",
  matches: () => true,
  prepare: () =>
    shapeKernel((geometry) => {
      const shape = geometry.inputShapes[0];
      const length = shape[shape.length - 1];
      const rows = shapeSize(shape) / length;
      return {
        kind: "js",
        run: (heap, [input], output) => softmaxScalar(heap, input, output, rows, length),
      };
    }),
};
