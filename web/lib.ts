/**
 * What the browser demo does, without the page: the networks it offers,
 * loading them (ONNX files fetched by URL, or the ImageNet-size builders),
 * turning a decoded image into a network's input, top-5, time per layer and
 * the benchmark. Nothing here touches the DOM or Deno, so the page
 * (`web/app.ts`), the Deno side of `web/bench_browser.ts` and the tests run
 * the same code.
 *
 * @module
 */

import { type Backend, InvalidArgumentError, type Tensor } from "@mobileops/core";
import { type CompiledModel, compileGraph, type ModelGraph } from "@mobileops/graph";
import { imageToInput, type RgbImage } from "@mobileops/image";
import { mobilenetV1, shufflenetV1 } from "@mobileops/models";
import { loadOnnx } from "@mobileops/onnx";

/** A network the page offers. */
export interface NetworkChoice {
  /** Stable id, used in the page's `<select>` and by the tests. */
  readonly id: string;
  /** What the page shows. */
  readonly label: string;
  /** `fashion`: trained here on Fashion-MNIST (ONNX, 10 classes); `imagenet`: random weights, 1000 classes. */
  readonly kind: "fashion" | "imagenet";
}

/** How a Fashion-MNIST card turns a 28×28 8-bit gray image into the NCHW input (card.json `preprocessing`). */
export interface FashionPreprocessing {
  /** `[height, width]` of the gray image. */
  readonly image: readonly [number, number];
  /** Each pixel repeated `replicate` × `replicate` times. */
  readonly replicate: number;
  /** Pixels added `[top, left, bottom, right]`. */
  readonly pad: readonly [number, number, number, number];
  /** The 8-bit value of the added pixels. */
  readonly padValue: number;
  /** `v` becomes `(v − mean) / std` in float64, rounded once to float32. */
  readonly mean: number;
  /** See `mean`. */
  readonly std: number;
  /** The gray plane is copied to this many channels. */
  readonly channels: number;
}

/** A card entry, as far as the page needs it. */
export interface CardEntry {
  /** e.g. `mobilenet_v1_0.25_32`. */
  readonly name: string;
  /** The ONNX file, relative to the card. */
  readonly file: string;
  /** `none`, or the ablation (`full-conv`, `no-shuffle`). */
  readonly ablation: string;
  /** The class names by index. */
  readonly classes: readonly string[];
  /** See {@link FashionPreprocessing}. */
  readonly preprocessing: FashionPreprocessing;
}

/** A loaded network: its graph, how an image becomes its input, and its class names. */
export interface Network {
  /** The choice it was loaded for. */
  readonly choice: NetworkChoice;
  /** The graph (NHWC input). */
  readonly graph: ModelGraph;
  /** Class names by index; absent for random weights (classes are shown by index). */
  readonly labels?: readonly string[];
  /** A decoded image → the graph's input data (NHWC, `graph.inputShape`). */
  readonly input: (image: RgbImage) => Float32Array;
  /** How `input` treats an image, in a sentence for the page. */
  readonly inputDescription: string;
}

/** The built-in ImageNet-size networks, seeded random weights: for speed, not for answers. */
export const IMAGENET_CHOICES: readonly NetworkChoice[] = Object.freeze([
  { id: "mobilenet_v1_1.0_224", label: "MobileNet v1 1.0-224 (random weights)", kind: "imagenet" },
  {
    id: "shufflenet_v1_1x_g3_224",
    label: "ShuffleNet v1 1× g=3 (random weights)",
    kind: "imagenet",
  },
]);

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidArgumentError(field, value, "must be an object");
  }
  return value as Record<string, unknown>;
}

function numbers(value: unknown, field: string, length: number): number[] {
  if (
    !Array.isArray(value) || value.length !== length ||
    value.some((v) => typeof v !== "number" || !Number.isFinite(v))
  ) {
    throw new InvalidArgumentError(field, value, `must be ${length} finite numbers`);
  }
  return value;
}

function finite(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new InvalidArgumentError(field, value, "must be a finite number");
  }
  return value;
}

/**
 * The models of a parsed Fashion-MNIST `card.json`, with the fields the page
 * uses checked (the full card is checked by `tools/evaluate.ts`'s
 * `parseCard`, which needs Deno's file APIs). Throws core's
 * `InvalidArgumentError` naming the field that is missing or malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cardEntries } from "./lib.ts";
 * const card = JSON.parse(
 *   Deno.readTextFileSync(new URL("../models/pretrained/fashion-mnist/card.json", import.meta.url)),
 * );
 * assert.equal(cardEntries(card)[0].classes.length, 10);
 * assert.throws(() => cardEntries({ models: [{}] }), /models\[0\]\.name/);
 * ```
 */
export function cardEntries(card: unknown): CardEntry[] {
  const models = object(card, "card").models;
  if (!Array.isArray(models) || models.length === 0) {
    throw new InvalidArgumentError("models", models, "must be a non-empty array");
  }
  return models.map((value, i) => {
    const field = `models[${i}]`;
    const m = object(value, field);
    for (const key of ["name", "file", "ablation"]) {
      if (typeof m[key] !== "string" || m[key] === "") {
        throw new InvalidArgumentError(`${field}.${key}`, m[key], "must be a non-empty string");
      }
    }
    const classes = m.classes;
    if (!Array.isArray(classes) || classes.some((name) => typeof name !== "string")) {
      throw new InvalidArgumentError(`${field}.classes`, classes, "must be an array of strings");
    }
    const p = object(m.preprocessing, `${field}.preprocessing`);
    const [height, width] = numbers(p.image, `${field}.preprocessing.image`, 2);
    const [top, left, bottom, right] = numbers(p.pad, `${field}.preprocessing.pad`, 4);
    const std = finite(p.std, `${field}.preprocessing.std`);
    if (std === 0) {
      throw new InvalidArgumentError(`${field}.preprocessing.std`, std, "must not be 0");
    }
    return {
      name: m.name as string,
      file: m.file as string,
      ablation: m.ablation as string,
      classes,
      preprocessing: {
        image: [height, width],
        replicate: finite(p.replicate, `${field}.preprocessing.replicate`),
        pad: [top, left, bottom, right],
        padValue: finite(p.padValue, `${field}.preprocessing.padValue`),
        mean: finite(p.mean, `${field}.preprocessing.mean`),
        std,
        channels: finite(p.channels, `${field}.preprocessing.channels`),
      },
    };
  });
}

/**
 * Every network the page offers: the card's models in card order, then the
 * ImageNet-size ones ({@link IMAGENET_CHOICES}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkChoices } from "./lib.ts";
 * const choices = networkChoices([{ name: "m", file: "m.onnx", ablation: "none", classes: [], preprocessing: {} as never }]);
 * assert.deepEqual(choices.map((c) => c.kind), ["fashion", "imagenet", "imagenet"]);
 * ```
 */
export function networkChoices(entries: readonly CardEntry[]): NetworkChoice[] {
  return [
    ...entries.map((entry): NetworkChoice => ({
      id: entry.name,
      label: `${entry.name} (Fashion-MNIST${
        entry.ablation === "none" ? "" : `, ablation: ${entry.ablation}`
      })`,
      kind: "fashion",
    })),
    ...IMAGENET_CHOICES,
  ];
}

/** `--invert auto` of the demo: a light border (mean above this) means a light background. */
const LIGHT_BORDER = 127.5;

/** A Fashion-MNIST network's view of an image: `side`×`side` 8-bit gray, light object on black. */
export interface GrayImage {
  /** Row-major gray values after any inversion. */
  readonly pixels: Uint8Array;
  /** The mean of the outermost ring of pixels before any inversion. */
  readonly borderMean: number;
  /** Whether the values were inverted (255 − v) because the border is light. */
  readonly inverted: boolean;
}

/**
 * An RGB image → `side`×`side` 8-bit gray as the demo's `toFashionImage`
 * (demo.ts) makes it with `--invert auto`: bilinear resize by
 * `imageToInput`, BT.601 luma `(299 R + 587 G + 114 B) / 1000` rounded,
 * inverted when the border averages above 127.5. A 28×28 gray PNG comes
 * out as its own bytes. `web/lib_test.ts` checks it against demo.ts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toGray } from "./lib.ts";
 * const white = { width: 2, height: 2, data: new Uint8Array(12).fill(255) };
 * const gray = toGray(white, 2);
 * assert(gray.inverted && gray.pixels.every((v) => v === 0));
 * ```
 */
export function toGray(image: RgbImage, side: number): GrayImage {
  const rgb = imageToInput(image, side, { mean: 0, std: 1 });
  const pixels = new Uint8Array(side * side);
  let border = 0;
  for (let p = 0; p < pixels.length; p++) {
    pixels[p] = Math.round((299 * rgb[3 * p] + 587 * rgb[3 * p + 1] + 114 * rgb[3 * p + 2]) / 1000);
    const y = Math.floor(p / side);
    const x = p % side;
    if (y === 0 || x === 0 || y === side - 1 || x === side - 1) border += pixels[p];
  }
  const borderMean = border / (side === 1 ? 1 : 4 * side - 4);
  const inverted = borderMean > LIGHT_BORDER;
  if (inverted) pixels.forEach((v, p) => pixels[p] = 255 - v);
  return { pixels, borderMean, inverted };
}

/**
 * A gray image → the card's NCHW input, as `tools/evaluate.ts`'s
 * `preprocess` does it: replicate, pad with `padValue`, `(v − mean) / std`,
 * the plane copied to every channel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fashionInput } from "./lib.ts";
 * const spec = { image: [1, 1], replicate: 1, pad: [1, 1, 1, 1], padValue: 0, mean: 0, std: 2, channels: 2 } as const;
 * const input = fashionInput(new Uint8Array([4]), spec);
 * assert.deepEqual([...input.subarray(0, 9)], [0, 0, 0, 0, 2, 0, 0, 0, 0]);
 * assert.equal(input.length, 18);
 * ```
 */
export function fashionInput(pixels: Uint8Array, spec: FashionPreprocessing): Float32Array {
  const [height, width] = spec.image;
  if (!(pixels instanceof Uint8Array) || pixels.length !== height * width) {
    throw new InvalidArgumentError("pixels", pixels, `must be ${height}×${width} bytes`);
  }
  const { replicate, padValue, mean, std, channels } = spec;
  const [top, left, bottom, right] = spec.pad;
  const rows = height * replicate + top + bottom;
  const columns = width * replicate + left + right;
  const out = new Float32Array(channels * rows * columns);
  for (let y = 0; y < rows; y++) {
    const row = y - top;
    for (let x = 0; x < columns; x++) {
      const column = x - left;
      const inside = row >= 0 && row < height * replicate && column >= 0 &&
        column < width * replicate;
      const v = inside
        ? pixels[Math.floor(row / replicate) * width + Math.floor(column / replicate)]
        : padValue;
      out[y * columns + x] = (v - mean) / std;
    }
  }
  for (let c = 1; c < channels; c++) out.copyWithin(c * rows * columns, 0, rows * columns);
  return out;
}

/**
 * Loads a network: a card entry's ONNX file fetched from `cardUrl`'s
 * directory (batch 1), or an ImageNet-size builder with seeded random
 * weights. `fetchBytes` reads a URL (the page passes `fetch`; Deno reads
 * `file:` URLs with it too).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IMAGENET_CHOICES, loadNetwork } from "./lib.ts";
 * const network = await loadNetwork(IMAGENET_CHOICES[1], [], new URL("file:///"));
 * assert.deepEqual(network.graph.inputShape, [1, 224, 224, 3]);
 * ```
 */
export async function loadNetwork(
  choice: NetworkChoice,
  entries: readonly CardEntry[],
  cardUrl: URL,
): Promise<Network> {
  if (choice.kind === "imagenet") {
    const model = choice.id.startsWith("mobilenet")
      ? mobilenetV1({ alpha: 1, resolution: 224 })
      : shufflenetV1({ groups: 3, scale: 1, resolution: 224 });
    const side = model.inputShape[1];
    return {
      choice,
      graph: model.graph,
      input: (image) => imageToInput(image, side),
      inputDescription: `resized to ${side}×${side} (bilinear), scaled to [−1, 1]`,
    };
  }
  const entry = entries.find((e) => e.name === choice.id);
  if (entry === undefined) {
    throw new InvalidArgumentError("choice.id", choice.id, "is not a model of the card");
  }
  const response = await fetch(new URL(entry.file, cardUrl));
  if (!response.ok) {
    throw new InvalidArgumentError(
      "file",
      entry.file,
      `could not be fetched: ${response.status} ${response.statusText}`,
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const spec = entry.preprocessing;
  const [height, width] = spec.image;
  const side = height * spec.replicate + spec.pad[0] + spec.pad[2];
  const onnx = loadOnnx(bytes, { inputShape: [1, spec.channels, side, side] });
  return {
    choice,
    graph: onnx.graph,
    labels: entry.classes,
    input: (image) => onnx.toGraphInput(fashionInput(toGray(image, width).pixels, spec)),
    inputDescription: `gray ${width}×${height}, inverted when its border is light, padded to ` +
      `${side}×${side}, normalized, ${spec.channels} channels`,
  };
}

/** One class of a top-5. */
export interface Ranked {
  /** Class index. */
  readonly index: number;
  /** Class name, or `class <index>` without labels. */
  readonly label: string;
  /** Softmax probability. */
  readonly probability: number;
}

/**
 * The `k` most probable classes of `logits` (softmax in float64), most
 * probable first; ties keep the lower index first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topK } from "./lib.ts";
 * const [first, second] = topK(new Float32Array([0, 2, 1]), ["a", "b", "c"], 2);
 * assert.equal(first.label, "b");
 * assert.equal(second.index, 2);
 * ```
 */
export function topK(logits: Float32Array, labels?: readonly string[], k = 5): Ranked[] {
  const max = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps
    .map((e, index) => ({
      index,
      label: labels?.[index] ?? `class ${index}`,
      probability: e / total,
    }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, k);
}

/** How long each node of a graph took in one run. */
export interface LayerTime {
  /** The graph node's name. */
  readonly node: string;
  /** Its operator (`conv2d`, `depthwiseConv2d`, …). */
  readonly op: string;
  /** The kernel variant that ran it. */
  readonly variant: string;
  /** Milliseconds: the median over the runs profiled. */
  readonly ms: number;
}

/** {@link profileLayers}' answer: the time of each node and which clock measured it. */
export interface LayerProfile {
  /**
   * `device`: the backend's own clock (GPU timestamps); `cpu`: the wall time
   * of each synchronous run; `sync`: each node run alone and waited for
   * (`backend.run` then `backend.sync`), which adds one wait per node.
   */
  readonly clock: "device" | "cpu" | "sync";
  /** In node order. */
  readonly layers: readonly LayerTime[];
}

/**
 * Times each layer of `compiled` on `input`. Where the backend's
 * `time` measures the work itself (a synchronous backend's wall time, or a
 * device clock), `runs` compiled runs are timed and each layer's median
 * kept (one run's layer times jitter by a worker's wake-up or a collection);
 * where it can only time the enqueueing (a GPU without timestamp queries),
 * each node's kernel is run once alone and waited for, which is slower in
 * total but says where the time goes. The one place the page asks for time per layer, so that a
 * `compiled.profile(input)` of `@mobileops/graph` can replace it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileGraph } from "@mobileops/graph";
 * import { createBackend } from "@mobileops/registry";
 * import { IMAGENET_CHOICES, loadNetwork, profileLayers } from "./lib.ts";
 * using backend = await createBackend("js");
 * const { graph } = await loadNetwork(IMAGENET_CHOICES[1], [], new URL("file:///"));
 * using compiled = await compileGraph({ ...graph, inputShape: [1, 32, 32, 3] }, backend);
 * using input = backend.upload(new Float32Array(32 * 32 * 3), [1, 32, 32, 3]);
 * const profile = await profileLayers(compiled, input);
 * assert.equal(profile.layers.length, graph.nodes.length);
 * ```
 */
export async function profileLayers(
  compiled: CompiledModel,
  input: Tensor,
  runs = 5,
): Promise<LayerProfile> {
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
    throw new InvalidArgumentError("runs", runs, "must be an integer from 1 to 100");
  }
  const { backend, graph } = compiled;
  const timed = [await backend.time(() => compiled.run(input))];
  if (timed[0].clock === "enqueue") {
    return { clock: "sync", layers: await nodeByNode(graph, backend, input) };
  }
  while (timed.length < runs) timed.push(await backend.time(() => compiled.run(input)));
  return {
    clock: timed[0].clock,
    layers: timed[0].runs.map((run, i) => ({
      node: graph.nodes[i].name,
      op: graph.nodes[i].descriptor.op,
      variant: run.variant,
      ms: median(timed.map((timing) => timing.runs[i].ms)),
    })),
  };
}

/** Runs each node of `graph` alone on its own kernel and output, waiting for each. */
async function nodeByNode(
  graph: ModelGraph,
  backend: Backend,
  input: Tensor,
): Promise<LayerTime[]> {
  const values = new Map<string, Tensor>([["input", input]]);
  const owned: Disposable[] = [];
  const layers: LayerTime[] = [];
  try {
    for (const node of graph.nodes) {
      const kernel = await backend.prepare(node.descriptor, node.weights);
      owned.push(kernel);
      const inputs = node.inputs.map((name) => values.get(name)!);
      await backend.sync();
      const started = performance.now();
      const output = backend.run(kernel, inputs);
      await backend.sync();
      layers.push({
        node: node.name,
        op: node.descriptor.op,
        variant: kernel.variant,
        ms: performance.now() - started,
      });
      owned.push(output);
      values.set(node.name, output);
    }
  } finally {
    for (const item of owned) item[Symbol.dispose]();
  }
  return layers;
}

/** {@link benchmark}'s answer. */
export interface BenchmarkResult {
  /** Compiling: preparing every kernel and allocating the planned buffers, ms. */
  readonly compileMs: number;
  /** The first run after compiling (upload, run, download), ms. */
  readonly firstRunMs: number;
  /** The median of `runs` warm runs, ms. */
  readonly medianMs: number;
  /** Every warm run, ms, in run order. */
  readonly runsMs: readonly number[];
}

/**
 * Compiles `graph` on `backend` and times it on `input`: the first run, one
 * untimed warm-up run, then `runs` runs; each run is upload, run and
 * download, as the demo times it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBackend } from "@mobileops/registry";
 * import { benchmark, IMAGENET_CHOICES, loadNetwork } from "./lib.ts";
 * using backend = await createBackend("js");
 * const { graph } = await loadNetwork(IMAGENET_CHOICES[1], [], new URL("file:///"));
 * const small = { ...graph, inputShape: [1, 32, 32, 3] };
 * const result = await benchmark(small, backend, new Float32Array(32 * 32 * 3), 3);
 * assert.equal(result.runsMs.length, 3);
 * ```
 */
export async function benchmark(
  graph: ModelGraph,
  backend: Backend,
  input: Float32Array,
  runs: number,
): Promise<BenchmarkResult> {
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) {
    throw new InvalidArgumentError("runs", runs, "must be an integer from 1 to 1000");
  }
  const compileStarted = performance.now();
  using compiled = await compileGraph(graph, backend);
  const compileMs = performance.now() - compileStarted;
  const once = async () => {
    const started = performance.now();
    using tensor = backend.upload(input, graph.inputShape);
    await compiled.run(tensor).download();
    return performance.now() - started;
  };
  const firstRunMs = await once();
  await once();
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) runsMs.push(await once());
  return { compileMs, firstRunMs, medianMs: median(runsMs), runsMs };
}

/**
 * The median of `values` (the mean of the middle two for an even count).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { median } from "./lib.ts";
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 2, 3]), 2.5);
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new InvalidArgumentError("values", values, "must not be empty");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Classifies one input on a compiled network: upload, run, download, top-5.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileGraph } from "@mobileops/graph";
 * import { createBackend } from "@mobileops/registry";
 * import { classify, IMAGENET_CHOICES, loadNetwork } from "./lib.ts";
 * using backend = await createBackend("js");
 * const network = await loadNetwork(IMAGENET_CHOICES[1], [], new URL("file:///"));
 * using compiled = await compileGraph({ ...network.graph, inputShape: [1, 32, 32, 3] }, backend);
 * const { top5 } = await classify(compiled, new Float32Array(32 * 32 * 3));
 * assert.equal(top5.length, 5);
 * ```
 */
export async function classify(
  compiled: CompiledModel,
  input: Float32Array,
  labels?: readonly string[],
): Promise<{ top5: Ranked[]; logits: Float32Array }> {
  using tensor = compiled.backend.upload(input, compiled.graph.inputShape);
  const logits = await compiled.run(tensor).download();
  return { top5: topK(logits, labels), logits };
}
