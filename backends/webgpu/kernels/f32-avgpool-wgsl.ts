/**
 * `f32-avgpool-wgsl`: average pooling, any window, stride and padding,
 * floor or ceil mode, one output element per invocation. The sum runs over
 * the window's image cells; the divisor is the number of window cells
 * inside the padded input with `countIncludePad` — the whole window, but
 * for a ceil-mode window hanging past the bottom/right padding, whose
 * overhang never counts — else the number of image cells.
 *
 * @module
 */

import type { WebGpuKernelVariant } from "../kernel.ts";
import { POOL_FIELDS, POOL_WINDOW_WGSL, poolStep } from "./pool.ts";
import { elementMain, elementWorkgroupSize } from "./wgsl.ts";

const NAME = "f32-avgpool-wgsl";

function body(workgroupSize: number): string {
  return `fn unit(u: u32) {${POOL_WINDOW_WGSL}
  var sum = 0.0;
  for (var y = ys; y < ye; y++) {
    let base = (n * p.h + u32(y)) * p.w;
    for (var x = xs; x < xe; x++) {
      sum += load_x((base + u32(x)) * p.c + ch);
    }
  }
  var cells = (ye - ys) * (xe - xs);
  if (p.include_pad != 0u) {
    // Windows start inside the padded input; only their end may hang past it.
    cells = (min(y0 + i32(p.kh), i32(p.h) + p.bottom) - y0) *
      (min(x0 + i32(p.kw), i32(p.w) + p.right) - x0);
  }
  store_y(u, sum / f32(cells));
}
${elementMain(workgroupSize)}`;
}

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
