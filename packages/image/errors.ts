/**
 * The image package's typed error. It extends core's
 * {@link InvalidArgumentError}, so it carries the offending `field` and
 * `value` and is a `MobileOpsError`.
 *
 * @module
 */

import { InvalidArgumentError } from "@mobileops/core";

/**
 * Image bytes could not be decoded as PNG or JPEG.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeImage, ImageDecodeError } from "@mobileops/image";
 * try {
 *   decodeImage(new Uint8Array([1, 2, 3]));
 * } catch (e) {
 *   assert(e instanceof ImageDecodeError);
 * }
 * ```
 */
export class ImageDecodeError extends InvalidArgumentError {
  /** Always `"ImageDecodeError"`, so `String(error)` and stack traces show the class. */
  override name = "ImageDecodeError";
}
