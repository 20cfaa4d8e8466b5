/**
 * The importer's intermediate graph: ONNX nodes with their layout resolved
 * (NCHW tensors are held NHWC, filters OHWI) and their constants read, one
 * node per ONNX operator. Core operators appear as they will be emitted;
 * the others (BatchNorm, a constant bias, a clamp, a zero pad, the reshapes
 * and transpose of a channel shuffle, no-ops) exist only until the fusion
 * passes fold them into their neighbours.
 *
 * @module
 */

import type { BatchNormParams, Pad4, Pair } from "@mobileops/core";

/** A clamp `[min, max]` fused into an operator: `[-∞, ∞]` none, `[0, ∞]` ReLU, `[0, 6]` ReLU6. */
export type Bounds = readonly [min: number, max: number];

/**
 * The clamp that changes nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_CLAMP } from "./ir.ts";
 * assert(NO_CLAMP[0] === -Infinity && NO_CLAMP[1] === Infinity);
 * ```
 */
export const NO_CLAMP: Bounds = Object.freeze([-Infinity, Infinity] as const);

/**
 * How a value's ONNX data relate to the graph's: `plain` values are held in
 * ONNX order and shape; `nchw` values are the NCHW feature map `dims`, held
 * NHWC, whether ONNX shows them as `[N, C, H, W]` or flattened to
 * `[N, C·H·W]`.
 */
export type Layout =
  | { readonly kind: "plain" }
  | { readonly kind: "nchw"; readonly dims: readonly [n: number, c: number, h: number, w: number] };

/** A tensor of the graph: its ONNX shape and how the graph holds it. */
export interface IrValue {
  /** ONNX dimensions. */
  readonly shape: readonly number[];
  /** See {@link Layout}. */
  readonly layout: Layout;
}

interface Base {
  /** Unique; the emitted graph node's name. */
  readonly name: string;
  /** The ONNX operator it came from, for messages. */
  readonly opType: string;
  /** Value names, in the operator's input order. */
  readonly inputs: readonly string[];
  /** The value it defines. */
  readonly output: string;
}

/** A convolution in core's terms: OHWI filter, explicit padding. */
export interface ConvNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "conv";
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** `[height, width]`. */
  readonly kernel: Pair;
  /** `[height, width]`. */
  readonly stride: Pair;
  /** `[top, bottom, left, right]`. */
  readonly padding: Pad4;
  /** `[height, width]`. */
  readonly dilation: Pair;
  /** Channel groups. */
  readonly groups: number;
  /** OHWI. */
  readonly filter: Float32Array;
  /** One value per output channel, when there is one. */
  readonly bias?: Float32Array;
  /** The fused clamp. */
  readonly activation: Bounds;
}

/** Max or average pooling with explicit padding. */
export interface PoolNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "maxPool" | "avgPool";
  /** `[height, width]`. */
  readonly kernel: Pair;
  /** `[height, width]`. */
  readonly stride: Pair;
  /** `[top, bottom, left, right]`. */
  readonly padding: Pad4;
  /** Average pools: whether padded cells count in the divisor. */
  readonly countIncludePad: boolean;
  /** ONNX `ceil_mode`: the output size rounded up (core's `ceilMode`). */
  readonly ceilMode: boolean;
}

/** A fully connected layer, its columns in the graph's order of its input. */
export interface FullyConnectedNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "fullyConnected";
  /** Features read per batch item. */
  readonly inFeatures: number;
  /** Features written per batch item. */
  readonly outFeatures: number;
  /** `[outFeatures][inFeatures]`. */
  readonly weights: Float32Array;
  /** One value per output feature, when there is one. */
  readonly bias?: Float32Array;
  /** The fused clamp. */
  readonly activation: Bounds;
}

/** Element-wise add or channel concatenation, with a fused clamp. */
export interface JoinNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "add" | "concat";
  /** The fused clamp. */
  readonly activation: Bounds;
}

/** Operators with nothing to configure; `identity` is an ONNX no-op (Identity, Dropout, Flatten). */
export interface PlainNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "globalAvgPool" | "softmax" | "identity";
}

/** Channel shuffle with `groups` groups (core's `channelShuffle`). */
export interface ShuffleNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "channelShuffle";
  /** Groups `g`: output channel `j·g + i` takes input channel `i·(C/g) + j`. */
  readonly groups: number;
}

/** Inference BatchNormalization over the channel (NCHW) or feature (2-D) axis. */
export interface BatchNormNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "batchNorm";
  /** γ, β, mean, variance and ε. */
  readonly params: Required<BatchNormParams>;
}

/** Add of a constant that varies only along the channel (or feature) axis. */
export interface BiasNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "bias";
  /** One value per channel. */
  readonly bias: Float32Array;
}

/** Relu or Clip on its own. */
export interface ClampNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "clamp";
  /** `[min, max]`. */
  readonly bounds: Bounds;
}

/** A constant-zero Pad of the spatial axes of an NCHW tensor. */
export interface PadNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "pad";
  /** `[top, bottom, left, right]`. */
  readonly pads: Pad4;
}

/** A Reshape that changes the rank (a channel shuffle's first or last step). */
export interface ReshapeNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "reshape";
}

/** A Transpose (a channel shuffle's middle step). */
export interface TransposeNode extends Base {
  /** Discriminant of {@link IrNode}. */
  readonly op: "transpose";
  /** Output axis `i` is input axis `perm[i]`. */
  readonly perm: readonly number[];
}

/** Any node of an {@link IrGraph}. */
export type IrNode =
  | ConvNode
  | PoolNode
  | FullyConnectedNode
  | JoinNode
  | PlainNode
  | ShuffleNode
  | BatchNormNode
  | BiasNode
  | ClampNode
  | PadNode
  | ReshapeNode
  | TransposeNode;

/** A whole imported graph: one data input, nodes in execution order, one output. */
export interface IrGraph {
  /** The ONNX name of the data input. */
  readonly input: string;
  /** In execution order. */
  readonly nodes: readonly IrNode[];
  /** The ONNX name of the output value. */
  readonly output: string;
  /** Every value the nodes define, and the input. */
  readonly values: ReadonlyMap<string, IrValue>;
}

/**
 * How many times each value is read: by each node input that names it, and
 * once more for the graph's output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readers } from "./ir.ts";
 * const counts = readers({
 *   input: "x", output: "y", values: new Map(),
 *   nodes: [{ op: "add", name: "a", opType: "Add", inputs: ["x", "x"], output: "y", activation: [-Infinity, Infinity] }],
 * });
 * assert(counts.get("x") === 2 && counts.get("y") === 1);
 * ```
 */
export function readers(graph: IrGraph): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) counts.set(input, (counts.get(input) ?? 0) + 1);
  }
  counts.set(graph.output, (counts.get(graph.output) ?? 0) + 1);
  return counts;
}

/**
 * The graph with the value `from` replaced by `to` wherever a node or the
 * output reads it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rename } from "./ir.ts";
 * const graph = rename({ input: "x", output: "y", values: new Map(), nodes: [] }, "y", "x");
 * assert(graph.output === "x");
 * ```
 */
export function rename(graph: IrGraph, from: string, to: string): IrGraph {
  return {
    ...graph,
    nodes: graph.nodes.map((node) =>
      node.inputs.includes(from)
        ? { ...node, inputs: node.inputs.map((input) => input === from ? to : input) }
        : node
    ),
    output: graph.output === from ? to : graph.output,
  };
}
