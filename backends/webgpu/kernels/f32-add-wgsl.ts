/**
 * `f32-add-wgsl`: element-wise sum of two tensors of one shape, then the
 * fused activation, one unit per invocation: four elements as `vec4f`s
 * when the element count is a multiple of 4, else one.
 *
 * @module
 */

import { shapeSize } from "@mobileops/core";
import type { WebGpuKernelVariant } from "../kernel.ts";
import { activationValues, elementPrograms } from "./wgsl.ts";

const NAME = "f32-add-wgsl";

/**
 * The `f32-add-wgsl` variant: matches every add.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { add } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   const kernel = await backend.prepare(add({ activation: "relu" }));
 *   assert.equal(kernel.variant, "f32-add-wgsl");
 *   const a = backend.upload([1, -4, NaN], [3]);
 *   const b = backend.upload([2, 3, 1], [3]);
 *   assert.deepEqual([...await backend.run(kernel, [a, b]).download()], [3, 0, NaN]);
 * }
 * ```
 */
export const f32AddWgsl: WebGpuKernelVariant<"add"> = {
  name: NAME,
  matches: () => true,
  async prepare(descriptor, _weights, context) {
    const [scalar, vec4] = await elementPrograms(context, {
      variant: NAME,
      activation: descriptor.activation,
      reads: ["a", "b"],
      fields: [],
      unit: ({ suffix: s }) => `store${s}_y(e, act${s}(load${s}_a(e) + load${s}_b(e)));`,
    });
    return {
      weights: [],
      plan: (geometry) => {
        const size = shapeSize(geometry.outputShape);
        const lanes = size % 4 === 0 ? 4 : 1;
        return [{
          program: lanes === 4 ? vec4 : scalar,
          units: size / lanes,
          values: activationValues(descriptor.activation),
          reads: [{ input: 0 }, { input: 1 }],
          span: (_binding, start, end) => [start * lanes, end * lanes],
        }];
      },
    };
  },
};
