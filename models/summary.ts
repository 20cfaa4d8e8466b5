/**
 * The cost model of a whole network: per-layer multiply-adds, parameters
 * and activation bytes, with totals, as data, a text table, or JSON.
 *
 * @module
 */

import {
  convKind,
  inferGeometry,
  opCost,
  type OpDescriptor,
  type Shape,
  shapeSize,
} from "@mobileops/core";
import { inferGraphShapes, type ModelGraph, planBuffers } from "@mobileops/graph";
import { ModelOptionError } from "./errors.ts";

/** One layer's row. */
export interface SummaryRow {
  /** The graph node's name, e.g. `"stage2.unit1.concat"`. */
  readonly name: string;
  /** Operator and form, e.g. `"conv2d depthwise 3×3/2"`. */
  readonly op: string;
  /** NHWC, batch included; `[batch, features]` after a fully connected layer. */
  readonly outputShape: Shape;
  /** Per output, one per filter tap or FC input (core's `opCost`); 0 for other operators. */
  readonly multiplyAdds: number;
  /** As the graph runs it: folded BatchNorm counts as the convolution's bias. */
  readonly parameters: number;
  /** float32 bytes of the layer's output. */
  readonly activationBytes: number;
}

/** A network's cost: rows in execution order and totals. Plain data: `JSON.stringify` it. */
export interface ModelSummary {
  /** The graph's name, e.g. `"mobilenet_v1_1.0_224"`. */
  readonly name: string;
  /** NHWC, batch included. */
  readonly inputShape: Shape;
  /** One per graph node, in execution order. */
  readonly rows: readonly SummaryRow[];
  /** Sums over all rows, plus the bytes of the planned, reused activation buffers. */
  readonly totals: {
    readonly multiplyAdds: number;
    readonly parameters: number;
    /** Sum of every layer's output bytes (what running without buffer reuse would hold). */
    readonly activationBytes: number;
    /** Bytes of the reused buffers the compiled model actually allocates. */
    readonly plannedActivationBytes: number;
  };
}

function describeOp(descriptor: OpDescriptor): string {
  switch (descriptor.op) {
    case "conv2d": {
      const [kh, kw] = descriptor.kernel;
      const kind = convKind(descriptor);
      const groups = kind === "group" ? ` g${descriptor.groups}` : "";
      return `conv2d ${kind}${groups} ${kh}×${kw}/${descriptor.stride[0]}`;
    }
    case "avgPool2d":
    case "maxPool2d":
      return `${descriptor.op} ${descriptor.kernel[0]}×${descriptor.kernel[1]}/${
        descriptor.stride[0]
      }`;
    case "channelShuffle":
      return `channelShuffle g${descriptor.groups}`;
    default:
      return descriptor.op;
  }
}

/**
 * Computes the cost of every node of `model.graph` (anything with a
 * `graph`, or a graph itself) with core's `opCost`, which counts a
 * multiply-add per filter tap per output, as the papers do. Throws
 * {@link ModelOptionError} when `model` is neither, and what
 * `inferGraphShapes` throws for a malformed graph.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mobilenetV1, summary } from "@mobileops/models";
 * const s = summary(mobilenetV1({ alpha: 1, resolution: 224 }));
 * assert(Math.round(s.totals.multiplyAdds / 1e6) === 569);
 * ```
 */
export function summary(model: { readonly graph: ModelGraph } | ModelGraph): ModelSummary {
  if (model === null || typeof model !== "object" || !("nodes" in model || "graph" in model)) {
    throw new ModelOptionError(
      "model",
      model,
      "must be a Model (or anything with a graph) or a ModelGraph",
    );
  }
  const graph = "nodes" in model ? model : model.graph;
  const shapes = inferGraphShapes(graph);
  const rows = graph.nodes.map((node): SummaryRow => {
    const inputShapes = node.inputs.map((input) => shapes.get(input)!);
    const cost = opCost(node.descriptor, inputShapes);
    return {
      name: node.name,
      op: describeOp(node.descriptor),
      outputShape: inferGeometry(node.descriptor, inputShapes).outputShape,
      multiplyAdds: cost.multiplyAdds,
      parameters: cost.parameters,
      activationBytes: 4 * shapeSize(cost.outputShape),
    };
  });
  const total = (field: "multiplyAdds" | "parameters" | "activationBytes") =>
    rows.reduce((sum, row) => sum + row[field], 0);
  return {
    name: graph.name,
    inputShape: graph.inputShape,
    rows,
    totals: {
      multiplyAdds: total("multiplyAdds"),
      parameters: total("parameters"),
      activationBytes: total("activationBytes"),
      plannedActivationBytes: planBuffers(graph).buffers.reduce(
        (sum, shape) => sum + 4 * shapeSize(shape),
        0,
      ),
    },
  };
}

/**
 * Formats a number of multiply-adds or parameters the way the papers do:
 * `569.0M`, `4.23M`, `41.9K`. Throws {@link ModelOptionError} unless `value`
 * is a finite non-negative number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCount } from "@mobileops/models";
 * assert(formatCount(568_740_000) === "568.7M" && formatCount(4_231_976) === "4.232M");
 * ```
 */
export function formatCount(value: number): string {
  count("value", value);
  if (value >= 1e8) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(3)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}K`;
  return String(value);
}

/**
 * Renders a summary as an aligned text table with a totals line. Throws
 * {@link ModelOptionError} when `s` does not have a summary's fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatSummaryTable, shufflenetV1, summary } from "@mobileops/models";
 * const table = formatSummaryTable(summary(shufflenetV1({ groups: 3, scale: 1, resolution: 224 })));
 * assert(table.includes("stage2.unit1.concat") && table.includes("total"));
 * ```
 */
export function formatSummaryTable(s: ModelSummary): string {
  const fields = s as unknown as Record<string, unknown> | null;
  if (
    fields === null || typeof fields !== "object" || typeof fields.name !== "string" ||
    !Array.isArray(fields.inputShape) || !Array.isArray(fields.rows) ||
    fields.totals === null || typeof fields.totals !== "object"
  ) {
    throw new ModelOptionError("summary", s, "must be what summary() returns");
  }
  const header = ["layer", "op", "output", "mult-adds", "params", "activation"];
  const cells = s.rows.map((row) => [
    row.name,
    row.op,
    row.outputShape.join("×"),
    formatCount(row.multiplyAdds),
    formatCount(row.parameters),
    formatBytes(row.activationBytes),
  ]);
  cells.push([
    "total",
    "",
    "",
    formatCount(s.totals.multiplyAdds),
    formatCount(s.totals.parameters),
    `${formatBytes(s.totals.activationBytes)} (planned ${
      formatBytes(s.totals.plannedActivationBytes)
    })`,
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((row) => row[i].length))
  );
  const line = (row: string[]) =>
    row.map((cell, i) => i < 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join("  ")
      .trimEnd();
  return [
    `${s.name} — input ${s.inputShape.join("×")}`,
    line(header),
    ...cells.map(line),
  ].join("\n");
}

/**
 * Bytes as `KiB`/`MiB` with one decimal. Throws {@link ModelOptionError}
 * unless `bytes` is a finite non-negative number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "@mobileops/models";
 * assert(formatBytes(1536) === "1.5 KiB" && formatBytes(100) === "100 B");
 * ```
 */
export function formatBytes(bytes: number): string {
  count("bytes", bytes);
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function count(field: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ModelOptionError(field, value, "must be a finite non-negative number");
  }
}
