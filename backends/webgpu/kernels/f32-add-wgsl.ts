/**
 * `f32-add-wgsl`: element-wise sum of two tensors of one shape, then the
 * fused activation, one element per invocation.
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

const NAME = "f32-add-wgsl";

function spec(activation: Activation, workgroupSize: number): ProgramSpec {
  return {
    variant: NAME,
    key: activationKind(activation),
    reads: ["a", "b"],
    fields: activationFields(activation),
    workgroupSize,
    unitsPerWorkgroup: workgroupSize,
    body: `${activationWgsl(activation)}
fn unit(u: u32) { store_y(u, act(load_a(u) + load_b(u))); }
${elementMain(workgroupSize)}`,
  };
}

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
    const program = await context.program(
      spec(descriptor.activation, elementWorkgroupSize(context.limits)),
    );
    return {
      weights: [],
      plan: (geometry) => [{
        program,
        units: shapeSize(geometry.outputShape),
        values: activationValues(descriptor.activation),
        reads: [{ input: 0 }, { input: 1 }],
        span: (_binding, start, end) => [start, end],
      }],
    };
  },
};
