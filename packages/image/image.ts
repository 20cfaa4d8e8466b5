/**
 * Image input: PNG and JPEG decoded with maintained npm decoders
 * (`fast-png`, `jpeg-js`), resized bilinearly to the model's resolution and
 * normalized into the NHWC float32 tensor data the networks take.
 *
 * @module
 */

import { convertIndexedToRgb, decode as decodePng, hasPngSignature } from "npm:fast-png@8.0.0";
import jpeg from "npm:jpeg-js@0.4.4";
import { ImageDecodeError } from "./errors.ts";

/** A decoded image: 8-bit RGB, row-major, 3 values per pixel. */
export interface RgbImage {
  /** Pixels per row. */
  readonly width: number;
  /** Number of rows. */
  readonly height: number;
  /** `width · height · 3` samples, 0–255, row-major, in R, G, B order. */
  readonly data: Uint8Array;
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Drops alpha, expands gray and palettes, narrows 16-bit samples: always 8-bit RGB. */
function pngToRgb(bytes: Uint8Array): RgbImage {
  const image = decodePng(bytes);
  const { width, height } = image;
  let samples: ArrayLike<number> = image.data;
  let channels = image.channels;
  if (image.palette !== undefined) {
    samples = convertIndexedToRgb(image);
    channels = image.palette[0]?.length ?? 3;
  }
  const shift = image.palette === undefined && image.depth === 16 ? 8 : 0;
  const low = image.palette === undefined && image.depth < 8 ? 255 / (2 ** image.depth - 1) : 1;
  const data = new Uint8Array(width * height * 3);
  const color = channels >= 3;
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const value = samples[p * channels + (color ? c : 0)];
      data[3 * p + c] = Math.round((value >> shift) * low);
    }
  }
  return { width, height, data };
}

/**
 * Decodes PNG (any bit depth, gray, palette, alpha) or baseline/progressive
 * JPEG bytes to 8-bit RGB; alpha is dropped. Anything else, or a corrupt
 * file, throws {@link ImageDecodeError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode } from "npm:fast-png@8.0.0";
 * import { decodeImage } from "@mobileops/image";
 * const png = encode({ width: 1, height: 1, data: new Uint8Array([9, 8, 7, 255]), channels: 4 });
 * assert(decodeImage(png).data.join() === "9,8,7");
 * ```
 */
export function decodeImage(bytes: Uint8Array): RgbImage {
  try {
    if (hasPngSignature(bytes)) return pngToRgb(bytes);
    if (isJpeg(bytes)) {
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
      return { width: image.width, height: image.height, data: image.data };
    }
  } catch (error) {
    throw new ImageDecodeError("image", `${bytes.length} bytes`, `failed to decode: ${error}`);
  }
  throw new ImageDecodeError("image", `${bytes.length} bytes`, "is neither PNG nor JPEG");
}

/** Per-channel normalization `(value − mean) / std` applied to 0–255 samples. */
export interface Normalization {
  /** Subtracted from every 0–255 sample, all channels alike. */
  readonly mean: number;
  /** Divides every sample after `mean` is subtracted; non-zero. */
  readonly std: number;
}

/** TensorFlow's MobileNet preprocessing: 0–255 to [-1, 1]. */
export const MINUS_ONE_TO_ONE: Normalization = { mean: 127.5, std: 127.5 };

/**
 * Resizes `image` to `size`×`size` with bilinear interpolation (half-pixel
 * centers, edges clamped, as TensorFlow 2's and PyTorch's
 * `align_corners=False` resizes do), normalizes it, and returns NHWC data
 * for a `[1, size, size, 3]` input. The aspect ratio is not kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageToInput } from "@mobileops/image";
 * const white = { width: 2, height: 2, data: new Uint8Array(12).fill(255) };
 * const input = imageToInput(white, 4);
 * assert(input.length === 48 && input.every((v) => v === 1));
 * ```
 */
export function imageToInput(
  image: RgbImage,
  size: number,
  normalization: Normalization = MINUS_ONE_TO_ONE,
): Float32Array {
  const out = new Float32Array(size * size * 3);
  const axis = (index: number, extent: number) => {
    const at = Math.min(Math.max((index + 0.5) * (extent / size) - 0.5, 0), extent - 1);
    const low = Math.floor(at);
    return { low, high: Math.min(low + 1, extent - 1), weight: at - low };
  };
  const { width, height, data } = image;
  for (let y = 0; y < size; y++) {
    const row = axis(y, height);
    for (let x = 0; x < size; x++) {
      const column = axis(x, width);
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => data[(yy * width + xx) * 3 + c];
        const top = at(row.low, column.low) * (1 - column.weight) +
          at(row.low, column.high) * column.weight;
        const bottom = at(row.high, column.low) * (1 - column.weight) +
          at(row.high, column.high) * column.weight;
        const value = top * (1 - row.weight) + bottom * row.weight;
        out[(y * size + x) * 3 + c] = (value - normalization.mean) / normalization.std;
      }
    }
  }
  return out;
}
