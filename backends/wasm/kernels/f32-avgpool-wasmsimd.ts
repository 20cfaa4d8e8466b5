/**
 * Average pooling on the shared pooling generator of `pool.ts`, with padded
 * cells counted in the divisor or not (`countIncludePad`).
 *
 * @module
 */

import type { DescriptorOf, KernelVariant } from "@mobileops/core";
import type { WasmContext, WasmKernel } from "../kernel.ts";
import { preparePool } from "./pool.ts";

/**
 * The `f32-avgpool-wasmsimd` variant: every average pool.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { avgPool2d } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32AvgpoolWasmsimd } from "./f32-avgpool-wasmsimd.ts";
 * const d = avgPool2d({ kernel: 3, stride: 2, padding: "same", countIncludePad: true });
 * assert(f32AvgpoolWasmsimd.matches(d, {} as WasmContext));
 * ```
 */
export const f32AvgpoolWasmsimd: KernelVariant<
  DescriptorOf<"avgPool2d">,
  WasmKernel,
  WasmContext
> = {
  name: "f32-avgpool-wasmsimd",
  matches: () => true,
  prepare: (d, _weights, context) =>
    preparePool(d, d.countIncludePad ? "averageIncludingPad" : "average", context),
};
