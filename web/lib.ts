/**
 * What the browser demo does, without the page: the networks it offers,
 * loading them (ONNX files fetched by URL, or the ImageNet-size builders),
 * turning a decoded image into a network's input, top-5, time per layer and
 * the benchmark. Nothing here touches the DOM or Deno, so the page
 * (`web/app.ts`), the Deno side of `web/bench_browser.ts` and the tests run
 * the same code. The Fashion-MNIST card, the gray image and the card's
 * preprocessing are `tools/fashion_mnist.ts`'s, which `deno task demo` and
 * `deno task evaluate` use too.
 *
 * @module
 */

import { type Backend, InvalidArgumentError, type Tensor } from "@mobileops/core";
import {
  type CompiledModel,
  compileGraph,
  type LayerProfile,
  type ModelGraph,
  type ModelProfile,
} from "@mobileops/graph";
import { imageToInput, type RgbImage } from "@mobileops/image";
import { mobilenetV1, shufflenetV1 } from "@mobileops/models";
import { loadOnnx } from "@mobileops/onnx";
import {
  type CardModel,
  type FashionImage,
  preprocess,
  preprocessingText,
  type RankedClass,
  toFashionImage,
  top5,
} from "../tools/fashion_mnist.ts";

/** A network the page offers. */
export interface NetworkChoice {
  /** Stable id, used in the page's `<select>` and by the tests. */
  readonly id: string;
  /** What the page shows. */
  readonly label: string;
  /** `fashion`: trained here on Fashion-MNIST (ONNX, 10 classes); `imagenet`: random weights, 1000 classes. */
  readonly kind: "fashion" | "imagenet";
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
  /** The 8-bit gray image `input` starts from, for a Fashion-MNIST network; absent for the others. */
  readonly seen?: (image: RgbImage) => FashionImage;
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

/**
 * Every network the page offers: the card's models in card order, then the
 * ImageNet-size ones ({@link IMAGENET_CHOICES}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkChoices } from "./lib.ts";
 * const choices = networkChoices([{ name: "m", ablation: "none" }]);
 * assert.deepEqual(choices.map((c) => c.kind), ["fashion", "imagenet", "imagenet"]);
 * ```
 */
export function networkChoices(
  entries: readonly Pick<CardModel, "name" | "ablation">[],
): NetworkChoice[] {
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

/**
 * Loads a network: a card entry's ONNX file fetched from `cardUrl`'s
 * directory with `fetch` (batch 1; Deno fetches `file:` URLs too), or an
 * ImageNet-size builder with seeded random weights. A card entry's image
 * goes through `toFashionImage` and the card's `preprocess`, as in
 * `deno task demo`.
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
  entries: readonly CardModel[],
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
  const [, channels, height, width] = entry.inputShape;
  const onnx = loadOnnx(bytes, { inputShape: [1, channels, height, width] });
  const seen = (image: RgbImage) => toFashionImage(image, spec.image[1]);
  return {
    choice,
    graph: onnx.graph,
    labels: entry.classes,
    input: (image) => onnx.toGraphInput(preprocess(seen(image).pixels, spec)),
    seen,
    inputDescription: `resized to ${preprocessingText(spec)}; inverted when its border is light`,
  };
}

/**
 * Profiles `compiled` on `input` `runs` times with `compiled.profile` of
 * `@mobileops/graph` and keeps, for each layer, its median run: one run's
 * layer times jitter (a worker's wake-up, a collection), the median of
 * several does not. The layer's `ms` and `gflops` are those of that same
 * run (for an even `runs`, the slower of the middle two), so they agree;
 * `totalMs` is the sum of the layers kept. The clock is the backend's:
 * `device` (GPU timestamps), `cpu` (the CPU clock around each kernel) or
 * `enqueue` (only the time to record each kernel: a GPU without
 * timestamp queries). Throws `InvalidArgumentError` for `runs` outside
 * 1–100.
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
 * const profile = await profileLayers(compiled, input, 3);
 * assert.equal(profile.layers.length, graph.nodes.length);
 * assert.equal(profile.clock, "cpu");
 * ```
 */
export async function profileLayers(
  compiled: CompiledModel,
  input: Tensor,
  runs = 5,
): Promise<ModelProfile> {
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
    throw new InvalidArgumentError("runs", runs, "must be an integer from 1 to 100");
  }
  const profiles: ModelProfile[] = [];
  for (let i = 0; i < runs; i++) profiles.push(await compiled.profile(input));
  const layers = profiles[0].layers.map((_, i): LayerProfile =>
    profiles.map((profile) => profile.layers[i]).sort((a, b) => a.ms - b.ms)[runs >> 1]
  );
  return {
    clock: profiles[0].clock,
    layers,
    totalMs: layers.reduce((sum, layer) => sum + layer.ms, 0),
  };
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
): Promise<{ top5: RankedClass[]; logits: Float32Array }> {
  using tensor = compiled.backend.upload(input, compiled.graph.inputShape);
  const logits = await compiled.run(tensor).download();
  return { top5: top5(logits, labels), logits };
}
