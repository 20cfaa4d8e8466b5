/**
 * Typed errors of the models package. They extend core's
 * {@link InvalidArgumentError}, so every one carries the offending `field`
 * and `value` and is a `MobileOpsError`.
 *
 * @module
 */

import { InvalidArgumentError } from "@mobileops/core";

/**
 * A model builder option is not allowed (alpha ≤ 0 or above `MAX_ALPHA`,
 * resolution not a multiple of 32, groups not in the paper's table, an
 * unknown option key…), or an argument of a models function has the wrong
 * type (a `model` that is not a `Model`, `options = null`…).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ModelOptionError, mobilenetV1 } from "@mobileops/models";
 * try {
 *   mobilenetV1({ alpha: 0, resolution: 224 });
 * } catch (e) {
 *   assert(e instanceof ModelOptionError && e.field === "alpha");
 * }
 * ```
 */
export class ModelOptionError extends InvalidArgumentError {
  /** Always `"ModelOptionError"`, so `String(error)` and stack traces show the class. */
  override name = "ModelOptionError";
}

/**
 * A safetensors file is malformed, or its tensors do not fit the model
 * (missing, mis-shaped, wrong dtype, non-finite values).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSafetensors, SafetensorsError } from "@mobileops/models";
 * try {
 *   decodeSafetensors(new Uint8Array(3));
 * } catch (e) {
 *   assert(e instanceof SafetensorsError);
 * }
 * ```
 */
export class SafetensorsError extends InvalidArgumentError {
  /** Always `"SafetensorsError"`, so `String(error)` and stack traces show the class. */
  override name = "SafetensorsError";
}
