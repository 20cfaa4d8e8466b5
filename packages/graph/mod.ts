/**
 * `@mobileops/graph`: a model as plain data (a {@link ModelGraph} of core
 * operator nodes), its validation and shape inference, liveness-based
 * activation buffer planning, and compilation onto any core `Backend`.
 * Model builders and format importers produce graphs; backends run them.
 *
 * Every entry point validates its arguments: a malformed graph throws
 * {@link GraphError} (or core's `ShapeError` / `DescriptorError` about one
 * node, its field prefixed with the node: `nodes["conv1"].descriptor.kernel`),
 * and an operator the backend refuses at compile time keeps core's error
 * class with the node in its field (`nodes["conv1"].weights.filter[0]`).
 *
 * The float64 executor that serves as the oracle for graph-level checks is
 * a separate entry, `@mobileops/graph/reference`, so this one depends on
 * `@mobileops/core` only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPool, softmax } from "@mobileops/core";
 * import { compileGraph, type ModelGraph } from "@mobileops/graph";
 * import { createBackend } from "@mobileops/registry";
 * const graph: ModelGraph = {
 *   name: "pool-softmax",
 *   inputShape: [1, 2, 2, 3],
 *   nodes: [
 *     { name: "pool", descriptor: globalAvgPool(), inputs: ["input"] },
 *     { name: "prob", descriptor: softmax(), inputs: ["pool"] },
 *   ],
 *   output: "prob",
 * };
 * using backend = await createBackend("js");
 * using compiled = await compileGraph(graph, backend);
 * using input = backend.upload(new Float32Array(12).fill(1), graph.inputShape);
 * const probabilities = await compiled.run(input).download();
 * assert(probabilities.every((p) => Math.abs(p - 1 / 3) < 1e-6));
 * ```
 *
 * @module
 */

export { GraphError, withFieldPrefix } from "./errors.ts";
export {
  GRAPH_INPUT,
  type GraphNode,
  inferGraphShapes,
  lastUses,
  type ModelGraph,
} from "./graph.ts";
export {
  type BufferPlan,
  type CompiledModel,
  compileGraph,
  type LayerProfile,
  type ModelProfile,
  planBuffers,
} from "./compile.ts";
