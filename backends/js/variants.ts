/**
 * The JavaScript backend's kernel variants: per operator, the kernels
 * `defineBackend` tries in order, the most specialised first and one that
 * runs every descriptor last.
 *
 * @module
 */

import type { VariantTables } from "@mobileops/core";
import type { JsKernel } from "./kernel.ts";
import { f32AddJs } from "./kernels/f32-add-js.ts";
import { f32AvgpoolJs } from "./kernels/f32-avgpool-js.ts";
import { f32ChannelShuffleJs } from "./kernels/f32-channel-shuffle-js.ts";
import { f32ConcatJs } from "./kernels/f32-concat-js.ts";
import { f32ConvGenericJs } from "./kernels/f32-conv-generic-js.ts";
import { f32ConvIm2rowJs } from "./kernels/f32-conv-im2row-js.ts";
import { f32Dwconv3x3Js } from "./kernels/f32-dwconv-3x3-js.ts";
import { f32FullyConnectedJs } from "./kernels/f32-fully-connected-js.ts";
import { f32Gemm1x1Js } from "./kernels/f32-gemm-1x1-js.ts";
import { f32GlobalAvgpoolJs } from "./kernels/f32-global-avgpool-js.ts";
import { f32MaxpoolJs } from "./kernels/f32-maxpool-js.ts";
import { f32SoftmaxJs } from "./kernels/f32-softmax-js.ts";

/**
 * Every operator's variants. Convolutions: the register-blocked matrix
 * product for 1×1 stride-1 layers (any groups), the unrolled 3×3
 * depthwise kernel, im2row + the same matrix product for the other
 * ungrouped layers, and the generic loop for the grouped layers left.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseVariant, depthwiseConv2d } from "@mobileops/core";
 * import { JS_VARIANTS } from "./variants.ts";
 * const dilated = depthwiseConv2d({ channels: 8, kernel: 3, dilation: 2 });
 * assert.equal(chooseVariant(JS_VARIANTS, dilated, undefined).name, "f32-conv-generic-js");
 * ```
 */
export const JS_VARIANTS: VariantTables<JsKernel, undefined> = {
  conv2d: [f32Gemm1x1Js, f32Dwconv3x3Js, f32ConvIm2rowJs, f32ConvGenericJs],
  avgPool2d: [f32AvgpoolJs],
  maxPool2d: [f32MaxpoolJs],
  channelShuffle: [f32ChannelShuffleJs],
  add: [f32AddJs],
  concat: [f32ConcatJs],
  globalAvgPool: [f32GlobalAvgpoolJs],
  fullyConnected: [f32FullyConnectedJs],
  softmax: [f32SoftmaxJs],
};
