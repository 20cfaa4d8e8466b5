/**
 * The Fashion-MNIST pipeline's pure parts, shared by `deno task demo`
 * (demo.ts), `deno task evaluate` (tools/evaluate.ts) and the browser page
 * (web/lib.ts): reading a card's models, turning a decoded image into the
 * 8-bit gray image a network takes and that into its input, and the top-5.
 * Nothing here reads files or imports a `node:` module, so a browser bundle
 * can include it; those that do read files (`readCard`, `loadModel`, the test
 * set) stay in tools/evaluate.ts.
 *
 * @module
 */

import { InvalidArgumentError } from "@mobileops/core";
import { imageToInput, type RgbImage } from "@mobileops/image";
import {
  MAX_ALPHA,
  SHUFFLENET_GROUPS,
  SHUFFLENET_SCALES,
  type ShuffleNetGroups,
  type ShuffleNetScale,
} from "@mobileops/models";

/**
 * A card that is malformed or does not describe its files: the field is the
 * path inside the card, e.g. `models[2].preprocessing.std`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CardError, parseCard } from "./fashion_mnist.ts";
 * assert.throws(() => parseCard({ models: [] }), CardError);
 * ```
 */
export class CardError extends InvalidArgumentError {
  /** Always `"CardError"`, so `String(error)` and stack traces show the class. */
  override name = "CardError";
}

/** How a card turns one 8-bit grayscale image into the network's NCHW input. */
export interface Preprocessing {
  /** The source image's `[height, width]` (28×28 for Fashion-MNIST). */
  readonly image: readonly [number, number];
  /** Each pixel repeated `replicate` × `replicate` times (nearest-neighbour upscaling). */
  readonly replicate: number;
  /** Pixels added `[top, left, bottom, right]` after replication, as ONNX orders pads. */
  readonly pad: readonly [number, number, number, number];
  /** The 8-bit value of the added pixels. */
  readonly padValue: number;
  /** Every value `v` becomes `(v − mean) / std` in float64, rounded once to float32. */
  readonly mean: number;
  /** See `mean`; not 0. */
  readonly std: number;
  /** The gray plane is copied to this many channels. */
  readonly channels: number;
}

/** One model of a card (tools/train/README.md describes every field). */
export interface CardModel {
  /** E.g. `"shufflenet_v1_0.5x_g3_32"`. */
  readonly name: string;
  /** The ONNX file, relative to the card. */
  readonly file: string;
  /** The file's SHA-256, hex. */
  readonly sha256: string;
  /** Torch's test-set predictions, one digit per image, relative to the card. */
  readonly predictions: string;
  /** The library builder it matches. */
  readonly architecture: "mobilenet_v1" | "shufflenet_v1";
  /** The builder's options. */
  readonly options: {
    readonly alpha?: number;
    readonly groups?: ShuffleNetGroups;
    readonly scale?: ShuffleNetScale;
    readonly resolution: number;
    readonly classes: number;
  };
  /** `"full-conv"`: MobileNet with dense 3×3 blocks; `"no-shuffle"`: ShuffleNet without shuffles. */
  readonly ablation: "none" | "full-conv" | "no-shuffle";
  /** The ONNX input `[batch, channels, height, width]`; `"batch"` when the batch is dynamic. */
  readonly inputShape: readonly [number | "batch", number, number, number];
  /** See {@link Preprocessing}. */
  readonly preprocessing: Preprocessing;
  /** The class names, by index. */
  readonly classes: readonly string[];
  /** Torch's accuracy on the whole test set (0–1) and the number of test images. */
  readonly torch: { readonly testAccuracy: number; readonly testImages: number };
  /** Multiply-adds and parameters of the imported graph, as `summary` counts them. */
  readonly cost: { readonly multiplyAdds: number; readonly parameters: number };
}

type Json = Record<string, unknown>;

function object(value: unknown, field: string): Json {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CardError(field, value, "must be an object");
  }
  return value as Json;
}

function text(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") {
    throw new CardError(field, value, "must be a non-empty string");
  }
  return value;
}

function integer(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new CardError(field, value, `must be an integer from ${min} to ${max}`);
  }
  return value as number;
}

function finite(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new CardError(field, value, "must be a finite number");
  }
  return value;
}

function oneOf<T>(value: unknown, field: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new CardError(field, value, `must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function list(value: unknown, field: string, length: number): unknown[] {
  if (!Array.isArray(value) || value.length !== length) {
    throw new CardError(field, value, `must be an array of ${length}`);
  }
  return value;
}

function parsePreprocessing(value: unknown, field: string): Preprocessing {
  const p = object(value, field);
  const [height, width] = list(p.image, `${field}.image`, 2)
    .map((side, i) => integer(side, `${field}.image[${i}]`, 1));
  const pad = list(p.pad, `${field}.pad`, 4)
    .map((side, i) => integer(side, `${field}.pad[${i}]`, 0, 4096));
  const std = finite(p.std, `${field}.std`);
  if (std === 0) throw new CardError(`${field}.std`, std, "must not be 0");
  return {
    image: [height, width],
    replicate: integer(p.replicate, `${field}.replicate`, 1, 64),
    pad: [pad[0], pad[1], pad[2], pad[3]],
    padValue: integer(p.padValue, `${field}.padValue`, 0, 255),
    mean: finite(p.mean, `${field}.mean`),
    std,
    channels: integer(p.channels, `${field}.channels`, 1, 4),
  };
}

function parseOptions(
  value: unknown,
  field: string,
  architecture: CardModel["architecture"],
): CardModel["options"] {
  const o = object(value, field);
  const common = {
    resolution: integer(o.resolution, `${field}.resolution`, 32, 4096),
    classes: integer(o.classes, `${field}.classes`, 2, 10),
  };
  if (architecture === "shufflenet_v1") {
    return {
      ...common,
      groups: oneOf(o.groups, `${field}.groups`, SHUFFLENET_GROUPS),
      scale: oneOf(o.scale, `${field}.scale`, SHUFFLENET_SCALES),
    };
  }
  const alpha = finite(o.alpha, `${field}.alpha`);
  if (!(alpha > 0 && alpha <= MAX_ALPHA)) {
    throw new CardError(`${field}.alpha`, alpha, `must be above 0 and at most ${MAX_ALPHA}`);
  }
  return { ...common, alpha };
}

function parseModel(value: unknown, field: string): CardModel {
  const m = object(value, field);
  const architecture = oneOf(
    m.architecture,
    `${field}.architecture`,
    [
      "mobilenet_v1",
      "shufflenet_v1",
    ] as const,
  );
  const options = parseOptions(m.options, `${field}.options`, architecture);
  const ablation = oneOf(
    m.ablation,
    `${field}.ablation`,
    architecture === "mobilenet_v1" ? ["none", "full-conv"] as const : [
      "none",
      "no-shuffle",
    ] as const,
  );
  const input = object(m.input, `${field}.input`);
  const shape = list(input.shape, `${field}.input.shape`, 4);
  const [channels, height, width] = shape.slice(1)
    .map((dim, i) => integer(dim, `${field}.input.shape[${i + 1}]`, 1));
  const batch = shape[0] === "batch" ? "batch" : integer(shape[0], `${field}.input.shape[0]`, 1);
  if (height !== options.resolution || width !== options.resolution) {
    throw new CardError(
      `${field}.input.shape`,
      shape,
      `must be square at options.resolution (${options.resolution})`,
    );
  }
  const preprocessing = parsePreprocessing(m.preprocessing, `${field}.preprocessing`);
  const { image, replicate, pad } = preprocessing;
  const made = [
    preprocessing.channels,
    image[0] * replicate + pad[0] + pad[2],
    image[1] * replicate + pad[1] + pad[3],
  ];
  if (made.join() !== [channels, height, width].join()) {
    throw new CardError(
      `${field}.preprocessing`,
      m.preprocessing,
      `makes [${made.join(", ")}], not the input's [${channels}, ${height}, ${width}]`,
    );
  }
  const classes = list(m.classes, `${field}.classes`, options.classes)
    .map((name, i) => text(name, `${field}.classes[${i}]`));
  const torch = object(m.torch, `${field}.torch`);
  const testAccuracy = finite(torch.testAccuracy, `${field}.torch.testAccuracy`);
  if (testAccuracy < 0 || testAccuracy > 1) {
    throw new CardError(`${field}.torch.testAccuracy`, testAccuracy, "must be from 0 to 1");
  }
  const cost = object(m.cost, `${field}.cost`);
  const sha256 = text(m.sha256, `${field}.sha256`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new CardError(`${field}.sha256`, sha256, "must be 64 lowercase hex digits");
  }
  return {
    name: text(m.name, `${field}.name`),
    file: text(m.file, `${field}.file`),
    sha256,
    predictions: text(m.predictions, `${field}.predictions`),
    architecture,
    options,
    ablation,
    inputShape: [batch, channels, height, width],
    preprocessing,
    classes,
    torch: { testAccuracy, testImages: integer(torch.testImages, `${field}.torch.testImages`, 1) },
    cost: {
      multiplyAdds: integer(cost.multiplyAdds, `${field}.cost.multiplyAdds`, 0),
      parameters: integer(cost.parameters, `${field}.cost.parameters`, 0),
    },
  };
}

/**
 * Validates a parsed card.json and returns its models. Throws
 * {@link CardError} naming the first field that is missing, of the wrong
 * type, out of range or inconsistent (a preprocessing that does not make the
 * input's shape, a name used twice).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CardError, parseCard } from "./fashion_mnist.ts";
 * assert.throws(
 *   () => parseCard({ models: [{ architecture: "resnet" }] }),
 *   (e: unknown) => e instanceof CardError && e.field === "models[0].architecture",
 * );
 * ```
 */
export function parseCard(value: unknown): CardModel[] {
  const models = object(value, "card").models;
  if (!Array.isArray(models) || models.length === 0) {
    throw new CardError("models", models, "must be a non-empty array");
  }
  const parsed = models.map((model, i) => parseModel(model, `models[${i}]`));
  parsed.forEach(({ name }, i) => {
    if (parsed.findIndex((other) => other.name === name) !== i) {
      throw new CardError(`models[${i}].name`, name, "is used by an earlier model");
    }
  });
  return parsed;
}

/**
 * One 8-bit grayscale image → the network's NCHW input, as the card says:
 * each pixel repeated `replicate` times along both axes, `pad` pixels of
 * `padValue` added, every value `v` turned into `(v − mean) / std` in float64
 * and rounded once to float32, and the plane copied to `channels` channels —
 * the same arithmetic as `preprocess` in tools/train/train.py, so the inputs
 * are bit for bit torch's. Throws `InvalidArgumentError` (field `image`) when
 * the image is not `image[0] × image[1]` bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preprocess } from "./fashion_mnist.ts";
 * const spec = { image: [1, 2], replicate: 1, pad: [0, 1, 0, 0], padValue: 0, mean: 1, std: 2, channels: 2 } as const;
 * // [v0 v1] → [pad v0 v1], (v − 1) / 2, copied to 2 channels
 * assert.deepEqual([...preprocess(new Uint8Array([3, 7]), spec)], [-0.5, 1, 3, -0.5, 1, 3]);
 * ```
 */
export function preprocess(image: Uint8Array, spec: Preprocessing): Float32Array {
  const [height, width] = spec.image;
  if (!(image instanceof Uint8Array) || image.length !== height * width) {
    throw new InvalidArgumentError("image", image, `must be ${height}×${width} bytes`);
  }
  const { replicate, padValue, mean, std, channels } = spec;
  const [top, left, bottom, right] = spec.pad;
  const rows = height * replicate + top + bottom;
  const columns = width * replicate + left + right;
  const out = new Float32Array(channels * rows * columns);
  for (let y = 0; y < rows; y++) {
    const source = y - top;
    for (let x = 0; x < columns; x++) {
      const column = x - left;
      const inside = source >= 0 && source < height * replicate && column >= 0 &&
        column < width * replicate;
      const v = inside
        ? image[Math.floor(source / replicate) * width + Math.floor(column / replicate)]
        : padValue;
      out[y * columns + x] = (v - mean) / std;
    }
  }
  for (let c = 1; c < channels; c++) out.copyWithin(c * rows * columns, 0, rows * columns);
  return out;
}

/**
 * `--invert`: whether an image's gray values are turned around (255 − v)
 * before the Fashion-MNIST networks see it. `auto` inverts an image whose
 * outermost ring of pixels averages above 127.5 (a light background), since
 * Fashion-MNIST's objects are light on black.
 */
export type Inversion = "auto" | "yes" | "no";

/** Every {@link Inversion}, in the order the demo's usage lists them. */
export const INVERSIONS: readonly Inversion[] = Object.freeze(["auto", "yes", "no"]);

/** `--invert auto` inverts an image whose border averages above this: a light background. */
const LIGHT_BORDER = 127.5;

/** An image as the Fashion-MNIST networks take it, before the card's padding and normalization. */
export interface FashionImage {
  /** `side · side` 8-bit gray values, row-major, after any inversion. */
  readonly pixels: Uint8Array;
  /** The mean of the outermost ring of gray pixels, before any inversion. */
  readonly borderMean: number;
  /** Whether the gray values were inverted (255 − v). */
  readonly inverted: boolean;
}

/**
 * A decoded image → the `side`×`side` 8-bit gray image a Fashion-MNIST
 * network's card preprocesses, exactly:
 *
 * 1. resized to `side`×`side` by `imageToInput` of `@mobileops/image`, each
 *    of R, G, B on its own: bilinear, half-pixel centres, no antialiasing
 *    (torch's `interpolate(…, align_corners=False)`), the aspect ratio not
 *    kept, computed in float64 and stored as float32;
 * 2. gray by ITU-R BT.601 luma, `(299 R + 587 G + 114 B) / 1000` (PIL's
 *    `convert("L")` weights), in float64, rounded to the nearest integer,
 *    halves up. A gray image (R = G = B) keeps its values exactly, so a
 *    28×28 gray PNG — a committed sample — comes out as its bytes;
 * 3. inverted (255 − v) with `invert` `yes`, or with `auto` (the default)
 *    when the outermost ring of pixels averages above 127.5: Fashion-MNIST's
 *    objects are light on a black background (no test image's ring averages
 *    above 95), a product photo's background is usually light.
 *
 * A resize that shrinks more than 2× per side reads only 2×2 pixels per
 * output pixel, so fine detail aliases: an image cropped close to its
 * object classifies best. Throws `InvalidArgumentError` for an `image` that
 * is not an `RgbImage`, a `side` that is not a positive integer (as
 * `imageToInput` does), or another `invert` (field `invert`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toFashionImage } from "./fashion_mnist.ts";
 * // 3×3 white with a black centre: a light border, so `auto` inverts it.
 * const data = new Uint8Array(27).fill(255).fill(0, 12, 15);
 * const shown = toFashionImage({ width: 3, height: 3, data }, 3);
 * assert(shown.inverted && shown.borderMean === 255);
 * assert.deepEqual([...shown.pixels], [0, 0, 0, 0, 255, 0, 0, 0, 0]);
 * const red = toFashionImage({ width: 1, height: 1, data: new Uint8Array([255, 0, 0]) }, 1, "no");
 * assert.deepEqual([...red.pixels], [76]); // 299 · 255 / 1000 = 76.245
 * ```
 */
export function toFashionImage(
  image: RgbImage,
  side: number,
  invert: Inversion = "auto",
): FashionImage {
  if (!INVERSIONS.includes(invert)) {
    throw new InvalidArgumentError("invert", invert, `must be one of ${INVERSIONS.join(", ")}`);
  }
  const rgb = imageToInput(image, side, { mean: 0, std: 1 });
  const pixels = new Uint8Array(side * side);
  let border = 0;
  for (let p = 0; p < pixels.length; p++) {
    pixels[p] = Math.round((299 * rgb[3 * p] + 587 * rgb[3 * p + 1] + 114 * rgb[3 * p + 2]) / 1000);
    const [y, x] = [Math.floor(p / side), p % side];
    if (y === 0 || x === 0 || y === side - 1 || x === side - 1) border += pixels[p];
  }
  const borderMean = border / (side === 1 ? 1 : 4 * side - 4);
  const inverted = invert === "yes" || (invert === "auto" && borderMean > LIGHT_BORDER);
  if (inverted) pixels.forEach((v, p) => pixels[p] = 255 - v);
  return { pixels, borderMean, inverted };
}

/**
 * What {@link preprocess} does with `spec`, in words, starting from the
 * 8-bit gray image: the demo's report and the page show it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preprocessingText } from "./fashion_mnist.ts";
 * const spec = { image: [28, 28], replicate: 1, pad: [2, 2, 2, 2], padValue: 0, mean: 72.9, std: 90, channels: 3 } as const;
 * assert.equal(
 *   preprocessingText(spec),
 *   "28×28 gray, padded with 0 (top, left, bottom, right: 2, 2, 2, 2) to 32×32, (v − 72.9) / 90, 3 channels",
 * );
 * ```
 */
export function preprocessingText(spec: Preprocessing): string {
  const [top, left, bottom, right] = spec.pad;
  const rows = spec.image[0] * spec.replicate + top + bottom;
  const columns = spec.image[1] * spec.replicate + left + right;
  return `${spec.image.join("×")} gray${
    spec.replicate > 1 ? `, each pixel repeated ${spec.replicate}×${spec.replicate}` : ""
  }, padded with ${spec.padValue} (top, left, bottom, right: ${spec.pad.join(", ")}) to ` +
    `${rows}×${columns}, (v − ${spec.mean}) / ${spec.std}, ${spec.channels} channels`;
}

/** One class of a {@link top5}. */
export interface RankedClass {
  /** The class index: the logit's position. */
  readonly index: number;
  /** Its softmax probability, computed in float64 over every logit. */
  readonly probability: number;
  /** Its name, when the network has class names. */
  readonly label?: string;
}

/**
 * The five classes of largest logit (fewer when there are fewer logits),
 * largest first, ties in index order, each with its softmax probability
 * and, given `labels`, its name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { top5 } from "./fashion_mnist.ts";
 * const [first, second] = top5(new Float32Array([0, 2, 1]), ["a", "b", "c"]);
 * assert.deepEqual([first.label, second.index], ["b", 2]);
 * assert.equal(top5(new Float32Array([1, 1])).map((c) => c.probability).join(), "0.5,0.5");
 * ```
 */
export function top5(logits: Float32Array, labels?: readonly string[]): RankedClass[] {
  const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
  const exps = Array.from(logits, (logit) => Math.exp(logit - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return [...logits.keys()].sort((a, b) => logits[b] - logits[a]).slice(0, 5).map((index) => ({
    index,
    probability: exps[index] / total,
    ...(labels === undefined ? {} : { label: labels[index] }),
  }));
}
