/**
 * The image package's typed error. It extends core's
 * {@link InvalidArgumentError}, so it carries the offending `field` and
 * `value` and is a `MobileOpsError`.
 *
 * @module
 */

import { InvalidArgumentError } from "@mobileops/core";

/**
 * Image bytes could not be decoded as PNG or JPEG: not an image, a corrupt
 * or truncated file (field `image`), or a header whose size is 0 (`width`,
 * `height`) or beyond `MAX_IMAGE_PIXELS` (`[width, height]`).
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
