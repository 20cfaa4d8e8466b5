/**
 * Global average pooling in plain JavaScript over float offsets into the
 * wasm heap: at a network's end it touches a few thousand values once, too
 * little for a generated module to pay for its compilation.
 *
 * @module
 */

import type { DescriptorOf, KernelVariant } from "@mobileops/core";
import { shapeKernel, type WasmContext, type WasmKernel } from "../kernel.ts";

/** Channels summed per pass: the float64 sums stay a few KiB whatever the channel count. */
const CHANNEL_BLOCK = 1024;

/**
 * Mean over height and width of `[batch, pixels, channels]`, summed in float64
 * (NaN and ±∞ propagate as in the reference). Channels go in blocks of
 * {@link CHANNEL_BLOCK}, each summed over every pixel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPoolScalar } from "./f32-global-avgpool-scalar.ts";
 * const heap = new Float32Array([1, 10, 3, 30, 0, 0]);
 * globalAvgPoolScalar(heap, 0, 4, 1, 2, 2);
 * assert(heap[4] === 2 && heap[5] === 20);
 * ```
 */
export function globalAvgPoolScalar(
  heap: Float32Array,
  input: number,
  out: number,
  batch: number,
  pixels: number,
  channels: number,
): void {
  const sums = new Float64Array(Math.min(channels, CHANNEL_BLOCK));
  for (let n = 0; n < batch; n++) {
    for (let first = 0; first < channels; first += CHANNEL_BLOCK) {
      const count = Math.min(CHANNEL_BLOCK, channels - first);
      sums.fill(0);
      for (let p = 0; p < pixels; p++) {
        const from = input + (n * pixels + p) * channels + first;
        for (let c = 0; c < count; c++) sums[c] += heap[from + c];
      }
      const to = out + n * channels + first;
      for (let c = 0; c < count; c++) heap[to + c] = sums[c] / pixels;
    }
  }
}

/**
 * The `f32-global-avgpool-scalar` variant: every global average pool, as
 * scalar JavaScript inside the wasm backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPool } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32GlobalAvgpoolScalar } from "./f32-global-avgpool-scalar.ts";
 * assert(f32GlobalAvgpoolScalar.matches(globalAvgPool(), {} as WasmContext));
 * ```
 */
export const f32GlobalAvgpoolScalar: KernelVariant<
  DescriptorOf<"globalAvgPool">,
  WasmKernel,
  WasmContext
> = {
  name: "f32-global-avgpool-scalar",
  matches: () => true,
  prepare: () =>
    shapeKernel((geometry) => {
      const [n, h, w, c] = geometry.inputShapes[0];
      return {
        kind: "js",
        run: (heap, [input], output) => globalAvgPoolScalar(heap, input, output, n, h * w, c),
      };
    }),
};
