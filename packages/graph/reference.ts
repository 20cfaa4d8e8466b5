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
import { GRAPH_INPUT, inferGraphShapes, lastUses, type ModelGraph } from "./graph.ts";

/**
 * Runs every node of `graph` in float64 on `input` (NHWC values of
 * `graph.inputShape`) and returns the output node's result. Intermediate
 * values are dropped as soon as their last reader has run. Throws what
 * {@link inferGraphShapes} throws for a malformed graph.
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
  inferGraphShapes(graph);
  const uses = lastUses(graph);
  const values = new Map<string, ReferenceTensor>([[GRAPH_INPUT, {
    shape: graph.inputShape,
    data: input,
  }]]);
  let output: ReferenceResult | undefined;
  graph.nodes.forEach((node, i) => {
    const result = reference(
      node.descriptor,
      node.weights,
      node.inputs.map((name) => values.get(name)!),
    );
    values.set(node.name, { shape: result.shape, data: result.values });
    if (node.name === graph.output) output = result;
    for (const name of node.inputs) if (uses.get(name) === i) values.delete(name);
  });
  return output!;
}
