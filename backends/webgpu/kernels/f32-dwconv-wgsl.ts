/**
 * `f32-dwconv-wgsl`: depthwise convolution (one input channel per group,
 * any channel multiplier, kernel, stride, dilation and padding), one output
 * element per invocation. Output channel `o` reads input channel
 * `o / multiplier` (TensorFlow's order); the window is clipped to the
 * image once, so padding taps are never evaluated. Where the backend folds
 * channel shuffles, a second program reads that channel through a pending
 * shuffle of its input (`shuffled(channel)` of the shuffle's source).
 *
 * @module
 */

import { type Activation, convKind, type OpGeometry } from "@mobileops/core";
import type { ProgramSpec, WebGpuKernelVariant } from "../kernel.ts";
import {
  convStep,
  convWeights,
  DECODE_WGSL,
  foldsChannelShuffle,
  perOutputConvSpec,
  SHUFFLED_CHANNEL_WGSL,
  type ShuffledReadKernel,
  WINDOW_WGSL,
} from "./conv.ts";
import { elementWorkgroupSize } from "./wgsl.ts";

const NAME = "f32-dwconv-wgsl";

function spec(activation: Activation, workgroupSize: number, shuffled: boolean): ProgramSpec {
  return perOutputConvSpec(
    NAME,
    activation,
    workgroupSize,
    // For depthwise, og is the channel multiplier.
    `${WINDOW_WGSL}${shuffled ? SHUFFLED_CHANNEL_WGSL : ""}
fn unit(u: u32) {${DECODE_WGSL}
  let ky0 = first_tap(y0, p.dh);
  let ky1 = end_tap(y0, p.dh, p.kh, p.h);
  let kx0 = first_tap(x0, p.dw);
  let kx1 = end_tap(x0, p.dw, p.kw, p.w);
  let channel = ${shuffled ? "shuffled(o / p.og)" : "o / p.og"};
  var acc = load_bias(o);
  for (var ky = ky0; ky < ky1; ky++) {
    let iy = u32(y0 + i32(ky * p.dh));
    let xrow = (n * p.h + iy) * p.w;
    let wrow = (o * p.kh + ky) * p.kw;
    for (var kx = kx0; kx < kx1; kx++) {
      let ix = u32(x0 + i32(kx * p.dw));
      acc += load_x((xrow + ix) * p.c + channel) * load_weight(wrow + kx);
    }
  }
  store_y(u, act(acc));
}`,
    shuffled ? "/shuffled" : "",
    // sg: the groups of the shuffle read through.
    shuffled ? [["sg", "u32"]] : [],
  );
}

/**
 * The `f32-dwconv-wgsl` variant: matches depthwise convolutions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   const dw = depthwiseConv2d({ channels: 2, kernel: 3, padding: "same", activation: "relu6" });
 *   const kernel = await backend.prepare(dw, { filter: new Float32Array(18).fill(1) });
 *   assert.equal(kernel.variant, "f32-dwconv-wgsl");
 *   const x = backend.upload(new Float32Array(2 * 3 * 3).fill(0.5), [1, 3, 3, 2]);
 *   const y = await backend.run(kernel, [x]).download();
 *   assert.deepEqual([...y.slice(0, 2), ...y.slice(8, 10)], [2, 2, 4.5, 4.5]); // corner, centre
 * }
 * ```
 */
export const f32DwconvWgsl: WebGpuKernelVariant<"conv2d"> = {
  name: NAME,
  matches: (descriptor) => convKind(descriptor) === "depthwise",
  async prepare(descriptor, weights, context) {
    const workgroupSize = elementWorkgroupSize(context.limits);
    const program = await context.program(spec(descriptor.activation, workgroupSize, false));
    // Both programs compile before any weight buffer exists, so a failed compile leaks none.
    const shuffled = foldsChannelShuffle(context)
      ? await context.program(spec(descriptor.activation, workgroupSize, true))
      : undefined;
    const kernel = {
      weights: convWeights(context, descriptor, weights),
      plan: (geometry: OpGeometry) => [convStep(program, descriptor, geometry)],
    };
    if (shuffled === undefined) return kernel;
    const folding: ShuffledReadKernel = {
      ...kernel,
      planShuffled: (geometry, groups) => {
        const step = convStep(shuffled, descriptor, geometry);
        return [{ ...step, values: [...step.values, groups] }];
      },
    };
    return folding;
  },
};
