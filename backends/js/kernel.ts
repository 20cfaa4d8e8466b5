/**
 * What every kernel of the JavaScript backend is: an object holding weights
 * packed at prepare time, with a `run` over plain `Float32Array` storages;
 * the variant entry that prepares it; and the activation every kernel
 * epilogue applies.
 *
 * @module
 */

import type {
  Activation,
  ClampActivation,
  DescriptorOf,
  KernelVariant,
  OpGeometry,
  OpName,
  WeightsFor,
} from "@mobileops/core";

/** A prepared operator of the JavaScript backend. */
export interface JsKernel {
  /**
   * Computes the operator. `inputs` and `output` are validated NHWC storages;
   * `geometry` is core's `inferGeometry` result for this call.
   */
  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void;
}

/**
 * One kernel variant of the JavaScript backend for operator `Op`. The
 * backend has no state to share (`context` is `undefined`) and packs
 * weights synchronously, so `prepare` returns the kernel itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelShuffle, inferGeometry } from "@mobileops/core";
 * import type { JsKernelVariant } from "./kernel.ts";
 * // Shuffling with one group leaves every channel where it is.
 * const identity: JsKernelVariant<"channelShuffle"> = {
 *   name: "f32-channel-shuffle-1-js",
 *   matches: (descriptor) => descriptor.groups === 1,
 *   prepare: () => ({ run: (inputs, output) => output.set(inputs[0]) }),
 * };
 * const d = channelShuffle({ groups: 1 });
 * assert(identity.matches(d, undefined));
 * const output = new Float32Array(2);
 * identity.prepare(d, undefined).run([new Float32Array([1, 2])], output, inferGeometry(d, [[1, 1, 1, 2]]));
 * assert.deepEqual([...output], [1, 2]);
 * ```
 */
export interface JsKernelVariant<Op extends OpName>
  extends KernelVariant<DescriptorOf<Op>, JsKernel, undefined> {
  /** Packs validated weights into this variant's kernel, once. */
  prepare(descriptor: DescriptorOf<Op>, weights: WeightsFor<DescriptorOf<Op>>): JsKernel;
}

/**
 * An activation as {@link activateRange} takes it: `0` none, `1` ReLU, `2`
 * ReLU6, or the bounds of any other clamp.
 */
export type ActivationCode = 0 | 1 | 2 | ClampActivation;

/**
 * The code of an activation, resolved once at prepare time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clamp } from "@mobileops/core";
 * import { activationCode } from "./kernel.ts";
 * assert.equal(activationCode("relu6"), 2);
 * assert.deepEqual(activationCode(clamp(-1, 1)), { min: -1, max: 1 });
 * ```
 */
export function activationCode(activation: Activation): ActivationCode {
  switch (activation) {
    case "none":
      return 0;
    case "relu":
      return 1;
    case "relu6":
      return 2;
    default:
      return activation;
  }
}

/** 2^52: below it, `r − 6` is exact for every float32 `r ≥ 6`. */
const EXACT_SHIFT_LIMIT = 4503599627370496;

/**
 * Applies an activation in place to `data[start … end)`, values a kernel
 * has just stored. Kernels store raw sums and call this once per row:
 * every clamp commutes with rounding to float32 (rounding is monotonic),
 * so activating the stored value equals rounding the activated sum, and a
 * clamp's bound is stored as its float32 rounding.
 *
 * ReLU and ReLU6 have no data-dependent branch to mispredict:
 * `Math.max(v, 0)` compiles to compares and jumps (for NaN and signed
 * zeros) that go each way on about half of a layer's outputs, and measured
 * in V8 that cost more than the nine multiply-adds of a depthwise output.
 * ReLU is `(v + |v|)/2`, exact (doubling and halving are exact); ReLU6
 * subtracts `relu(r − 6)` from `r = relu(v)`, which gives exactly `r` below
 * 6 and exactly 6 above it, since `r − 6` is exact for `r < 2^52`. The one
 * test per value, for infinities and NaN, is never taken on ordinary data.
 * The results equal `Math.min(Math.max(v, 0), 6)` for every float32 `v`.
 *
 * Any other clamp compares: `v − min` is not exact for every bound, so the
 * trick above would not give the bound exactly. Both comparisons are false
 * for NaN, which therefore stays NaN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clamp } from "@mobileops/core";
 * import { activateRange, activationCode } from "./kernel.ts";
 * const data = new Float32Array([-2, 0.5, 7, -Infinity]);
 * activateRange(data, 0, 3, 2);
 * assert.deepEqual([...data], [0, 0.5, 6, -Infinity]);
 * activateRange(data, 3, 4, 1);
 * assert.equal(data[3], 0);
 * const more = new Float32Array([-3, 0.25, 9, NaN]);
 * activateRange(more, 0, 4, activationCode(clamp(-1, 1)));
 * assert.deepEqual([...more.subarray(0, 3)], [-1, 0.25, 1]);
 * assert(Number.isNaN(more[3]));
 * ```
 */
export function activateRange(
  data: Float32Array,
  start: number,
  end: number,
  code: ActivationCode,
): void {
  if (code === 1) {
    for (let i = start; i < end; i++) {
      const value = data[i];
      const relu = (value + Math.abs(value)) * 0.5;
      // NaN here means value was −∞ (ReLU gives 0) or NaN (stays NaN).
      data[i] = relu === relu ? relu : value === value ? 0 : value;
    }
  } else if (code === 2) {
    for (let i = start; i < end; i++) {
      const value = data[i];
      let relu = (value + Math.abs(value)) * 0.5;
      if (!(relu < EXACT_SHIFT_LIMIT)) relu = value > 0 ? 6 : value === value ? 0 : value;
      const excess = relu - 6;
      data[i] = relu - (excess + Math.abs(excess)) * 0.5;
    }
  } else if (code !== 0) {
    const { min, max } = code;
    for (let i = start; i < end; i++) {
      const value = data[i];
      data[i] = value < min ? min : value > max ? max : value;
    }
  }
}
