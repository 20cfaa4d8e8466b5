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
import { reductionSpec } from "./reduce.ts";

const NAME = "f32-softmax-wgsl";

const GROUP = `fn group(u: u32, lid: u32) {
  let base = u * p.length;
  var top = neg_inf();
  for (var i = lid; i < p.length; i += WG) {
    let v = load_x(base + i);
    top = select(top, v, v > top || is_nan(v));
  }
  top = reduce_max(lid, top);
  var sum = 0.0;
  for (var i = lid; i < p.length; i += WG) {
    sum += exp(load_x(base + i) - top);
  }
  sum = reduce_sum(lid, sum);
  // A NaN or infinite maximum makes every quotient NaN (∞ − ∞); said outright, since compilers
  // may not keep exp(NaN) NaN.
  let undefined_row = (bitcast<u32>(top) & 0x7fffffffu) >= 0x7f800000u;
  for (var i = lid; i < p.length; i += WG) {
    store_y(base + i, select(exp(load_x(base + i) - top) / sum, nan_value(), undefined_row));
  }
}`;

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
    const program = await context.program(reductionSpec(context.limits, {
      variant: NAME,
      key: "",
      reads: ["x"],
      fields: [["length", "u32"]],
      group: GROUP,
    }));
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
