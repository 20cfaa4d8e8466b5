/**
 * The two places that follow core's operator set: which clamps core can
 * fuse as an activation, and which pools may use `ceil_mode`. When core
 * gains a general clamp activation and `ceilMode` on pools, these two
 * functions change and nothing else does.
 *
 * @module
 */

import { type Activation, type Pad4, type Pair, UnsupportedError } from "@mobileops/core";
import type { Bounds } from "./ir.ts";

/**
 * Core's activation for the clamp `[min, max]`: `none` for `[-∞, ∞]`,
 * `relu` for `[0, ∞]`, `relu6` for `[0, 6]`. Any other bounds throw core's
 * `UnsupportedError` with field `min, max` and the bounds as value (pending
 * core support for a general clamp activation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activationFor } from "./support.ts";
 * assert(activationFor([0, 6]) === "relu6" && activationFor([0, Infinity]) === "relu");
 * assert.throws(() => activationFor([-1, 1]), /min, max = \[-1, 1\]: pending core support/);
 * ```
 */
export function activationFor(bounds: Bounds): Activation {
  const [min, max] = bounds;
  if (min === -Infinity && max === Infinity) return "none";
  if (min === 0 && max === Infinity) return "relu";
  if (min === 0 && max === 6) return "relu6";
  throw new UnsupportedError(
    "min, max",
    [min, max],
    "pending core support: core's activations clamp to [0, ∞) (relu) or [0, 6] (relu6) only",
  );
}

/** Output size of one pooled axis, floor or ceil, with PyTorch's and ONNX's rule for ceil. */
function pooledSize(
  size: number,
  kernel: number,
  stride: number,
  before: number,
  after: number,
  ceil: boolean,
): number {
  const span = size + before + after - kernel;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // The last window must start inside the input or its leading padding.
  if (ceil && (out - 1) * stride >= size + before) out--;
  return out;
}

/**
 * Checks a pool's `ceil_mode = 1`: exact to import when rounding up gives
 * the same output size as core's rounding down (whenever the window fits
 * the padded input a whole number of strides, e.g. 3×3/2 with padding 1 on
 * an odd size); otherwise core's
 * `UnsupportedError` with field `ceil_mode`, naming both sizes (pending core
 * support for `ceilMode`). `input` is `[height, width]`, `padding`
 * `[top, bottom, left, right]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCeilMode } from "./support.ts";
 * checkCeilMode([111, 111], [3, 3], [2, 2], [1, 1, 1, 1]); // 56 either way
 * assert.throws(() => checkCeilMode([4, 4], [3, 3], [2, 2], [0, 0, 0, 0]), /ceil_mode = 1/);
 * ```
 */
export function checkCeilMode(input: Pair, kernel: Pair, stride: Pair, padding: Pad4): void {
  const sizes = (ceil: boolean) =>
    [0, 1].map((axis) =>
      pooledSize(
        input[axis],
        kernel[axis],
        stride[axis],
        padding[2 * axis],
        padding[2 * axis + 1],
        ceil,
      )
    );
  const [ceiled, floored] = [sizes(true), sizes(false)];
  if (ceiled[0] === floored[0] && ceiled[1] === floored[1]) return;
  throw new UnsupportedError(
    "ceil_mode",
    1,
    `pending core support: ceilMode on pools (rounding up gives ${ceiled.join("×")}, ` +
      `core's rounding down ${floored.join("×")})`,
  );
}
