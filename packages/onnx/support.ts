/**
 * Where the importer meets core's operator set: ONNX clamps (Relu, Clip)
 * become core activations.
 *
 * @module
 */

import { type Activation, clamp } from "@mobileops/core";
import type { Bounds } from "./ir.ts";

/**
 * Core's activation for the clamp `[min, max]`, in its canonical form:
 * `none` for `[-∞, ∞]`, `relu` for `[0, ∞]`, `relu6` for `[0, 6]`, else a
 * general clamp. Throws core's `DescriptorError` for NaN bounds or
 * `min > max` (the lowering refuses those first, naming the node).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activationFor } from "./support.ts";
 * assert(activationFor([0, 6]) === "relu6" && activationFor([0, Infinity]) === "relu");
 * assert.deepEqual(activationFor([-1, 1]), { min: -1, max: 1 });
 * ```
 */
export function activationFor(bounds: Bounds): Activation {
  return clamp(bounds[0], bounds[1]);
}
