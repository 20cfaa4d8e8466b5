/**
 * {@link IrGraph} → `ModelGraph`: each remaining node becomes the core
 * operator it now is. A node the passes could not fold away (a Reshape or
 * Transpose outside a channel shuffle, BatchNorm or a clamp on a 2-D tensor
 * that no layer produces) is reported, as is a clamp core cannot fuse.
 *
 * @module
 */

import {
  add,
  avgPool2d,
  channelShuffle,
  concat,
  conv2d,
  fullyConnected,
  globalAvgPool,
  InvalidArgumentError,
  maxPool2d,
  type OpDescriptor,
  type Pad4,
  type Padding,
  softmax,
} from "@mobileops/core";
import { GRAPH_INPUT, type GraphNode, type ModelGraph } from "@mobileops/graph";
import { reasonOf, type UnsupportedNode } from "./errors.ts";
import type { IrGraph, IrNode } from "./ir.ts";
import { activationFor } from "./support.ts";

/** The emitted graph (when every node could be emitted) and the reasons of those that could not. */
export interface Emitted {
  /** Present exactly when `refusals` is empty. */
  readonly graph?: ModelGraph;
  /** In node order. */
  readonly refusals: readonly UnsupportedNode[];
}

/** Why a node that is not a core operator is still there after the passes. */
function leftover(node: IrNode): string {
  switch (node.op) {
    case "reshape":
    case "transpose":
      return "not part of a channel shuffle (Reshape to [N, g, C/g, H, W] → Transpose " +
        "[0, 2, 1, 3, 4] → Reshape back, each read only by the next): no core operator " +
        "moves data this way";
    case "batchNorm":
    case "bias":
      return "a per-feature scale or shift of a tensor that is neither a 4-D NCHW map nor " +
        "the output of a Gemm/MatMul read only here: no core operator applies it";
    case "clamp":
      return "an activation on a tensor that is neither a 4-D NCHW map nor the output of a " +
        "layer read only here: core fuses activations into layers";
    default:
      return "has no core counterpart here";
  }
}

/** No padding is `"valid"`, as the model builders write it. */
function padding(sides: Pad4): Padding {
  return sides.every((side) => side === 0) ? "valid" : sides;
}

function descriptorOf(node: IrNode): OpDescriptor | undefined {
  switch (node.op) {
    case "conv":
      return conv2d({
        inChannels: node.inChannels,
        outChannels: node.outChannels,
        kernel: node.kernel,
        stride: node.stride,
        padding: padding(node.padding),
        dilation: node.dilation,
        groups: node.groups,
        bias: node.bias !== undefined,
        activation: activationFor(node.activation),
      });
    case "maxPool":
      return maxPool2d({
        kernel: node.kernel,
        stride: node.stride,
        padding: padding(node.padding),
        ceilMode: node.ceilMode,
      });
    case "avgPool":
      return avgPool2d({
        kernel: node.kernel,
        stride: node.stride,
        padding: padding(node.padding),
        countIncludePad: node.countIncludePad,
        ceilMode: node.ceilMode,
      });
    case "fullyConnected":
      return fullyConnected({
        inFeatures: node.inFeatures,
        outFeatures: node.outFeatures,
        bias: node.bias !== undefined,
        activation: activationFor(node.activation),
      });
    case "add":
      return add({ activation: activationFor(node.activation) });
    case "concat":
      return concat({ activation: activationFor(node.activation) });
    case "globalAvgPool":
      return globalAvgPool();
    case "softmax":
      return softmax();
    case "channelShuffle":
      return channelShuffle({ groups: node.groups });
    default:
      return undefined;
  }
}

function weightsOf(node: IrNode): GraphNode["weights"] {
  const bias = "bias" in node && node.bias !== undefined ? { bias: node.bias } : {};
  if (node.op === "conv") return { filter: node.filter, ...bias };
  if (node.op === "fullyConnected") return { weights: node.weights, ...bias };
  return undefined;
}

/**
 * Emits `ir` as a `ModelGraph` named `name`. When the output is the input
 * itself (a graph of no-ops), a 1×1 depthwise copy computes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitGraph } from "./emit.ts";
 * const { graph } = emitGraph({
 *   input: "x", output: "y", values: new Map(),
 *   nodes: [{ op: "softmax", name: "prob", opType: "Softmax", inputs: ["x"], output: "y" }],
 * }, "tiny", [1, 10]);
 * assert(graph!.nodes[0].descriptor.op === "softmax" && graph!.nodes[0].inputs[0] === "input");
 * ```
 */
export function emitGraph(ir: IrGraph, name: string, inputShape: readonly number[]): Emitted {
  const refusals: UnsupportedNode[] = [];
  const nodes: GraphNode[] = [];
  const graphName = new Map<string, string>([[ir.input, GRAPH_INPUT]]);
  let nodesIr = ir.nodes;
  if (ir.output === ir.input) {
    const layout = ir.values.get(ir.input)?.layout;
    if (layout?.kind !== "nchw") {
      refusals.push({
        node: ir.output,
        opType: "graph",
        reason: "the graph's output is its input unchanged, and no core operator copies a " +
          "tensor that is not a 4-D NCHW map",
      });
      return { refusals };
    }
    const channels = layout.dims[1];
    nodesIr = [{
      op: "conv",
      name: "copy",
      opType: "Identity",
      inputs: [ir.input],
      output: `${ir.output}#copy`,
      inChannels: channels,
      outChannels: channels,
      kernel: [1, 1],
      stride: [1, 1],
      padding: [0, 0, 0, 0],
      dilation: [1, 1],
      groups: channels,
      filter: new Float32Array(channels).fill(1),
      activation: [-Infinity, Infinity],
    }];
  }
  for (const node of nodesIr) {
    let descriptor: OpDescriptor | undefined;
    try {
      descriptor = descriptorOf(node);
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      refusals.push({
        node: node.name,
        opType: node.opType,
        attribute: error.field,
        value: error.value,
        reason: reasonOf(error),
      });
      continue;
    }
    if (descriptor === undefined) {
      refusals.push({ node: node.name, opType: node.opType, reason: leftover(node) });
      continue;
    }
    const weights = weightsOf(node);
    nodes.push({
      name: node.name,
      descriptor,
      inputs: node.inputs.map((input) => graphName.get(input) ?? input),
      ...(weights === undefined ? {} : { weights }),
    });
    graphName.set(node.output, node.name);
  }
  if (refusals.length > 0) return { refusals };
  const output = nodesIr === ir.nodes ? graphName.get(ir.output)! : nodes.at(-1)!.name;
  return { graph: { name, inputShape, nodes, output }, refusals };
}
