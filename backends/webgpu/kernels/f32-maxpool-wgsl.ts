/**
 * `f32-maxpool-wgsl`: max pooling, any window, stride and padding, floor or
 * ceil mode, one output element per invocation, over the window's image
 * cells only (padding and a ceil-mode overhang never win, so a window of
 * −∞ cells gives −∞). A NaN cell makes the output NaN: the loop keeps a
 * bit-tested NaN flag beside the running maximum, since a float compare
 * would skip NaN (and a compiler may fold `v != v` away).
 *
 * @module
 */

import type { WebGpuKernelVariant } from "../kernel.ts";
import { POOL_FIELDS, POOL_WINDOW_WGSL, poolStep } from "./pool.ts";
import { elementMain, elementWorkgroupSize } from "./wgsl.ts";

const NAME = "f32-maxpool-wgsl";

function body(workgroupSize: number): string {
  return `fn unit(u: u32) {${POOL_WINDOW_WGSL}
  var best = neg_inf();
  var nan = false;
  for (var y = ys; y < ye; y++) {
    let base = (n * p.h + u32(y)) * p.w;
    for (var x = xs; x < xe; x++) {
      let v = load_x((base + u32(x)) * p.c + ch);
      nan = nan || is_nan(v);
      best = select(best, v, v > best);
    }
  }
  store_y(u, select(best, nan_value(), nan));
}
${elementMain(workgroupSize)}`;
}

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
  async prepare(descriptor, _weights, context) {
    const workgroupSize = elementWorkgroupSize(context.limits);
    const program = await context.program({
      variant: NAME,
      key: "",
      reads: ["x"],
      fields: POOL_FIELDS,
      workgroupSize,
      unitsPerWorkgroup: workgroupSize,
      body: body(workgroupSize),
    });
    return { weights: [], plan: (geometry) => [poolStep(program, descriptor, geometry)] };
  },
};
