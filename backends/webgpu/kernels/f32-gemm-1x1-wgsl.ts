/**
 * `f32-gemm-1x1-wgsl`: pointwise and group 1×1 convolutions at stride 1
 * without padding, as the matrix product `[N·H·W × Cg] · [Cg × Og]` per
 * group over NHWC, one output element per invocation: output `(pixel, o)`
 * is the dot product of the pixel's group channels with filter row `o`.
 *
 * @module
 */

import type { Activation, Conv2dDescriptor } from "@mobileops/core";
import type { ProgramSpec, WebGpuKernelVariant } from "../kernel.ts";
import { convStep, convWeights, perOutputConvSpec } from "./conv.ts";
import { elementWorkgroupSize } from "./wgsl.ts";

const NAME = "f32-gemm-1x1-wgsl";

function spec(activation: Activation, workgroupSize: number): ProgramSpec {
  return perOutputConvSpec(
    NAME,
    activation,
    workgroupSize,
    `fn unit(u: u32) {
  let o = u % p.oc;
  let xi = (u / p.oc) * p.c + (o / p.og) * p.cg;
  let wi = o * p.cg;
  var acc = load_bias(o);
  for (var i = 0u; i < p.cg; i++) {
    acc += load_x(xi + i) * load_weight(wi + i);
  }
  store_y(u, act(acc));
}`,
  );
}

/**
 * Whether `descriptor` is a 1×1 convolution at stride 1 with no padding,
 * whose output pixels are its input pixels: a matrix product per group.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupConv2d, pointwiseConv2d } from "@mobileops/core";
 * import { isUnstridedOneByOne } from "./f32-gemm-1x1-wgsl.ts";
 * const group = groupConv2d({ inChannels: 6, outChannels: 6, groups: 3, kernel: 1 });
 * assert(isUnstridedOneByOne(group));
 * assert(!isUnstridedOneByOne(pointwiseConv2d({ inChannels: 4, outChannels: 4, stride: 2 })));
 * ```
 */
export function isUnstridedOneByOne(descriptor: Conv2dDescriptor): boolean {
  const { kernel, stride, padding } = descriptor;
  return kernel[0] === 1 && kernel[1] === 1 && stride[0] === 1 && stride[1] === 1 &&
    (typeof padding === "string" || padding.every((side) => side === 0));
}

/**
 * The `f32-gemm-1x1-wgsl` variant: matches 1×1 convolutions at stride 1
 * without padding, any groups.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pointwiseConv2d } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   const pw = pointwiseConv2d({ inChannels: 2, outChannels: 1, bias: true });
 *   const kernel = await backend.prepare(pw, {
 *     filter: new Float32Array([1, 2]),
 *     bias: new Float32Array([0.5]),
 *   });
 *   assert.equal(kernel.variant, "f32-gemm-1x1-wgsl");
 *   const y = backend.run(kernel, [backend.upload([3, 4, -1, 1], [1, 1, 2, 2])]);
 *   assert.deepEqual([...await y.download()], [11.5, 1.5]);
 * }
 * ```
 */
export const f32Gemm1x1Wgsl: WebGpuKernelVariant<"conv2d"> = {
  name: NAME,
  matches: isUnstridedOneByOne,
  async prepare(descriptor, weights, context) {
    const workgroupSize = elementWorkgroupSize(context.limits);
    const program = await context.program(spec(descriptor.activation, workgroupSize));
    return {
      weights: convWeights(context, descriptor, weights),
      plan: (geometry) => [convStep(program, descriptor, geometry)],
    };
  },
};
