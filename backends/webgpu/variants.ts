/**
 * The WebGPU backend's kernel variants per operator, tried in order: for
 * conv2d the tiled 1×1 matrix product (channel counts multiples of 4), the
 * plain 1×1 one, the tiled depthwise convolution (multiplier 1, no
 * dilation, channels multiples of 4), the plain depthwise one, the dense
 * 3×3 stride-2 stem on images of up to 4 channels, then the general
 * convolution that takes the rest. Each entry lives in
 * `kernels/<name>.ts`.
 *
 * @module
 */

import type { VariantTables } from "@mobileops/core";
import type { WebGpuContext, WebGpuKernel } from "./kernel.ts";
import { f32AddWgsl } from "./kernels/f32-add-wgsl.ts";
import { f32AvgpoolWgsl } from "./kernels/f32-avgpool-wgsl.ts";
import { f32ChannelShuffleWgsl } from "./kernels/f32-channel-shuffle-wgsl.ts";
import { f32ConcatWgsl } from "./kernels/f32-concat-wgsl.ts";
import { f32Conv3x3s2Wgsl } from "./kernels/f32-conv-3x3s2-wgsl.ts";
import { f32ConvWgsl } from "./kernels/f32-conv-wgsl.ts";
import { f32Dwconv2x4Wgsl } from "./kernels/f32-dwconv-2x4-wgsl.ts";
import { f32DwconvWgsl } from "./kernels/f32-dwconv-wgsl.ts";
import { f32FullyConnectedWgsl } from "./kernels/f32-fully-connected-wgsl.ts";
import { f32Gemm1x1Tile16x4Wgsl } from "./kernels/f32-gemm-1x1-16x4-wgsl.ts";
import { f32Gemm1x1Wgsl } from "./kernels/f32-gemm-1x1-wgsl.ts";
import { f32GlobalAvgpoolWgsl } from "./kernels/f32-global-avgpool-wgsl.ts";
import { f32MaxpoolWgsl } from "./kernels/f32-maxpool-wgsl.ts";
import { f32SoftmaxWgsl } from "./kernels/f32-softmax-wgsl.ts";

/**
 * Every variant of the WebGPU backend, by operator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseVariant, denseConv2d, depthwiseConv2d, variantNames } from "@mobileops/core";
 * import type { WebGpuContext } from "./kernel.ts";
 * import { WEBGPU_VARIANTS } from "./variants.ts";
 * const context = {
 *   limits: {
 *     maxComputeInvocationsPerWorkgroup: 256,
 *     maxComputeWorkgroupStorageSize: 16384,
 *     maxStorageBufferBindingSize: 1 << 27,
 *   },
 * } as WebGpuContext;
 * const dw = depthwiseConv2d({ channels: 8, kernel: 3 });
 * assert.equal(chooseVariant(WEBGPU_VARIANTS, dw, context).name, "f32-dwconv-2x4-wgsl");
 * const dilated = depthwiseConv2d({ channels: 8, kernel: 3, dilation: 2 });
 * assert.equal(chooseVariant(WEBGPU_VARIANTS, dilated, context).name, "f32-dwconv-wgsl");
 * const stem = denseConv2d({ inChannels: 3, outChannels: 32, kernel: 3, stride: 2 });
 * assert.equal(chooseVariant(WEBGPU_VARIANTS, stem, context).name, "f32-conv-3x3s2-wgsl");
 * assert.equal(variantNames(WEBGPU_VARIANTS).length, 14);
 * ```
 */
export const WEBGPU_VARIANTS: VariantTables<WebGpuKernel, WebGpuContext> = {
  conv2d: [
    f32Gemm1x1Tile16x4Wgsl,
    f32Gemm1x1Wgsl,
    f32Dwconv2x4Wgsl,
    f32DwconvWgsl,
    f32Conv3x3s2Wgsl,
    f32ConvWgsl,
  ],
  avgPool2d: [f32AvgpoolWgsl],
  maxPool2d: [f32MaxpoolWgsl],
  channelShuffle: [f32ChannelShuffleWgsl],
  add: [f32AddWgsl],
  concat: [f32ConcatWgsl],
  globalAvgPool: [f32GlobalAvgpoolWgsl],
  fullyConnected: [f32FullyConnectedWgsl],
  softmax: [f32SoftmaxWgsl],
};
