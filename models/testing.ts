/**
 * `@mobileops/models/testing`: model-level conformance for backends. A
 * backend runs whole networks, and every layer it computes is held to the
 * op-level tolerance against the float64 reference evaluated on the
 * backend's own float32 inputs to that layer, so rounding that legitimately
 * compounds through 30–60 layers is never mistaken for a bug and no
 * network-wide epsilon is needed. The compiled model (planned, reused
 * buffers) must then reproduce the layer-by-layer logits bit for bit, and
 * the end-to-end gap to a pure float64 run is measured and reported.
 *
 * A separate entry from `@mobileops/models`, so that programs that only
 * build and run networks do not load the float64 reference.
 *
 * @module
 */

import assert from "node:assert/strict";
import { randomFloat32, seededRandom } from "@mobileops/conformance";
import {
  type Backend,
  InvalidArgumentError,
  ShapeError,
  shapeSize,
  validateOptions,
} from "@mobileops/core";
import { referenceForward } from "@mobileops/graph/reference";
import { ModelOptionError } from "./errors.ts";
import { checkLayers, type LayerCheck } from "./layer_check.ts";
import { mobilenetV1 } from "./mobilenet_v1.ts";
import { Model } from "./model.ts";
import { shufflenetV1 } from "./shufflenet_v1.ts";

export { checkLayers, type LayerCheck } from "./layer_check.ts";

/** The outcome of {@link checkModel}. */
export interface ModelCheck {
  /** The model's name, e.g. `"mobilenet_v1_0.25_128"`. */
  readonly model: string;
  /** The backend's `name`. */
  readonly backend: string;
  /** Every layer, in execution order. */
  readonly layers: readonly LayerCheck[];
  /** Whether `compile(backend).run(input)` gave exactly the layer-by-layer logits. */
  readonly compiledMatchesLayers: boolean;
  /** Max |backend logit − float64 logit| over a float64 run of the whole network. */
  readonly endToEndMaxAbsDiff: number;
  /** Max |float64 logit|, to read the end-to-end difference against. */
  readonly logitScale: number;
  /** The backend's logits. */
  readonly logits: Float32Array;
}

/**
 * Runs `model` on `backend` layer by layer and through its compiled form,
 * and compares both with the float64 reference. Throws nothing on a
 * mismatch: read the returned {@link ModelCheck}. Throws
 * {@link ModelOptionError} when `model` is not a `Model`, core's
 * `InvalidArgumentError` when `backend` is not a Backend, and core's
 * `ShapeError` unless `input` is a Float32Array of the model's input size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mobilenetV1 } from "@mobileops/models";
 * import { checkModel } from "@mobileops/models/testing";
 * import { createBackend } from "@mobileops/registry";
 * using backend = await createBackend("js");
 * const model = mobilenetV1({ alpha: 0.25, resolution: 32, classes: 4 });
 * const check = await checkModel(model, backend, new Float32Array(32 * 32 * 3).fill(0.5));
 * assert(check.layers.every((layer) => layer.ok) && check.compiledMatchesLayers);
 * ```
 */
export async function checkModel(
  model: Model,
  backend: Backend,
  input: Float32Array,
): Promise<ModelCheck> {
  if (!(model instanceof Model)) {
    throw new ModelOptionError(
      "model",
      model,
      "must be a Model (from mobilenetV1 or shufflenetV1)",
    );
  }
  checkBackend(backend);
  if (!(input instanceof Float32Array) || input.length !== shapeSize(model.inputShape)) {
    throw new ShapeError(
      "input",
      input,
      `must be a Float32Array of ${shapeSize(model.inputShape)} values ([${
        model.inputShape.join(", ")
      }])`,
    );
  }
  const graph = model.graph;
  const { layers, output: layered } = await checkLayers(graph, backend, input);
  using compiled = await model.compile(backend);
  using uploaded = backend.upload(input, graph.inputShape);
  const logits = await compiled.run(uploaded).download();
  const expected = referenceForward(graph, input).values;
  let endToEndMaxAbsDiff = 0;
  let logitScale = 0;
  for (let i = 0; i < expected.length; i++) {
    endToEndMaxAbsDiff = Math.max(endToEndMaxAbsDiff, Math.abs(logits[i] - expected[i]));
    logitScale = Math.max(logitScale, Math.abs(expected[i]));
  }
  return {
    model: model.name,
    backend: backend.name,
    layers,
    compiledMatchesLayers: logits.length === layered.length &&
      logits.every((value, i) => Object.is(value, layered[i])),
    endToEndMaxAbsDiff,
    logitScale,
    logits,
  };
}

/** Options of {@link modelConformance}. */
export interface ModelConformanceOptions {
  /** Also run the full-size networks (MobileNet 1.0-224, ShuffleNet 1× g=3 224). Default `true`. */
  fullSize?: boolean;
  /** Print one line per network with the end-to-end logit difference. Default `true`. */
  report?: boolean;
}

/** The networks of the default suite: small enough to check every layer in well under a second. */
const SMALL_NETWORKS: readonly (() => Model)[] = [
  () => mobilenetV1({ alpha: 0.25, resolution: 128 }),
  () => shufflenetV1({ groups: 3, scale: 0.25, resolution: 96 }),
  () => shufflenetV1({ groups: 8, scale: 0.5, resolution: 96 }),
];

/** The full-size networks, run once per backend. */
const FULL_SIZE_NETWORKS: readonly (() => Model)[] = [
  () => mobilenetV1({ alpha: 1, resolution: 224 }),
  () => shufflenetV1({ groups: 3, scale: 1, resolution: 224 }),
];

function assertConforms(check: ModelCheck): void {
  const failed = check.layers.filter((layer) => !layer.ok);
  assert.deepEqual(
    failed.map((layer) => `${layer.name}: ${layer.detail}`),
    [],
    `${check.backend} ${check.model}: layers out of tolerance`,
  );
  assert.ok(
    check.compiledMatchesLayers,
    `${check.backend} ${check.model}: compiled logits differ from the layer-by-layer logits`,
  );
  assert.ok(Number.isFinite(check.endToEndMaxAbsDiff), "end-to-end logits must be finite");
}

/**
 * Registers the model-level tests for a backend with `Deno.test`: every
 * layer of each small network (and, unless `fullSize: false`, of the
 * full-size ones) within the op-level tolerance, compiled runs identical to
 * layer-by-layer runs, steady-state runs allocating no tensor, and
 * `dispose()` freeing every tensor and kernel it made. Throws
 * {@link ModelOptionError} for an empty `name`, a `createBackend` that is not
 * a function, or `options` that are not `{ fullSize?, report? }` booleans.
 *
 * @example
 * ```ts ignore
 * import { modelConformance } from "@mobileops/models/testing";
 * import { createBackend } from "@mobileops/registry";
 * modelConformance("js", () => createBackend("js"));
 * ```
 */
export function modelConformance(
  name: string,
  createBackend: () => Promise<Backend>,
  options?: ModelConformanceOptions,
): void {
  if (typeof name !== "string" || name === "") {
    throw new ModelOptionError("name", name, "must be a non-empty string");
  }
  if (typeof createBackend !== "function") {
    throw new ModelOptionError(
      "createBackend",
      createBackend,
      "must be a function returning a Backend",
    );
  }
  const o = validateOptions<ModelConformanceOptions>(
    "options",
    options,
    ["fullSize", "report"],
    ModelOptionError,
  );
  const report = flag("options.report", o.report);
  const fullSize = flag("options.fullSize", o.fullSize);
  const networks = [...SMALL_NETWORKS, ...(fullSize ? FULL_SIZE_NETWORKS : [])];
  for (const [i, build] of networks.entries()) {
    const model = build();
    Deno.test(`${name}: ${model.name} conforms layer by layer`, async () => {
      using backend = await createBackend();
      const input = randomFloat32(seededRandom(100 + i), model.inputShape.reduce((a, b) => a * b));
      const check = await checkModel(model, backend, input);
      if (report) {
        console.log(
          `${name} ${model.name}: worst layer ${
            Math.max(...check.layers.map((layer) => layer.worstRatio)).toFixed(3)
          }× tolerance; end-to-end max |Δlogit| ${check.endToEndMaxAbsDiff.toExponential(2)}` +
            ` (logits up to ${check.logitScale.toFixed(2)})`,
        );
      }
      assertConforms(check);
    });
  }

  Deno.test(`${name}: compiled models reuse planned buffers and free them`, async () => {
    using backend = await createBackend();
    for (const build of SMALL_NETWORKS) {
      const model = build();
      const before = backend.memoryStats();
      const compiled = await model.compile(backend);
      const afterCompile = backend.memoryStats();
      assert.equal(afterCompile.kernels - before.kernels, model.graph.nodes.length);
      assert.equal(afterCompile.tensors - before.tensors, compiled.plan.buffers.length);
      assert.ok(compiled.plan.buffers.length < model.graph.nodes.length, "buffers are reused");
      using input = backend.upload(
        randomFloat32(seededRandom(7), model.inputShape.reduce((a, b) => a * b)),
        model.inputShape,
      );
      const first = await compiled.run(input).download();
      const afterFirst = backend.memoryStats().tensors;
      const second = await compiled.run(input).download();
      assert.equal(
        backend.memoryStats().tensors,
        afterFirst,
        "a steady-state run allocates no tensor",
      );
      assert.equal(afterFirst, afterCompile.tensors + 1, "only the input was added");
      assert.deepEqual(second, first, "runs are repeatable");
      compiled.dispose();
      const after = backend.memoryStats();
      assert.equal(after.kernels, before.kernels);
      assert.equal(after.tensors, before.tensors + 1);
    }
  });
}

/** A boolean option whose default is `true`. */
function flag(field: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== "boolean") throw new ModelOptionError(field, value, "must be a boolean");
  return value;
}

/** A Backend is an interface, not a class: check for the methods a check calls. */
function checkBackend(backend: Backend): void {
  const methods = backend as unknown as Record<string, unknown> | null;
  if (
    methods === null || typeof methods !== "object" ||
    ["prepare", "run", "upload", "zeros"].some((method) => typeof methods[method] !== "function")
  ) {
    throw new InvalidArgumentError("backend", backend, "must be a Backend");
  }
}
