/**
 * A model as plain data: a list of core operator nodes in execution order.
 * Builders, importers and converters (ONNX, TF.js) write it; executors read
 * it and nothing else.
 *
 * @module
 */

import {
  type ConvWeights,
  type FullyConnectedWeights,
  inferGeometry,
  InvalidArgumentError,
  type OpDescriptor,
  type Shape,
  validateDescriptor,
  validateOptions,
  validateShape,
} from "@mobileops/core";
import { GraphError, renameField, withFieldPrefix } from "./errors.ts";

/** The name by which nodes refer to the model's input tensor. */
export const GRAPH_INPUT = "input";

/** One operator call of a model. */
export interface GraphNode {
  /** Unique; also the prefix of the node's tensors in a safetensors file. */
  readonly name: string;
  /** The core operator the node runs (sizes, stride, padding, fused activation). */
  readonly descriptor: OpDescriptor;
  /** Names of earlier nodes, or {@link GRAPH_INPUT}, in the operator's input order. */
  readonly inputs: readonly string[];
  /** The operator's weights, BatchNorm already folded into convolutions. */
  readonly weights?: ConvWeights | FullyConnectedWeights;
}

/** A whole network: nodes in execution order, NHWC input shape, and the node that gives the output. */
export interface ModelGraph {
  /** Identifies the network in summaries and reports, e.g. `"mobilenet_v1_1.0_224"`. */
  readonly name: string;
  /** NHWC, batch included. */
  readonly inputShape: Shape;
  /** In execution order; each reads only the input or earlier nodes, and names are unique. */
  readonly nodes: readonly GraphNode[];
  /** Name of the node whose output is the model's output. */
  readonly output: string;
}

const GRAPH_KEYS = ["name", "inputShape", "nodes", "output"];
const NODE_KEYS = ["name", "descriptor", "inputs", "weights"];

/** What {@link analyzeGraph} finds out about a valid graph. */
export interface GraphAnalysis {
  /** Each value's shape by name, {@link GRAPH_INPUT} included. */
  readonly shapes: Map<string, Shape>;
  /** Each value's last reader, as {@link lastUses} returns it. */
  readonly uses: Map<string, number>;
  /** Each node's descriptor in core's validated, canonical form, in node order. */
  readonly descriptors: readonly OpDescriptor[];
}

/**
 * The field prefix by which errors name a node's operator, descriptor,
 * shapes and weights: `nodes["conv1"].`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeField } from "./graph.ts";
 * assert(nodeField("block1.depthwise") === 'nodes["block1.depthwise"].');
 * ```
 */
export function nodeField(name: string): string {
  return `nodes[${JSON.stringify(name)}].`;
}

/**
 * Core's descriptor constructors name their `options` object (and its
 * fields); in a graph that object is the node's `descriptor`.
 */
function descriptorError(error: unknown, node: string): unknown {
  if (!(error instanceof InvalidArgumentError)) return error;
  const field = error.field.replace(/^(options|descriptor)(?=$|\.)/, "");
  const path = field === "" || field.startsWith(".") ? field : `.${field}`;
  return renameField(error, `${nodeField(node)}descriptor${path}`);
}

/**
 * Validates `graph` completely — that it is a `{ name, inputShape, nodes,
 * output }` object with no other keys, that every node is a `{ name,
 * descriptor, inputs, weights? }` object whose descriptor core accepts and
 * which reads only the input or earlier nodes, that names are unique, that
 * every operator accepts its input shapes, and that the output names a node —
 * and returns the shapes, last uses and canonical descriptors. Weights are
 * not read here: the backend's `prepare` (or the reference) checks them.
 *
 * @throws {GraphError} The graph's own structure, with fields such as
 *   `graph`, `name`, `nodes[2].inputs[0]`, `output`.
 * @throws {ShapeError} `inputShape` (core's `validateShape`), or an operator
 *   refusing its input shapes, named by node: `nodes["fc"].inputs[0].shape`.
 * @throws {DescriptorError} A node's descriptor, named by node:
 *   `nodes["conv1"].descriptor.kernel`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPool } from "@mobileops/core";
 * import { analyzeGraph } from "./graph.ts";
 * const { shapes, uses } = analyzeGraph({
 *   name: "tiny",
 *   inputShape: [1, 4, 4, 3],
 *   nodes: [{ name: "pool", descriptor: globalAvgPool(), inputs: ["input"] }],
 *   output: "pool",
 * });
 * assert(shapes.get("pool")!.join() === "1,1,1,3" && uses.get("pool") === 1);
 * ```
 */
export function analyzeGraph(graph: ModelGraph): GraphAnalysis {
  if (graph === undefined) {
    throw new GraphError("graph", graph, "is required: { name, inputShape, nodes, output }");
  }
  validateOptions("graph", graph, GRAPH_KEYS, GraphError);
  if (typeof graph.name !== "string" || graph.name === "") {
    throw new GraphError("name", graph.name, "must be a non-empty string");
  }
  validateShape("inputShape", graph.inputShape);
  if (!Array.isArray(graph.nodes)) {
    throw new GraphError("nodes", graph.nodes, "must be an array of nodes in execution order");
  }
  const shapes = new Map<string, Shape>([[GRAPH_INPUT, graph.inputShape]]);
  const uses = new Map<string, number>();
  const descriptors: OpDescriptor[] = [];
  for (let i = 0; i < graph.nodes.length; i++) {
    const node = graph.nodes[i];
    if (node === undefined) {
      throw new GraphError(`nodes[${i}]`, node, "must be a node { name, descriptor, inputs }");
    }
    validateOptions(`nodes[${i}]`, node, NODE_KEYS, GraphError);
    if (typeof node.name !== "string" || node.name === "") {
      throw new GraphError(`nodes[${i}].name`, node.name, "must be a non-empty string");
    }
    if (shapes.has(node.name)) {
      throw new GraphError(
        `nodes[${i}].name`,
        node.name,
        "is used by an earlier node or the input",
      );
    }
    let descriptor: OpDescriptor;
    try {
      descriptor = validateDescriptor(node.descriptor);
    } catch (error) {
      throw descriptorError(error, node.name);
    }
    if (!Array.isArray(node.inputs)) {
      throw new GraphError(`nodes[${i}].inputs`, node.inputs, "must be an array of value names");
    }
    const inputShapes = (node.inputs as readonly unknown[]).map((input, j) => {
      const shape = typeof input === "string" ? shapes.get(input) : undefined;
      if (shape === undefined) {
        throw new GraphError(`nodes[${i}].inputs[${j}]`, input, "names no earlier node");
      }
      uses.set(input as string, i);
      return shape;
    });
    try {
      shapes.set(node.name, inferGeometry(descriptor, inputShapes).outputShape);
    } catch (error) {
      throw withFieldPrefix(error, nodeField(node.name));
    }
    if (!uses.has(node.name)) uses.set(node.name, i);
    descriptors.push(descriptor);
  }
  if (
    typeof graph.output !== "string" || graph.output === GRAPH_INPUT || !shapes.has(graph.output)
  ) {
    throw new GraphError("output", graph.output, "names no node of the graph");
  }
  uses.set(graph.output, graph.nodes.length);
  return { shapes, uses, descriptors };
}

/**
 * Validates `graph` (see {@link analyzeGraph} for every check and error) and
 * returns each value's shape by name ({@link GRAPH_INPUT} included).
 *
 * @throws {GraphError} A malformed graph: not an object, an unknown key, a
 *   node reading a value no earlier node produced, a duplicate name, an
 *   output naming no node.
 * @throws {ShapeError} A bad `inputShape`, or an operator refusing its input
 *   shapes (field prefixed with the node: `nodes["fc"].inputs[0].shape`).
 * @throws {DescriptorError} A node's descriptor that core refuses
 *   (`nodes["conv1"].descriptor.kernel`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPool } from "@mobileops/core";
 * import { inferGraphShapes } from "@mobileops/graph";
 * const shapes = inferGraphShapes({
 *   name: "tiny",
 *   inputShape: [1, 4, 4, 3],
 *   nodes: [{ name: "pool", descriptor: globalAvgPool(), inputs: ["input"] }],
 *   output: "pool",
 * });
 * assert(shapes.get("pool")!.join() === "1,1,1,3");
 * ```
 */
export function inferGraphShapes(graph: ModelGraph): Map<string, Shape> {
  return analyzeGraph(graph).shapes;
}

/**
 * For each value, the index of the last node that reads it (the output
 * node's own value lives to the end: `nodes.length`). Validates the graph
 * first and throws what {@link inferGraphShapes} throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPool, softmax } from "@mobileops/core";
 * import { lastUses } from "@mobileops/graph";
 * const uses = lastUses({
 *   name: "tiny",
 *   inputShape: [1, 2, 2, 3],
 *   nodes: [
 *     { name: "pool", descriptor: globalAvgPool(), inputs: ["input"] },
 *     { name: "prob", descriptor: softmax(), inputs: ["pool"] },
 *   ],
 *   output: "prob",
 * });
 * assert(uses.get("input") === 0 && uses.get("pool") === 1 && uses.get("prob") === 2);
 * ```
 */
export function lastUses(graph: ModelGraph): Map<string, number> {
  return analyzeGraph(graph).uses;
}
