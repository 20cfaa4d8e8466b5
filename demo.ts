/**
 * The main job: build MobileNet v1 and ShuffleNet v1, show what they cost
 * next to the papers' figures, run them on every backend this machine has,
 * check that the backends agree, and time them. With `--onnx FILE` it runs
 * an ONNX file instead, on an image preprocessed the ImageNet way.
 *
 * ```sh
 * deno task demo                                   # MobileNet 1.0-224 and ShuffleNet 1× g=3, all backends
 * deno task demo --model shufflenet --groups 8 --scale 0.5 --resolution 160 --runs 20
 * deno task demo --model mobilenet --weights mobilenet.safetensors --image cat.jpg
 * deno task demo --onnx mobilenet_v1.onnx --image cat.jpg    # resize 256, crop 224, ImageNet mean / std
 * deno task demo --onnx model.onnx --input input_0.pb --expected output_0.pb
 * deno task demo --json > report.json
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import onnxProto from "npm:onnx-proto@8.0.1";
import {
  type Backend,
  BackendUnavailableError,
  InvalidArgumentError,
  validateOptions,
} from "@mobileops/core";
import type { CompiledModel, ModelGraph } from "@mobileops/graph";
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

/** The demo's options: its flags, parsed and checked. */
export interface DemoOptions {
  readonly model: "all" | "mobilenet" | "shufflenet";
  /** MobileNet width multiplier, in (0, 2]. */
  readonly alpha: number;
  /** Input height = width, a multiple of 32 from 32 to 1024. */
  readonly resolution: number;
  /** ShuffleNet groups: 1, 2, 3, 4 or 8. */
  readonly groups: number;
  /** ShuffleNet scale: 0.25, 0.5, 1, 1.5 or 2. */
  readonly scale: number;
  /** Backend names to use; empty means all. */
  readonly backends: readonly string[];
  /** Timed runs per model and backend, after one first run and one warm-up run: 1 to 10,000. */
  readonly runs: number;
  readonly weights?: string;
  readonly image?: string;
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
  readonly json: boolean;
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
  --model all|mobilenet|shufflenet   which network(s) (default all: MobileNet 1.0-224 + ShuffleNet 1× g=3)
  --alpha A        MobileNet width multiplier, above 0 and at most ${LIMITS.alpha} (default 1)
  --resolution R   input size, a multiple of 32 from 32 to ${LIMITS.resolution} (default 224)
  --groups G       ShuffleNet groups ${SHUFFLENET_GROUPS.join("|")} (default 3)
  --scale S        ShuffleNet scale ${SHUFFLENET_SCALES.join("|")} (default 1)
  --backend NAMES  comma-separated, from ${BACKEND_NAMES.join(",")} (default: every one available)
  --runs N         timed runs after warm-up, 1 to ${LIMITS.runs} (default 10)
  --weights FILE   safetensors weights (needs --model mobilenet or shufflenet)
  --image FILE     PNG or JPEG input, at most ${MAX_IMAGE_PIXELS / 1e6} megapixels
                   (default: a seeded random image; with --onnx a synthetic gradient)
  --onnx FILE      run an ONNX file (opsets ${OPSETS}, docs/onnx.md) instead; its image
                   is resized, centre-cropped and normalized as torchvision's ImageNet
                   evaluation does. These flags need --onnx:
  --input FILE     a TensorProto (.pb) fed as the ONNX input, in its layout (NCHW), instead of an image
  --expected FILE  a TensorProto (.pb) of the expected output: prints each backend's max |Δ| to it
  --resize S       the image's short side after resizing, 1 to ${LIMITS.resize}
                   (default ⌊crop · 8/7⌋: 256 for 224)
  --crop C         centre crop C×C, 1 to ${LIMITS.resolution}: the file's input size (the default) or,
                   when its height and width are dynamic, the size to run it at
  --mean M         mean of the 0–255 samples, one number or r,g,b
                   (default ImageNet's: ${IMAGENET.mean})
  --std S          std, one number or r,g,b (default ImageNet's: ${IMAGENET.std})
  --json           print the report as JSON
  --help, -h       print this text
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
  "json",
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

/** Checks every option's type and range; `parseDemoArgs` and `runDemo` both run it. */
function checkDemoOptions(options: DemoOptions): DemoOptions {
  validateOptions("options", options, OPTION_KEYS, UsageError);
  if (options === undefined) throw new UsageError("options", options, "are required");
  const { model, alpha, resolution, groups, scale, backends, runs, weights, image, json } = options;
  const { onnx, input, expected, resize, crop } = options;
  if (model !== "all" && model !== "mobilenet" && model !== "shufflenet") {
    throw new UsageError("--model", model, "must be all, mobilenet or shufflenet");
  }
  if (typeof alpha !== "number" || !(alpha > 0 && alpha <= LIMITS.alpha)) {
    throw new UsageError("--alpha", alpha, `must be above 0 and at most ${LIMITS.alpha}`);
  }
  if (
    !Number.isInteger(resolution) || resolution % 32 !== 0 || resolution < 32 ||
    resolution > LIMITS.resolution
  ) {
    throw new UsageError(
      "--resolution",
      resolution,
      `must be a multiple of 32 from 32 to ${LIMITS.resolution}`,
    );
  }
  if (!SHUFFLENET_GROUPS.includes(groups as ShuffleNetGroups)) {
    throw new UsageError("--groups", groups, `must be one of ${SHUFFLENET_GROUPS.join(", ")}`);
  }
  if (!SHUFFLENET_SCALES.includes(scale as ShuffleNetScale)) {
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
  } else if (weights !== undefined) {
    throw new UsageError(
      "--weights",
      weights,
      "does not apply to --onnx: the file holds the weights",
    );
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
  return options;
}

/**
 * Parses the command line and checks every flag: numbers must be plain
 * decimals within the demo's ranges (`--alpha` in (0, 2], `--resolution` a
 * multiple of 32 up to 1024, `--groups` and `--scale` from ShuffleNet's
 * tables, `--runs` 1 to 10,000, `--resize` 1 to 4096, `--crop` 1 to 1024,
 * `--mean` and `--std` one decimal or three, `r,g,b`). `--onnx` excludes the
 * built-in networks' flags (`--model`, `--alpha`, `--resolution`,
 * `--groups`, `--scale`, `--weights`); `--input`, `--expected`, `--resize`,
 * `--crop`, `--mean` and `--std` need it; `--input` excludes `--image` and
 * the flags that shape an image. Throws {@link UsageError} naming the flag
 * and its value, or (field `arguments`) for an unknown flag or `args` that is
 * not an array of strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDemoArgs, UsageError } from "./demo.ts";
 * const options = parseDemoArgs(["--model", "shufflenet", "--groups", "8", "--runs", "3"]);
 * assert(options.model === "shufflenet" && options.groups === 8 && options.runs === 3);
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
        json: { type: "boolean", default: false },
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
  return checkDemoOptions({
    model: (values.model ?? "all") as DemoOptions["model"],
    alpha: numberFlag("--alpha", values.alpha ?? "1"),
    resolution: numberFlag("--resolution", values.resolution ?? "224"),
    groups: numberFlag("--groups", values.groups ?? "3"),
    scale: numberFlag("--scale", values.scale ?? "1"),
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
    json: values.json,
  });
}

/** Per-backend timing and output of one model. */
export interface BackendRun {
  readonly backend: string;
  /** Compile (prepare every kernel, allocate buffers). */
  readonly compileMs: number;
  /** The first run, downloaded. */
  readonly firstRunMs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly runs: number;
  /** Top-5 classes by logit: index, softmax probability, and label when the weights have them. */
  readonly top5: readonly { index: number; probability: number; label?: string }[];
  /** Max |logit − first backend's logit|; 0 for the first backend. */
  readonly maxAbsDiffToFirst: number;
  /** Max |logit − the `--expected` output's|; only with `--expected`. */
  readonly maxAbsDiffToExpected?: number;
  /** Whether the top-5 classes are the first backend's, in the same order. */
  readonly sameTop5AsFirst: boolean;
}

/** What the demo found for one model. */
export interface ModelReport {
  readonly name: string;
  readonly weights: string;
  readonly input: string;
  readonly multiplyAdds: number;
  readonly parameters: number;
  readonly plannedActivationBytes: number;
  /** The paper's figures for this configuration, when it reports any. */
  readonly paper?: {
    source: string;
    multiplyAddsM: number;
    parametersM?: number;
    countsClassifier: boolean;
  };
  readonly backends: readonly BackendRun[];
}

/** The whole report. */
export interface DemoReport {
  /**
   * One layer as a standard vs a depthwise-separable convolution, and 1×1
   * without vs with groups; empty for `--onnx`, whose file is no such example.
   */
  readonly factorizationCosts: readonly {
    label: string;
    multiplyAdds: number;
    parameters: number;
  }[];
  readonly models: readonly ModelReport[];
  /** Backends that could not be used here, with the reason. */
  readonly skipped: readonly { backend: string; reason: string }[];
}

function buildModels(options: DemoOptions): Model[] {
  const models: Model[] = [];
  if (options.model !== "shufflenet") {
    models.push(mobilenetV1({ alpha: options.alpha, resolution: options.resolution }));
  }
  if (options.model !== "mobilenet") {
    models.push(shufflenetV1({
      groups: options.groups as ShuffleNetGroups,
      scale: options.scale as ShuffleNetScale,
      resolution: options.resolution,
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

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((worst, value, i) => Math.max(worst, Math.abs(value - b[i])), 0);
}

function top5(logits: Float32Array, labels?: readonly string[]): BackendRun["top5"] {
  const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
  const exps = Array.from(logits, (logit) => Math.exp(logit - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return [...logits.keys()].sort((a, b) => logits[b] - logits[a]).slice(0, 5).map((index) => ({
    index,
    probability: exps[index] / total,
    ...(labels === undefined ? {} : { label: labels[index] }),
  }));
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
 * Builds the models — or loads the `--onnx` file — runs them on every
 * selected backend that starts, and returns the report. Progress lines go to
 * `progress` whenever a step has taken more than a second since the last
 * line. Checks `options` as {@link parseDemoArgs} does ({@link UsageError});
 * an image beyond `MAX_IMAGE_PIXELS` is refused from its header before it is
 * decoded (`ImageDecodeError`).
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
 *   contradicts, a dynamic height and width with neither `crop` nor `resize`.
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
  const networks = options.onnx === undefined
    ? await builtInNetworks(options)
    : [await onnxNetwork(options)];

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

  const tick = progressReporter(progress);
  const reports: ModelReport[] = [];
  try {
    for (const network of networks) {
      reports.push(await measure(network, backends, options.runs, tick));
    }
  } finally {
    for (const backend of backends) backend.dispose();
  }
  return {
    factorizationCosts: options.onnx === undefined
      ? factorizationCosts().map(({ label, multiplyAdds, parameters }) => ({
        label,
        multiplyAdds,
        parameters,
      }))
      : [],
    models: reports,
    skipped,
  };
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
  lines.push("== Cost model (ours vs the papers) ==");
  for (const model of report.models) {
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
        `       top-5: ${
          run.top5.map((t) =>
            `${t.index}${t.label === undefined ? "" : ` ${t.label}`} (${
              (100 * t.probability).toFixed(1)
            }%)`
          ).join(", ")
        }`,
      );
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
