/**
 * The wasm backend's kernel variants per operator, tried in order: for
 * conv2d the 1×1 GEMM, then depthwise, then the general direct convolution
 * that takes the rest. Each entry lives in `kernels/<name>.ts`.
 *
 * @module
 */

import type { VariantTables } from "@mobileops/core";
import type { WasmContext, WasmKernel } from "./kernel.ts";
import { f32AddWasmsimd } from "./kernels/f32-add-wasmsimd.ts";
import { f32AvgpoolWasmsimd } from "./kernels/f32-avgpool-wasmsimd.ts";
import { f32ChannelShuffleWasmsimd } from "./kernels/f32-channel-shuffle-wasmsimd.ts";
import { f32ConcatWasmsimd } from "./kernels/f32-concat-wasmsimd.ts";
import { f32ConvWasmsimd } from "./kernels/f32-conv-wasmsimd.ts";
import { f32DwconvWasmsimd } from "./kernels/f32-dwconv-wasmsimd.ts";
import { f32FullyConnectedWasmsimd } from "./kernels/f32-fully-connected-wasmsimd.ts";
import { f32Gemm1x1Wasmsimd } from "./kernels/f32-gemm-1x1-wasmsimd.ts";
import { f32GlobalAvgpoolScalar } from "./kernels/f32-global-avgpool-scalar.ts";
import { f32MaxpoolWasmsimd } from "./kernels/f32-maxpool-wasmsimd.ts";
import { f32SoftmaxScalar } from "./kernels/f32-softmax-scalar.ts";

/**
 * Every variant of the wasm backend, by operator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { variantNames } from "@mobileops/core";
 * import { WASM_VARIANTS } from "./variants.ts";
 * assert.deepEqual(WASM_VARIANTS.conv2d.map((variant) => variant.name), [
 *   "f32-gemm-1x1-wasmsimd",
 *   "f32-dwconv-wasmsimd",
 *   "f32-conv-wasmsimd",
 * ]);
 * assert.equal(variantNames(WASM_VARIANTS).length, 11);
 * ```
 */
export const WASM_VARIANTS: VariantTables<WasmKernel, WasmContext> = {
  conv2d: [f32Gemm1x1Wasmsimd, f32DwconvWasmsimd, f32ConvWasmsimd],
  avgPool2d: [f32AvgpoolWasmsimd],
  maxPool2d: [f32MaxpoolWasmsimd],
  channelShuffle: [f32ChannelShuffleWasmsimd],
  add: [f32AddWasmsimd],
  concat: [f32ConcatWasmsimd],
  globalAvgPool: [f32GlobalAvgpoolScalar],
  fullyConnected: [f32FullyConnectedWasmsimd],
  softmax: [f32SoftmaxScalar],
};
