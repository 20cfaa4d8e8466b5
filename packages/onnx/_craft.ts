/**
 * Test helper: small ONNX models written with onnx-proto's encoder, so that
 * each test states the exact nodes, attributes and initializers it feeds the
 * importer.
 *
 * @module
 */

import type { Backend } from "@mobileops/core";
import { type NodeProto, onnx } from "./proto.ts";
import type { OnnxModel } from "./load.ts";

/** An attribute value: a number is INT when an integer, FLOAT otherwise; use `{ f }` for a whole float. */
export type AttributeValue = number | number[] | string | { f: number } | { floats: number[] };

/** A node as the tests write it. */
export interface CraftNode {
  /** Operator, e.g. `"Conv"`. */
  readonly op: string;
  /** Input value names; `""` for an absent optional input. */
  readonly inputs: readonly string[];
  /** Output value names; the first is also the node's name unless `name` is given. */
  readonly outputs: readonly string[];
  /** Attributes by name. */
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
  /** The node's name. */
  readonly name?: string;
}

/** A constant as the tests write it: FLOAT unless `int64`. */
export interface CraftTensor {
  /** ONNX dimensions. */
  readonly shape: readonly number[];
  /** Values, row-major. */
  readonly data: ArrayLike<number>;
  /** Store as INT64 (shapes, pads). */
  readonly int64?: boolean;
}

/** What {@link craftModel} writes. */
export interface CraftModel {
  /** In order. */
  readonly nodes: readonly CraftNode[];
  /** The data input: name and ONNX shape (a string is a dynamic dimension). */
  readonly input: { readonly name: string; readonly shape: readonly (number | string)[] };
  /** The output's name, or several. */
  readonly output: string | readonly string[];
  /** Initializers by name. */
  readonly initializers?: Readonly<Record<string, CraftTensor>>;
  /** Further graph inputs without initializers (weights to bind). */
  readonly extraInputs?: readonly string[];
  /** The default domain's opset; default 13. */
  readonly opset?: number;
}

function attribute(name: string, value: AttributeValue) {
  if (typeof value === "string") return { name, type: 3, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: 7, ints: value };
  if (typeof value === "object" && "floats" in value) {
    return { name, type: 6, floats: value.floats };
  }
  if (typeof value === "object") return { name, type: 1, f: value.f };
  return Number.isInteger(value) ? { name, type: 2, i: value } : { name, type: 1, f: value };
}

/**
 * The tensor proto of a {@link CraftTensor} named `name`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensorProto } from "./_craft.ts";
 * assert(tensorProto("w", { shape: [2], data: [1, 2] }).dataType === 1);
 * ```
 */
export function tensorProto(name: string, tensor: CraftTensor) {
  return tensor.int64
    ? { name, dims: [...tensor.shape], dataType: 7, int64Data: Array.from(tensor.data) }
    : { name, dims: [...tensor.shape], dataType: 1, floatData: Array.from(tensor.data) };
}

function valueInfo(name: string, shape?: readonly (number | string)[]) {
  if (shape === undefined) return { name };
  const dim = shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: 1, shape: { dim } } } };
}

/**
 * Encodes `model` as ONNX bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { craftModel } from "./_craft.ts";
 * import { loadOnnx } from "./mod.ts";
 * const bytes = craftModel({
 *   nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
 *   input: { name: "x", shape: [1, 2, 2, 2] },
 *   output: "y",
 * });
 * assert(loadOnnx(bytes).graph.nodes.length === 1);
 * ```
 */
export function craftModel(model: CraftModel): Uint8Array {
  const node: NodeProto[] = model.nodes.map((n) => ({
    name: n.name ?? n.outputs[0],
    opType: n.op,
    input: [...n.inputs],
    output: [...n.outputs],
    attribute: Object.entries(n.attributes ?? {}).map(([name, value]) => attribute(name, value)),
  }));
  const initializers = Object.entries(model.initializers ?? {});
  const outputs = typeof model.output === "string" ? [model.output] : model.output;
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: "craft",
    opsetImport: [{ domain: "", version: model.opset ?? 13 }],
    graph: {
      name: "crafted",
      node,
      input: [
        valueInfo(model.input.name, model.input.shape),
        ...(model.extraInputs ?? []).map((name) => valueInfo(name, [])),
        ...initializers.map(([name]) => valueInfo(name)),
      ],
      initializer: initializers.map(([name, tensor]) => tensorProto(name, tensor)),
      output: outputs.map((name) => valueInfo(name)),
    },
  }).finish();
}

/**
 * Runs an imported model on `backend` with ONNX-ordered input data and
 * returns ONNX-ordered output data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBackend } from "@mobileops/registry";
 * import { craftModel, runOnnx } from "./_craft.ts";
 * import { loadOnnx } from "./mod.ts";
 * const model = loadOnnx(craftModel({
 *   nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
 *   input: { name: "x", shape: [1, 2, 1, 1] },
 *   output: "y",
 * }));
 * using backend = await createBackend("js");
 * assert((await runOnnx(model, backend, [-1, 2])).join() === "0,2");
 * ```
 */
export async function runOnnx(
  model: OnnxModel,
  backend: Backend,
  input: ArrayLike<number>,
): Promise<Float32Array> {
  using compiled = await model.compile(backend);
  using tensor = backend.upload(
    model.toGraphInput(Float32Array.from(input)),
    model.input.graphShape,
  );
  return model.fromGraphOutput(await compiled.run(tensor).download());
}
