/**
 * `f32-maxpool-wgsl`: max pooling, any window, stride and padding, floor or
 * ceil mode, one output element per invocation, or four channels as a
 * `vec4f` when the channel count is a multiple of 4 (`pool.ts`), over the
 * window's image cells only (padding and a ceil-mode overhang never win, so
 * a window of −∞ cells gives −∞). A NaN cell makes its channel's output
 * NaN: the loop keeps a bit-tested NaN flag per lane beside the running
 * maximum, since a float compare would skip NaN (and a compiler may fold
 * `v != v` away).
 *
 * @module
 */

import type { WebGpuKernelVariant } from "../kernel.ts";
import { poolKernel, type PoolReduction } from "./pool.ts";

const NAME = "f32-maxpool-wgsl";

// The NaN flag has a lane per channel: a NaN in one channel leaves the others' maxima alone.
const MAXIMUM: PoolReduction = {
  start: ({ type, bool }) =>
    `var best = ${type}(neg_inf());
  var nan = ${bool}(false);`,
  cell: ({ suffix }) =>
    `nan = nan | is_nan${suffix}(v);
      best = select(best, v, v > best);`,
  finish: ({ type }) => `let out = select(best, ${type}(nan_value()), nan);`,
};

/**
 * The `f32-maxpool-wgsl` variant: matches every max pooling.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxPool2d } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   // ONNX's ceil-mode example: 4×4 input 1…16, kernel 3, stride 2.
 *   const kernel = await backend.prepare(maxPool2d({ kernel: 3, stride: 2, ceilMode: true }));
 *   assert.equal(kernel.variant, "f32-maxpool-wgsl");
 *   const x = backend.upload(Array.from({ length: 16 }, (_, i) => i + 1), [1, 4, 4, 1]);
 *   assert.deepEqual([...await backend.run(kernel, [x]).download()], [11, 12, 15, 16]);
 * }
 * ```
 */
export const f32MaxpoolWgsl: WebGpuKernelVariant<"maxPool2d"> = {
  name: NAME,
  matches: () => true,
  prepare: (descriptor, _weights, context) => poolKernel(NAME, descriptor, context, MAXIMUM),
};
