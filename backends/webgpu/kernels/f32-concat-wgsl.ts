/**
 * `f32-concat-wgsl`: channel concatenation, then the fused activation. One
 * step per input, each copying that input into its channel range of every
 * output pixel, one unit per invocation: four channels as a `vec4f` when
 * the input's channels, its channel offset and the output's channels are
 * multiples of 4, else one (chosen per input). A dispatch binds one input,
 * so any number of inputs works within `maxStorageBuffersPerShaderStage`.
 *
 * @module
 */

import type { WebGpuKernelVariant } from "../kernel.ts";
import { activationValues, elementPrograms } from "./wgsl.ts";

const NAME = "f32-concat-wgsl";

/**
 * The `f32-concat-wgsl` variant: matches every concatenation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   const kernel = await backend.prepare(concat());
 *   assert.equal(kernel.variant, "f32-concat-wgsl");
 *   const a = backend.upload([1, 2, 3, 4], [1, 1, 2, 2]);
 *   const b = backend.upload([9, 8], [1, 1, 2, 1]);
 *   assert.deepEqual([...await backend.run(kernel, [a, b]).download()], [1, 2, 9, 3, 4, 8]);
 * }
 * ```
 */
export const f32ConcatWgsl: WebGpuKernelVariant<"concat"> = {
  name: NAME,
  matches: () => true,
  async prepare(descriptor, _weights, context) {
    const [scalar, vec4] = await elementPrograms(context, {
      variant: NAME,
      activation: descriptor.activation,
      reads: ["x"],
      fields: [["cin", "u32"], ["cout", "u32"], ["first", "u32"]],
      // A unit's lanes are adjacent channels of one pixel: cin is a multiple of its width.
      unit: ({ suffix: s }) =>
        `store${s}_y((e / p.cin) * p.cout + p.first + e % p.cin, act${s}(load${s}_x(e)));`,
    });
    const clamp = activationValues(descriptor.activation);
    return {
      weights: [],
      plan: (geometry) => {
        const cout = geometry.outputShape[3];
        let first = 0;
        return geometry.inputShapes.map((shape, input) => {
          const [n, h, w, cin] = shape;
          const offset = first;
          first += cin;
          const lanes = [cin, offset, cout].every((size) => size % 4 === 0) ? 4 : 1;
          return {
            program: lanes === 4 ? vec4 : scalar,
            units: (n * h * w * cin) / lanes,
            values: [cin, cout, offset, ...clamp],
            reads: [{ input }],
            span: (binding, start, end) => {
              const [from, to] = [start * lanes, end * lanes];
              return binding === 1 ? [from, to] : [
                Math.floor(from / cin) * cout + offset,
                Math.floor((to - 1) / cin) * cout + offset + cin,
              ];
            },
          };
        });
      },
    };
  },
};
