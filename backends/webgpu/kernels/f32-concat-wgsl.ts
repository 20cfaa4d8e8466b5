/**
 * `f32-concat-wgsl`: channel concatenation, then the fused activation. One
 * step per input, each copying that input into its channel range of every
 * output pixel, one element per invocation: a dispatch binds one input, so
 * any number of inputs works within `maxStorageBuffersPerShaderStage`.
 *
 * @module
 */

import { type Activation, shapeSize } from "@mobileops/core";
import type { ProgramSpec, WebGpuKernelVariant } from "../kernel.ts";
import {
  activationFields,
  activationKind,
  activationValues,
  activationWgsl,
  elementMain,
  elementWorkgroupSize,
} from "./wgsl.ts";

const NAME = "f32-concat-wgsl";

function spec(activation: Activation, workgroupSize: number): ProgramSpec {
  return {
    variant: NAME,
    key: activationKind(activation),
    reads: ["x"],
    fields: [["cin", "u32"], ["cout", "u32"], ["first", "u32"], ...activationFields(activation)],
    workgroupSize,
    unitsPerWorkgroup: workgroupSize,
    body: `${activationWgsl(activation)}
fn unit(u: u32) {
  let c = u % p.cin;
  store_y((u / p.cin) * p.cout + p.first + c, act(load_x(u)));
}
${elementMain(workgroupSize)}`,
  };
}

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
    const program = await context.program(
      spec(descriptor.activation, elementWorkgroupSize(context.limits)),
    );
    const clamp = activationValues(descriptor.activation);
    return {
      weights: [],
      plan: (geometry) => {
        const cout = geometry.outputShape[3];
        let first = 0;
        return geometry.inputShapes.map((shape, input) => {
          const cin = shape[3];
          const offset = first;
          first += cin;
          return {
            program,
            units: shapeSize(shape),
            values: [cin, cout, offset, ...clamp],
            reads: [{ input }],
            span: (binding, start, end) =>
              binding === 1 ? [start, end] : [
                Math.floor(start / cin) * cout + offset,
                Math.floor((end - 1) / cin) * cout + offset + cin,
              ],
          };
        });
      },
    };
  },
};
