/**
 * The logits that `deno task node-test` compares between Deno and Node.js:
 * MobileNet v1 and ShuffleNet v1 from `@mobileops/models` (seeded weights, a
 * seeded input) and every trained Fashion-MNIST network of
 * `models/pretrained/fashion-mnist` imported by `@mobileops/onnx` (a
 * committed sample image decoded by `@mobileops/image`), each on the js
 * backend, the wasm backend as the engine configures it, and the wasm
 * backend on two threads without relaxed SIMD. Each network also runs layer
 * by layer against the float64 reference, in the runtime under test, with
 * the conformance tolerance. Only `node:` built-ins and the packages: this
 * module runs in Deno as it is and on Node.js bundled (`node_entry.ts`); no
 * `using` either, which Node.js 20 cannot parse.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { seededRandom } from "@mobileops/conformance";
import type { Backend, BackendCapabilities } from "@mobileops/core";
import { createJsBackend } from "@mobileops/backend-js";
import { createWasmBackend } from "@mobileops/backend-wasm";
import { compileGraph, type ModelGraph } from "@mobileops/graph";
import { decodeImage } from "@mobileops/image";
import { mobilenetV1, shufflenetV1 } from "@mobileops/models";
import { loadOnnx } from "@mobileops/onnx";
import { parseCard, preprocess } from "../evaluate.ts";
// By path, not through `@mobileops/models/testing`, whose `using` declarations Node 20 cannot parse.
import { checkLayers } from "../../models/layer_check.ts";

/** The trained networks' directory, relative to the repository root. */
export const FASHION_MNIST_MODELS = "models/pretrained/fashion-mnist";

/** The committed sample each trained network classifies. */
export const SAMPLE_IMAGE = "samples/0-t-shirt-top.png";

/** The backends every network runs on, by the name the report gives them. */
export const BACKENDS: Readonly<Record<string, () => Promise<Backend>>> = {
  js: () => createJsBackend(),
  wasm: () => createWasmBackend(),
  // No FMA and a fixed thread count: the same arithmetic in every engine that runs it.
  "wasm-nofma": () => createWasmBackend({ threads: 2, relaxedSimd: false }),
};

/** One network on one backend. */
export interface LogitsResult {
  /**
   * `models:` and the built graph's name (`"models:mobilenet_v1_0.25_32"`), or
   * `onnx:` and the card's name of a trained network.
   */
  readonly network: string;
  /** A key of {@link BACKENDS}. */
  readonly backend: string;
  /** The compiled network's output. */
  readonly logits: number[];
  /** Largest `|actual − reference| / tolerance` over every layer, run one by one (≤ 1 passes). */
  readonly worstRatio: number;
  /** The layer with that ratio. */
  readonly worstLayer: string;
}

/** What one runtime computed. */
export interface LogitsReport {
  /** E.g. `"deno 2.9.6"`, `"node v20.20.2"`. */
  readonly runtime: string;
  /** Each backend's capabilities here (`threadsUnavailable` included when set). */
  readonly capabilities: Readonly<Record<string, BackendCapabilities>>;
  readonly results: readonly LogitsResult[];
}

/** A network and the NHWC input it gets. */
interface Case {
  readonly graph: ModelGraph;
  readonly input: Float32Array;
}

function seededInput(graph: ModelGraph, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from(
    { length: graph.inputShape.reduce((a, b) => a * b, 1) },
    () => 2 * random() - 1,
  );
}

function cases(root: string): Case[] {
  const built = [
    mobilenetV1({ alpha: 0.25, resolution: 32, classes: 10, seed: 7 }).graph,
    shufflenetV1({ groups: 3, scale: 0.5, resolution: 32, classes: 10, seed: 7 }).graph,
  ].map((graph, i) => ({
    graph: { ...graph, name: `models:${graph.name}` },
    input: seededInput(graph, 100 + i),
  }));
  const directory = join(root, FASHION_MNIST_MODELS);
  const image = decodeImage(readFileSync(join(directory, SAMPLE_IMAGE)));
  // The samples are gray PNGs, decoded to RGB with three equal samples per pixel.
  const gray = Uint8Array.from({ length: image.width * image.height }, (_, i) => image.data[3 * i]);
  const card = parseCard(JSON.parse(readFileSync(join(directory, "card.json"), "utf8")));
  const trained = card.map((entry) => {
    const [, channels, height, width] = entry.inputShape;
    const onnx = loadOnnx(readFileSync(join(directory, entry.file)), {
      inputShape: [1, channels, height, width],
    });
    const graph = { ...onnx.graph, name: `onnx:${entry.name}` };
    return { graph, input: onnx.toGraphInput(preprocess(gray, entry.preprocessing)) };
  });
  return [...built, ...trained];
}

/** The worst layer of `graph` on `backend` against the float64 reference ({@link checkLayers}). */
async function worstLayer(
  graph: ModelGraph,
  backend: Backend,
  input: Float32Array,
): Promise<{ ratio: number; layer: string }> {
  let worst = { ratio: 0, layer: "" };
  for (const layer of (await checkLayers(graph, backend, input)).layers) {
    if (!(layer.worstRatio <= worst.ratio)) worst = { ratio: layer.worstRatio, layer: layer.name };
  }
  return worst;
}

/**
 * Every network of the check on every backend of {@link BACKENDS}, with
 * `root` the repository root (where `models/` is).
 *
 * @example
 * ```ts ignore
 * import { computeLogits } from "./logits.ts";
 * const report = await computeLogits(".");
 * console.log(report.results.length); // 9 networks × 3 backends
 * ```
 */
export async function computeLogits(root: string, runtime: string): Promise<LogitsReport> {
  const networks = cases(root);
  const capabilities: Record<string, BackendCapabilities> = {};
  const results: LogitsResult[] = [];
  for (const [name, create] of Object.entries(BACKENDS)) {
    const backend = await create();
    try {
      capabilities[name] = backend.capabilities;
      for (const { graph, input } of networks) {
        const compiled = await compileGraph(graph, backend);
        const uploaded = backend.upload(input, graph.inputShape);
        const logits = await compiled.run(uploaded).download();
        uploaded.dispose();
        compiled.dispose();
        const worst = await worstLayer(graph, backend, input);
        results.push({
          network: graph.name,
          backend: name,
          logits: [...logits],
          worstRatio: worst.ratio,
          worstLayer: worst.layer,
        });
      }
    } finally {
      backend.dispose();
    }
  }
  return { runtime, capabilities, results };
}
