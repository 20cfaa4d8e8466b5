/**
 * `f32-avgpool-wgsl`: average pooling, any window, stride and padding,
 * floor or ceil mode, one output element per invocation, or four channels
 * as a `vec4f` when the channel count is a multiple of 4 (`pool.ts`, which
 * also bakes the window in as `override` constants). The sum runs over
 * the window's image cells; the divisor is the number of window cells
 * inside the padded input with `countIncludePad` — the whole window, but
 * for a ceil-mode window hanging past the bottom/right padding, whose
 * overhang never counts — else the number of image cells.
 *
 * @module
 */

import type { WebGpuKernelVariant } from "../kernel.ts";
import { poolKernel, type PoolReduction } from "./pool.ts";

const NAME = "f32-avgpool-wgsl";

const AVERAGE: PoolReduction = {
  start: (lanes) => `var sum = ${lanes.type}(0.0);`,
  cell: () => "sum += v;",
  finish: () => `
  var cells = (min(y0 + i32(KH), i32(p.h)) - max(y0, 0)) *
    (min(x0 + i32(KW), i32(p.w)) - max(x0, 0));
  if (p.include_pad != 0u) {
    // Windows start inside the padded input; only their end may hang past it.
    cells = (min(y0 + i32(KH), i32(p.h) + p.bottom) - y0) *
      (min(x0 + i32(KW), i32(p.w) + p.right) - x0);
  }
  let out = sum / f32(cells);`,
};

/**
 * The `f32-avgpool-wgsl` variant: matches every average pooling.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { avgPool2d } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   // docs/operators.md's row 1…6, kernel 3, stride 2, one padded column each side, ceil mode:
 *   // the last window holds 6, a padded cell and the overhang, so it divides by 2.
 *   const pool = avgPool2d({
 *     kernel: [1, 3],
 *     stride: [1, 2],
 *     padding: [0, 0, 1, 1],
 *     countIncludePad: true,
 *     ceilMode: true,
 *   });
 *   const kernel = await backend.prepare(pool);
 *   assert.equal(kernel.variant, "f32-avgpool-wgsl");
 *   const y = backend.run(kernel, [backend.upload([1, 2, 3, 4, 5, 6], [1, 1, 6, 1])]);
 *   assert.deepEqual([...await y.download()], [1, 3, 5, 3]);
 * }
 * ```
 */
export const f32AvgpoolWgsl: WebGpuKernelVariant<"avgPool2d"> = {
  name: NAME,
  matches: () => true,
  prepare: (descriptor, _weights, context) => poolKernel(NAME, descriptor, context, AVERAGE),
};
