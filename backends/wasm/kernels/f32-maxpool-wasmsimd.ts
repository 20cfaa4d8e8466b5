/**
 * Max pooling on the shared pooling generator of `pool.ts`: out-of-image
 * rows read a −∞ pad row.
 *
 * @module
 */

import type { DescriptorOf, KernelVariant } from "@mobileops/core";
import type { WasmContext, WasmKernel } from "../kernel.ts";
import { preparePool } from "./pool.ts";

/**
 * The `f32-maxpool-wasmsimd` variant: every max pool.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxPool2d } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32MaxpoolWasmsimd } from "./f32-maxpool-wasmsimd.ts";
 * const d = maxPool2d({ kernel: 3, stride: 2, padding: "same" });
 * assert(f32MaxpoolWasmsimd.matches(d, {} as WasmContext));
 * ```
 */
export const f32MaxpoolWasmsimd: KernelVariant<
  DescriptorOf<"maxPool2d">,
  WasmKernel,
  WasmContext
> = {
  name: "f32-maxpool-wasmsimd",
  matches: () => true,
  prepare: (d, _weights, context) => preparePool(d, "max", context),
};
