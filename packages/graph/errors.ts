/**
 * The graph package's typed error. It extends core's
 * {@link InvalidArgumentError}, so it carries the offending `field` and
 * `value` and is a `MobileOpsError`.
 *
 * @module
 */

import { InvalidArgumentError } from "@mobileops/core";

/**
 * A model graph is malformed: a node reads a value that no earlier node
 * produced, two nodes share a name, or the output names no node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GraphError } from "@mobileops/graph";
 * const error = new GraphError("nodes[2].inputs[0]", "nope", "names no earlier node");
 * assert(error.message === 'nodes[2].inputs[0] = "nope": names no earlier node');
 * ```
 */
export class GraphError extends InvalidArgumentError {
  /** Always `"GraphError"`, so `String(error)` and stack traces show the class. */
  override name = "GraphError";
}
