/**
 * From decoded RGB to the NHWC float32 data a network takes: bilinear
 * resampling, the ImageNet evaluation crop, and per-channel normalization.
 *
 * **Resampling.** Every resize here is bilinear with half-pixel centres and
 * no antialiasing: output pixel `i` of an axis resized from `in` to `out`
 * pixels reads the source at `(i + 0.5) · in / out − 0.5`, clamped to
 * `[0, in − 1]`, and blends the two neighbours there (rows after columns).
 * That is exactly `torch.nn.functional.interpolate(x, size, mode="bilinear",
 * align_corners=False, antialias=False)` on the float 0–255 image (what
 * torchvision's `Resize(antialias=False)` computes on a float tensor) and
 * TensorFlow 2's `tf.image.resize(method="bilinear", antialias=False)`, so
 * any of them reproduces our input. It is chosen over PIL's resize, which
 * torchvision uses on PIL images, because PIL always antialiases when it
 * shrinks (a triangle filter widened by the scale factor, in 8-bit fixed
 * point) and has no such one-line definition. The cost of the choice: when
 * an image shrinks by more than 2× per side, each output pixel still reads
 * only 2×2 source pixels, so fine detail aliases and the input differs from
 * PIL's more than from another bilinear resize. Values are computed in
 * float64 and rounded to float32 once, after normalization, never to 8 bits.
 *
 * @module
 */

import {
  InvalidArgumentError,
  MAX_DIMENSION,
  MAX_ELEMENTS,
  validateOptions,
} from "@mobileops/core";
import type { RgbImage } from "./image.ts";

/** One value for all three channels, or one per channel in R, G, B order. */
export type ChannelValues = number | readonly [red: number, green: number, blue: number];

/**
 * Normalization `(sample − mean) / std`, per channel, of the 0–255 samples
 * an {@link RgbImage} holds (not 0–1: a mean given for 0–1 samples must be
 * multiplied by 255, and its std too, as {@link IMAGENET} is).
 */
export interface Normalization {
  /** Subtracted from every sample: one value for all channels or `[r, g, b]`; finite. */
  readonly mean: ChannelValues;
  /** Divides every sample after `mean` is subtracted: one value or `[r, g, b]`; finite, non-zero. */
  readonly std: ChannelValues;
}

/**
 * TensorFlow's MobileNet preprocessing: 0–255 to [-1, 1], every channel
 * alike (`(v − 127.5) / 127.5`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageToInput, MINUS_ONE_TO_ONE } from "@mobileops/image";
 * const black = { width: 1, height: 1, data: new Uint8Array(3) };
 * assert(imageToInput(black, 1, MINUS_ONE_TO_ONE).every((v) => v === -1));
 * ```
 */
export const MINUS_ONE_TO_ONE: Normalization = Object.freeze({ mean: 127.5, std: 127.5 });

/**
 * torchvision's ImageNet normalization, `Normalize(mean=[0.485, 0.456,
 * 0.406], std=[0.229, 0.224, 0.225])`, for 0–255 samples: torchvision
 * applies it after `ToTensor` has divided by 255, so both are multiplied by
 * 255 here — `(v − 255·m) / (255·s)` equals `(v / 255 − m) / s`. The mean is
 * `[123.675, 116.28, 103.53]`, the std `[58.395, 57.12, 57.375]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IMAGENET, imageToInput } from "@mobileops/image";
 * const white = { width: 1, height: 1, data: new Uint8Array(3).fill(255) };
 * const [r, g, b] = imageToInput(white, 1, IMAGENET);
 * assert(Math.abs(r - (1 - 0.485) / 0.229) < 1e-6 && Math.abs(b - (1 - 0.406) / 0.225) < 1e-6);
 * ```
 */
export const IMAGENET: Normalization = Object.freeze({
  mean: Object.freeze([123.675, 116.28, 103.53] as const),
  std: Object.freeze([58.395, 57.12, 57.375] as const),
});

/** Width and height of an image in pixels. */
export interface ImageExtent {
  /** Pixels per row. */
  readonly width: number;
  /** Number of rows. */
  readonly height: number;
}

/**
 * The size torchvision's `Resize(shortSide)` gives a `width`×`height`
 * image: the short side becomes `shortSide` and the long side
 * `floor(shortSide · long / short)`, truncated as torchvision's `int()`
 * does; a square gives `shortSide` both ways.
 *
 * @throws {InvalidArgumentError} `width` or `height` is not a positive
 *   integer; `shortSide` is not an integer from 1 to core's `MAX_DIMENSION`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resizedSize } from "@mobileops/image";
 * assert.deepEqual(resizedSize(500, 375, 256), { width: 341, height: 256 }); // 256 · 500 / 375 = 341.3
 * assert.deepEqual(resizedSize(375, 500, 256), { width: 256, height: 341 });
 * ```
 */
export function resizedSize(width: number, height: number, shortSide: number): ImageExtent {
  for (const [field, value] of [["width", width], ["height", height]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new InvalidArgumentError(field, value, "must be a positive integer");
    }
  }
  checkSide("shortSide", shortSide);
  if (width <= height) {
    return { width: shortSide, height: Math.floor(shortSide * height / width) };
  }
  return { width: Math.floor(shortSide * width / height), height: shortSide };
}

/** Options of {@link preprocessImage}. */
export interface PreprocessOptions {
  /** The short side after resizing ({@link resizedSize}): an integer from 1 to core's `MAX_DIMENSION`. */
  readonly resize: number;
  /**
   * The centre crop: one side for a square, or `[height, width]`; each a
   * positive integer that fits the resized image. Default: `resize`, a
   * `resize`×`resize` square.
   */
  readonly crop?: number | readonly [height: number, width: number];
}

/** What {@link preprocessImage} returns: the data and where it came from. */
export interface PreprocessedImage {
  /** NHWC float32, `crop.height · crop.width · 3` values, normalized. */
  readonly data: Float32Array;
  /** `[1, crop.height, crop.width, 3]`: the tensor shape to upload `data` with. */
  readonly shape: readonly [1, number, number, 3];
  /** The size of the resized image that the crop is taken from. */
  readonly resized: ImageExtent;
  /** The crop's first row and column in the resized image, and its size. */
  readonly crop: { readonly top: number; readonly left: number } & ImageExtent;
}

const PREPROCESS_KEYS = ["resize", "crop"];

/**
 * torchvision's ImageNet evaluation transform — `Resize(resize)`,
 * `CenterCrop(crop)`, `ToTensor()`, `Normalize(mean, std)` — with the
 * resampling this module defines (bilinear, half-pixel centres, no
 * antialiasing): the short side is resized to `options.resize`
 * ({@link resizedSize}), the centre `crop` is cut out at row
 * `round((resized height − crop height) / 2)` and column
 * `round((resized width − crop width) / 2)`, rounding halves to even as
 * torchvision's Python `round` does, and every sample is normalized per
 * channel. Only the cropped pixels are computed; they equal the same pixels
 * of the whole resized image.
 *
 * The result is NHWC, `shape` `[1, H, W, 3]`: what `@mobileops/models`
 * networks and the graph of an imported ONNX model take (upload it with
 * `shape`, which is the ONNX model's `input.graphShape` — no transposition
 * needed, and `toGraphInput` is not: that is for NCHW data). To hand the
 * same input to an engine that takes ONNX's NCHW, convert it with
 * `nhwcToNchw(data, shape)` from `@mobileops/onnx`.
 *
 * @param normalization Default {@link IMAGENET}, as for torchvision-trained weights.
 * @throws {InvalidArgumentError} `image` is not an {@link RgbImage} (field
 *   `image`, `image.width`, `image.height`, `image.data`); `options` is not
 *   `{ resize, crop? }` (`options.<key>` for an unknown key);
 *   `options.resize` is not an integer from 1 to `MAX_DIMENSION`;
 *   `options.crop` (or `options.crop[0]`, `[1]`) is not a positive integer,
 *   is not one side or two, does not fit the resized image, or has more than
 *   `MAX_ELEMENTS` values; `normalization` as {@link imageToInput} says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IMAGENET, preprocessImage } from "@mobileops/image";
 * // A 4×2 image (width 4): red rises along each row, green is 0 on the top row and 200 below.
 * const data = new Uint8Array(4 * 2 * 3);
 * for (let y = 0; y < 2; y++) {
 *   for (let x = 0; x < 4; x++) data.set([40 * x, 200 * y, 0], (y * 4 + x) * 3);
 * }
 * const input = preprocessImage({ width: 4, height: 2, data }, { resize: 4 }, { mean: 0, std: 1 });
 * assert.deepEqual(input.resized, { width: 8, height: 4 });
 * assert.deepEqual(input.crop, { top: 0, left: 2, height: 4, width: 4 });
 * assert.deepEqual(input.shape, [1, 4, 4, 3]);
 * // Red of the first row: columns 2–5 of 8 read the source at x = 0.75, 1.25, 1.75, 2.25.
 * assert.deepEqual([0, 1, 2, 3].map((x) => input.data[x * 3]), [30, 50, 70, 90]);
 * // Green down a column: rows 0–3 read y = 0 (clamped), 0.25, 0.75, 1 (clamped).
 * assert.deepEqual([0, 1, 2, 3].map((y) => input.data[y * 12 + 1]), [0, 50, 150, 200]);
 * assert(preprocessImage({ width: 4, height: 2, data }, { resize: 2 }).data.length === 12); // IMAGENET
 * ```
 */
export function preprocessImage(
  image: RgbImage,
  options: PreprocessOptions,
  normalization: Normalization = IMAGENET,
): PreprocessedImage {
  checkImage(image);
  validateOptions("options", options, PREPROCESS_KEYS);
  if (options === undefined) {
    throw new InvalidArgumentError("options", options, "must be { resize, crop? }");
  }
  checkSide("options.resize", options.resize);
  const checked = checkNormalization(normalization);
  const resized = resizedSize(image.width, image.height, options.resize);
  const [height, width] = checkCrop(options.crop ?? options.resize, resized);
  const top = roundHalfToEven((resized.height - height) / 2);
  const left = roundHalfToEven((resized.width - width) / 2);
  const rows = axisSamples(image.height, resized.height, top, height);
  const columns = axisSamples(image.width, resized.width, left, width);
  return {
    data: resample(image, rows, columns, checked),
    shape: [1, height, width, 3],
    resized,
    crop: { top, left, height, width },
  };
}

/**
 * Resizes `image` to `size`×`size` with this module's bilinear resampling
 * (half-pixel centres, edges clamped, no antialiasing), normalizes it, and
 * returns NHWC data for a `[1, size, size, 3]` input. The aspect ratio is
 * not kept: {@link preprocessImage} keeps it and crops. The result is always
 * finite: the samples are, and `mean` and `std` must keep
 * `(sample − mean) / std` within float32 for every sample 0–255.
 *
 * @param normalization Default {@link MINUS_ONE_TO_ONE}, TensorFlow's MobileNet preprocessing.
 * @throws {InvalidArgumentError} `image` is not an {@link RgbImage} (field
 *   `image`, `image.width`, `image.height` or `image.data`: positive integer
 *   sizes and a Uint8Array of width·height·3 samples); `size` is not a
 *   positive integer, or `size`²·3 exceeds core's `MAX_ELEMENTS`;
 *   `normalization` is not a `{ mean, std }` object (`normalization.scale`
 *   for an unknown key); `normalization.mean` or `normalization.std` is
 *   neither a number nor an array of 3; a value is not finite
 *   (`normalization.mean`, or `normalization.mean[1]` for one of three); a
 *   std is 0; or a channel's `(sample − mean) / std` overflows float32
 *   (`normalization`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageToInput } from "@mobileops/image";
 * const white = { width: 2, height: 2, data: new Uint8Array(12).fill(255) };
 * const input = imageToInput(white, 4);
 * assert(input.length === 48 && input.every((v) => v === 1));
 * const perChannel = imageToInput(white, 1, { mean: [255, 127.5, 0], std: [1, 127.5, 255] });
 * assert.deepEqual([...perChannel], [0, 1, 1]);
 * ```
 */
export function imageToInput(
  image: RgbImage,
  size: number,
  normalization: Normalization = MINUS_ONE_TO_ONE,
): Float32Array {
  checkImage(image);
  checkSize(size);
  const checked = checkNormalization(normalization);
  return resample(
    image,
    axisSamples(image.height, size, 0, size),
    axisSamples(image.width, size, 0, size),
    checked,
  );
}

/** Where each output position of one axis reads the source: two neighbours and the second's weight. */
interface AxisSamples {
  readonly low: Int32Array;
  readonly high: Int32Array;
  readonly weight: Float64Array;
}

/**
 * Positions `first … first + count − 1` of an axis resized from `from` to
 * `to` pixels: half-pixel centres put output `i` at source
 * `(i + 0.5) · from / to − 0.5`, clamped to `[0, from − 1]` (torch clamps
 * at 0 and lets the upper neighbour repeat the last pixel: the same value).
 */
function axisSamples(from: number, to: number, first: number, count: number): AxisSamples {
  const low = new Int32Array(count);
  const high = new Int32Array(count);
  const weight = new Float64Array(count);
  const scale = from / to;
  for (let i = 0; i < count; i++) {
    const at = Math.min(Math.max((first + i + 0.5) * scale - 0.5, 0), from - 1);
    low[i] = Math.floor(at);
    high[i] = Math.min(low[i] + 1, from - 1);
    weight[i] = at - low[i];
  }
  return { low, high, weight };
}

/** Per channel, after checking: three means and three stds. */
interface ChannelNormalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Blends each output pixel from its 2×2 neighbours (columns, then rows) and normalizes it. */
function resample(
  image: RgbImage,
  rows: AxisSamples,
  columns: AxisSamples,
  { mean, std }: ChannelNormalization,
): Float32Array {
  const { width, data } = image;
  const outHeight = rows.low.length;
  const outWidth = columns.low.length;
  const out = new Float32Array(outHeight * outWidth * 3);
  for (let y = 0; y < outHeight; y++) {
    const top = rows.low[y] * width;
    const bottom = rows.high[y] * width;
    const wy = rows.weight[y];
    for (let x = 0; x < outWidth; x++) {
      const left = columns.low[x];
      const right = columns.high[x];
      const wx = columns.weight[x];
      for (let c = 0; c < 3; c++) {
        const upper = data[(top + left) * 3 + c] * (1 - wx) + data[(top + right) * 3 + c] * wx;
        const lower = data[(bottom + left) * 3 + c] * (1 - wx) +
          data[(bottom + right) * 3 + c] * wx;
        const value = upper * (1 - wy) + lower * wy;
        out[(y * outWidth + x) * 3 + c] = (value - mean[c]) / std[c];
      }
    }
  }
  return out;
}

/** `Math.round` rounds halves up; torchvision's Python `round` rounds them to even. */
function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  return value - floor === 0.5 && floor % 2 === 0 ? floor : Math.round(value);
}

function checkImage(image: RgbImage): void {
  if (image === null || typeof image !== "object") {
    throw new InvalidArgumentError("image", image, "must be an RgbImage { width, height, data }");
  }
  for (const field of ["width", "height"] as const) {
    const value: unknown = image[field];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw new InvalidArgumentError(`image.${field}`, value, "must be a positive integer");
    }
  }
  const samples = image.width * image.height * 3;
  if (!(image.data instanceof Uint8Array) || image.data.length !== samples) {
    throw new InvalidArgumentError(
      "image.data",
      image.data,
      `must be a Uint8Array of width · height · 3 = ${samples} RGB samples`,
    );
  }
}

function checkSize(size: number): void {
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
    throw new InvalidArgumentError("size", size, "must be a positive integer (pixels per side)");
  }
  if (size * size * 3 > MAX_ELEMENTS) {
    throw new InvalidArgumentError(
      "size",
      size,
      `gives ${size * size * 3} values, more than core's MAX_ELEMENTS (${MAX_ELEMENTS})`,
    );
  }
}

/** A resized side: beyond core's largest tensor axis it could never be a network's input. */
function checkSide(field: string, value: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) {
    throw new InvalidArgumentError(
      field,
      value,
      `must be an integer from 1 to core's MAX_DIMENSION (${MAX_DIMENSION})`,
    );
  }
}

/** The crop as `[height, width]`, each within the resized image. */
function checkCrop(crop: PreprocessOptions["crop"], resized: ImageExtent): [number, number] {
  const sides = typeof crop === "number" ? [crop, crop] : crop;
  if (!Array.isArray(sides) || sides.length !== 2) {
    throw new InvalidArgumentError(
      "options.crop",
      crop,
      "must be one side or [height, width]",
    );
  }
  sides.forEach((side: unknown, i) => {
    if (typeof side !== "number" || !Number.isInteger(side) || side < 1) {
      const field = typeof crop === "number" ? "options.crop" : `options.crop[${i}]`;
      throw new InvalidArgumentError(field, side, "must be a positive integer");
    }
  });
  const [height, width] = sides as [number, number];
  if (height > resized.height || width > resized.width) {
    throw new InvalidArgumentError(
      "options.crop",
      crop,
      `must fit in the resized image (height ${resized.height}, width ${resized.width})`,
    );
  }
  if (height * width * 3 > MAX_ELEMENTS) {
    throw new InvalidArgumentError(
      "options.crop",
      crop,
      `gives ${height * width * 3} values, more than core's MAX_ELEMENTS (${MAX_ELEMENTS})`,
    );
  }
  return [height, width];
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** One channel value or three, as three finite numbers. */
function channelValues(field: string, value: ChannelValues): number[] {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new InvalidArgumentError(field, value, "must be a finite number");
    }
    return [value, value, value];
  }
  if (!Array.isArray(value) || value.length !== 3) {
    throw new InvalidArgumentError(
      field,
      value,
      "must be one number for every channel or [r, g, b]: three numbers",
    );
  }
  value.forEach((entry: unknown, c) => {
    if (typeof entry !== "number" || !Number.isFinite(entry)) {
      throw new InvalidArgumentError(`${field}[${c}]`, entry, "must be a finite number");
    }
  });
  return [...value];
}

function checkNormalization(normalization: Normalization): ChannelNormalization {
  validateOptions("normalization", normalization, ["mean", "std"]);
  const mean = channelValues("normalization.mean", normalization.mean);
  const std = channelValues("normalization.std", normalization.std);
  std.forEach((value, c) => {
    if (value === 0) {
      const field = typeof normalization.std === "number"
        ? "normalization.std"
        : `normalization.std[${c}]`;
      throw new InvalidArgumentError(field, value, "must not be 0");
    }
  });
  for (let c = 0; c < 3; c++) {
    // The largest |sample − mean| is at sample 0 or 255.
    if (Math.max(Math.abs(mean[c]), Math.abs(255 - mean[c])) / Math.abs(std[c]) > FLOAT32_MAX) {
      throw new InvalidArgumentError(
        "normalization",
        normalization,
        `(sample − mean) / std overflows float32 for samples 0–255 in channel ${c}`,
      );
    }
  }
  return { mean, std };
}
