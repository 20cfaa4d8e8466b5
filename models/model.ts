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
} from "@mobileops/core";
import {
  type CompiledModel,
  compileGraph,
  type GraphNode,
  inferGraphShapes,
  type ModelGraph,
} from "@mobileops/graph";
import { SafetensorsError } from "./errors.ts";
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
 * connected: `[out, in]` weight, then bias).
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
  const d = layer.descriptor;
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
   * Validates the structure (throws `GraphError` from `@mobileops/graph`, or
   * core's `ShapeError`), then takes `weights`: seeded random parameters, or a
   * parameter set checked against {@link Model.parameterShapes} (throws
   * {@link SafetensorsError} naming the tensor).
   */
  constructor(definition: ModelDefinition, weights: ModelWeights) {
    this.definition = definition;
    inferGraphShapes(this.#structure());
    if ("seed" in weights) {
      this.weightsOrigin = { kind: "random", seed: weights.seed };
    } else {
      this.#parameters = checkedParameters(this, weights.parameters);
      this.weightsOrigin = { kind: "loaded", source: weights.source };
      if (weights.labels !== undefined && weights.labels.length !== this.classes) {
        throw new SafetensorsError(
          "labels",
          `${weights.labels.length} labels`,
          `${this.name} has ${this.classes} classes`,
        );
      }
      this.labels = weights.labels;
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
   * constructor for the checks.
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
    return new Model(this.definition, { parameters, ...origin });
  }

  /**
   * The runnable graph: BatchNorm folded into each convolution (computed
   * once, then cached). Plain data, ready for converters.
   */
  get graph(): ModelGraph {
    this.#graph ??= Object.freeze({
      ...this.#structure(),
      nodes: Object.freeze(this.definition.layers.map((layer) => this.#node(layer))),
    });
    return this.#graph;
  }

  #node(layer: LayerSpec): GraphNode {
    const { name, descriptor, inputs } = layer;
    const p = (suffix: string) => this.parameters.get(`${name}.${suffix}`)!.data;
    if (descriptor.op === "conv2d") {
      const weights = foldBatchNorm({ filter: p("weight") }, {
        gamma: p("bn.gamma"),
        beta: p("bn.beta"),
        mean: p("bn.mean"),
        variance: p("bn.variance"),
        epsilon: this.definition.batchNormEpsilon,
      });
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
   * buffers; see {@link CompiledModel}.
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

function checkedParameters(
  model: Model,
  parameters: ReadonlyMap<string, ParameterTensor>,
): Map<string, ParameterTensor> {
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
    if (
      tensor.shape.length !== shape.length || tensor.shape.some((dim, i) => dim !== shape[i]) ||
      !(tensor.data instanceof Float32Array) || tensor.data.length !== shapeSize(shape)
    ) {
      throw new SafetensorsError(
        name,
        tensor.shape,
        `must be float32 of shape [${shape.join(", ")}] in ${model.name}`,
      );
    }
    checked.set(name, { shape, data: tensor.data });
  }
  return checked;
}
