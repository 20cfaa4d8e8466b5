/**
 * `f32-softmax-wgsl`: softmax over the last axis, one row per workgroup in
 * three passes, its invocations each taking every `size`-th value and the
 * workgroup combining their partial results (`reduce.ts`): the row's
 * maximum (NaN-sticky by a bit test, so a NaN anywhere makes the row NaN),
 * the sum of `exp(v − max)`, then each `exp(v − max) / sum`. A +∞ makes
 * `∞ − ∞` NaN, and a row of −∞ gives NaN everywhere, as docs/operators.md
 * says.
 *
 * @module
 */

import { shapeSize } from "@mobileops/core";
import type { WebGpuKernelVariant } from "../kernel.ts";
import { reductionWgsl, reductionWorkgroupSize } from "./reduce.ts";

const NAME = "f32-softmax-wgsl";

function body(size: number): string {
  return `fn group(u: u32, lid: u32) {
  let base = u * p.length;
  var top = neg_inf();
  for (var i = lid; i < p.length; i += ${size}u) {
    let v = load_x(base + i);
    top = select(top, v, v > top || is_nan(v));
  }
  top = reduce_max(lid, top);
  var sum = 0.0;
  for (var i = lid; i < p.length; i += ${size}u) {
    sum += exp(load_x(base + i) - top);
  }
  sum = reduce_sum(lid, sum);
  for (var i = lid; i < p.length; i += ${size}u) {
    store_y(base + i, exp(load_x(base + i) - top) / sum);
  }
}
${reductionWgsl(size)}`;
}

/**
 * The `f32-softmax-wgsl` variant: matches every softmax.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmax } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   const kernel = await backend.prepare(softmax());
 *   assert.equal(kernel.variant, "f32-softmax-wgsl");
 *   const y = await backend.run(kernel, [backend.upload([0, 0, 5, 5], [2, 2])]).download();
 *   assert.deepEqual([...y], [0.5, 0.5, 0.5, 0.5]);
 * }
 * ```
 */
export const f32SoftmaxWgsl: WebGpuKernelVariant<"softmax"> = {
  name: NAME,
  matches: () => true,
  async prepare(_descriptor, _weights, context) {
    const workgroupSize = reductionWorkgroupSize(context.limits);
    const program = await context.program({
      variant: NAME,
      key: "",
      reads: ["x"],
      fields: [["length", "u32"]],
      workgroupSize,
      unitsPerWorkgroup: 1,
      body: body(workgroupSize),
    });
    return {
      weights: [],
      plan: (geometry) => {
        const shape = geometry.inputShapes[0];
        const length = shape[shape.length - 1];
        return [{
          program,
          units: shapeSize(shape) / length,
          values: [length],
          reads: [{ input: 0 }],
          span: (_binding, start, end) => [start * length, end * length],
        }];
      },
    };
  },
};
