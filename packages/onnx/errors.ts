/**
 * The ONNX importer's typed errors. {@link OnnxError} is a file or an option
 * that cannot be read as asked (malformed bytes, external data, a dynamic
 * input shape, a bad constant); {@link OnnxUnsupportedError} lists every node
 * of a readable file that the importer cannot turn into core operators. Both
 * extend core's `InvalidArgumentError` (`field`, `value`, a
 * `field = value: reason` message).
 *
 * @module
 */

import { describeValue, InvalidArgumentError, UnsupportedError } from "@mobileops/core";

/**
 * An ONNX file or a {@link loadOnnx} option that cannot be read as given:
 * truncated or malformed bytes, a tensor stored in external data, a dynamic
 * input dimension with no `options.inputShape`, a constant whose data does
 * not fit its shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidArgumentError } from "@mobileops/core";
 * import { OnnxError } from "@mobileops/onnx";
 * const error = new OnnxError("bytes", new Uint8Array(3), "truncated or malformed ONNX file");
 * assert(error instanceof InvalidArgumentError);
 * assert(error.message === "bytes = Uint8Array(3): truncated or malformed ONNX file");
 * ```
 */
export class OnnxError extends InvalidArgumentError {
  /** Always `"OnnxError"`, so `String(error)` and stack traces show the class. */
  override name = "OnnxError";
}

/** One reason why one node cannot be imported. */
export interface UnsupportedNode {
  /** The node's ONNX name, or its first output's name when it has none. */
  readonly node: string;
  /** The ONNX operator, e.g. `"LeakyRelu"`. */
  readonly opType: string;
  /** The attribute or input at fault, e.g. `"ceil_mode"`; absent when the operator itself is. */
  readonly attribute?: string;
  /** The attribute's or input's value, when {@link UnsupportedNode.attribute} is given. */
  readonly value?: unknown;
  /** Why, e.g. `"pending core support: ceilMode on pools"`. */
  readonly reason: string;
}

/** `"relu6" (Clip) min, max = [-1, 1]: reason`: one line of {@link OnnxUnsupportedError}. */
function describeNode(entry: UnsupportedNode): string {
  const at = entry.attribute === undefined
    ? ""
    : ` ${entry.attribute} = ${describeValue(entry.value)}`;
  return `${JSON.stringify(entry.node)} (${entry.opType})${at}: ${entry.reason}`;
}

/**
 * Every node of an ONNX file that cannot be imported, found in one pass at
 * load time: the file is refused as a whole, never partly run. `nodes` lists
 * each reason (a node may have several); the message has one line per entry.
 * Its `field` is `"graph.node"` and its `value` the names of the nodes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsupportedError } from "@mobileops/core";
 * import { OnnxUnsupportedError } from "@mobileops/onnx";
 * const error = new OnnxUnsupportedError([
 *   { node: "act", opType: "LeakyRelu", reason: "no core operator computes it" },
 *   { node: "pool", opType: "MaxPool", attribute: "dilations", value: [2, 2], reason: "must be 1" },
 * ]);
 * assert(error instanceof UnsupportedError && error.nodes.length === 2);
 * assert(error.message.includes('"pool" (MaxPool) dilations = [2, 2]: must be 1'));
 * ```
 */
export class OnnxUnsupportedError extends UnsupportedError {
  /** Always `"OnnxUnsupportedError"`, so `String(error)` and stack traces show the class. */
  override name = "OnnxUnsupportedError";
  /** Every reason, in node order. */
  readonly nodes: readonly UnsupportedNode[];
  /** Creates the error for `nodes` (at least one). */
  constructor(nodes: readonly UnsupportedNode[]) {
    const names = [...new Set(nodes.map((entry) => entry.node))];
    super(
      "graph.node",
      names,
      `${names.length} node${names.length === 1 ? "" : "s"} cannot be imported:\n` +
        nodes.map((entry) => `  ${describeNode(entry)}`).join("\n"),
    );
    this.nodes = Object.freeze([...nodes]);
  }
}

/**
 * The reason part of an `InvalidArgumentError`'s `field = value: reason`
 * message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsupportedError } from "@mobileops/core";
 * import { reasonOf } from "./errors.ts";
 * assert(reasonOf(new UnsupportedError("ceil_mode", 1, "pending core support")) === "pending core support");
 * ```
 */
export function reasonOf(error: InvalidArgumentError): string {
  const head = `${error.field} = ${describeValue(error.value)}: `;
  return error.message.startsWith(head) ? error.message.slice(head.length) : error.message;
}
