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
  type OpDescriptor,
  type Shape,
} from "@mobileops/core";
import { GraphError } from "./errors.ts";

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

/**
 * Checks that every node reads only the input or earlier nodes, that names
 * are unique, and that every operator accepts its input shapes; returns
 * each value's shape by name ({@link GRAPH_INPUT} included). Throws
 * {@link GraphError}, or core's `ShapeError` from shape inference.
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
  const shapes = new Map<string, Shape>([[GRAPH_INPUT, graph.inputShape]]);
  graph.nodes.forEach((node, i) => {
    if (shapes.has(node.name)) {
      throw new GraphError(
        `nodes[${i}].name`,
        node.name,
        "is used by an earlier node or the input",
      );
    }
    const inputShapes = node.inputs.map((input, j) => {
      const shape = shapes.get(input);
      if (shape === undefined) {
        throw new GraphError(`nodes[${i}].inputs[${j}]`, input, "names no earlier node");
      }
      return shape;
    });
    shapes.set(node.name, inferGeometry(node.descriptor, inputShapes).outputShape);
  });
  if (graph.output === GRAPH_INPUT || !shapes.has(graph.output)) {
    throw new GraphError("output", graph.output, "names no node of the graph");
  }
  return shapes;
}

/**
 * For each value, the index of the last node that reads it (the output
 * node's own value lives to the end: `nodes.length`).
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
  const uses = new Map<string, number>();
  graph.nodes.forEach((node, i) => {
    for (const input of node.inputs) uses.set(input, i);
    if (!uses.has(node.name)) uses.set(node.name, i);
  });
  uses.set(graph.output, graph.nodes.length);
  return uses;
}
