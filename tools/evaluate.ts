/**
 * Evaluates the trained Fashion-MNIST networks on our engine: each model of a
 * card (`models/pretrained/fashion-mnist/card.json`, written by
 * `tools/train/card.py`) is loaded with `loadOnnx`, checked against the
 * library's builder and cost model, and run on every backend over the test
 * set, preprocessed exactly as the card says. It prints accuracy, torch's
 * accuracy on the same images, the agreement of our predictions with torch's
 * (the card's committed file of them) and the throughput at batch 1 and at a
 * larger batch.
 *
 * ```sh
 * deno task evaluate                                  # every model of the card, every backend
 * deno task evaluate --model mobilenet_v1_0.5_32 --backend wasm --limit 1000
 * deno task evaluate --model tools/train/testdata/mobilenet_v1_0.1_32.onnx --json
 * ```
 *
 * The test set is read from Debian's `dataset-fashion-mnist`
 * (`/usr/share/datasets/fashion-mnist`, or `--data DIR`). The exit status is
 * 0 when every row agrees with torch on at least 99.9 % of the images, 1 when
 * one does not or something fails, 2 for a usage error.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import {
  type Backend,
  BackendUnavailableError,
  conv2d,
  type Conv2dDescriptor,
  descriptorKey,
  InvalidArgumentError,
  type OpDescriptor,
} from "@mobileops/core";
import { mobilenetV1, shufflenetV1, summary } from "@mobileops/models";
import { loadOnnx, type OnnxModel } from "@mobileops/onnx";
import { BACKEND_NAMES, type BackendName, createBackend } from "@mobileops/registry";
import { CardError, type CardModel, parseCard, preprocess } from "./fashion_mnist.ts";

// Still exported from here, where the demo, the tools and the peers harness import them.
export {
  CardError,
  type CardModel,
  parseCard,
  preprocess,
  type Preprocessing,
} from "./fashion_mnist.ts";

/** Where Debian's `dataset-fashion-mnist` installs the data set. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** The committed networks' card, `models/pretrained/fashion-mnist/card.json`, as an absolute path. */
export const DEFAULT_CARD: string = fileURLToPath(
  new URL("../models/pretrained/fashion-mnist/card.json", import.meta.url),
);

/**
 * The least fraction of images on which our predictions must equal torch's.
 * Two classifiers that agree on a fraction `a` differ in accuracy by at most
 * `1 − a`, so this also holds accuracy within 0.1 percentage point of torch's.
 */
export const REQUIRED_AGREEMENT = 0.999;

const TEST_FILES = { images: "t10k-images-idx3-ubyte.gz", labels: "t10k-labels-idx1-ubyte.gz" };
const APT_HINT = "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) " +
  "or pass --data DIR";
const DEFAULT_BATCH = 64;
const MAX_BATCH = 1024;

const USAGE = `usage: deno task evaluate [options]
  --card FILE      the card (default models/pretrained/fashion-mnist/card.json; with a
                   --model FILE.onnx, the card.json beside it)
  --model M        a model of the card, by name or by its .onnx file; repeatable (default: all)
  --backend NAMES  comma-separated, from ${BACKEND_NAMES.join(",")} (default: every one that starts)
  --limit N        only the first N test images, 1 to 10000 (default: all)
  --batch B        the larger batch timed besides batch 1, 1 to ${MAX_BATCH} (default ${DEFAULT_BATCH};
                   1 times batch 1 only)
  --data DIR       the Fashion-MNIST files (default ${FASHION_MNIST_DIR},
                   Debian's dataset-fashion-mnist)
  --json           print one JSON array, a row per model and backend
  --help, -h       print this text`;

/**
 * A command-line mistake, naming the flag and its value; {@link main} prints
 * it with the usage and exits with status 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEvaluateArgs, UsageError } from "./evaluate.ts";
 * assert.throws(() => parseEvaluateArgs(["--limit", "1e3"]), UsageError);
 * ```
 */
export class UsageError extends InvalidArgumentError {
  /** Always `"UsageError"`, so `String(error)` and stack traces show the class. */
  override name = "UsageError";
}

/**
 * The Fashion-MNIST files are missing or malformed; the message says where
 * they were looked for and which Debian package installs them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatasetError, readTestSet } from "./evaluate.ts";
 * assert.throws(() => readTestSet("/nonexistent"), DatasetError);
 * ```
 */
export class DatasetError extends InvalidArgumentError {
  /** Always `"DatasetError"`, so `String(error)` and stack traces show the class. */
  override name = "DatasetError";
}

/**
 * Reads an idx file (uncompressed bytes): the magic `0x0000 08 d` (unsigned
 * bytes, `d` dimensions), `d` big-endian 32-bit sizes, then the data. Throws
 * {@link DatasetError} (field `field`) for another type or dimension count,
 * or a size that does not match the data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readIdx } from "./evaluate.ts";
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
 * const { shape, data } = readIdx(bytes, 1, "labels");
 * assert.deepEqual([shape, [...data]], [[3], [7, 8, 9]]);
 * ```
 */
export function readIdx(
  bytes: Uint8Array,
  dimensions: number,
  field: string,
): { shape: number[]; data: Uint8Array } {
  const header = 4 + 4 * dimensions;
  if (
    bytes.length < header || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 8 ||
    bytes[3] !== dimensions
  ) {
    throw new DatasetError(
      field,
      [...bytes.subarray(0, 4)],
      `is not an idx file of unsigned bytes in ${dimensions} dimension(s)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, header);
  const shape = Array.from({ length: dimensions }, (_, i) => view.getUint32(4 + 4 * i));
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - header !== size) {
    throw new DatasetError(
      field,
      shape,
      `needs ${size} bytes of data, the file has ${bytes.length - header}`,
    );
  }
  return { shape, data: bytes.subarray(header) };
}

/** The Fashion-MNIST test set: images row-major, one byte per pixel. */
export interface TestSet {
  /** `count` images of `height` × `width` bytes. */
  readonly images: Uint8Array;
  /** `count` class indices. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** The image file read. */
  readonly source: string;
}

function readGzipped(directory: string, file: string): Uint8Array {
  const path = join(directory, file);
  if (!existsSync(path)) {
    throw new DatasetError("data", directory, `has no ${file}: ${APT_HINT}`);
  }
  try {
    return new Uint8Array(gunzipSync(readFileSync(path)));
  } catch (error) {
    throw new DatasetError("data", path, `cannot be decompressed: ${(error as Error).message}`);
  }
}

/**
 * Reads the Fashion-MNIST test set from `directory` (default
 * {@link FASHION_MNIST_DIR}): `t10k-images-idx3-ubyte.gz` and
 * `t10k-labels-idx1-ubyte.gz`, gunzipped with `node:zlib`. Throws
 * {@link DatasetError} naming the directory, and Debian's package, when a
 * file is missing; naming the file when it is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatasetError, readTestSet } from "./evaluate.ts";
 * assert.throws(
 *   () => readTestSet("/nonexistent"),
 *   (e: unknown) => e instanceof DatasetError && /apt-get install dataset-fashion-mnist/.test(e.message),
 * );
 * ```
 */
export function readTestSet(directory: string = FASHION_MNIST_DIR): TestSet {
  const images = readIdx(readGzipped(directory, TEST_FILES.images), 3, TEST_FILES.images);
  const labels = readIdx(readGzipped(directory, TEST_FILES.labels), 1, TEST_FILES.labels);
  const [count, height, width] = images.shape;
  if (labels.shape[0] !== count) {
    throw new DatasetError(TEST_FILES.labels, labels.shape, `must hold ${count} labels`);
  }
  return {
    images: images.data,
    labels: labels.data,
    count,
    height,
    width,
    source: join(directory, TEST_FILES.images),
  };
}

/**
 * The operators of the network a card entry names, as the library builds it:
 * `mobilenetV1` / `shufflenetV1` with the entry's options; for `"full-conv"`
 * each depthwise + pointwise pair becomes one dense convolution of the
 * depthwise's kernel, stride and padding and the pointwise's outputs and
 * activation; for `"no-shuffle"` the channel shuffles are left out. Returned
 * as sorted `descriptorKey`s, since a ShuffleNet exported from PyTorch
 * computes each stride-2 shortcut after its branch and the builder before.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtStructure } from "./evaluate.ts";
 * const options = { alpha: 0.25, resolution: 32, classes: 10 };
 * assert(builtStructure({ architecture: "mobilenet_v1", options, ablation: "none" }).length === 29);
 * assert(builtStructure({ architecture: "mobilenet_v1", options, ablation: "full-conv" }).length === 16);
 * ```
 */
export function builtStructure(
  model: Pick<CardModel, "architecture" | "options" | "ablation">,
): string[] {
  const { alpha, groups, scale, resolution, classes } = model.options;
  let descriptors: OpDescriptor[];
  if (model.architecture === "shufflenet_v1") {
    descriptors = shufflenetV1({ groups, scale, resolution, classes }).graph.nodes
      .map((node) => node.descriptor)
      .filter((d) => model.ablation !== "no-shuffle" || d.op !== "channelShuffle");
  } else {
    const nodes = mobilenetV1({ alpha, resolution, classes }).graph.nodes;
    descriptors = [];
    for (const [i, node] of nodes.entries()) {
      if (model.ablation === "full-conv" && node.name.endsWith(".depthwise")) continue;
      if (model.ablation === "full-conv" && node.name.endsWith(".pointwise")) {
        const depthwise = nodes[i - 1].descriptor as Conv2dDescriptor;
        const pointwise = node.descriptor as Conv2dDescriptor;
        descriptors.push(conv2d({
          inChannels: depthwise.inChannels,
          outChannels: pointwise.outChannels,
          kernel: depthwise.kernel,
          stride: depthwise.stride,
          padding: depthwise.padding,
          bias: true,
          activation: pointwise.activation,
        }));
      } else {
        descriptors.push(node.descriptor);
      }
    }
  }
  return descriptors.map(descriptorKey).sort();
}

/** Our engine's result for one model on one backend. */
export interface EvaluationRow {
  /** The card entry's name. */
  readonly model: string;
  /** The backend's registered name. */
  readonly backend: BackendName;
  /** Fraction of the images our engine classifies correctly (batch 1). */
  readonly accuracy: number;
  /** Fraction torch classified correctly, from its committed predictions. */
  readonly torchAccuracy: number;
  /** Fraction on which our class equals torch's. */
  readonly agreement: number;
  /** Images per second at batch 1 (upload, run and download; preprocessing excluded). */
  readonly imagesPerSecond: number;
  /** Images evaluated: the first `images` of the test set. */
  readonly images: number;
  /** The larger batch timed, or `null` when the model's batch is fixed or `--batch` is 1. */
  readonly batch: number | null;
  /** Images per second at `batch`, over the whole batches among the images, or `null`. */
  readonly batchImagesPerSecond: number | null;
}

/** What {@link evaluate} runs; {@link parseEvaluateArgs} makes it from the command line. */
export interface EvaluateOptions {
  /** The card.json path; default {@link DEFAULT_CARD}, or the card beside a `.onnx` model. */
  readonly card?: string;
  /** Models by name or `.onnx` path; empty for all. */
  readonly models: readonly string[];
  /** The backends to run, in order; empty for every one of `BACKEND_NAMES` that starts. */
  readonly backends: readonly BackendName[];
  /** The first `limit` test images; default all. */
  readonly limit?: number;
  /** The larger batch; 1 for batch 1 only. */
  readonly batch: number;
  /** The data set's directory. */
  readonly data: string;
  /** Print JSON instead of a table. */
  readonly json: boolean;
}

const PLAIN_INTEGER = /^\d+$/;

function integerFlag(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!PLAIN_INTEGER.test(value) || n < 1 || n > max) {
    throw new UsageError(flag, value, `must be an integer from 1 to ${max}`);
  }
  return n;
}

/**
 * Parses the command line strictly (`node:util` `parseArgs`): an unknown
 * flag, a positional argument, a missing value, a number that is not a plain
 * integer in range or an unknown backend throws {@link UsageError} naming the
 * flag and the value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEvaluateArgs } from "./evaluate.ts";
 * const options = parseEvaluateArgs(["--backend", "js,wasm", "--limit", "500", "--json"]);
 * assert.deepEqual([options.backends, options.limit, options.batch, options.json], [["js", "wasm"], 500, 64, true]);
 * ```
 */
export function parseEvaluateArgs(args: readonly string[]): EvaluateOptions {
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
        card: { type: "string" },
        model: { type: "string", multiple: true, default: [] },
        backend: { type: "string" },
        limit: { type: "string" },
        batch: { type: "string" },
        data: { type: "string", default: FASHION_MNIST_DIR },
        json: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError("arguments", args, (error as Error).message);
  }
  const backends = values.backend === undefined ? [] : values.backend.split(",");
  for (const [i, name] of backends.entries()) {
    if (!(BACKEND_NAMES as readonly string[]).includes(name) || backends.indexOf(name) !== i) {
      throw new UsageError(
        "--backend",
        values.backend,
        `must name each backend once, from ${BACKEND_NAMES.join(", ")}`,
      );
    }
  }
  for (const [flag, value] of [["--card", values.card], ["--data", values.data]] as const) {
    if (value === "") throw new UsageError(flag, value, "must be a path");
  }
  return {
    card: values.card,
    models: values.model,
    backends: backends as BackendName[],
    limit: integerFlag("--limit", values.limit, 10_000),
    batch: integerFlag("--batch", values.batch, MAX_BATCH) ?? DEFAULT_BATCH,
    data: values.data,
    json: values.json,
  };
}

/** The card's path: given, or the one beside a `.onnx` model, or the default. */
function cardPath(options: EvaluateOptions): string {
  if (options.card !== undefined) return options.card;
  const file = options.models.find((model) => model.endsWith(".onnx"));
  return file === undefined ? DEFAULT_CARD : join(dirname(file), "card.json");
}

/**
 * Reads the card at `path` and {@link parseCard}s it, without touching the
 * files it lists ({@link loadModel} checks those). Throws {@link CardError}
 * (field `card`) when the file cannot be read as JSON, and as `parseCard`
 * does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CardError, readCard } from "./evaluate.ts";
 * const [entry] = readCard(new URL("./train/testdata/card.json", import.meta.url).pathname);
 * assert.deepEqual([entry.name, entry.classes.length], ["mobilenet_v1_0.1_32", 10]);
 * assert.throws(() => readCard("/nonexistent/card.json"), CardError);
 * ```
 */
export function readCard(path: string): CardModel[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new CardError("card", path, `cannot be read as JSON: ${(error as Error).message}`);
  }
  return parseCard(json);
}

function selectModels(all: CardModel[], wanted: readonly string[], directory: string) {
  if (wanted.length === 0) return all;
  return wanted.map((want) => {
    const found = all.find((model) =>
      model.name === want || resolve(directory, model.file) === resolve(want)
    );
    if (found === undefined) {
      throw new UsageError(
        "--model",
        want,
        `is not in the card; it has ${all.map((m) => m.name).join(", ")}`,
      );
    }
    return found;
  });
}

/** The model's file, checked against the card's SHA-256. */
function readModelFile(model: CardModel, directory: string, field: string): Uint8Array {
  const path = join(directory, model.file);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new CardError(`${field}.file`, path, `cannot be read: ${(error as Error).message}`);
  }
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== model.sha256) {
    throw new CardError(`${field}.sha256`, model.sha256, `${path} has SHA-256 ${digest}`);
  }
  return bytes;
}

function readPredictions(model: CardModel, directory: string, field: string): Uint8Array {
  const path = join(directory, model.predictions);
  let content: string;
  try {
    content = readFileSync(path, "utf8").replace(/\n$/, "");
  } catch (error) {
    throw new CardError(
      `${field}.predictions`,
      path,
      `cannot be read: ${(error as Error).message}`,
    );
  }
  const digits = new RegExp(`^[0-${model.options.classes - 1}]{${model.torch.testImages}}$`);
  if (!digits.test(content)) {
    throw new CardError(
      `${field}.predictions`,
      path,
      `must hold ${model.torch.testImages} class digits (0 to ${model.options.classes - 1})`,
    );
  }
  return Uint8Array.from(content, (digit) => digit.charCodeAt(0) - 48);
}

/** The imported graph must be the builder's, and cost what the card says. */
function checkModel(onnx: OnnxModel, model: CardModel, field: string): void {
  const imported = onnx.graph.nodes.map((node) => descriptorKey(node.descriptor)).sort();
  if (imported.join("\n") !== builtStructure(model).join("\n")) {
    throw new CardError(
      `${field}.architecture`,
      model.architecture,
      `${model.file} does not import as the library's ${model.architecture} with options ` +
        `${JSON.stringify(model.options)} and ablation "${model.ablation}"`,
    );
  }
  const totals = summary(onnx.graph).totals;
  for (const key of ["multiplyAdds", "parameters"] as const) {
    if (totals[key] !== model.cost[key]) {
      throw new CardError(
        `${field}.cost.${key}`,
        model.cost[key],
        `our cost model counts ${totals[key]} for the imported graph`,
      );
    }
  }
}

/** A card's model: its entry, its file checked and imported at batch 1, torch's predictions. */
export interface LoadedModel {
  /** The card's entry. */
  readonly entry: CardModel;
  /** Where the entry is in the card, e.g. `models[2]`, for errors. */
  readonly field: string;
  /** The ONNX file. */
  readonly bytes: Uint8Array;
  /** The file imported with batch 1. */
  readonly onnx: OnnxModel;
  /** Torch's class for each test image. */
  readonly predictions: Uint8Array;
}

/**
 * Reads one card entry's files from `directory` (the card's) and checks them
 * against it: the ONNX file's SHA-256, its graph imported at batch 1 against
 * the library's builder ({@link builtStructure}), its multiply-adds and
 * parameters against our cost model (`summary` of the imported graph), and
 * the predictions file (a class digit per test image). Throws
 * {@link CardError} naming the entry's field (under `field`) that does not
 * hold.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CardError, loadModel, parseCard } from "./evaluate.ts";
 * const card = new URL("./train/testdata/card.json", import.meta.url).pathname;
 * const [entry] = parseCard(JSON.parse(Deno.readTextFileSync(card)));
 * assert(loadModel(entry, card.replace(/card\.json$/, "")).onnx.graph.nodes.length === 29);
 * const wider = { ...entry, options: { ...entry.options, alpha: 0.125 } };
 * assert.throws(() => loadModel(wider, card.replace(/card\.json$/, "")), CardError);
 * ```
 */
export function loadModel(entry: CardModel, directory: string, field = "model"): LoadedModel {
  const bytes = readModelFile(entry, directory, field);
  const [, channels, height, width] = entry.inputShape;
  const onnx = loadOnnx(bytes, { inputShape: [1, channels, height, width] });
  checkModel(onnx, entry, field);
  return { entry, field, bytes, onnx, predictions: readPredictions(entry, directory, field) };
}

/**
 * Reads the card at `path` and {@link loadModel}s the models it lists — or
 * those `names` names, by name or by `.onnx` path. Throws {@link CardError}
 * for a malformed card or an entry its files do not match, and
 * {@link UsageError} (field `--model`) for a name the card does not have.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCard } from "./evaluate.ts";
 * const [model] = loadCard(new URL("./train/testdata/card.json", import.meta.url).pathname);
 * assert(model.entry.name === "mobilenet_v1_0.1_32" && model.predictions.length === 10000);
 * ```
 */
export function loadCard(path: string, names: readonly string[] = []): LoadedModel[] {
  const directory = dirname(path);
  const all = readCard(path);
  return selectModels(all, names, directory)
    .map((entry) => loadModel(entry, directory, `models[${all.indexOf(entry)}]`));
}

function argmax(logits: Float32Array, offset: number, length: number): number {
  let best = 0;
  // Strictly greater: the first of equal maxima wins, as torch.argmax does.
  for (let i = 1; i < length; i++) if (logits[offset + i] > logits[offset + best]) best = i;
  return best;
}

/**
 * Runs `onnx` (its batch `B` = `onnx.input.shape[0]`) over `count` images in
 * groups of `B` and returns each image's class and the seconds spent in
 * upload, run and download. `inputs(i)` is image `i`'s NCHW input, one
 * batch entry. One untimed warm-up run first, so that V8 has compiled the
 * kernels. Only whole batches run: the last `count % B` classes stay 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBackend } from "@mobileops/registry";
 * import { classify, loadCard } from "./evaluate.ts";
 * const [model] = loadCard(new URL("./train/testdata/card.json", import.meta.url).pathname);
 * using backend = await createBackend("js");
 * const { classes, seconds } = await classify(model.onnx, backend, () => new Float32Array(3 * 32 * 32), 2);
 * assert(classes.length === 2 && classes[0] === classes[1] && seconds > 0);
 * ```
 */
export async function classify(
  onnx: OnnxModel,
  backend: Backend,
  inputs: (index: number) => Float32Array,
  count: number,
): Promise<{ classes: Uint8Array; seconds: number }> {
  const batch = onnx.input.shape[0];
  const classes = onnx.output.shape[1];
  const size = onnx.input.shape.slice(1).reduce((a, b) => a * b, 1);
  using compiled = await onnx.compile(backend);
  const nchw = new Float32Array(batch * size);
  const fill = (first: number) => {
    for (let i = 0; i < batch; i++) nchw.set(inputs(first + i), i * size);
    return onnx.toGraphInput(nchw);
  };
  const warmup = fill(0);
  {
    using tensor = backend.upload(warmup, onnx.input.graphShape);
    await compiled.run(tensor).download();
  }
  const predicted = new Uint8Array(count);
  let seconds = 0;
  for (let first = 0; first + batch <= count; first += batch) {
    const data = fill(first);
    const started = performance.now();
    using tensor = backend.upload(data, onnx.input.graphShape);
    const logits = onnx.fromGraphOutput(await compiled.run(tensor).download());
    seconds += (performance.now() - started) / 1000;
    for (let i = 0; i < batch; i++) predicted[first + i] = argmax(logits, i * classes, classes);
  }
  return { classes: predicted, seconds };
}

async function startBackends(
  names: readonly BackendName[],
  progress: (line: string) => void,
): Promise<Backend[]> {
  const backends: Backend[] = [];
  for (const name of names.length > 0 ? names : BACKEND_NAMES) {
    try {
      backends.push(await createBackend(name));
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      progress(`${name}: not available here (${error.message})`);
    }
  }
  if (backends.length === 0) {
    throw new BackendUnavailableError(names.join(", ") || BACKEND_NAMES.join(", "), "none started");
  }
  return backends;
}

/**
 * Evaluates the card's models (or those `options.models` names), loaded and
 * checked by {@link loadCard}, on each backend over the first
 * `options.limit` test images: every image at batch 1 for accuracy,
 * agreement with torch and images/s, then, when the model's batch is dynamic
 * and `options.batch` > 1, the whole batches of that size for images/s. On
 * the whole test set, torch's accuracy from the predictions file must be the
 * card's ({@link CardError}). `progress` receives a line per model and
 * backend. Throws {@link DatasetError} when the test set is missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatasetError, evaluate } from "./evaluate.ts";
 * const card = new URL("./train/testdata/card.json", import.meta.url).pathname;
 * const options = { card, models: [], backends: ["js"], batch: 1, data: "/nonexistent", json: false } as const;
 * await assert.rejects(evaluate(options), DatasetError); // where it looked, and `apt-get install dataset-fashion-mnist`
 * ```
 */
export async function evaluate(
  options: EvaluateOptions,
  progress: (line: string) => void = () => {},
): Promise<EvaluationRow[]> {
  const models = loadCard(cardPath(options), options.models);
  const test = readTestSet(options.data);
  const count = Math.min(options.limit ?? test.count, test.count);
  const batch = Math.min(options.batch, count);
  const rows: EvaluationRow[] = [];
  const backends = await startBackends(options.backends, progress);
  try {
    for (const { entry, field, bytes, onnx, predictions } of models) {
      if (test.count !== entry.torch.testImages) {
        throw new CardError(
          `${field}.torch.testImages`,
          entry.torch.testImages,
          `the test set has ${test.count} images`,
        );
      }
      let torchCorrect = 0;
      for (let i = 0; i < count; i++) torchCorrect += predictions[i] === test.labels[i] ? 1 : 0;
      const torchAccuracy = torchCorrect / count;
      if (count === test.count && Math.abs(torchAccuracy - entry.torch.testAccuracy) > 5e-7) {
        throw new CardError(
          `${field}.torch.testAccuracy`,
          entry.torch.testAccuracy,
          `${entry.predictions} gives ${torchAccuracy}`,
        );
      }
      const [, channels, height, width] = entry.inputShape;
      const batched = entry.inputShape[0] === "batch" && batch > 1
        ? loadOnnx(bytes, { inputShape: [batch, channels, height, width] })
        : undefined;
      const pixels = test.height * test.width;
      const inputs = (i: number) =>
        preprocess(test.images.subarray(i * pixels, (i + 1) * pixels), entry.preprocessing);
      for (const backend of backends) {
        progress(`${entry.name} on ${backend.name}: ${count} images at batch 1`);
        const ours = await classify(onnx, backend, inputs, count);
        let correct = 0;
        let agree = 0;
        for (let i = 0; i < count; i++) {
          correct += ours.classes[i] === test.labels[i] ? 1 : 0;
          agree += ours.classes[i] === predictions[i] ? 1 : 0;
        }
        let batchImagesPerSecond: number | null = null;
        if (batched !== undefined) {
          progress(`${entry.name} on ${backend.name}: batch ${batch}`);
          const timed = await classify(batched, backend, inputs, count);
          batchImagesPerSecond = Math.floor(count / batch) * batch / timed.seconds;
        }
        rows.push({
          model: entry.name,
          backend: backend.name as BackendName,
          accuracy: correct / count,
          torchAccuracy,
          agreement: agree / count,
          imagesPerSecond: count / ours.seconds,
          images: count,
          batch: batched === undefined ? null : batch,
          batchImagesPerSecond,
        });
      }
    }
  } finally {
    for (const backend of backends) backend.dispose();
  }
  return rows;
}

/**
 * A fraction as a percentage with two decimals, as the tables print it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percent } from "./evaluate.ts";
 * assert.equal(percent(0.8812), "88.12 %");
 * ```
 */
export function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(2)} %`;
}

/**
 * The rows as a table: accuracy, torch's, agreement and images/s per model
 * and backend, each row that agrees on less than {@link REQUIRED_AGREEMENT}
 * marked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRows } from "./evaluate.ts";
 * const row = { model: "m", backend: "js", accuracy: 0.9, torchAccuracy: 0.9, agreement: 1, imagesPerSecond: 1000, images: 500, batch: null, batchImagesPerSecond: null } as const;
 * assert.match(formatRows([row]), /m +js +90\.00 % +90\.00 % +100\.00 % +1000 +–/);
 * ```
 */
export function formatRows(rows: readonly EvaluationRow[]): string {
  const table = [
    ["model", "backend", "accuracy", "torch", "agreement", "images/s", "batch images/s"],
    ...rows.map((row) => [
      row.model,
      row.backend,
      percent(row.accuracy),
      percent(row.torchAccuracy),
      percent(row.agreement) + (row.agreement < REQUIRED_AGREEMENT ? " (below 99.9 %)" : ""),
      row.imagesPerSecond.toFixed(0),
      row.batchImagesPerSecond === null
        ? "–"
        : `${row.batchImagesPerSecond.toFixed(0)} (batch ${row.batch})`,
    ]),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((line) => line[c].length)));
  return table.map((line) => line.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd())
    .join("\n");
}

/**
 * The command: parses `args`, evaluates and prints the table (or JSON with
 * `--json`); progress goes to stderr. Returns the exit status: 0, 1 when a
 * row agrees with torch on less than {@link REQUIRED_AGREEMENT} or anything
 * fails (the error's class and message on stderr), 2 for a usage error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./evaluate.ts";
 * assert((await main(["--limit", "0"])) === 2);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  if (Array.isArray(args) && (args.includes("--help") || args.includes("-h"))) {
    console.log(USAGE);
    return 0;
  }
  let options: EvaluateOptions;
  try {
    options = parseEvaluateArgs(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  let rows: EvaluationRow[];
  try {
    rows = await evaluate(options, (line) => console.error(line));
  } catch (error) {
    console.error(`${(error as Error).name}: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  }
  if (options.json) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    const images = rows[0]?.images ?? 0;
    console.log(`test set: the first ${images} images of ${join(options.data, TEST_FILES.images)}`);
    console.log(formatRows(rows));
  }
  const below = rows.filter((row) => row.agreement < REQUIRED_AGREEMENT);
  for (const row of below) {
    console.error(
      `${row.model} on ${row.backend}: agrees with torch on ${percent(row.agreement)} of the ` +
        `images, below ${percent(REQUIRED_AGREEMENT)}`,
    );
  }
  return below.length > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
