/**
 * The main job. With no flags: the MobileNet v1 (α = 0.25) and ShuffleNet v1
 * (0.5×, g = 3) trained in this repository on Fashion-MNIST are loaded from
 * their card, classify the committed sample images (or `--image FILE`),
 * are scored on the test set, and run on every backend this machine has:
 * cost, agreement between backends, speed. `--model` runs the built-in
 * ImageNet-size networks instead (seeded random weights unless `--weights`),
 * costed against the papers' figures; `--onnx FILE` runs an ONNX file, on an
 * image preprocessed the ImageNet way.
 *
 * ```sh
 * deno task demo                                   # the Fashion-MNIST networks on the committed samples
 * deno task demo --image shoe.jpg                  # … on your image: gray, 28×28, light on dark
 * deno task demo --model all                       # MobileNet 1.0-224 and ShuffleNet 1× g=3, random weights
 * deno task demo --model shufflenet --groups 8 --scale 0.5 --resolution 160 --runs 20
 * deno task demo --model mobilenet --weights mobilenet.safetensors --image cat.jpg
 * deno task demo --onnx mobilenet_v1.onnx --image cat.jpg    # resize 256, crop 224, ImageNet mean / std
 * deno task demo --onnx model.onnx --input input_0.pb --expected output_0.pb
 * deno task demo --json > report.json
 * ```
 *
 * @module
 */

import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import onnxProto from "npm:onnx-proto@8.0.1";
import {
  type Backend,
  BackendUnavailableError,
  InvalidArgumentError,
  validateOptions,
} from "@mobileops/core";
import type { CompiledModel, ModelGraph, ModelProfile } from "@mobileops/graph";
import {
  type ChannelValues,
  decodeImage,
  IMAGENET,
  imageToInput,
  MAX_IMAGE_PIXELS,
  preprocessImage,
  type RgbImage,
} from "@mobileops/image";
import {
  factorizationCosts,
  formatCount,
  loadSafetensors,
  mobilenetV1,
  type Model,
  PAPER_FIGURES,
  SHUFFLENET_GROUPS,
  SHUFFLENET_SCALES,
  type ShuffleNetGroups,
  type ShuffleNetScale,
  shufflenetV1,
  summary,
} from "@mobileops/models";
import {
  decodeOnnxTensor,
  loadOnnx,
  type NamedOnnxTensor,
  OnnxError,
  type OnnxModel,
  OPSET_RANGE,
} from "@mobileops/onnx";
import {
  BACKEND_NAMES,
  type BackendName,
  createBackend,
  NoBackendError,
} from "@mobileops/registry";
import {
  CardError,
  type CardModel,
  classify,
  DatasetError,
  DEFAULT_CARD,
  FASHION_MNIST_DIR,
  type LoadedModel,
  loadModel,
  percent,
  preprocess,
  readCard,
  readTestSet,
  type TestSet,
} from "./tools/evaluate.ts";
import {
  type FashionImage,
  type Inversion,
  INVERSIONS,
  preprocessingText,
  toFashionImage,
  top5,
} from "./tools/fashion_mnist.ts";
import { readSamples, type Sample, SAMPLES_DIR, SamplesError } from "./tools/train/samples.ts";

// Still exported from here, where demo_test.ts imports them.
export { type FashionImage, type Inversion, toFashionImage } from "./tools/fashion_mnist.ts";

function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/**
 * Only `BackendUnavailableError` means "not on this machine"; anything else
 * (its package failing to load) is reported as such, so that a broken
 * backend is not mistaken for a missing one.
 */
function unavailableReason(error: unknown): string {
  if (error instanceof NoBackendError) return error.failures.map((f) => f.reason).join("; ");
  if (error instanceof BackendUnavailableError) return error.message;
  return `failed to load: ${(error as Error).message}`;
}

/**
 * The demo's options: its flags, parsed and checked. Which networks run
 * follows from them: `onnx` set, the ONNX file; else `model` set, the
 * built-in ImageNet-size networks (`alpha`, `resolution`, `groups`,
 * `scale`, `weights` shape them and need `model`); else the trained
 * Fashion-MNIST networks of `card` (`networks`, `data`, `invert` apply to
 * those only).
 */
export interface DemoOptions {
  /** The built-in networks: `all` is MobileNet and ShuffleNet. Absent: not these networks. */
  readonly model?: "all" | "mobilenet" | "shufflenet";
  /** MobileNet width multiplier, in (0, 2]; default 1. */
  readonly alpha?: number;
  /** Input height = width, a multiple of 32 from 32 to 1024; default 224. */
  readonly resolution?: number;
  /** ShuffleNet groups: 1, 2, 3, 4 or 8; default 3. */
  readonly groups?: number;
  /** ShuffleNet scale: 0.25, 0.5, 1, 1.5 or 2; default 1. */
  readonly scale?: number;
  /** Backend names to use; empty means all. */
  readonly backends: readonly string[];
  /** Timed runs per model and backend, after one first run and one warm-up run: 1 to 10,000. */
  readonly runs: number;
  /** With `model`: a safetensors file of weights for the one network `model` names. */
  readonly weights?: string;
  /** A PNG or JPEG input; each mode preprocesses it its own way (see `USAGE`). */
  readonly image?: string;
  /** The trained networks' card; default {@link DEFAULT_CARD}. */
  readonly card?: string;
  /**
   * Networks of the card, by name; empty for the card's first MobileNet and
   * first ShuffleNet without ablation (α = 0.25 and 0.5× g = 3 in the
   * committed card).
   */
  readonly networks: readonly string[];
  /** The Fashion-MNIST test set's directory; default `FASHION_MNIST_DIR`. */
  readonly data?: string;
  /** With `image` and the trained networks: see {@link Inversion}; default `auto`. */
  readonly invert?: Inversion;
  /** An ONNX file to run instead of the built-in networks. */
  readonly onnx?: string;
  /** With `onnx`: a serialized `TensorProto` (`.pb`) fed as the ONNX input, in its layout (NCHW). */
  readonly input?: string;
  /** With `onnx`: a `TensorProto` of the expected output; each backend's max |Δ| to it is reported. */
  readonly expected?: string;
  /** With `onnx`: the image's short side after resizing, 1 to 4096; default ⌊crop · 8 / 7⌋. */
  readonly resize?: number;
  /** With `onnx`: the centre crop's side, 1 to 1024; default the file's input height and width. */
  readonly crop?: number;
  /** With `onnx`: the mean of the 0–255 samples, one or per channel; default `IMAGENET`'s. */
  readonly mean?: ChannelValues;
  /** With `onnx`: the std, one or per channel, none 0; default `IMAGENET`'s. */
  readonly std?: ChannelValues;
  /** Print the report as JSON instead of text. */
  readonly json: boolean;
  /**
   * Backends whose per-layer profile (time, variant, GFLOP/s of one run) is
   * reported; absent: `["webgpu"]`, timed by its GPU timestamps.
   */
  readonly profile?: readonly string[];
}

/**
 * The demo's own limits, tighter than the models package's (`MAX_ALPHA` 4,
 * `MAX_RESOLUTION` 4096): at them a network's planned activations stay under
 * 0.6 GiB (ShuffleNet 2× g = 8 at 1024: 0.57 GiB; MobileNet 2.0-1024:
 * 0.54 GiB) and its parameters under 60 MiB, so no combination of flags
 * needs much more than 1 GiB; more runs than 10,000 is a soak, not a demo.
 * An ONNX file's dynamic input takes `--crop` (at most `resolution`) as its
 * size; `--resize` only places the samples, so 4× that is plenty.
 */
const LIMITS = { alpha: 2, resolution: 1024, runs: 10_000, resize: 4096 } as const;

/** The ImageNet evaluation convention: resize the short side to crop / 0.875 (256 for 224). */
function defaultResize(crop: number): number {
  return Math.floor(crop * 8 / 7);
}

const OPSETS = OPSET_RANGE.join("–");

const USAGE = `usage: deno task demo [options]
With no flags: MobileNet v1 (α = 0.25) and ShuffleNet v1 (0.5×, g = 3), trained here on
Fashion-MNIST, classify the committed samples; then test-set accuracy, cost and speed per backend.
  --image FILE     classify this PNG or JPEG (at most ${
  MAX_IMAGE_PIXELS / 1e6
} megapixels) instead: resized
                   to 28×28 (bilinear), gray (299 R + 587 G + 114 B) / 1000 rounded
  --invert auto|yes|no  turn the gray values around, 255 − v: Fashion-MNIST's objects are light
                   on black (default auto: when the image's border averages above 127.5)
  --card FILE      the networks' card (default models/pretrained/fashion-mnist/card.json)
  --network NAME   a network of the card, repeatable (default: its first MobileNet and first
                   ShuffleNet without ablation)
  --data DIR       the Fashion-MNIST test set (default ${FASHION_MNIST_DIR});
                   without it, accuracy is on the committed samples
The built-in ImageNet-size networks, 1000 classes, for speed runs (any of these flags selects them):
  --model all|mobilenet|shufflenet   which network(s) (all: MobileNet 1.0-224 + ShuffleNet 1× g=3)
  --alpha A        MobileNet width multiplier, above 0 and at most ${LIMITS.alpha} (default 1)
  --resolution R   input size, a multiple of 32 from 32 to ${LIMITS.resolution} (default 224)
  --groups G       ShuffleNet groups ${SHUFFLENET_GROUPS.join("|")} (default 3)
  --scale S        ShuffleNet scale ${SHUFFLENET_SCALES.join("|")} (default 1)
  --weights FILE   safetensors weights (needs --model mobilenet or shufflenet; default: seeded
                   random weights). --image is resized to the resolution and scaled to [-1, 1]
                   (default: a seeded random image)
Every mode:
  --backend NAMES  comma-separated, from ${BACKEND_NAMES.join(",")} (default: every one available)
  --runs N         timed runs after warm-up, 1 to ${LIMITS.runs} (default 10)
  --profile NAMES  per-layer profile (time, kernel variant, GFLOP/s) of one run on these
                   backends, comma-separated, or all / none (default webgpu: GPU timestamps)
  --json           print the report as JSON
  --help, -h       print this text
An ONNX file:
  --onnx FILE      run an ONNX file (opsets ${OPSETS}, docs/onnx.md) instead; its image (--image,
                   default a synthetic gradient) is resized, centre-cropped and normalized as
                   torchvision's ImageNet evaluation does. These flags need --onnx:
  --input FILE     a TensorProto (.pb) fed as the ONNX input, in its layout (NCHW), instead of an image
  --expected FILE  a TensorProto (.pb) of the expected output: prints each backend's max |Δ| to it
  --resize S       the image's short side after resizing, 1 to ${LIMITS.resize}
                   (default ⌊crop · 8/7⌋: 256 for 224)
  --crop C         centre crop C×C, 1 to ${LIMITS.resolution}: the file's input size (the default) or,
                   when its height and width are dynamic, the size to run it at
  --mean M         mean of the 0–255 samples, one number or r,g,b
                   (default ImageNet's: ${IMAGENET.mean})
  --std S          std, one number or r,g,b (default ImageNet's: ${IMAGENET.std})
Numbers are plain decimals (0.75, 224): no hex, exponent, sign +, spaces, NaN or Infinity.`;

/**
 * A command-line mistake, naming the flag and its value; `main` prints it
 * with the usage and exits with status 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDemoArgs, UsageError } from "./demo.ts";
 * assert.throws(
 *   () => parseDemoArgs(["--alpha", "0x10"]),
 *   (e: unknown) => e instanceof UsageError && e.message.startsWith('--alpha = "0x10": '),
 * );
 * ```
 */
export class UsageError extends InvalidArgumentError {
  /** Always `"UsageError"`, so `String(error)` and stack traces show the class. */
  override name = "UsageError";
}

/** Digits with at most one decimal point, optionally negative (so a range error can say why). */
const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

function numberFlag(flag: string, value: string): number {
  if (!PLAIN_DECIMAL.test(value)) {
    throw new UsageError(flag, value, "must be a plain decimal number such as 0.75 or 224");
  }
  return Number(value);
}

/** `--profile`: `all`, `none`, or backend names separated by commas. */
function profileFlag(value: string): string[] {
  if (value === "all") return [...BACKEND_NAMES];
  if (value === "none") return [];
  return value.split(",").map((name) => name.trim()).filter((name) => name);
}

const OPTION_KEYS = [
  "model",
  "alpha",
  "resolution",
  "groups",
  "scale",
  "backends",
  "runs",
  "weights",
  "image",
  "onnx",
  "input",
  "expected",
  "resize",
  "crop",
  "mean",
  "std",
  "card",
  "networks",
  "data",
  "invert",
  "json",
  "profile",
];

/** The flags that shape an image for `--onnx`, by option. */
const IMAGE_FLAGS = { resize: "--resize", crop: "--crop", mean: "--mean", std: "--std" } as const;

/** `--mean` / `--std`: one plain decimal, or three separated by commas. */
function channelFlag(flag: string, value: string): ChannelValues {
  const parts = value.split(",");
  if ((parts.length !== 1 && parts.length !== 3) || !parts.every((p) => PLAIN_DECIMAL.test(p))) {
    throw new UsageError(flag, value, "must be one plain decimal or three: r,g,b");
  }
  return parts.length === 1 ? Number(value) : parts.map(Number) as [number, number, number];
}

function checkChannelValues(flag: string, value: unknown): void {
  const values = Array.isArray(value) && value.length === 3 ? value : [value];
  if (!values.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new UsageError(flag, value, "must be one finite number or three: r,g,b");
  }
  if (flag === "--std" && values.includes(0)) throw new UsageError(flag, value, "must not be 0");
}

/**
 * The built-in networks' options need `model`, which `--onnx` excludes; the
 * trained networks' need neither.
 */
function checkMode(options: DemoOptions): void {
  const { model, onnx } = options;
  if (model !== undefined && model !== "all" && model !== "mobilenet" && model !== "shufflenet") {
    throw new UsageError("--model", model, "must be all, mobilenet or shufflenet");
  }
  if (onnx !== undefined && model !== undefined) {
    throw new UsageError("--model", model, "does not apply to --onnx: the file fixes the network");
  }
  if (model === undefined) {
    const shaping = (["alpha", "resolution", "groups", "scale", "weights"] as const)
      .find((key) => options[key] !== undefined);
    if (shaping !== undefined) {
      throw new UsageError(
        `--${shaping}`,
        options[shaping],
        onnx === undefined
          ? "needs --model: it shapes the built-in networks"
          : `does not apply to --onnx: the file ${
            shaping === "weights" ? "holds the weights" : "fixes the network"
          }`,
      );
    }
  }
  const { card, networks, data, invert, image } = options;
  if (!Array.isArray(networks) || networks.some((name) => typeof name !== "string" || !name)) {
    throw new UsageError("--network", networks, "must be a list of network names");
  }
  const trained = [
    ["--card", card],
    ["--network", networks.length > 0 ? networks : undefined],
    ["--data", data],
    ["--invert", invert],
  ] as const;
  for (const [flag, value] of trained) {
    if (value !== undefined && (model !== undefined || onnx !== undefined)) {
      throw new UsageError(
        flag,
        value,
        `applies to the trained Fashion-MNIST networks, not with ${
          onnx === undefined ? "--model" : "--onnx"
        }`,
      );
    }
  }
  for (const [flag, path] of [["--card", card], ["--data", data]] as const) {
    if (path !== undefined && (typeof path !== "string" || path === "")) {
      throw new UsageError(flag, path, "must be a path");
    }
  }
  const twice = networks.find((name, i) => networks.indexOf(name) !== i);
  if (twice !== undefined) throw new UsageError("--network", twice, "is named twice");
  if (invert !== undefined) {
    if (!INVERSIONS.includes(invert)) {
      throw new UsageError("--invert", invert, `must be one of ${INVERSIONS.join(", ")}`);
    }
    if (image === undefined) throw new UsageError("--invert", invert, "needs --image");
  }
}

/** Checks every option's type and range; `parseDemoArgs` and `runDemo` both run it. */
function checkDemoOptions(options: DemoOptions): DemoOptions {
  validateOptions("options", options, OPTION_KEYS, UsageError);
  if (options === undefined) throw new UsageError("options", options, "are required");
  checkMode(options);
  const { model, alpha, resolution, groups, scale, backends, runs, weights, image, json } = options;
  const { onnx, input, expected, resize, crop } = options;
  if (alpha !== undefined && (typeof alpha !== "number" || !(alpha > 0 && alpha <= LIMITS.alpha))) {
    throw new UsageError("--alpha", alpha, `must be above 0 and at most ${LIMITS.alpha}`);
  }
  if (
    resolution !== undefined &&
    (!Number.isInteger(resolution) || resolution % 32 !== 0 || resolution < 32 ||
      resolution > LIMITS.resolution)
  ) {
    throw new UsageError(
      "--resolution",
      resolution,
      `must be a multiple of 32 from 32 to ${LIMITS.resolution}`,
    );
  }
  if (groups !== undefined && !SHUFFLENET_GROUPS.includes(groups as ShuffleNetGroups)) {
    throw new UsageError("--groups", groups, `must be one of ${SHUFFLENET_GROUPS.join(", ")}`);
  }
  if (scale !== undefined && !SHUFFLENET_SCALES.includes(scale as ShuffleNetScale)) {
    throw new UsageError("--scale", scale, `must be one of ${SHUFFLENET_SCALES.join(", ")}`);
  }
  if (!Array.isArray(backends) || backends.some((name) => typeof name !== "string")) {
    throw new UsageError("--backend", backends, "must be a list of backend names");
  }
  if (!Number.isInteger(runs) || runs < 1 || runs > LIMITS.runs) {
    throw new UsageError("--runs", runs, `must be an integer from 1 to ${LIMITS.runs}`);
  }
  const files = [
    ["--weights", weights],
    ["--image", image],
    ["--onnx", onnx],
    ["--input", input],
    ["--expected", expected],
  ] as const;
  for (const [flag, path] of files) {
    if (path !== undefined && (typeof path !== "string" || path === "")) {
      throw new UsageError(flag, path, "must be a file path");
    }
  }
  const shaping = (Object.keys(IMAGE_FLAGS) as (keyof typeof IMAGE_FLAGS)[])
    .find((key) => options[key] !== undefined);
  if (onnx === undefined) {
    for (const [flag, value] of [["--input", input], ["--expected", expected]] as const) {
      if (value !== undefined) throw new UsageError(flag, value, "needs --onnx");
    }
    if (shaping !== undefined) {
      throw new UsageError(IMAGE_FLAGS[shaping], options[shaping], "needs --onnx");
    }
  }
  if (weights !== undefined && model === "all") {
    throw new UsageError("--weights", weights, "needs --model mobilenet or --model shufflenet");
  }
  if (input !== undefined) {
    if (image !== undefined) {
      throw new UsageError("--input", input, "and --image are two inputs: give one");
    }
    if (shaping !== undefined) {
      throw new UsageError(
        IMAGE_FLAGS[shaping],
        options[shaping],
        "shapes an image, and --input is fed as it is",
      );
    }
  }
  const sides = [["--resize", resize, LIMITS.resize], ["--crop", crop, LIMITS.resolution]] as const;
  for (const [flag, value, most] of sides) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > most)) {
      throw new UsageError(flag, value, `must be an integer from 1 to ${most}`);
    }
  }
  if (options.mean !== undefined) checkChannelValues("--mean", options.mean);
  if (options.std !== undefined) checkChannelValues("--std", options.std);
  if (typeof json !== "boolean") throw new UsageError("--json", json, "must be a boolean");
  const { profile } = options;
  if (
    profile !== undefined &&
    (!Array.isArray(profile) || profile.some((name) => !isBackendName(name)))
  ) {
    throw new UsageError(
      "--profile",
      profile,
      `must list backends from ${BACKEND_NAMES.join(", ")} (or be all / none)`,
    );
  }
  return options;
}

/**
 * Parses the command line and checks every flag: numbers must be plain
 * decimals within the demo's ranges (`--alpha` in (0, 2], `--resolution` a
 * multiple of 32 up to 1024, `--groups` and `--scale` from ShuffleNet's
 * tables, `--runs` 1 to 10,000, `--resize` 1 to 4096, `--crop` 1 to 1024,
 * `--mean` and `--std` one decimal or three, `r,g,b`). The flags choose the
 * networks: `--onnx` an ONNX file; else any of the built-in networks' flags
 * (`--model`, `--alpha`, `--resolution`, `--groups`, `--scale`,
 * `--weights`) those networks, `--model` defaulting to `all`; else the
 * trained Fashion-MNIST networks, whose flags (`--card`, `--network`,
 * `--data`, `--invert`, which needs `--image`) the other two exclude.
 * `--onnx` excludes the built-in networks' flags; `--input`, `--expected`,
 * `--resize`, `--crop`, `--mean` and `--std` need it; `--input` excludes
 * `--image` and the flags that shape an image. Throws {@link UsageError}
 * naming the flag and its value, or (field `arguments`) for an unknown flag
 * or `args` that is not an array of strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDemoArgs, UsageError } from "./demo.ts";
 * const trained = parseDemoArgs(["--image", "shoe.png", "--invert", "yes"]);
 * assert(trained.model === undefined && trained.onnx === undefined && trained.invert === "yes");
 * const options = parseDemoArgs(["--model", "shufflenet", "--groups", "8", "--runs", "3"]);
 * assert(options.model === "shufflenet" && options.groups === 8 && options.runs === 3);
 * assert.equal(parseDemoArgs(["--alpha", "0.5"]).model, "all");
 * assert.throws(() => parseDemoArgs(["--model", "all", "--network", "mobilenet_v1_0.25_32"]), UsageError);
 * const onnx = parseDemoArgs(["--onnx", "m.onnx", "--resize", "256", "--mean", "0.5,127.5,255"]);
 * assert.deepEqual([onnx.onnx, onnx.resize, onnx.mean], ["m.onnx", 256, [0.5, 127.5, 255]]);
 * assert.throws(() => parseDemoArgs(["--onnx", "m.onnx", "--alpha", "0.5"]), UsageError);
 * ```
 */
export function parseDemoArgs(args: readonly string[]): DemoOptions {
  if (!Array.isArray(args) || args.some((arg) => typeof arg !== "string")) {
    throw new UsageError("arguments", args, "must be an array of strings");
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        // No defaults for the built-in networks' flags: --onnx must see whether they were given.
        model: { type: "string" },
        alpha: { type: "string" },
        resolution: { type: "string" },
        groups: { type: "string" },
        scale: { type: "string" },
        backend: { type: "string", default: "" },
        runs: { type: "string", default: "10" },
        weights: { type: "string" },
        image: { type: "string" },
        onnx: { type: "string" },
        input: { type: "string" },
        expected: { type: "string" },
        resize: { type: "string" },
        crop: { type: "string" },
        mean: { type: "string" },
        std: { type: "string" },
        card: { type: "string" },
        network: { type: "string", multiple: true, default: [] },
        data: { type: "string" },
        invert: { type: "string" },
        json: { type: "boolean", default: false },
        profile: { type: "string" },
      },
    }));
  } catch (error) {
    throw new UsageError("arguments", args, (error as Error).message);
  }
  if (values.onnx !== undefined) {
    for (const flag of ["model", "alpha", "resolution", "groups", "scale"] as const) {
      if (values[flag] !== undefined) {
        throw new UsageError(
          `--${flag}`,
          values[flag],
          "does not apply to --onnx: the file fixes the network",
        );
      }
    }
  }
  const optional = <T>(value: string | undefined, parse: (value: string) => T) =>
    value === undefined ? undefined : parse(value);
  const builtIn = values.onnx === undefined &&
    [values.model, values.alpha, values.resolution, values.groups, values.scale, values.weights]
      .some((value) => value !== undefined);
  return checkDemoOptions({
    model: (values.model ?? (builtIn ? "all" : undefined)) as DemoOptions["model"],
    alpha: optional(values.alpha, (value) => numberFlag("--alpha", value)),
    resolution: optional(values.resolution, (value) => numberFlag("--resolution", value)),
    groups: optional(values.groups, (value) => numberFlag("--groups", value)),
    scale: optional(values.scale, (value) => numberFlag("--scale", value)),
    backends: values.backend.split(",").map((name) => name.trim()).filter((name) => name),
    runs: numberFlag("--runs", values.runs),
    weights: values.weights,
    image: values.image,
    onnx: values.onnx,
    input: values.input,
    expected: values.expected,
    resize: optional(values.resize, (value) => numberFlag("--resize", value)),
    crop: optional(values.crop, (value) => numberFlag("--crop", value)),
    mean: optional(values.mean, (value) => channelFlag("--mean", value)),
    std: optional(values.std, (value) => channelFlag("--std", value)),
    card: values.card,
    networks: values.network,
    data: values.data,
    invert: values.invert as Inversion | undefined,
    json: values.json,
    profile: optional(values.profile, profileFlag),
  });
}

/** Per-backend timing and output of one model. */
export interface BackendRun {
  /** The backend's registered name. */
  readonly backend: string;
  /** Compile (prepare every kernel, allocate buffers). */
  readonly compileMs: number;
  /** The first run, downloaded. */
  readonly firstRunMs: number;
  /** The median of the timed runs (each upload excluded, download included). */
  readonly medianMs: number;
  /** Their 90th percentile. */
  readonly p90Ms: number;
  /** How many runs were timed: `--runs`. */
  readonly runs: number;
  /** Top-5 classes by logit: index, softmax probability, and label when the weights have them. */
  readonly top5: readonly { index: number; probability: number; label?: string }[];
  /** Max |logit − first backend's logit|; 0 for the first backend. */
  readonly maxAbsDiffToFirst: number;
  /** Max |logit − the `--expected` output's|; only with `--expected`. */
  readonly maxAbsDiffToExpected?: number;
  /** Whether the top-5 classes are the first backend's, in the same order. */
  readonly sameTop5AsFirst: boolean;
  /** One more run, layer by layer, when `--profile` names this backend. */
  readonly profile?: ModelProfile;
  /** A GPU backend's adapter, as `capabilities.adapter` names it. */
  readonly adapter?: string;
  /** Whether that adapter runs on the CPU (`capabilities.softwareAdapter`). */
  readonly softwareAdapter?: boolean;
}

/** What the demo found for one model. */
export interface ModelReport {
  /** The network's name, or the `--onnx` file. */
  readonly name: string;
  /** Where the weights came from, in words. */
  readonly weights: string;
  /** What the timed input is and how it was preprocessed, in words. */
  readonly input: string;
  /** Multiply-adds of one inference, as `summary` counts them. */
  readonly multiplyAdds: number;
  /** Parameters, BatchNorm folded. */
  readonly parameters: number;
  /** Bytes of the activation buffers `planBuffers` allocates. */
  readonly plannedActivationBytes: number;
  /** The paper's figures for this configuration, when it reports any. */
  readonly paper?: {
    source: string;
    multiplyAddsM: number;
    parametersM?: number;
    countsClassifier: boolean;
  };
  /** One per backend that started, in `BACKEND_NAMES` order. */
  readonly backends: readonly BackendRun[];
}

/** The whole report. */
export interface DemoReport {
  /**
   * One layer as a standard vs a depthwise-separable convolution, and 1×1
   * without vs with groups; only with `--model`: an ONNX file or a trained
   * network is no such example.
   */
  readonly factorizationCosts: readonly {
    label: string;
    multiplyAdds: number;
    parameters: number;
  }[];
  /** One per network, in the order they ran. */
  readonly models: readonly ModelReport[];
  /** Backends that could not be used here, with the reason. */
  readonly skipped: readonly { backend: string; reason: string }[];
  /** What the trained Fashion-MNIST networks answered; absent with `--model` or `--onnx`. */
  readonly trained?: TrainedReport;
}

/** One trained network's answer for one image. */
export interface TrainedPrediction {
  /** The network's name in the card. */
  readonly model: string;
  /** The class with the largest logit (the first of equal ones, as torch's `argmax`). */
  readonly index: number;
  /** Its name, from the card. */
  readonly label: string;
  /** Its softmax probability, 0 to 1. */
  readonly probability: number;
  /** Torch's class for a committed sample, from the card's predictions file. */
  readonly torch?: number;
}

/** An image the trained networks classified: a committed sample, or `--image`. */
export interface ClassifiedImage {
  /** A sample's file name in the samples directory, or `--image` as given. */
  readonly file: string;
  /** The decoded image's width, in pixels. */
  readonly width: number;
  /** The decoded image's height, in pixels. */
  readonly height: number;
  /** The mean of its 28×28 gray border, before any inversion. */
  readonly borderMean: number;
  /** Whether its gray values were inverted (255 − v). */
  readonly inverted: boolean;
  /** A sample's index in the test set. */
  readonly testIndex?: number;
  /** A sample's true class. */
  readonly trueIndex?: number;
  /** Its name. */
  readonly trueLabel?: string;
  /** One per network, in the report's order. */
  readonly predictions: readonly TrainedPrediction[];
}

/** One trained network's score. */
export interface TrainedAccuracy {
  /** The network's name in the card. */
  readonly model: string;
  /** Fraction of the images whose class is the true one. */
  readonly accuracy: number;
  /** The same for torch's classes (the card's predictions file), on the same images. */
  readonly torchAccuracy: number;
  /** Fraction of the images on which our class is torch's. */
  readonly agreement: number;
}

/** The trained networks' part of the report. */
export interface TrainedReport {
  /** The card the networks came from. */
  readonly card: string;
  /** The backend that classified the images and scored the networks: the first that started. */
  readonly backend: string;
  /** The samples directory, or `"--image"`. */
  readonly imagesFrom: string;
  /** The gray images' side, the card's: 28 for Fashion-MNIST. */
  readonly side: number;
  /** The images shown: each committed sample, or the one `--image`. */
  readonly images: readonly ClassifiedImage[];
  /** The networks' accuracy, on the test set or on the samples. */
  readonly accuracy: {
    /** `"test set"`, or `"samples"` when the test set could not be read. */
    readonly on: "test set" | "samples";
    /** The test set's image file, or the samples directory. */
    readonly source: string;
    readonly images: number;
    /** Why not the test set: the error reading it. */
    readonly testSetMissing?: string;
    readonly models: readonly TrainedAccuracy[];
  };
}

function buildModels(options: DemoOptions): Model[] {
  const { alpha = 1, resolution = 224, groups = 3, scale = 1 } = options;
  const models: Model[] = [];
  if (options.model !== "shufflenet") models.push(mobilenetV1({ alpha, resolution }));
  if (options.model !== "mobilenet") {
    models.push(shufflenetV1({
      groups: groups as ShuffleNetGroups,
      scale: scale as ShuffleNetScale,
      resolution,
    }));
  }
  return models;
}

/** One network to time on every backend, with its input: a built-in model or an ONNX file. */
interface DemoNetwork {
  readonly name: string;
  /** Where the weights came from, as the report says it. */
  readonly weights: string;
  readonly graph: ModelGraph;
  /** The graph's input data, in its layout (NHWC for an image). */
  readonly input: Float32Array;
  readonly inputLabel: string;
  readonly labels?: readonly string[];
  readonly paper?: ModelReport["paper"];
  compile(backend: Backend): Promise<CompiledModel>;
  /** The graph's output as reported: ONNX's layout for an imported file. */
  logits(output: Float32Array): Float32Array;
  /** What `logits` should be, from `--expected`. */
  readonly expected?: Float32Array;
}

/** The built-in networks, with `--weights` and an `--image` scaled to [-1, 1] or a seeded input. */
async function builtInNetworks(options: DemoOptions): Promise<DemoNetwork[]> {
  let models = buildModels(options);
  if (options.weights !== undefined) {
    const bytes = await Deno.readFile(options.weights);
    models = models.map((model) => loadSafetensors(model, bytes, options.weights));
  }
  const resolution = models[0].inputShape[1];
  let input: Float32Array;
  let inputLabel: string;
  if (options.image !== undefined) {
    input = imageToInput(decodeImage(await Deno.readFile(options.image)), resolution);
    inputLabel = `${options.image}, resized to ${resolution}×${resolution}, scaled to [-1, 1]`;
  } else {
    let state = 12345;
    input = Float32Array.from({ length: resolution * resolution * 3 }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 31 - 1;
    });
    inputLabel = "seeded random image in [-1, 1]";
  }
  return models.map((model) => {
    const paper = PAPER_FIGURES.find((figure) => figure.build().name === model.name);
    return {
      name: model.name,
      weights: model.weightsOrigin.kind === "random"
        ? `random (seed ${model.weightsOrigin.seed}) — not trained, so the classes mean nothing`
        : `loaded from ${model.weightsOrigin.source}`,
      graph: model.graph,
      input,
      inputLabel,
      labels: model.labels,
      paper: paper && {
        source: paper.source,
        multiplyAddsM: paper.multiplyAddsM,
        parametersM: paper.parametersM,
        countsClassifier: paper.countsClassifier,
      },
      compile: (backend) => model.compile(backend),
      logits: (output) => output,
    };
  });
}

/**
 * The `--onnx` input when no `--image` is given: 320×240 (so the resize and
 * the crop both act), red rising to the right, green downwards, blue in
 * 32-pixel checks — the same on every run.
 */
function syntheticImage(): RgbImage {
  const width = 320;
  const height = 240;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([
        Math.round(255 * x / (width - 1)),
        Math.round(255 * y / (height - 1)),
        ((x >> 5) + (y >> 5)) % 2 === 0 ? 40 : 200,
      ], (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

/** The data input's name when `error` is the importer's "dynamic (or unknown) input shape". */
function dynamicInputName(error: unknown): string | undefined {
  const match = error instanceof OnnxError
    ? /^graph\.input\[(".*")\]\.shape(\[\d+\])?$/.exec(error.field)
    : null;
  return match === null ? undefined : JSON.parse(match[1]);
}

/**
 * The ONNX shape for an image input whose dimensions are partly dynamic: the
 * file's fixed ones, and batch 1, 3 channels, `--crop` (else `--resize`) for
 * a dynamic height or width. The importer has already read these bytes.
 */
function imageInputShape(bytes: Uint8Array, name: string, options: DemoOptions): number[] {
  const declared = onnxProto.onnx.ModelProto.decode(bytes).graph?.input
    ?.find((input) => input.name === name)?.type?.tensorType?.shape?.dim;
  // Each dimension is fixed when positive; no shape at all is read as [N, C, H, W], all dynamic.
  const dims = (declared ?? [{}, {}, {}, {}]).map((dim) => Number(String(dim.dimValue ?? 0)));
  if (dims.length !== 4) {
    throw new InvalidArgumentError(
      "--onnx",
      options.onnx,
      `has input ${JSON.stringify(name)} of ${dims.length} dimensions, some dynamic: ` +
        "not an image [1, 3, H, W]; feed it with --input FILE.pb, whose shape fills them",
    );
  }
  const side = options.crop ?? options.resize;
  if (side === undefined && (dims[2] < 1 || dims[3] < 1)) {
    throw new UsageError(
      "--crop",
      side,
      `is needed: the height and width of ONNX input ${JSON.stringify(name)} are dynamic`,
    );
  }
  return dims.map((dim, i) => (dim > 0 ? dim : [1, 3, side!, side!][i]));
}

/** Loads the file, filling a dynamic input shape with `--input`'s shape or from the image flags. */
function loadOnnxFile(
  bytes: Uint8Array,
  options: DemoOptions,
  inputShape?: readonly number[],
): OnnxModel {
  try {
    return loadOnnx(bytes);
  } catch (error) {
    const name = dynamicInputName(error);
    if (name === undefined) throw error;
    return loadOnnx(bytes, { inputShape: inputShape ?? imageInputShape(bytes, name, options) });
  }
}

/** Reads a serialized `TensorProto` (`.pb`); a decoding error names `flag` and `path`. */
async function readTensor(flag: string, path: string): Promise<NamedOnnxTensor> {
  const bytes = await Deno.readFile(path);
  try {
    return decodeOnnxTensor(bytes);
  } catch (error) {
    if (!(error instanceof OnnxError)) throw error;
    const wrapped = new OnnxError(flag, path, `is not a readable TensorProto: ${error.message}`);
    wrapped.cause = error;
    throw wrapped;
  }
}

/** `tensor`'s data, which must be FLOAT and of `shape`'s size; `flag` and `path` name it in errors. */
function floatData(
  flag: string,
  path: string,
  tensor: NamedOnnxTensor,
  shape: readonly number[],
  what: string,
): Float32Array {
  const size = shape.reduce((product, dim) => product * dim, 1);
  if (!(tensor.data instanceof Float32Array) || tensor.data.length !== size) {
    throw new InvalidArgumentError(
      flag,
      path,
      `holds a ${tensor.data instanceof Float32Array ? "FLOAT" : "INT64"} tensor ` +
        `[${tensor.shape.join(", ")}], not a FLOAT one of ${what}'s shape [${shape.join(", ")}]`,
    );
  }
  return tensor.data;
}

/** `[r, g, b]` or one number, as the report prints it. */
function channelText(values: ChannelValues): string {
  return typeof values === "number" ? String(values) : `[${values.join(", ")}]`;
}

/**
 * `--onnx`: the file, fed `--input` as it is or an image (the synthetic one
 * by default) resized, centre-cropped to the file's input size and
 * normalized.
 */
async function onnxNetwork(options: DemoOptions): Promise<DemoNetwork> {
  const file = options.onnx!;
  const bytes = await Deno.readFile(file);
  const given = options.input === undefined
    ? undefined
    : { path: options.input, tensor: await readTensor("--input", options.input) };
  const model = loadOnnxFile(bytes, options, given?.tensor.shape);
  const { name, shape, layout } = model.input;
  let input: Float32Array;
  let inputLabel: string;
  if (given !== undefined) {
    input = model.toGraphInput(
      floatData("--input", given.path, given.tensor, shape, "the ONNX input"),
    );
    inputLabel = `${given.path}, fed as ONNX input ${JSON.stringify(name)} [${shape.join(", ")}]`;
  } else {
    const [batch, channels, height, width] = shape;
    if (layout !== "nchw" || batch !== 1 || channels !== 3) {
      throw new InvalidArgumentError(
        "--onnx",
        file,
        `takes ${JSON.stringify(name)} [${shape.join(", ")}], not one RGB image [1, 3, H, W]: ` +
          "feed it with --input FILE.pb",
      );
    }
    if (options.crop !== undefined && (options.crop !== height || options.crop !== width)) {
      throw new UsageError(
        "--crop",
        options.crop,
        `must be the ONNX input's size, ${width}×${height}, which the file fixes`,
      );
    }
    const resize = options.resize ?? defaultResize(Math.max(height, width));
    if (resize < Math.max(height, width)) {
      throw new UsageError(
        "--resize",
        resize,
        `must be at least the crop's side, ${Math.max(height, width)}`,
      );
    }
    const normalization = { mean: options.mean ?? IMAGENET.mean, std: options.std ?? IMAGENET.std };
    const image = options.image === undefined
      ? syntheticImage()
      : decodeImage(await Deno.readFile(options.image));
    const prepared = preprocessImage(image, { resize, crop: [height, width] }, normalization);
    input = prepared.data;
    const { resized, crop } = prepared;
    inputLabel = `${options.image ?? "synthetic gradient"} ${image.width}×${image.height}, ` +
      `resized to ${resized.width}×${resized.height} (bilinear, short side ${resize}), ` +
      `centre crop ${width}×${height} from (${crop.left}, ${crop.top}), ` +
      `(v − ${channelText(normalization.mean)}) / ${channelText(normalization.std)}`;
  }
  return {
    name: file,
    weights: `from ${file} (ONNX opset ${model.opset}${
      model.producer === "" ? "" : `, ${model.producer}`
    }; no labels in the file, so classes are indices)`,
    graph: model.graph,
    input,
    inputLabel,
    compile: (backend) => model.compile(backend),
    logits: (output) => model.fromGraphOutput(output),
    expected: options.expected === undefined ? undefined : floatData(
      "--expected",
      options.expected,
      await readTensor("--expected", options.expected),
      model.output.shape,
      "the ONNX output",
    ),
  };
}

// ---- The trained Fashion-MNIST networks ----

/** An image for the trained networks: a committed sample or `--image`. */
interface TrainedImage {
  /** As the report shows it: a sample's file name, `--image` as given. */
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly fashion: FashionImage;
  readonly sample?: Sample;
}

/** A network of the card: timed as any other, and classifying the images. */
interface TrainedNetwork extends DemoNetwork {
  readonly loaded: LoadedModel;
}

/** The trained networks and what they classify. */
interface TrainedSetup {
  /** The card, as the report shows it. */
  readonly card: string;
  readonly networks: readonly TrainedNetwork[];
  /** The gray images' side. */
  readonly side: number;
  /** What the report shows: the samples, or `--image`. */
  readonly images: readonly TrainedImage[];
  /** The committed samples: the accuracy's images when the test set cannot be read. */
  readonly samples: readonly TrainedImage[];
}

/** `path` relative to the working directory when it is below it, as one would type it. */
function shownPath(path: string): string {
  const below = relative(Deno.cwd(), path);
  return below === "" || below.startsWith("..") ? path : below;
}

/** The card's networks `names` names; by default its first MobileNet and ShuffleNet without ablation. */
function chooseNetworks(
  entries: readonly CardModel[],
  names: readonly string[],
  card: string,
): CardModel[] {
  if (names.length > 0) {
    return names.map((name) => {
      const entry = entries.find((candidate) => candidate.name === name);
      if (entry === undefined) {
        throw new UsageError(
          "--network",
          name,
          `is not in ${card}; it has ${entries.map((e) => e.name).join(", ")}`,
        );
      }
      return entry;
    });
  }
  const chosen = (["mobilenet_v1", "shufflenet_v1"] as const).flatMap((architecture) =>
    entries.find((entry) => entry.architecture === architecture && entry.ablation === "none") ??
      []
  );
  if (chosen.length === 0) {
    throw new CardError(
      "models",
      entries.map((entry) => entry.name),
      "has no network without ablation: name one with --network",
    );
  }
  return chosen;
}

/** What a network is fed for an image: the card's preprocessing, in the graph's layout. */
function networkInput(model: LoadedModel, pixels: Uint8Array): Float32Array {
  return model.onnx.toGraphInput(preprocess(pixels, model.entry.preprocessing));
}

async function readTrainedImage(
  path: string,
  file: string,
  side: number,
  invert: Inversion,
  sample?: Sample,
): Promise<TrainedImage> {
  const image = decodeImage(await Deno.readFile(path));
  const fashion = toFashionImage(image, side, invert);
  return { file, width: image.width, height: image.height, fashion, sample };
}

/**
 * The default mode: the card's networks (checked by `loadModel`: SHA-256,
 * structure, cost, torch's predictions), the committed samples, and
 * `--image`.
 */
async function trainedSetup(options: DemoOptions): Promise<TrainedSetup> {
  const card = options.card ?? DEFAULT_CARD;
  if (!existsSync(card)) {
    throw new CardError(
      "--card",
      card,
      "does not exist: `deno task train` trains the networks and writes it " +
        "(tools/train/README.md); `--model all` runs the random-weight ImageNet-size networks",
    );
  }
  const entries = readCard(card);
  const loaded = chooseNetworks(entries, options.networks, card)
    .map((entry) => loadModel(entry, dirname(card), `models[${entries.indexOf(entry)}]`));
  // Every network shown takes the same gray image: the first one's size, square (--image is).
  const side = loaded[0].entry.preprocessing.image[0];
  for (const { entry, field } of loaded) {
    const [height, width] = entry.preprocessing.image;
    if (height !== side || width !== side) {
      throw new CardError(
        `${field}.preprocessing.image`,
        entry.preprocessing.image,
        `must be square and ${side}×${side}, as for every network shown`,
      );
    }
  }
  const samples = await Promise.all(
    readSamples().map((sample, i) => {
      for (const { entry, field } of loaded) {
        if (entry.classes[sample.label] !== sample.className) {
          throw new SamplesError(
            `samples[${i}].className`,
            sample.className,
            `is not class ${sample.label} of ${field}, ${
              JSON.stringify(entry.classes[sample.label])
            }`,
          );
        }
        if (sample.testIndex >= entry.torch.testImages) {
          throw new SamplesError(
            `samples[${i}].testIndex`,
            sample.testIndex,
            `must be below ${field}'s ${entry.torch.testImages} test images`,
          );
        }
      }
      return readTrainedImage(join(SAMPLES_DIR, sample.file), sample.file, side, "auto", sample);
    }),
  );
  const images = options.image === undefined
    ? samples
    : [await readTrainedImage(options.image, options.image, side, options.invert ?? "auto")];
  const [first] = images;
  const label = first.sample === undefined
    ? `${first.file} ${first.width}×${first.height}, gray${
      first.fashion.inverted ? " inverted" : ""
    }`
    : `${first.file} (test image ${first.sample.testIndex}, ${first.sample.className})`;
  const shownCard = shownPath(card);
  return {
    card: shownCard,
    networks: loaded.map((model) => ({
      name: model.entry.name,
      weights: `trained here on Fashion-MNIST by tools/train (${shownCard}, ${model.field}); ` +
        `torch's test accuracy ${percent(model.entry.torch.testAccuracy)}`,
      graph: model.onnx.graph,
      input: networkInput(model, first.fashion.pixels),
      inputLabel: `${label}: ${preprocessingText(model.entry.preprocessing)}`,
      labels: model.entry.classes,
      compile: (backend) => model.onnx.compile(backend),
      logits: (output) => model.onnx.fromGraphOutput(output),
      loaded: model,
    })),
    side,
    images,
    samples,
  };
}

/**
 * The test set is classified in batches of this many images: it divides the
 * 10,000 test images, and runs about twice the images per second of batch 1
 * on wasm here.
 */
const TEST_BATCH = 100;

function score(
  model: string,
  ours: ArrayLike<number>,
  truth: ArrayLike<number>,
  torch: ArrayLike<number>,
): TrainedAccuracy {
  let [correct, torchCorrect, agree] = [0, 0, 0];
  for (let i = 0; i < ours.length; i++) {
    correct += ours[i] === truth[i] ? 1 : 0;
    torchCorrect += torch[i] === truth[i] ? 1 : 0;
    agree += ours[i] === torch[i] ? 1 : 0;
  }
  const n = ours.length;
  return { model, accuracy: correct / n, torchAccuracy: torchCorrect / n, agreement: agree / n };
}

/** Each network's class for every test image, on `backend`; batched when the batch is dynamic. */
async function classifyTestSet(
  model: LoadedModel,
  test: TestSet,
  backend: Backend,
): Promise<Uint8Array> {
  const { entry, field, bytes, onnx } = model;
  if (test.count !== entry.torch.testImages) {
    throw new CardError(
      `${field}.torch.testImages`,
      entry.torch.testImages,
      `the test set has ${test.count} images`,
    );
  }
  const pixels = test.height * test.width;
  const inputs = (i: number) =>
    preprocess(test.images.subarray(i * pixels, (i + 1) * pixels), entry.preprocessing);
  const [batch, channels, height, width] = entry.inputShape;
  const size = batch === "batch" ? TEST_BATCH : 1;
  const whole = test.count - test.count % size;
  const classes = new Uint8Array(test.count);
  if (whole > 0) {
    const batched = size === 1
      ? onnx
      : loadOnnx(bytes, { inputShape: [size, channels, height, width] });
    classes.set((await classify(batched, backend, inputs, whole)).classes);
  }
  if (whole < test.count) {
    const rest = await classify(onnx, backend, (i) => inputs(whole + i), test.count - whole);
    classes.set(rest.classes, whole);
  }
  return classes;
}

/**
 * Classifies the images (and the samples) with every network on `backend`,
 * and scores the networks on the test set in `data` — or, when it cannot be
 * read, on the committed samples, saying why.
 */
async function classifyTrained(
  setup: TrainedSetup,
  backend: Backend,
  data: string,
  tick: (line: string) => void,
): Promise<TrainedReport> {
  const all = setup.images === setup.samples ? setup.samples : [...setup.images, ...setup.samples];
  const answers = new Map<TrainedImage, TrainedPrediction[]>(all.map((image) => [image, []]));
  for (const { loaded } of setup.networks) {
    const { entry, onnx, predictions } = loaded;
    tick(`${entry.name} on ${backend.name}: classifying ${all.length} images`);
    using compiled = await onnx.compile(backend);
    for (const image of all) {
      using tensor = backend.upload(
        networkInput(loaded, image.fashion.pixels),
        onnx.input.graphShape,
      );
      const [best] = top5(
        onnx.fromGraphOutput(await compiled.run(tensor).download()),
        entry.classes,
      );
      answers.get(image)!.push({
        model: entry.name,
        index: best.index,
        label: best.label!,
        probability: best.probability,
        ...(image.sample === undefined ? {} : { torch: predictions[image.sample.testIndex] }),
      });
    }
  }
  let accuracy: TrainedReport["accuracy"];
  try {
    const test = readTestSet(data);
    const models: TrainedAccuracy[] = [];
    for (const { loaded } of setup.networks) {
      tick(`${loaded.entry.name} on ${backend.name}: the ${test.count} test images`);
      const ours = await classifyTestSet(loaded, test, backend);
      models.push(score(loaded.entry.name, ours, test.labels, loaded.predictions));
    }
    accuracy = { on: "test set", source: test.source, images: test.count, models };
  } catch (error) {
    if (!(error instanceof DatasetError)) throw error;
    const { samples } = setup;
    accuracy = {
      on: "samples",
      source: shownPath(SAMPLES_DIR),
      images: samples.length,
      testSetMissing: `${error.name}: ${error.message}`,
      models: setup.networks.map(({ loaded }, n) =>
        score(
          loaded.entry.name,
          samples.map((sample) => answers.get(sample)![n].index),
          samples.map((sample) => sample.sample!.label),
          samples.map((sample) => loaded.predictions[sample.sample!.testIndex]),
        )
      ),
    };
  }
  return {
    card: setup.card,
    backend: backend.name,
    imagesFrom: setup.images === setup.samples ? shownPath(SAMPLES_DIR) : "--image",
    side: setup.side,
    images: setup.images.map((image) => ({
      file: image.file,
      width: image.width,
      height: image.height,
      borderMean: image.fashion.borderMean,
      inverted: image.fashion.inverted,
      ...(image.sample === undefined ? {} : {
        testIndex: image.sample.testIndex,
        trueIndex: image.sample.label,
        trueLabel: image.sample.className,
      }),
      predictions: answers.get(image)!,
    })),
    accuracy,
  };
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((worst, value, i) => Math.max(worst, Math.abs(value - b[i])), 0);
}

/** Prints a progress line at most once a second, for steps that take longer. */
function progressReporter(write: (line: string) => void) {
  let last = performance.now();
  return (line: string) => {
    const now = performance.now();
    if (now - last >= 1000) {
      write(line);
      last = now;
    }
  };
}

/** Compiles, times and compares one network on every backend. */
async function measure(
  network: DemoNetwork,
  backends: readonly Backend[],
  runs: number,
  profiled: readonly string[],
  tick: (line: string) => void,
): Promise<ModelReport> {
  const cost = summary(network);
  const results: BackendRun[] = [];
  let firstLogits: Float32Array | undefined;
  for (const backend of backends) {
    tick(`${network.name} on ${backend.name}: compiling…`);
    let started = performance.now();
    using compiled = await network.compile(backend);
    const compileMs = performance.now() - started;
    using tensor = backend.upload(network.input, network.graph.inputShape);
    started = performance.now();
    const logits = network.logits(await compiled.run(tensor).download());
    const firstRunMs = performance.now() - started;
    await compiled.run(tensor).download();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      tick(`${network.name} on ${backend.name}: run ${i + 1}/${runs}`);
      started = performance.now();
      await compiled.run(tensor).download();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const profile = profiled.includes(backend.name) ? await compiled.profile(tensor) : undefined;
    firstLogits ??= logits;
    const best = top5(logits, network.labels);
    results.push({
      backend: backend.name,
      compileMs,
      firstRunMs,
      medianMs: percentile(times, 0.5),
      p90Ms: percentile(times, 0.9),
      runs,
      top5: best,
      maxAbsDiffToFirst: maxAbsDiff(logits, firstLogits),
      ...(network.expected === undefined
        ? {}
        : { maxAbsDiffToExpected: maxAbsDiff(logits, network.expected) }),
      sameTop5AsFirst: results.length === 0 ||
        best.every((entry, i) => entry.index === results[0].top5[i].index),
      ...(profile === undefined ? {} : { profile }),
      ...(backend.capabilities.adapter === undefined ? {} : {
        adapter: backend.capabilities.adapter,
        softwareAdapter: backend.capabilities.softwareAdapter ?? false,
      }),
    });
  }
  return {
    name: network.name,
    weights: network.weights,
    input: network.inputLabel,
    multiplyAdds: cost.totals.multiplyAdds,
    parameters: cost.totals.parameters,
    plannedActivationBytes: cost.totals.plannedActivationBytes,
    paper: network.paper,
    backends: results,
  };
}

/** Where {@link runDemo} writes progress lines (stderr in `main`). */
export type ProgressSink = (line: string) => void;

/**
 * Loads the trained networks — or builds the built-in ones, or loads the
 * `--onnx` file — runs them on every selected backend that starts, and
 * returns the report. Progress lines go to `progress` whenever a step has
 * taken more than a second since the last line. Checks `options` as
 * {@link parseDemoArgs} does ({@link UsageError}); an image beyond
 * `MAX_IMAGE_PIXELS` is refused from its header before it is decoded
 * (`ImageDecodeError`).
 *
 * With neither `model` nor `onnx`, the card's networks (`loadModel` of
 * tools/evaluate.ts checks each file's SHA-256, structure and cost) classify
 * the committed samples, or `image` ({@link toFashionImage}, then the card's
 * preprocessing), on the first backend that started; they are scored there
 * on the test set in `data` (batches of 100 where the batch is dynamic), or
 * on the samples when it cannot be read; and they are timed on every backend
 * on the first image.
 *
 * With `onnx`, the file's input fixes the crop (its height and width); a
 * dynamic input takes batch 1, 3 channels and `crop` (else `resize`) as its
 * size, or `input`'s shape. The image — `--image`, or a synthetic 320×240
 * gradient — goes through `preprocessImage` from `@mobileops/image` (resize
 * the short side to `resize`, default ⌊crop · 8/7⌋; centre crop; `mean` /
 * `std`, default `IMAGENET`) and is uploaded NHWC as the graph takes it;
 * `input` is NCHW as ONNX has it and goes through `toGraphInput`. Logits are
 * compared in ONNX's layout (`fromGraphOutput`).
 *
 * @throws {UsageError} Bad options, an unknown backend, a `crop` the file
 *   contradicts, a dynamic height and width with neither `crop` nor `resize`,
 *   a `--network` the card does not have.
 * @throws {CardError} A card that is missing (field `--card`), malformed, or
 *   that its files do not match.
 * @throws {SamplesError} A malformed samples.json, or one whose classes are
 *   not the card's.
 * @throws {BackendUnavailableError} No backend started, for the trained
 *   networks: nothing could classify the images.
 * @throws {OnnxError} A malformed or truncated file (or `.pb`), and whatever
 *   else `loadOnnx` refuses; `OnnxUnsupportedError` lists every node it
 *   cannot import.
 * @throws {InvalidArgumentError} An ONNX input that is not one RGB image
 *   without `input` (field `--onnx`); an `input` or `expected` tensor of
 *   another size or type (field `--input`, `--expected`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileURLToPath } from "node:url";
 * import { parseDemoArgs, runDemo } from "./demo.ts";
 * const card = fileURLToPath(new URL("./tools/train/testdata/card.json", import.meta.url));
 * const trained = await runDemo(parseDemoArgs(["--card", card, "--data", "/nonexistent", "--runs", "1", "--backend", "js"]));
 * const bag = trained.trained!.images[8];
 * assert(bag.trueLabel === "Bag" && bag.predictions[0].label === "Bag");
 * assert(trained.trained!.accuracy.on === "samples"); // no test set in /nonexistent
 * const report = await runDemo(
 *   parseDemoArgs(["--model", "shufflenet", "--scale", "0.25", "--resolution", "32", "--runs", "1", "--backend", "js"]),
 * );
 * assert(report.models[0].backends[0].top5.length === 5);
 * const file = fileURLToPath(new URL("./packages/onnx/testdata/mobilenet_v1/bn_folded.onnx", import.meta.url));
 * const onnx = await runDemo(parseDemoArgs(["--onnx", file, "--runs", "1", "--backend", "js"]));
 * assert(onnx.models[0].input.includes("centre crop 64×64")); // the file's input: [1, 3, 64, 64]
 * ```
 */
export async function runDemo(
  options: DemoOptions,
  progress: ProgressSink = () => {},
): Promise<DemoReport> {
  checkDemoOptions(options);
  if (typeof progress !== "function") {
    throw new InvalidArgumentError("progress", progress, "must be a function of one line");
  }
  let trained: TrainedSetup | undefined;
  let networks: readonly DemoNetwork[];
  if (options.onnx !== undefined) networks = [await onnxNetwork(options)];
  else if (options.model !== undefined) networks = await builtInNetworks(options);
  else networks = (trained = await trainedSetup(options)).networks;

  const unknown = options.backends.filter((name) => !isBackendName(name));
  if (unknown.length > 0) {
    throw new UsageError(
      "--backend",
      unknown.join(","),
      `names no backend (known: ${BACKEND_NAMES.join(", ")})`,
    );
  }
  const selected = BACKEND_NAMES.filter((name) =>
    options.backends.length === 0 || options.backends.includes(name)
  );
  const skipped: { backend: string; reason: string }[] = [];
  const backends: Backend[] = [];
  for (const name of selected) {
    try {
      backends.push(await createBackend(name));
    } catch (error) {
      skipped.push({ backend: name, reason: unavailableReason(error) });
    }
  }
  if (trained !== undefined && backends.length === 0) {
    // Nothing to classify the images on: the report would have no answer at all.
    throw new BackendUnavailableError(
      selected.join(","),
      skipped.map(({ backend, reason }) => `${backend}: ${reason}`).join("; "),
    );
  }

  const tick = progressReporter(progress);
  const reports: ModelReport[] = [];
  let answers: TrainedReport | undefined;
  try {
    for (const network of networks) {
      reports.push(
        await measure(network, backends, options.runs, options.profile ?? ["webgpu"], tick),
      );
    }
    if (trained !== undefined) {
      answers = await classifyTrained(
        trained,
        backends[0],
        options.data ?? FASHION_MNIST_DIR,
        tick,
      );
    }
  } finally {
    for (const backend of backends) backend.dispose();
  }
  return {
    factorizationCosts: options.model !== undefined
      ? factorizationCosts().map(({ label, multiplyAdds, parameters }) => ({
        label,
        multiplyAdds,
        parameters,
      }))
      : [],
    models: reports,
    skipped,
    ...(answers === undefined ? {} : { trained: answers }),
  };
}

const CLOCKS: Record<ModelProfile["clock"], string> = {
  device: "GPU timestamps",
  cpu: "CPU clock around each kernel",
  enqueue: "time to record each kernel, not to run it: this adapter has no timestamp-query",
};

/** A per-layer table: node, variant, time, GFLOP/s, and a bar of the layer's share of the run. */
function formatProfile(backend: string, profile: ModelProfile): string[] {
  const longest = Math.max(...profile.layers.map((layer) => layer.ms));
  const rows = profile.layers.map((layer) => [
    layer.node,
    layer.variant,
    // On the device clock, 0 is a run that dispatched nothing (a shuffle folded into its reader).
    profile.clock === "device" && layer.ms === 0 ? "no GPU work" : layer.ms.toFixed(3),
    layer.multiplyAdds > 0 ? layer.gflops.toFixed(2) : "",
    `${(100 * layer.ms / (profile.totalMs || 1)).toFixed(1)} %`,
    "█".repeat(longest > 0 ? Math.round(20 * layer.ms / longest) : 0),
  ]);
  return [
    `${backend} per layer, one run (${CLOCKS[profile.clock]}): ${
      profile.totalMs.toFixed(2)
    } ms in kernels (a timed run also counts upload, submission and read-back)`,
    ...aligned([
      ["  layer", "variant", "ms", "GFLOP/s", "share", ""],
      ...rows.map(([node, ...rest]) => [`  ${node}`, ...rest]),
    ], [2, 3, 4]),
  ];
}

/** Rows as columns two spaces apart, each as wide as its widest cell; `right` columns right-aligned. */
function aligned(rows: readonly string[][], right: readonly number[] = []): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) =>
    row.map((cell, c) => right.includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
      .join("  ").trimEnd()
  );
}

/** The trained networks' sections: what they are and cost, their answers, their accuracy. */
function formatTrained(trained: TrainedReport, models: readonly ModelReport[]): string[] {
  const count = (value: number) => value.toLocaleString("en-US");
  const [first] = models;
  const lines = [
    "== Networks trained here on Fashion-MNIST ==",
    "Trained in this repository (tools/train) on Fashion-MNIST's training set, " +
    `${trained.side}×${trained.side} gray photos`,
    "of 10 kinds of clothing: they know those 10 classes and nothing else.",
    `card: ${trained.card}`,
    "",
    ...aligned([
      ["network", "mult-adds", "params", ""],
      ...models.map((model) => [
        model.name,
        count(model.multiplyAdds),
        count(model.parameters),
        model === first ? "" : `${(model.multiplyAdds / first.multiplyAdds).toFixed(2)}× the ` +
          `mult-adds, ${
            (model.parameters / first.parameters).toFixed(2)
          }× the params of ${first.name}`,
      ]),
    ], [1, 2]),
    "",
  ];
  if (trained.imagesFrom === "--image") {
    const [image] = trained.images;
    lines.push(
      `== ${image.file}, on ${trained.backend} ==`,
      `${image.width}×${image.height}, resized to ${trained.side}×${trained.side} (bilinear), gray ` +
        "(299 R + 587 G + 114 B) / 1000 rounded; " +
        `${image.inverted ? "inverted" : "not inverted"}: its border averages ` +
        `${image.borderMean.toFixed(1)} (auto inverts above 127.5: Fashion-MNIST's objects are ` +
        "light on black)",
    );
  } else {
    lines.push(
      `== The committed samples, the first test image of each class (${trained.imagesFrom}), ` +
        `on ${trained.backend} ==`,
    );
  }
  lines.push(...aligned([
    ["image", "true class", ...models.map((model) => model.name)],
    ...trained.images.map((image) => [
      image.file,
      image.trueLabel ?? "?",
      ...image.predictions.map((p) =>
        `${p.label} ${(100 * p.probability).toFixed(1)} %` +
        (image.trueIndex !== undefined && p.index !== image.trueIndex ? " ✗" : "")
      ),
    ]),
  ]));
  const { accuracy } = trained;
  lines.push(
    "",
    accuracy.on === "test set"
      ? `== Accuracy on the test set: the ${
        count(accuracy.images)
      } images of ${accuracy.source}, ` +
        `on ${trained.backend} ==`
      : `== Accuracy on the ${accuracy.images} committed samples only: the test set could not ` +
        "be read ==",
    ...(accuracy.testSetMissing === undefined ? [] : [accuracy.testSetMissing]),
    ...aligned(
      accuracy.models.map((row) => [
        row.model,
        percent(row.accuracy),
        `torch ${percent(row.torchAccuracy)}`,
        `the same class as torch on ${percent(row.agreement)} of them`,
      ]),
      [1, 2],
    ),
  );
  return lines;
}

/**
 * Renders the report as text: costs next to the papers', one layer's cost
 * factorized three ways, then per model the backends' latency, agreement and
 * top-5. Throws core's `InvalidArgumentError` when `report` does not have a
 * report's three lists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDemoReport } from "./demo.ts";
 * const text = formatDemoReport({
 *   factorizationCosts: [],
 *   models: [],
 *   skipped: [{ backend: "gpu", reason: "none" }],
 * });
 * assert(text.includes("gpu: none"));
 * ```
 */
export function formatDemoReport(report: DemoReport): string {
  const lists = report as unknown as Record<string, unknown> | null;
  if (
    lists === null || typeof lists !== "object" ||
    !["factorizationCosts", "models", "skipped"].every((key) => Array.isArray(lists[key]))
  ) {
    throw new InvalidArgumentError("report", report, "must be what runDemo returns");
  }
  const lines: string[] = [];
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  if (report.trained !== undefined) lines.push(...formatTrained(report.trained, report.models));
  else lines.push("== Cost model (ours vs the papers) ==");
  for (const model of report.trained === undefined ? report.models : []) {
    const paper = model.paper;
    const reported = paper === undefined
      ? "no paper figure for this configuration"
      : `paper ${paper.multiplyAddsM}M mult-adds${
        paper.parametersM === undefined ? "" : ` / ${paper.parametersM}M params`
      }${paper.countsClassifier ? "" : " (without the classifier)"} — ${paper.source}`;
    lines.push(
      `${model.name}: ${formatCount(model.multiplyAdds)} mult-adds, ${
        formatCount(model.parameters)
      } params, ${(model.plannedActivationBytes / 2 ** 20).toFixed(1)} MiB planned activations`,
      `  ${reported}`,
    );
  }
  if (report.factorizationCosts.length > 0) {
    lines.push("", "== One layer, three ways ==");
    const width = Math.max(...report.factorizationCosts.map((row) => row.label.length));
    for (const row of report.factorizationCosts) {
      lines.push(
        `${row.label.padEnd(width)}  ${row.multiplyAdds.toLocaleString("en-US").padStart(9)} ` +
          `mult-adds  ${String(row.parameters).padStart(4)} params`,
      );
    }
    const [standard, , , separable, dense, grouped] = report.factorizationCosts;
    if (grouped !== undefined) {
      lines.push(
        `depthwise separable costs ${
          (standard.multiplyAdds / separable.multiplyAdds).toFixed(2)
        }× ` +
          `less than standard; 2 groups halve the 1×1 layer (${dense.multiplyAdds} → ${grouped.multiplyAdds})`,
      );
    }
  }
  for (const model of report.models) {
    lines.push("", `== ${model.name} ==`, `weights: ${model.weights}`, `input: ${model.input}`);
    for (const run of model.backends) {
      lines.push(
        `${run.backend.padEnd(6)} first run ${ms(run.firstRunMs)}, then median ${
          ms(run.medianMs)
        }, ` +
          `p90 ${ms(run.p90Ms)} over ${run.runs} runs (compile ${ms(run.compileMs)}); ` +
          `max |Δlogit| vs ${model.backends[0].backend}: ${
            run.maxAbsDiffToFirst.toExponential(2)
          }` +
          (run.maxAbsDiffToExpected === undefined
            ? ""
            : `, vs expected: ${run.maxAbsDiffToExpected.toExponential(2)}`) +
          (run.sameTop5AsFirst ? "" : " — TOP-5 DIFFERS"),
        ...(run.adapter === undefined ? [] : [
          `       adapter: ${run.adapter}${
            run.softwareAdapter
              ? " — a software adapter running on the CPU: its times say nothing about a GPU"
              : ""
          }`,
        ]),
        `       top-5: ${
          run.top5.map((t) =>
            `${t.index}${t.label === undefined ? "" : ` ${t.label}`} (${
              (100 * t.probability).toFixed(1)
            }%)`
          ).join(", ")
        }`,
      );
    }
    for (const run of model.backends) {
      if (run.profile !== undefined) lines.push(...formatProfile(run.backend, run.profile));
    }
    if (model.backends.length > 1) {
      const worst = Math.max(...model.backends.map((run) => run.maxAbsDiffToFirst));
      const agree = model.backends.every((run) => run.sameTop5AsFirst);
      lines.push(
        `backends ${agree ? "agree" : "DISAGREE"}: ${
          agree ? "same top-5 on all" : "top-5 differs"
        }, max |Δlogit| ${worst.toExponential(2)}`,
      );
    }
  }
  if (report.skipped.length > 0) {
    lines.push("", "Skipped backends:");
    for (const { backend, reason } of report.skipped) lines.push(`  ${backend}: ${reason}`);
  }
  return lines.join("\n");
}

/**
 * Runs the demo with command-line `args`; returns the exit code: 0, 2 for a
 * usage error (printed with the usage), 1 for any other failure (printed as
 * `Class: field = value: reason`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./demo.ts";
 * assert((await main(["--runs", "0"])) === 2);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  if (Array.isArray(args) && (args.includes("--help") || args.includes("-h"))) {
    console.log(USAGE);
    return 0;
  }
  let options: DemoOptions;
  try {
    options = parseDemoArgs(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const report = await runDemo(options, (line) => console.error(line));
    console.log(options.json ? JSON.stringify(report, null, 2) : formatDemoReport(report));
    return 0;
  } catch (error) {
    console.error(`${(error as Error).name}: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
