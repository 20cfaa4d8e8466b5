/**
 * {@link loadOnnx}: an ONNX file → an {@link OnnxModel} whose `graph` is a
 * `ModelGraph` of core operators, NHWC, with every fusion applied.
 *
 * @module
 */

import { type Backend, validateOptions } from "@mobileops/core";
import {
  type CompiledModel,
  compileGraph,
  inferGraphShapes,
  type ModelGraph,
} from "@mobileops/graph";
import { emitGraph } from "./emit.ts";
import { OnnxError, OnnxUnsupportedError } from "./errors.ts";
import type { IrValue } from "./ir.ts";
import { nchwToNhwc, nhwcToNchw } from "./layout.ts";
import { lowerGraph } from "./lower.ts";
import { fuse } from "./passes.ts";
import {
  dataTypeName,
  decodeModel,
  int,
  type ModelProto,
  type OnnxTensor,
  tensorFromProto,
  type ValueInfoProto,
} from "./proto.ts";

/**
 * The lowest and highest default-domain opset {@link loadOnnx} reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPSET_RANGE } from "@mobileops/onnx";
 * assert(OPSET_RANGE[0] <= 7 && OPSET_RANGE[1] >= 21);
 * ```
 */
export const OPSET_RANGE: readonly [lowest: number, highest: number] = Object.freeze([1, 21]);

/** Options of {@link loadOnnx}; every one is optional. */
export interface LoadOnnxOptions {
  /**
   * The data input's ONNX shape (NCHW for an image), filling its dynamic
   * dimensions (`batch`, `height`…); each fixed dimension of the file must
   * be given as it is.
   */
  readonly inputShape?: readonly number[];
  /**
   * Values bound by name as constants: graph inputs that are not data (the
   * weights of the ONNX node tests are graph inputs), or replacements for
   * initializers. FLOAT data as `Float32Array`, INT64 as `BigInt64Array`.
   */
  readonly constants?: Readonly<Record<string, OnnxTensor>>;
  /** The graph's name; default: the ONNX graph's name, or `"onnx"`. */
  readonly name?: string;
}

/** An ONNX input or output, and how the graph holds its data. */
export interface OnnxValueInfo {
  /** Its name in the ONNX file. */
  readonly name: string;
  /** ONNX shape: NCHW for a feature map, `[N, C·H·W]` when flattened. */
  readonly shape: readonly number[];
  /**
   * `"nchw"`: the graph holds an NCHW feature map NHWC (convert with
   * `nchwToNhwc` / `nhwcToNchw`, or the model's `toGraphInput` /
   * `fromGraphOutput`); `"plain"`: the graph holds it as ONNX does.
   */
  readonly layout: "nchw" | "plain";
  /** The shape of the graph's tensor: `[N, H, W, C]` for `"nchw"`, `shape` otherwise. */
  readonly graphShape: readonly number[];
}

const OPTION_KEYS = ["inputShape", "constants", "name"];

/**
 * An imported ONNX model: the `ModelGraph` that backends run, and what it
 * takes and gives in ONNX's terms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadOnnx } from "@mobileops/onnx";
 * import onnxProto from "npm:onnx-proto@8.0.1";
 * const bytes = onnxProto.onnx.ModelProto.encode({
 *   irVersion: 8,
 *   opsetImport: [{ domain: "", version: 13 }],
 *   graph: {
 *     name: "pool",
 *     node: [{ name: "gap", opType: "GlobalAveragePool", input: ["x"], output: ["y"] }],
 *     input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [1, 2, 3, 3].map((d) => ({ dimValue: d })) } } } }],
 *     output: [{ name: "y" }],
 *   },
 * }).finish();
 * const model = loadOnnx(bytes);
 * assert(model.input.layout === "nchw" && model.input.graphShape.join() === "1,3,3,2");
 * assert(model.graph.nodes[0].descriptor.op === "globalAvgPool");
 * ```
 */
export class OnnxModel {
  /** The core operator graph, input NHWC; plain data. */
  readonly graph: ModelGraph;
  /** The data input. */
  readonly input: OnnxValueInfo;
  /** The output. */
  readonly output: OnnxValueInfo;
  /** The default domain's opset version the file was written for. */
  readonly opset: number;
  /** The file's `producer_name` and `producer_version`, e.g. `"pytorch 1.13.0"`. */
  readonly producer: string;

  /** Wraps an imported graph; {@link loadOnnx} makes these. */
  constructor(fields: {
    graph: ModelGraph;
    input: OnnxValueInfo;
    output: OnnxValueInfo;
    opset: number;
    producer: string;
  }) {
    this.graph = fields.graph;
    this.input = fields.input;
    this.output = fields.output;
    this.opset = fields.opset;
    this.producer = fields.producer;
  }

  /**
   * Prepares every kernel on `backend` and plans the buffers, exactly as
   * `compileGraph` from `@mobileops/graph` (and the models package's
   * `Model.compile`) do; `run` takes a tensor of `input.graphShape`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { loadOnnx } from "@mobileops/onnx";
   * import { createBackend } from "@mobileops/registry";
   * import onnxProto from "npm:onnx-proto@8.0.1";
   * const bytes = onnxProto.onnx.ModelProto.encode({
   *   irVersion: 8,
   *   opsetImport: [{ domain: "", version: 13 }],
   *   graph: {
   *     node: [{ opType: "Softmax", input: ["x"], output: ["y"] }],
   *     input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } } }],
   *     output: [{ name: "y" }],
   *   },
   * }).finish();
   * using backend = await createBackend("js");
   * using compiled = await loadOnnx(bytes).compile(backend);
   * using x = backend.upload(new Float32Array([1, 1, 1, 1]), [1, 4]);
   * assert((await compiled.run(x).download()).every((p) => p === 0.25));
   * ```
   */
  compile(backend: Backend): Promise<CompiledModel> {
    return compileGraph(this.graph, backend);
  }

  /**
   * The ONNX input's data (row-major in `input.shape`) in the graph's layout:
   * NCHW → NHWC for a feature map, unchanged otherwise.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { OnnxModel } from "@mobileops/onnx";
   * const info = { name: "x", shape: [1, 2, 1, 2], layout: "nchw", graphShape: [1, 1, 2, 2] } as const;
   * const graph = { name: "g", inputShape: [1, 1, 2, 2], nodes: [], output: "" };
   * const model = new OnnxModel({ graph, input: info, output: info, opset: 13, producer: "" });
   * assert(model.toGraphInput(new Float32Array([1, 2, 3, 4])).join() === "1,3,2,4");
   * ```
   */
  toGraphInput(data: Float32Array): Float32Array {
    return this.input.layout === "nchw" ? nchwToNhwc(data, nchwShape(this.input)) : data;
  }

  /**
   * The graph's output data in ONNX's layout (row-major in `output.shape`):
   * NHWC → NCHW for a feature map, unchanged otherwise.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { OnnxModel } from "@mobileops/onnx";
   * const info = { name: "y", shape: [1, 4], layout: "nchw", graphShape: [1, 1, 2, 2] } as const;
   * const graph = { name: "g", inputShape: [1, 4], nodes: [], output: "" };
   * const model = new OnnxModel({ graph, input: info, output: info, opset: 13, producer: "" });
   * assert(model.fromGraphOutput(new Float32Array([1, 3, 2, 4])).join() === "1,2,3,4");
   * ```
   */
  fromGraphOutput(data: Float32Array): Float32Array {
    return this.output.layout === "nchw" ? nhwcToNchw(data, this.output.graphShape) : data;
  }
}

function nchwShape(info: OnnxValueInfo): number[] {
  const [n, h, w, c] = info.graphShape;
  return [n, c, h, w];
}

function valueInfo(name: string, value: IrValue): OnnxValueInfo {
  if (value.layout.kind === "nchw") {
    const [n, c, h, w] = value.layout.dims;
    return { name, shape: value.shape, layout: "nchw", graphShape: [n, h, w, c] };
  }
  return { name, shape: value.shape, layout: "plain", graphShape: value.shape };
}

function opsetOf(model: ModelProto): number {
  const entry = model.opsetImport?.find((e) => e.domain === "" || e.domain === "ai.onnx");
  // IR version 1–2 files have no opset_import: they are opset 1.
  const opset = entry === undefined ? 1 : int(entry.version, "opset_import.version");
  const [lowest, highest] = OPSET_RANGE;
  if (opset < lowest || opset > highest) {
    throw new OnnxError(
      "opset_import",
      opset,
      `the default domain's opset must be from ${lowest} to ${highest}`,
    );
  }
  return opset;
}

function checkConstants(constants: Readonly<Record<string, OnnxTensor>>): Map<string, OnnxTensor> {
  if (constants === null || typeof constants !== "object" || Array.isArray(constants)) {
    throw new OnnxError(
      "options.constants",
      constants,
      "must be an object of name → { shape, data }",
    );
  }
  const checked = new Map<string, OnnxTensor>();
  for (const [name, tensor] of Object.entries(constants)) {
    const field = `options.constants[${JSON.stringify(name)}]`;
    const shape: unknown = tensor?.shape;
    const data: unknown = tensor?.data;
    if (
      !Array.isArray(shape) || shape.some((dim) => !Number.isInteger(dim) || dim < 0) ||
      !(data instanceof Float32Array || data instanceof BigInt64Array) ||
      data.length !== shape.reduce((p: number, d: number) => p * d, 1)
    ) {
      throw new OnnxError(
        field,
        tensor,
        "must be { shape, data } with data a Float32Array or BigInt64Array of the shape's size",
      );
    }
    checked.set(name, { shape: [...shape], data });
  }
  return checked;
}

/** The data input's shape, its dynamic dimensions filled from `given`. */
function inputShapeOf(input: ValueInfoProto, given: readonly number[] | undefined): number[] {
  const field = `graph.input[${JSON.stringify(input.name)}]`;
  const tensorType = input.type?.tensorType;
  if (tensorType === undefined || tensorType === null) {
    throw new OnnxError(`${field}.type`, "not a tensor", "the data input must be a tensor");
  }
  if (tensorType.elemType !== 1) {
    throw new OnnxError(
      `${field}.type.elem_type`,
      dataTypeName(tensorType.elemType ?? 0),
      "the data input must be FLOAT: backends compute in float32",
    );
  }
  const dims = tensorType.shape?.dim ?? [];
  if (given !== undefined) {
    if (
      !Array.isArray(given) || given.some((d) => !Number.isInteger(d) || d < 1) ||
      (tensorType.shape && given.length !== dims.length)
    ) {
      throw new OnnxError(
        "options.inputShape",
        given,
        `must be ${dims.length || "the input's"} positive integers (the ONNX shape of ` +
          `${JSON.stringify(input.name)})`,
      );
    }
  }
  if (tensorType.shape === null || tensorType.shape === undefined) {
    if (given === undefined) {
      throw new OnnxError(
        `${field}.shape`,
        "unknown",
        "the input has no shape: give options.inputShape",
      );
    }
    return [...given];
  }
  return dims.map((dim, i) => {
    const fixed = dim.dimValue === null || dim.dimValue === undefined
      ? undefined
      : int(dim.dimValue, `${field}.shape[${i}]`);
    if (fixed !== undefined && fixed > 0) {
      if (given !== undefined && given[i] !== fixed) {
        throw new OnnxError(`options.inputShape[${i}]`, given[i], `the file fixes it to ${fixed}`);
      }
      return fixed;
    }
    if (given === undefined) {
      throw new OnnxError(
        `${field}.shape[${i}]`,
        dim.dimParam || "?",
        "is dynamic: give options.inputShape (the ONNX shape, e.g. [1, 3, 224, 224])",
      );
    }
    return given[i];
  });
}

/**
 * Imports an ONNX model (opset {@link OPSET_RANGE}) as core operators: BatchNorm
 * folded, activations fused, channel shuffles recognised, padding folded,
 * no-ops removed, NCHW converted to NHWC (see docs/onnx.md for every
 * operator and attribute). The model has one data input — the first graph
 * input with no initializer and no bound constant — and one output.
 *
 * @throws {OnnxError} Malformed or truncated bytes (field `bytes`), a tensor
 *   in external data (naming it), an opset out of range, a dynamic input
 *   dimension without `options.inputShape`, a second data input, more than
 *   one output, a non-FLOAT data input, bad options.
 * @throws {OnnxUnsupportedError} Every node that cannot be imported, each
 *   with its op type, attribute, value and reason, in one error.
 * @throws {WeightsError} BatchNorm statistics that cannot fold, named by node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadOnnx, OnnxError } from "@mobileops/onnx";
 * import onnxProto from "npm:onnx-proto@8.0.1";
 * const bytes = onnxProto.onnx.ModelProto.encode({
 *   irVersion: 8,
 *   opsetImport: [{ domain: "", version: 13 }],
 *   graph: {
 *     node: [
 *       { name: "conv", opType: "Conv", input: ["x", "w"], output: ["c"], attribute: [{ name: "pads", type: 7, ints: [1, 1, 1, 1] }] },
 *       { name: "relu", opType: "Relu", input: ["c"], output: ["y"] },
 *     ],
 *     input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "N" }, { dimValue: 1 }, { dimValue: 4 }, { dimValue: 4 }] } } } }],
 *     initializer: [{ name: "w", dims: [2, 1, 3, 3], dataType: 1, floatData: new Array(18).fill(0.5) }],
 *     output: [{ name: "y" }],
 *   },
 * }).finish();
 * assert.throws(() => loadOnnx(bytes), OnnxError); // N is dynamic
 * const model = loadOnnx(bytes, { inputShape: [1, 1, 4, 4] });
 * assert(model.graph.nodes.length === 1); // Conv + Relu → one conv2d with activation "relu"
 * assert(model.graph.nodes[0].descriptor.op === "conv2d" && model.graph.nodes[0].descriptor.activation === "relu");
 * assert(model.output.shape.join() === "1,2,4,4" && model.output.graphShape.join() === "1,4,4,2");
 * ```
 */
export function loadOnnx(bytes: Uint8Array, options: LoadOnnxOptions = {}): OnnxModel {
  validateOptions("options", options, OPTION_KEYS, OnnxError);
  const model = decodeModel(bytes);
  const opset = opsetOf(model);
  const graph = model.graph!;
  const constants = new Map<string, OnnxTensor>();
  (graph.initializer ?? []).forEach((tensor) => {
    const name = tensor.name ?? "";
    constants.set(name, tensorFromProto(tensor, `graph.initializer[${JSON.stringify(name)}]`));
  });
  if ((graph.sparseInitializer?.length ?? 0) > 0) {
    throw new OnnxError(
      "graph.sparse_initializer",
      graph.sparseInitializer!.length,
      "sparse initializers are not supported",
    );
  }
  for (const [name, tensor] of checkConstants(options.constants ?? {})) constants.set(name, tensor);
  const dataInputs = (graph.input ?? []).filter((input) => !constants.has(input.name ?? ""));
  if (dataInputs.length === 0) {
    throw new OnnxError("graph.input", [], "no data input: every graph input is a constant");
  }
  if (dataInputs.length > 1) {
    throw new OnnxError(
      "graph.input",
      dataInputs.map((input) => input.name),
      "more than one data input: a graph has one; bind the others with options.constants",
    );
  }
  const outputs = graph.output ?? [];
  if (outputs.length !== 1) {
    throw new OnnxError(
      "graph.output",
      outputs.map((output) => output.name),
      "must be exactly one output: a graph has one",
    );
  }
  const inputName = dataInputs[0].name ?? "";
  const inputShape = inputShapeOf(dataInputs[0], options.inputShape);
  const outputName = outputs[0].name ?? "";
  const lowered = lowerGraph(graph.node ?? [], {
    opset,
    constants,
    input: { name: inputName, shape: inputShape },
    output: outputName,
  });
  const input = valueInfo(inputName, lowered.graph.values.get(inputName)!);
  const name = options.name ?? (graph.name || "onnx");
  if (typeof name !== "string" || name === "") {
    throw new OnnxError("options.name", name, "must be a non-empty string");
  }
  let emitted: ReturnType<typeof emitGraph> | undefined;
  try {
    emitted = emitGraph(fuse(lowered.graph), name, input.graphShape);
  } catch (error) {
    // With nodes already refused, a fold may fail on what is left; those nodes are the report.
    if (lowered.refusals.length === 0) throw error;
  }
  const refusals = [...lowered.refusals, ...(emitted?.refusals ?? [])];
  if (refusals.length > 0) throw new OnnxUnsupportedError(refusals);
  const modelGraph = emitted!.graph!;
  inferGraphShapes(modelGraph);
  const output = valueInfo(outputName, lowered.graph.values.get(outputName)!);
  return new OnnxModel({
    graph: modelGraph,
    input,
    output,
    opset,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(" "),
  });
}
