/**
 * `@mobileops/image`: PNG and JPEG bytes to the NHWC float32 input a vision
 * network takes. {@link decodeImage} gives 8-bit RGB; {@link preprocessImage}
 * applies the ImageNet evaluation transform (resize the short side, centre
 * crop, per-channel mean / std, {@link IMAGENET} by default);
 * {@link imageToInput} resizes to a square resolution without keeping the
 * aspect ratio ({@link MINUS_ONE_TO_ONE} by default). Both resample
 * bilinearly with half-pixel centres and no antialiasing, exactly as
 * `torch.nn.functional.interpolate(…, mode="bilinear", align_corners=False)`
 * does. {@link readImageSize} reads and checks a file's size from its header
 * alone: an image beyond {@link MAX_IMAGE_PIXELS} is refused before any
 * decoding. Decoded samples are 8-bit integers, so the input is always
 * finite. Every function checks its arguments: core's `InvalidArgumentError`
 * for a wrong type or value, {@link ImageDecodeError} for a file that is not
 * a valid, acceptably sized PNG or JPEG.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode } from "npm:fast-png@8.0.0";
 * import { decodeImage, imageToInput, preprocessImage } from "@mobileops/image";
 * const png = encode({ width: 2, height: 2, data: new Uint8Array(12).fill(255), channels: 3 });
 * const input = imageToInput(decodeImage(png), 224);
 * assert(input.length === 224 * 224 * 3 && input.every((v) => v === 1));
 * const imagenet = preprocessImage(decodeImage(png), { resize: 256, crop: 224 });
 * assert.deepEqual(imagenet.shape, [1, 224, 224, 3]);
 * ```
 *
 * @module
 */

export { ImageDecodeError } from "./errors.ts";
export {
  decodeImage,
  type ImageSize,
  MAX_IMAGE_PIXELS,
  readImageSize,
  type RgbImage,
} from "./image.ts";
export {
  type ChannelValues,
  type ImageExtent,
  IMAGENET,
  imageToInput,
  MINUS_ONE_TO_ONE,
  type Normalization,
  type PreprocessedImage,
  preprocessImage,
  type PreprocessOptions,
  resizedSize,
} from "./preprocess.ts";
