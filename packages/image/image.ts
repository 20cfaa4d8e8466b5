/**
 * Image decoding: PNG and JPEG decoded with maintained npm decoders
 * (`fast-png`, `jpeg-js`) into 8-bit RGB. The size in the file's header is
 * checked against {@link MAX_IMAGE_PIXELS} before anything is decoded, so a
 * small file claiming a huge image costs nothing. Resizing, cropping and
 * normalization are in `preprocess.ts`.
 *
 * @module
 */

import { InvalidArgumentError } from "@mobileops/core";
import { convertIndexedToRgb, decode as decodePng, hasPngSignature } from "npm:fast-png@8.0.0";
import jpeg from "npm:jpeg-js@0.4.4";
import { ImageDecodeError } from "./errors.ts";

/**
 * Most pixels (width × height) {@link decodeImage} decodes: 40 megapixels,
 * a 7728×5152 camera frame. Decoding needs about 4 bytes per pixel for the
 * RGB result and more inside the decoders; a 20000×20000 PNG of a few
 * kilobytes would otherwise take gigabytes.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;

/** Width, height and format, read from a PNG or JPEG file's header. */
export interface ImageSize {
  /** `"png"` or `"jpeg"`, from the file's signature. */
  readonly format: "png" | "jpeg";
  /** Pixels per row. */
  readonly width: number;
  /** Number of rows. */
  readonly height: number;
}

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

function checkBytes(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      "bytes",
      bytes,
      "must be a Uint8Array of PNG or JPEG file bytes",
    );
  }
}

function malformed(bytes: Uint8Array, reason: string): ImageDecodeError {
  return new ImageDecodeError("image", `${bytes.length} bytes`, reason);
}

/** IHDR is the first chunk: 4-byte length (13), "IHDR", then width and height, big-endian. */
function pngSize(bytes: Uint8Array): ImageSize {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24 || view.getUint32(12) !== 0x49484452) {
    throw malformed(bytes, "is a PNG without a complete IHDR header");
  }
  return { format: "png", width: view.getUint32(16), height: view.getUint32(20) };
}

/** Start-of-frame markers (SOF0–SOF15 but DHT, JPG and DAC), which carry the frame size. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
    marker !== 0xcc;
}

/** Walks the marker segments up to the first start of frame: precision, height, width. */
function jpegSize(bytes: Uint8Array): ImageSize {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw malformed(bytes, `is a JPEG with no marker at byte ${at}`);
    const marker = bytes[at + 1];
    // 0xFF fill bytes may precede a marker; SOI, RSTn and TEM stand alone.
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) {
      throw malformed(bytes, "is a JPEG whose scan or end comes before any frame header");
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2) throw malformed(bytes, `is a JPEG with a segment of length ${length}`);
    if (isStartOfFrame(marker)) {
      if (at + 9 > bytes.length) break;
      return {
        format: "jpeg",
        height: (bytes[at + 5] << 8) | bytes[at + 6],
        width: (bytes[at + 7] << 8) | bytes[at + 8],
      };
    }
    at += 2 + length;
  }
  throw malformed(bytes, "is a JPEG that ends before its frame header");
}

/**
 * Reads the width and height from a PNG (IHDR) or JPEG (start-of-frame)
 * header without decoding anything, and checks them: both at least 1 and
 * their product at most {@link MAX_IMAGE_PIXELS}.
 *
 * @throws {InvalidArgumentError} `bytes` is not a Uint8Array.
 * @throws {ImageDecodeError} Field `image`: neither PNG nor JPEG, or a header
 *   cut short or malformed. Field `width` / `height`: 0. Field
 *   `[width, height]`: more than {@link MAX_IMAGE_PIXELS} pixels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode } from "npm:fast-png@8.0.0";
 * import { readImageSize } from "@mobileops/image";
 * const png = encode({ width: 3, height: 2, data: new Uint8Array(18), channels: 3 });
 * assert.deepEqual(readImageSize(png), { format: "png", width: 3, height: 2 });
 * ```
 */
export function readImageSize(bytes: Uint8Array): ImageSize {
  checkBytes(bytes);
  const size = hasPngSignature(bytes)
    ? pngSize(bytes)
    : isJpeg(bytes)
    ? jpegSize(bytes)
    : undefined;
  if (size === undefined) throw malformed(bytes, "is neither PNG nor JPEG");
  for (const field of ["width", "height"] as const) {
    if (size[field] < 1) {
      throw new ImageDecodeError(
        field,
        size[field],
        `must be at least 1 in the ${size.format} header`,
      );
    }
  }
  if (size.width * size.height > MAX_IMAGE_PIXELS) {
    throw new ImageDecodeError(
      "[width, height]",
      [size.width, size.height],
      `is ${size.width * size.height} pixels, more than MAX_IMAGE_PIXELS (${MAX_IMAGE_PIXELS}); ` +
        "refused before decoding",
    );
  }
  return size;
}

/**
 * Decodes PNG (any bit depth, gray, palette, alpha) or baseline/progressive
 * JPEG bytes to 8-bit RGB; alpha is dropped. The header's size is checked
 * first ({@link readImageSize}), so nothing large is allocated for an image
 * beyond {@link MAX_IMAGE_PIXELS}. Every sample of the result is an integer
 * 0–255, so decoded images are always finite.
 *
 * @throws {InvalidArgumentError} `bytes` is not a Uint8Array.
 * @throws {ImageDecodeError} What {@link readImageSize} throws, and field
 *   `image` for a file that fails to decode.
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
  const { format } = readImageSize(bytes);
  try {
    if (format === "png") return pngToRgb(bytes);
    const image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      // A second frame header could claim another size; the decoder refuses it too.
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
    });
    return { width: image.width, height: image.height, data: image.data };
  } catch (error) {
    throw malformed(bytes, `failed to decode: ${error}`);
  }
}
