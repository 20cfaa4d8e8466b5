/**
 * {@link Model}: a network's layers, its unfolded parameters (convolution
 * filters plus BatchNorm statistics, as trained), and the folded
 * {@link ModelGraph} that backends run.
 *
 * @module
 */

import {
  type Backend,
  type Conv2dDescriptor,
  convFilterSize,
  foldBatchNorm,
  type OpDescriptor,
  type Shape,
  shapeSize,
  validateDescriptor,
  validateOptions,
} from "@mobileops/core";
import {
  type CompiledModel,
  compileGraph,
  type GraphNode,
  inferGraphShapes,
  type ModelGraph,
  withFieldPrefix,
} from "@mobileops/graph";
import { ModelOptionError, SafetensorsError } from "./errors.ts";
import { epsilon as checkEpsilon, seed as checkSeed } from "./options.ts";
import { uniformGenerator } from "./random.ts";

/**
 * One layer of a network. Every `conv2d` layer is a bias-free convolution
 * followed by BatchNorm, and its descriptor is the folded form (`bias: true`,
 * activation fused); `fullyConnected` layers have a weight matrix and a bias.
 */
export interface LayerSpec {
  /** Unique in the model; prefixes its parameter names (`<name>.weight`, `<name>.bn.gamma`…). */
  readonly name: string;
  /** The operator; a `conv2d` is in its folded form (`bias: true`, activation fused). */
  readonly descriptor: OpDescriptor;
  /** Names of earlier layers, or `"input"` (`GRAPH_INPUT`), in the operator's input order. */
  readonly inputs: readonly string[];
  /**
   * The layer ends a residual branch (its output is added to a shortcut):
   * its BatchNorm γ starts small, as in Goyal et al. 2017, so that a stage's
   * sum of branches keeps the activations at a steady scale.
   */
  readonly endsResidualBranch?: boolean;
}

/** A named parameter tensor, laid out as documented in docs/models.md. */
export interface ParameterTensor {
  /** e.g. OHWI `[out, kh, kw, in / groups]` for a conv weight, `[out]` for BatchNorm statistics. */
  readonly shape: Shape;
  /** Row-major values, exactly as many as the product of `shape`. */
  readonly data: Float32Array;
}

/** Where a model's parameters came from. */
export type WeightsOrigin =
  | { readonly kind: "random"; readonly seed: number }
  | { readonly kind: "loaded"; readonly source: string };

/**
 * The parameter tensors a layer owns: name and shape, in a fixed order
 * (convolutions: OHWI weight, then BatchNorm γ, β, mean, variance; fully
 * connected: `[out, in]` weight, then bias). Throws {@link ModelOptionError}
 * when `layer` is not an object with a string `name`, and core's
 * `DescriptorError` for a descriptor core refuses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pointwiseConv2d } from "@mobileops/core";
 * import { layerParameterShapes } from "@mobileops/models";
 * const [weight, gamma] = layerParameterShapes({
 *   name: "pw",
 *   descriptor: pointwiseConv2d({ inChannels: 4, outChannels: 8, bias: true }),
 *   inputs: ["input"],
 * });
 * assert(weight.name === "pw.weight" && weight.shape.join() === "8,1,1,4");
 * assert(gamma.name === "pw.bn.gamma");
 * ```
 */
export function layerParameterShapes(layer: LayerSpec): { name: string; shape: Shape }[] {
  if (layer === null || typeof layer !== "object" || typeof layer.name !== "string") {
    throw new ModelOptionError("layer", layer, "must be a layer { name, descriptor, inputs }");
  }
  const d = validateDescriptor(layer.descriptor);
  if (d.op === "conv2d") {
    const channels = [d.outChannels];
    return [
      { name: `${layer.name}.weight`, shape: convFilterShape(d) },
      { name: `${layer.name}.bn.gamma`, shape: channels },
      { name: `${layer.name}.bn.beta`, shape: channels },
      { name: `${layer.name}.bn.mean`, shape: channels },
      { name: `${layer.name}.bn.variance`, shape: channels },
    ];
  }
  if (d.op === "fullyConnected") {
    return [
      { name: `${layer.name}.weight`, shape: [d.outFeatures, d.inFeatures] },
      { name: `${layer.name}.bias`, shape: [d.outFeatures] },
    ];
  }
  return [];
}

function convFilterShape(d: Conv2dDescriptor): Shape {
  return [d.outChannels, d.kernel[0], d.kernel[1], d.inChannels / d.groups];
}

function uniform(random: () => number, size: number, low: number, high: number): Float32Array {
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = low + (high - low) * random();
  return data;
}

/**
 * Seeded initial parameters. Convolution filters and the FC matrix are
 * He-uniform (variance 2 / fan-in, which keeps ReLU activations at a steady
 * scale through 28 layers); BatchNorm statistics are near identity with a
 * small spread, so folding actually changes the weights and the test
 * exercises it.
 */
function initialParameters(
  layers: readonly LayerSpec[],
  seed: number,
): Map<string, ParameterTensor> {
  const random = uniformGenerator(seed);
  const parameters = new Map<string, ParameterTensor>();
  for (const layer of layers) {
    const d = layer.descriptor;
    if (d.op === "conv2d") {
      const fanIn = d.kernel[0] * d.kernel[1] * (d.inChannels / d.groups);
      const bound = Math.sqrt(6 / fanIn);
      const [weight, gamma, beta, mean, variance] = layerParameterShapes(layer);
      const c = d.outChannels;
      parameters.set(weight.name, {
        shape: weight.shape,
        data: uniform(random, convFilterSize(d), -bound, bound),
      });
      const [low, high] = layer.endsResidualBranch ? [0.1, 0.3] : [0.8, 1.2];
      parameters.set(gamma.name, { shape: gamma.shape, data: uniform(random, c, low, high) });
      parameters.set(beta.name, { shape: beta.shape, data: uniform(random, c, -0.1, 0.1) });
      parameters.set(mean.name, { shape: mean.shape, data: uniform(random, c, -0.1, 0.1) });
      parameters.set(variance.name, {
        shape: variance.shape,
        data: uniform(random, c, 0.8, 1.2),
      });
    } else if (d.op === "fullyConnected") {
      const bound = Math.sqrt(6 / d.inFeatures);
      const [weight, bias] = layerParameterShapes(layer);
      parameters.set(weight.name, {
        shape: weight.shape,
        data: uniform(random, d.inFeatures * d.outFeatures, -bound, bound),
      });
      parameters.set(bias.name, {
        shape: bias.shape,
        data: uniform(random, d.outFeatures, -0.1, 0.1),
      });
    }
  }
  return parameters;
}

/** What {@link Model}'s constructor takes. */
export interface ModelDefinition {
  /** e.g. `"mobilenet_v1_1.0_224"`. */
  readonly name: string;
  /** NHWC, batch included. */
  readonly inputShape: Shape;
  /** In execution order; the last layer's output is the model's output (the logits). */
  readonly layers: readonly LayerSpec[];
  /** BatchNorm ε used when folding: 1e-3 for TensorFlow-trained weights, 1e-5 for PyTorch. */
  readonly batchNormEpsilon: number;
  /** The builder options that made it, resolved (for summaries and reports). */
  readonly config: Readonly<Record<string, string | number | boolean>>;
}

/** Parameters a model starts with: seeded random ones, or a full validated set. */
export type ModelWeights =
  | { readonly seed: number }
  | {
    readonly parameters: ReadonlyMap<string, ParameterTensor>;
    readonly source: string;
    readonly labels?: readonly string[];
  };

/**
 * A network: layers, unfolded parameters, and the folded graph.
 * Build one with {@link mobilenetV1} or {@link shufflenetV1}; replace its
 * weights with {@link Model.withParameters} (or `loadSafetensors`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mobilenetV1 } from "@mobileops/models";
 * const model = mobilenetV1({ alpha: 0.25, resolution: 128, classes: 10 });
 * assert(model.graph.nodes.at(-1)!.descriptor.op === "fullyConnected");
 * assert(model.parameters.get("conv1.bn.gamma")!.shape[0] === 8);
 * ```
 */
export class Model {
  /** What it was built from: layers, input shape, BatchNorm ε and builder options. */
  readonly definition: ModelDefinition;
  /** Where the parameters came from: a random seed, or the source of a loaded set. */
  readonly weightsOrigin: WeightsOrigin;
  /** Class names, when the loaded weights came with them. */
  readonly labels?: readonly string[];
  #graph?: ModelGraph;
  #parameters?: ReadonlyMap<string, ParameterTensor>;

  /**
   * Validates the definition and the structure, then takes `weights`: seeded
   * random parameters, or a parameter set checked against
   * {@link Model.parameterShapes}. A loaded set is folded at once, so
   * BatchNorm statistics that cannot fold fail here rather than at compile.
   *
   * @throws {ModelOptionError} `definition` or `weights` is not an object of
   *   the documented keys, or a field of either has the wrong type
   *   (`definition.batchNormEpsilon`, `definition.layers[3].descriptor.bias`,
   *   `weights.seed`…); convolutions and the classifier must have `bias: true`.
   * @throws {GraphError | ShapeError | DescriptorError} A malformed
   *   structure, as `inferGraphShapes` of `@mobileops/graph` reports it.
   * @throws {SafetensorsError} A parameter missing, unexpected, mis-shaped or
   *   holding a non-finite value (`conv1.bn.gamma[0] = NaN: must be finite`),
   *   or labels that are not one string per class.
   * @throws {WeightsError} BatchNorm statistics that cannot fold (core's
   *   `foldBatchNorm`), named by the parameter: `conv1.bn.variance[3]`.
   */
  constructor(definition: ModelDefinition, weights: ModelWeights) {
    checkDefinition(definition);
    this.definition = definition;
    inferGraphShapes(this.#structure());
    validateOptions(
      "weights",
      weights,
      ["seed", "parameters", "source", "labels"],
      ModelOptionError,
    );
    if (weights === undefined) {
      throw new ModelOptionError(
        "weights",
        weights,
        "is required: { seed } or { parameters, source }",
      );
    }
    if ("seed" in weights) {
      if (Object.keys(weights).length !== 1) {
        throw new ModelOptionError(
          "weights",
          weights,
          "is either { seed } or { parameters, source, labels? }",
        );
      }
      this.weightsOrigin = { kind: "random", seed: checkSeed("weights.seed", weights.seed) };
    } else {
      if (typeof weights.source !== "string") {
        throw new ModelOptionError(
          "weights.source",
          weights.source,
          "must be a string naming where the parameters came from",
        );
      }
      this.#parameters = checkedParameters(this, weights.parameters);
      this.weightsOrigin = { kind: "loaded", source: weights.source };
      const labels: unknown = weights.labels;
      if (labels !== undefined) {
        if (!Array.isArray(labels) || labels.some((label) => typeof label !== "string")) {
          throw new SafetensorsError("labels", labels, "must be an array of strings");
        }
        if (labels.length !== this.classes) {
          throw new SafetensorsError(
            "labels",
            `${labels.length} labels`,
            `${this.name} has ${this.classes} classes`,
          );
        }
      }
      this.labels = weights.labels;
      this.#graph = this.#fold();
    }
  }

  /**
   * Unfolded parameters by name (`conv1.weight`, `conv1.bn.gamma`, `fc.bias`…).
   * Seeded ones are generated on first use, so building a model only to
   * read its cost stays cheap.
   */
  get parameters(): ReadonlyMap<string, ParameterTensor> {
    if (this.#parameters === undefined && this.weightsOrigin.kind === "random") {
      this.#parameters = initialParameters(this.definition.layers, this.weightsOrigin.seed);
    }
    return this.#parameters!;
  }

  /** e.g. `"mobilenet_v1_1.0_224"`. */
  get name(): string {
    return this.definition.name;
  }

  /** NHWC input shape, batch included. */
  get inputShape(): Shape {
    return this.definition.inputShape;
  }

  /** The builder options that made it, resolved. */
  get config(): Readonly<Record<string, string | number | boolean>> {
    return this.definition.config;
  }

  /** Number of output classes (the last layer's width). */
  get classes(): number {
    const last = this.definition.layers.at(-1)!.descriptor;
    return last.op === "fullyConnected" ? last.outFeatures : 0;
  }

  #structure(): ModelGraph {
    const layers = this.definition.layers;
    return {
      name: this.definition.name,
      inputShape: this.definition.inputShape,
      nodes: layers.map(({ name, descriptor, inputs }) => ({ name, descriptor, inputs })),
      output: layers.at(-1)?.name ?? "",
    };
  }

  /**
   * The names and shapes every parameter set for this model must have.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { shufflenetV1 } from "@mobileops/models";
   * const specs = shufflenetV1({ groups: 3, scale: 0.25, resolution: 96 }).parameterShapes();
   * assert(specs[0].name === "conv1.weight" && specs[0].shape.join() === "12,3,3,3");
   * ```
   */
  parameterShapes(): { name: string; shape: Shape }[] {
    return this.definition.layers.flatMap(layerParameterShapes);
  }

  /**
   * A copy of this model with `parameters` instead of its own; see the
   * constructor for the checks (`parameters` must be a Map, `origin` a
   * `{ source, labels? }` object).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { mobilenetV1 } from "@mobileops/models";
   * const a = mobilenetV1({ alpha: 0.25, resolution: 32, classes: 4 });
   * const b = mobilenetV1({ alpha: 0.25, resolution: 32, classes: 4, seed: 9 });
   * const c = a.withParameters(b.parameters, { source: "seed 9" });
   * assert(c.parameters.get("fc.bias")!.data[0] === b.parameters.get("fc.bias")!.data[0]);
   * assert(c.weightsOrigin.kind === "loaded");
   * ```
   */
  withParameters(
    parameters: ReadonlyMap<string, ParameterTensor>,
    origin: { source: string; labels?: readonly string[] },
  ): Model {
    validateOptions("origin", origin, ["source", "labels"], ModelOptionError);
    if (origin === undefined) {
      throw new ModelOptionError("origin", origin, "is required: { source, labels? }");
    }
    return new Model(this.definition, {
      parameters,
      source: origin.source,
      ...(origin.labels === undefined ? {} : { labels: origin.labels }),
    });
  }

  /**
   * The runnable graph: BatchNorm folded into each convolution (computed
   * once, then cached). Plain data, ready for converters. A fold that core's
   * `foldBatchNorm` refuses throws its `WeightsError` with the layer's
   * parameter as field (`conv1.bn.variance[3]`).
   */
  get graph(): ModelGraph {
    this.#graph ??= this.#fold();
    return this.#graph;
  }

  #fold(): ModelGraph {
    return Object.freeze({
      ...this.#structure(),
      nodes: Object.freeze(this.definition.layers.map((layer) => this.#node(layer))),
    });
  }

  #node(layer: LayerSpec): GraphNode {
    const { name, descriptor, inputs } = layer;
    const p = (suffix: string) => this.parameters.get(`${name}.${suffix}`)!.data;
    if (descriptor.op === "conv2d") {
      let weights;
      try {
        weights = foldBatchNorm({ filter: p("weight") }, {
          gamma: p("bn.gamma"),
          beta: p("bn.beta"),
          mean: p("bn.mean"),
          variance: p("bn.variance"),
          epsilon: this.definition.batchNormEpsilon,
        });
      } catch (error) {
        // Core names `bn.gamma[i]`; with the layer in front it is the parameter's own name.
        throw withFieldPrefix(error, `${name}.`);
      }
      return Object.freeze({ name, descriptor, inputs, weights });
    }
    if (descriptor.op === "fullyConnected") {
      return Object.freeze({
        name,
        descriptor,
        inputs,
        weights: { weights: p("weight"), bias: p("bias") },
      });
    }
    return Object.freeze({ name, descriptor, inputs });
  }

  /**
   * Prepares every kernel on `backend` once and plans the activation
   * buffers; see {@link CompiledModel}. Throws what `compileGraph` throws:
   * core's `InvalidArgumentError` for a `backend` that is not a Backend, and
   * the backend's refusal of a layer with the layer in the field
   * (`nodes["conv1"].weights.filter[0]`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { mobilenetV1 } from "@mobileops/models";
   * import { createBackend } from "@mobileops/registry";
   * using backend = await createBackend("js");
   * const compiled = await mobilenetV1({ alpha: 0.25, resolution: 32, classes: 3 }).compile(backend);
   * const logits = compiled.run(backend.zeros([1, 32, 32, 3]));
   * assert(logits.shape.join() === "1,3");
   * compiled.dispose();
   * ```
   */
  compile(backend: Backend): Promise<CompiledModel> {
    return compileGraph(this.graph, backend);
  }
}

const DEFINITION_KEYS = ["name", "inputShape", "layers", "batchNormEpsilon", "config"];
const LAYER_KEYS = ["name", "descriptor", "inputs", "endsResidualBranch"];

/**
 * What the structure check (`inferGraphShapes`) does not see: the types of
 * the definition's own fields, and that every layer with parameters has the
 * bias its folded or fully connected weights bring.
 */
function checkDefinition(definition: ModelDefinition): void {
  validateOptions("definition", definition, DEFINITION_KEYS, ModelOptionError);
  if (definition === undefined) {
    throw new ModelOptionError(
      "definition",
      definition,
      "is required: { name, inputShape, layers, batchNormEpsilon, config }",
    );
  }
  const layers: unknown = definition.layers;
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new ModelOptionError("definition.layers", layers, "must be a non-empty array of layers");
  }
  layers.forEach((layer: LayerSpec | undefined, i) => {
    const field = `definition.layers[${i}]`;
    validateOptions(field, layer, LAYER_KEYS, ModelOptionError);
    if (layer === undefined) throw new ModelOptionError(field, layer, "must be a layer");
    const ends: unknown = layer.endsResidualBranch;
    if (ends !== undefined && typeof ends !== "boolean") {
      throw new ModelOptionError(`${field}.endsResidualBranch`, ends, "must be a boolean");
    }
    const d = layer.descriptor as OpDescriptor | null | undefined;
    if ((d?.op === "conv2d" || d?.op === "fullyConnected") && d.bias !== true) {
      throw new ModelOptionError(
        `${field}.descriptor.bias`,
        d.bias,
        "must be true: a convolution's BatchNorm folds into it, a classifier has one",
      );
    }
  });
  checkEpsilon("definition.batchNormEpsilon", definition.batchNormEpsilon);
  const config: unknown = definition.config;
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new ModelOptionError("definition.config", config, "must be an object of options");
  }
  for (const [key, value] of Object.entries(config)) {
    if (!["string", "number", "boolean"].includes(typeof value)) {
      throw new ModelOptionError(
        `definition.config.${key}`,
        value,
        "must be a string, number or boolean",
      );
    }
  }
}

function checkedParameters(
  model: Model,
  parameters: ReadonlyMap<string, ParameterTensor>,
): Map<string, ParameterTensor> {
  if (!(parameters instanceof Map)) {
    throw new SafetensorsError("parameters", parameters, "must be a Map of name → { shape, data }");
  }
  const wanted = model.parameterShapes();
  const names = new Set(wanted.map((spec) => spec.name));
  for (const name of parameters.keys()) {
    if (!names.has(name)) {
      throw new SafetensorsError(name, "unexpected tensor", `is not a parameter of ${model.name}`);
    }
  }
  const checked = new Map<string, ParameterTensor>();
  for (const { name, shape } of wanted) {
    const tensor = parameters.get(name);
    if (tensor === undefined) {
      throw new SafetensorsError(name, "missing", `${model.name} needs [${shape.join(", ")}]`);
    }
    const given: unknown = tensor?.shape;
    if (
      !Array.isArray(given) || given.length !== shape.length ||
      given.some((dim, i) => dim !== shape[i]) ||
      !(tensor.data instanceof Float32Array) || tensor.data.length !== shapeSize(shape)
    ) {
      throw new SafetensorsError(
        name,
        given ?? tensor,
        `must be float32 of shape [${shape.join(", ")}] in ${model.name}`,
      );
    }
    const data: Float32Array = tensor.data;
    const bad = data.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) throw new SafetensorsError(`${name}[${bad}]`, data[bad], "must be finite");
    checked.set(name, { shape, data });
  }
  return checked;
}
