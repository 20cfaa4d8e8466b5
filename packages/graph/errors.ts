/**
 * The graph package's typed error, and {@link withFieldPrefix}, which puts
 * the node (or layer) a core error is about in front of its field. GraphError
 * extends core's {@link InvalidArgumentError}, so it carries the offending
 * `field` and `value` and is a `MobileOpsError`.
 *
 * @module
 */

import { describeValue, InvalidArgumentError } from "@mobileops/core";

/**
 * A model graph is malformed: it is not a `{ name, inputShape, nodes, output }`
 * object, a node reads a value that no earlier node produced, two nodes share
 * a name, or the output names no node.
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

/**
 * Returns `error` rebuilt as the same class with `prefix` in front of its
 * field — `weights.filter[0]` becomes `nodes["conv1"].weights.filter[0]` —
 * the same `value` and reason, and the original as `cause`. Core reports a
 * field of the one operator it was given; a graph knows which node that was.
 * Anything that is not an {@link InvalidArgumentError} (whose subclasses all
 * share its `(field, value, reason)` constructor) is returned unchanged; a
 * `prefix` that is not a string throws core's `InvalidArgumentError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WeightsError } from "@mobileops/core";
 * import { withFieldPrefix } from "@mobileops/graph";
 * const error = withFieldPrefix(
 *   new WeightsError("weights.filter[0]", NaN, "must be finite"),
 *   'nodes["conv1"].',
 * );
 * assert(error instanceof WeightsError);
 * assert(error.message === 'nodes["conv1"].weights.filter[0] = NaN: must be finite');
 * ```
 */
export function withFieldPrefix<E>(error: E, prefix: string): E {
  if (typeof prefix !== "string") {
    throw new InvalidArgumentError(
      "prefix",
      prefix,
      "must be a string (the field path to put in front)",
    );
  }
  return error instanceof InvalidArgumentError
    ? renameField(error, `${prefix}${error.field}`) as E
    : error;
}

/**
 * `error` rebuilt as the same class with `field` instead of its own, the
 * same `value` and reason, and the original as `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DescriptorError } from "@mobileops/core";
 * import { renameField } from "./errors.ts";
 * const error = renameField(new DescriptorError("options", null, "must be an options object"), "descriptor");
 * assert(error instanceof DescriptorError && error.message === "descriptor = null: must be an options object");
 * ```
 */
export function renameField(error: InvalidArgumentError, field: string): InvalidArgumentError {
  const head = `${error.field} = ${describeValue(error.value)}: `;
  // The value may have changed since the message was made; then the whole message is the reason.
  const reason = error.message.startsWith(head) ? error.message.slice(head.length) : error.message;
  const ErrorType = error.constructor as new (
    field: string,
    value: unknown,
    reason: string,
  ) => InvalidArgumentError;
  const renamed = new ErrorType(field, error.value, reason);
  renamed.cause = error;
  return renamed;
}
