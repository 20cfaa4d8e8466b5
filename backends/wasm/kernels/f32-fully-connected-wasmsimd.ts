/**
 * The fully connected layer as one GEMM of the batch rows with the
 * `[out][in]` weight matrix, on the shared GEMM generator of `gemm.ts`.
 *
 * @module
 */

import type { DescriptorOf, KernelVariant } from "@mobileops/core";
import type { WasmContext, WasmKernel } from "../kernel.ts";
import { prepareGemm } from "./gemm.ts";

/**
 * The `f32-fully-connected-wasmsimd` variant: every fully connected layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullyConnected } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32FullyConnectedWasmsimd } from "./f32-fully-connected-wasmsimd.ts";
 * const d = fullyConnected({ inFeatures: 1024, outFeatures: 1000, bias: true });
 * assert(f32FullyConnectedWasmsimd.matches(d, {} as WasmContext));
 * ```
 */
export const f32FullyConnectedWasmsimd: KernelVariant<
  DescriptorOf<"fullyConnected">,
  WasmKernel,
  WasmContext
> = {
  name: "f32-fully-connected-wasmsimd",
  matches: () => true,
  prepare: (d, { weights, bias }, context) =>
    prepareGemm(context, weights, bias, 1, d.inFeatures, d.outFeatures, d.activation),
};
