/**
 * `@mobileops/image`: PNG and JPEG bytes to the NHWC float32 input a vision
 * network takes. {@link decodeImage} gives 8-bit RGB; {@link imageToInput}
 * resizes it bilinearly to the network's square resolution and normalizes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode } from "npm:fast-png@8.0.0";
 * import { decodeImage, imageToInput } from "@mobileops/image";
 * const png = encode({ width: 2, height: 2, data: new Uint8Array(12).fill(255), channels: 3 });
 * const input = imageToInput(decodeImage(png), 224);
 * assert(input.length === 224 * 224 * 3 && input.every((v) => v === 1));
 * ```
 *
 * @module
 */

export { ImageDecodeError } from "./errors.ts";
export {
  decodeImage,
  imageToInput,
  MINUS_ONE_TO_ONE,
  type Normalization,
  type RgbImage,
} from "./image.ts";
