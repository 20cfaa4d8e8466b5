/**
 * `@mobileops/graph/reference`: float64 execution of a `ModelGraph` with the
 * conformance package's reference operators, the oracle that graph-level
 * checks hold backends to. A separate entry so that `@mobileops/graph` itself
 * does not depend on `@mobileops/conformance`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPool } from "@mobileops/core";
 * import { referenceForward } from "@mobileops/graph/reference";
 * const result = referenceForward({
 *   name: "pool",
 *   inputShape: [1, 1, 2, 1],
 *   nodes: [{ name: "pool", descriptor: globalAvgPool(), inputs: ["input"] }],
 *   output: "pool",
 * }, [1, 2]);
 * assert(result.values[0] === 1.5);
 * ```
 *
 * @module
 */

import { reference, type ReferenceResult, type ReferenceTensor } from "@mobileops/conformance";
import { ShapeError, shapeSize, validateWeights } from "@mobileops/core";
import { withFieldPrefix } from "./errors.ts";
import { analyzeGraph, GRAPH_INPUT, type ModelGraph, nodeField } from "./graph.ts";

/**
 * Runs every node of `graph` in float64 on `input` (NHWC values of
 * `graph.inputShape`) and returns the output node's result. Intermediate
 * values are dropped as soon as their last reader has run. Non-finite input
 * values propagate as IEEE 754 arithmetic makes them.
 *
 * @throws {GraphError | ShapeError | DescriptorError} A malformed graph,
 *   as `inferGraphShapes` reports it.
 * @throws {ShapeError} `input` is not an array or typed array of numbers
 *   with exactly the input shape's size.
 * @throws {WeightsError} A node's weights that core refuses (the same check
 *   as a backend's `prepare`), named by node: `nodes["fc"].weights.bias`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullyConnected, globalAvgPool } from "@mobileops/core";
 * import { referenceForward } from "@mobileops/graph/reference";
 * const result = referenceForward({
 *   name: "tiny",
 *   inputShape: [1, 2, 2, 1],
 *   nodes: [
 *     { name: "pool", descriptor: globalAvgPool(), inputs: ["input"] },
 *     {
 *       name: "fc",
 *       descriptor: fullyConnected({ inFeatures: 1, outFeatures: 1 }),
 *       inputs: ["pool"],
 *       weights: { weights: new Float32Array([2]) },
 *     },
 *   ],
 *   output: "fc",
 * }, [1, 2, 3, 4]);
 * assert(result.values[0] === 5);
 * ```
 */
export function referenceForward(graph: ModelGraph, input: ArrayLike<number>): ReferenceResult {
  const { uses, descriptors } = analyzeGraph(graph);
  checkInput(input, shapeSize(graph.inputShape));
  graph.nodes.forEach((node, i) => {
    try {
      validateWeights(descriptors[i], node.weights);
    } catch (error) {
      throw withFieldPrefix(error, nodeField(node.name));
    }
  });
  const values = new Map<string, ReferenceTensor>([[GRAPH_INPUT, {
    shape: graph.inputShape,
    data: input,
  }]]);
  let output: ReferenceResult | undefined;
  graph.nodes.forEach((node, i) => {
    const result = reference(
      descriptors[i],
      node.weights,
      node.inputs.map((name) => values.get(name)!),
    );
    values.set(node.name, { shape: result.shape, data: result.values });
    if (node.name === graph.output) output = result;
    for (const name of node.inputs) if (uses.get(name) === i) values.delete(name);
  });
  return output!;
}

function checkInput(input: ArrayLike<number>, size: number): void {
  const isArray = Array.isArray(input);
  if (!isArray && !(ArrayBuffer.isView(input) && !(input instanceof DataView))) {
    throw new ShapeError("input", input, "must be an array or a typed array of numbers");
  }
  if (isArray) {
    const index = (input as unknown[]).findIndex((value) => typeof value !== "number");
    if (index >= 0) throw new ShapeError(`input[${index}]`, input[index], "must be a number");
  }
  if (input.length !== size) {
    throw new ShapeError(
      "input.length",
      input.length,
      `must equal the input shape's size (${size})`,
    );
  }
}
