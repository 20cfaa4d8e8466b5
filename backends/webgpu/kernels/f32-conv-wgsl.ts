/**
 * `f32-conv-wgsl`: every convolution — dense, grouped, dilated, strided,
 * padded, depthwise with a multiplier — one output element per invocation.
 * The general fallback of the convolution table.
 *
 * Each invocation clips its window to the image once (`first_tap` /
 * `end_tap`) and loops over the taps inside it only, so padding taps are
 * never evaluated (an infinite pixel beside the border stays infinite, and
 * a 4096-wide window over a small image costs what it reads), then over the
 * group's input channels, accumulating from the bias.
 *
 * @module
 */

import type { Activation } from "@mobileops/core";
import type { ProgramSpec, WebGpuKernelVariant } from "../kernel.ts";
import { convStep, convWeights, DECODE_WGSL, perOutputConvSpec, WINDOW_WGSL } from "./conv.ts";
import { elementWorkgroupSize } from "./wgsl.ts";

const NAME = "f32-conv-wgsl";

function spec(activation: Activation, workgroupSize: number): ProgramSpec {
  return perOutputConvSpec(
    NAME,
    activation,
    workgroupSize,
    `${WINDOW_WGSL}
fn unit(u: u32) {${DECODE_WGSL}
  let ky0 = first_tap(y0, p.dh);
  let ky1 = end_tap(y0, p.dh, p.kh, p.h);
  let kx0 = first_tap(x0, p.dw);
  let kx1 = end_tap(x0, p.dw, p.kw, p.w);
  let channel0 = (o / p.og) * p.cg;
  var acc = load_bias(o);
  for (var ky = ky0; ky < ky1; ky++) {
    let iy = u32(y0 + i32(ky * p.dh));
    for (var kx = kx0; kx < kx1; kx++) {
      let ix = u32(x0 + i32(kx * p.dw));
      let xi = ((n * p.h + iy) * p.w + ix) * p.c + channel0;
      let wi = ((o * p.kh + ky) * p.kw + kx) * p.cg;
      for (var i = 0u; i < p.cg; i++) {
        acc += load_x(xi + i) * load_weight(wi + i);
      }
    }
  }
  store_y(u, act(acc));
}`,
  );
}

/**
 * The `f32-conv-wgsl` variant: matches every convolution.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseConv2d } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   // 2×2 "valid" on a 2×3 image of ones, one channel: each output sums 4 taps.
 *   const conv = denseConv2d({ inChannels: 1, outChannels: 1, kernel: 2, bias: true });
 *   const kernel = await backend.prepare(conv, {
 *     filter: new Float32Array([1, 2, 3, 4]),
 *     bias: new Float32Array([0.5]),
 *   });
 *   assert.equal(kernel.variant, "f32-conv-wgsl");
 *   const y = backend.run(kernel, [backend.upload(new Float32Array(6).fill(1), [1, 2, 3, 1])]);
 *   assert.deepEqual([...await y.download()], [10.5, 10.5]);
 * }
 * ```
 */
export const f32ConvWgsl: WebGpuKernelVariant<"conv2d"> = {
  name: NAME,
  matches: () => true,
  async prepare(descriptor, weights, context) {
    const workgroupSize = elementWorkgroupSize(context.limits);
    const program = await context.program(spec(descriptor.activation, workgroupSize));
    return {
      weights: convWeights(context, descriptor, weights),
      plan: (geometry) => [convStep(program, descriptor, geometry)],
    };
  },
};
