/**
 * 1×1 convolution with stride 1 and no padding, pointwise or grouped (a
 * depthwise 1×1 too): per group a GEMM of the pixels' input channels with
 * the filter, on the shared GEMM generator of `gemm.ts`.
 *
 * @module
 */

import type { DescriptorOf, KernelVariant } from "@mobileops/core";
import type { WasmContext, WasmKernel } from "../kernel.ts";
import { prepareGemm } from "./gemm.ts";

/**
 * The `f32-gemm-1x1-wasmsimd` variant of conv2d: a 1×1 kernel, stride 1 and
 * zero padding on every side (dilation does not matter for one tap), any
 * group count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conv2d, pointwiseConv2d } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32Gemm1x1Wasmsimd } from "./f32-gemm-1x1-wasmsimd.ts";
 * const context = {} as WasmContext;
 * const grouped = pointwiseConv2d({ inChannels: 6, outChannels: 9, groups: 3 });
 * assert(f32Gemm1x1Wasmsimd.matches(grouped, context));
 * const strided = conv2d({ inChannels: 6, outChannels: 9, kernel: 1, stride: 2 });
 * assert(!f32Gemm1x1Wasmsimd.matches(strided, context));
 * ```
 */
export const f32Gemm1x1Wasmsimd: KernelVariant<
  DescriptorOf<"conv2d">,
  WasmKernel,
  WasmContext
> = {
  name: "f32-gemm-1x1-wasmsimd",
  matches: (d) =>
    d.kernel[0] === 1 && d.kernel[1] === 1 && d.stride[0] === 1 && d.stride[1] === 1 &&
    (!Array.isArray(d.padding) || d.padding.every((side) => side === 0)),
  prepare: (d, { filter, bias }, context) =>
    prepareGemm(
      context,
      filter,
      bias,
      d.groups,
      d.inChannels / d.groups,
      d.outChannels / d.groups,
      d.activation,
    ),
};
