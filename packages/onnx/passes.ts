/**
 * The fusion passes that turn a lowered ONNX graph into the graph a
 * hand-built model would be: each is a pure function from {@link IrGraph}
 * to {@link IrGraph}, and {@link fuse} runs them in order. A pass only
 * rewrites what is exact (or, for BatchNorm and bias folding, what rounds
 * once more, well inside the accumulation tolerance), and only when the
 * value it folds away has no other reader.
 *
 * @module
 */

import { foldBatchNorm } from "@mobileops/core";
import { withFieldPrefix } from "@mobileops/graph";
import {
  type Bounds,
  type ConvNode,
  type IrGraph,
  type IrNode,
  NO_CLAMP,
  readers,
  rename,
} from "./ir.ts";

const unclamped = (bounds: Bounds) => bounds[0] === -Infinity && bounds[1] === Infinity;

/** The graph without `removed` and with `replacement` (if any) in place of `at`. */
function replace(
  graph: IrGraph,
  removed: readonly string[],
  at?: string,
  replacement?: IrNode,
): IrGraph {
  const nodes: IrNode[] = [];
  for (const node of graph.nodes) {
    if (node.name === at && replacement !== undefined) nodes.push(replacement);
    else if (!removed.includes(node.name)) nodes.push(node);
  }
  return { ...graph, nodes };
}

/** The node that defines `value`, if a node does. */
function producer(graph: IrGraph, value: string): IrNode | undefined {
  return graph.nodes.find((node) => node.output === value);
}

/** The only node that reads `value`, when exactly one node reads it once and it is not the output. */
function soleReader(graph: IrGraph, value: string): IrNode | undefined {
  if (readers(graph).get(value) !== 1 || graph.output === value) return undefined;
  return graph.nodes.find((node) => node.inputs.includes(value));
}

/**
 * Removes the no-ops: Identity, inference Dropout, a Flatten or Reshape
 * that leaves the graph's data where they are (the `identity` nodes), and a
 * Clip with no bounds. Their readers read the no-op's input instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeNoOps } from "./passes.ts";
 * const graph = removeNoOps({
 *   input: "x", output: "z", values: new Map(),
 *   nodes: [
 *     { op: "identity", name: "drop", opType: "Dropout", inputs: ["x"], output: "y" },
 *     { op: "softmax", name: "prob", opType: "Softmax", inputs: ["y"], output: "z" },
 *   ],
 * });
 * assert(graph.nodes.length === 1 && graph.nodes[0].inputs[0] === "x");
 * ```
 */
export function removeNoOps(graph: IrGraph): IrGraph {
  let result = graph;
  const noOps = graph.nodes.filter((node) =>
    node.op === "identity" || (node.op === "clamp" && unclamped(node.bounds))
  );
  for (const { name } of noOps) {
    const node = result.nodes.find((candidate) => candidate.name === name)!;
    result = rename(replace(result, [name]), node.output, node.inputs[0]);
  }
  return result;
}

/**
 * Turns each Reshape `[N, C, H, W] → [N, a, b, H, W]`, Transpose
 * `[0, 2, 1, 3, 4]`, Reshape back to `[N, C, H, W]` into one
 * `channelShuffle` with `a` groups (named after the Transpose): output
 * channel `j·a + i` is input channel `i·b + j`, which is core's shuffle with
 * `a` groups. ShuffleNet's `(g, C/g)` form gives `g` groups, the `(C/g, g)`
 * form `C/g` groups (the inverse permutation); `a = 1` or `b = 1` is the
 * identity. Other reshapes and transposes stay, and are refused later.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fuseChannelShuffle } from "./passes.ts";
 * const graph = fuseChannelShuffle({
 *   input: "x", output: "c",
 *   values: new Map([
 *     ["x", { shape: [1, 6, 2, 2], layout: { kind: "nchw", dims: [1, 6, 2, 2] } }],
 *     ["a", { shape: [1, 3, 2, 2, 2], layout: { kind: "plain" } }],
 *     ["b", { shape: [1, 2, 3, 2, 2], layout: { kind: "plain" } }],
 *     ["c", { shape: [1, 6, 2, 2], layout: { kind: "nchw", dims: [1, 6, 2, 2] } }],
 *   ]),
 *   nodes: [
 *     { op: "reshape", name: "r1", opType: "Reshape", inputs: ["x"], output: "a" },
 *     { op: "transpose", name: "t", opType: "Transpose", inputs: ["a"], output: "b", perm: [0, 2, 1, 3, 4] },
 *     { op: "reshape", name: "r2", opType: "Reshape", inputs: ["b"], output: "c" },
 *   ],
 * });
 * assert.deepEqual(graph.nodes.map((n) => n.op), ["channelShuffle"]);
 * assert(graph.nodes[0].op === "channelShuffle" && graph.nodes[0].groups === 3);
 * ```
 */
export function fuseChannelShuffle(graph: IrGraph): IrGraph {
  let result = graph;
  for (const transpose of graph.nodes) {
    if (transpose.op !== "transpose" || transpose.perm.join() !== "0,2,1,3,4") continue;
    const first = producer(result, transpose.inputs[0]);
    const last = soleReader(result, transpose.output);
    if (first?.op !== "reshape" || last?.op !== "reshape") continue;
    if (soleReader(result, first.output)?.name !== transpose.name) continue;
    const source = result.values.get(first.inputs[0])?.shape;
    const split = result.values.get(first.output)?.shape;
    const merged = result.values.get(last.output)?.shape;
    if (source?.length !== 4 || split?.length !== 5 || merged?.join() !== source.join()) continue;
    const [, a, b] = split;
    const common = {
      name: transpose.name,
      opType: "Reshape → Transpose → Reshape",
      inputs: [first.inputs[0]],
      output: last.output,
    };
    const shuffle: IrNode = a === 1 || b === 1
      ? { ...common, op: "identity" }
      : { ...common, op: "channelShuffle", groups: a };
    result = replace(result, [first.name, transpose.name], last.name, shuffle);
  }
  return result;
}

/**
 * Folds a constant-zero Pad of height and width into the convolution that
 * alone reads it (adding to its padding), or into the average pool that
 * alone reads it when that pool counts padded cells or has no padding of
 * its own (the result counts padded cells: the padded zeros were cells of
 * its input). A Pad before a max pool stays (padded zeros could win the
 * max); it becomes a 1×1 depthwise copy with padding, which is exact.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fusePadding } from "./passes.ts";
 * const graph = fusePadding({
 *   input: "x", output: "z", values: new Map(),
 *   nodes: [
 *     { op: "pad", name: "pad", opType: "Pad", inputs: ["x"], output: "y", pads: [1, 1, 1, 1] },
 *     {
 *       op: "avgPool", name: "pool", opType: "AveragePool", inputs: ["y"], output: "z",
 *       kernel: [3, 3], stride: [2, 2], padding: [0, 0, 0, 0], countIncludePad: false, ceilMode: false,
 *     },
 *   ],
 * });
 * assert(graph.nodes.length === 1 && graph.nodes[0].op === "avgPool");
 * assert(graph.nodes[0].countIncludePad && graph.nodes[0].padding.join() === "1,1,1,1");
 * ```
 */
export function fusePadding(graph: IrGraph): IrGraph {
  let result = graph;
  for (const pad of graph.nodes) {
    if (pad.op !== "pad") continue;
    const reader = soleReader(result, pad.output);
    if (reader?.op !== "conv" && reader?.op !== "avgPool") continue;
    const sum = (i: number) => pad.pads[i] + reader.padding[i];
    const padding = [sum(0), sum(1), sum(2), sum(3)] as const;
    const inputs = [pad.inputs[0]];
    if (reader.op === "conv") {
      result = replace(result, [pad.name], reader.name, { ...reader, inputs, padding });
    } else if (
      (reader.countIncludePad || reader.padding.every((side) => side === 0)) &&
      padding.every((side, i) => side < reader.kernel[i < 2 ? 0 : 1]) &&
      // In ceil mode the last window must start inside the input: a Pad's
      // bottom/right zeros are input to ONNX but padding to core.
      !(reader.ceilMode && (pad.pads[1] > 0 || pad.pads[3] > 0))
    ) {
      const fused = { ...reader, inputs, padding, countIncludePad: true };
      result = replace(result, [pad.name], reader.name, fused);
    }
  }
  return result;
}

/**
 * Folds each BatchNormalization, and each constant per-channel Add (a
 * bias), into the convolution or fully connected layer that produces its
 * input, when nothing else reads that layer's output and no activation sits
 * between them: BatchNorm through core's `foldBatchNorm` (float64, rounded
 * once), a bias by float32 addition to the layer's bias. Chains of both
 * fold in order.
 *
 * @throws {WeightsError} BatchNorm statistics that core cannot fold (σ² + ε
 *   ≤ 0, overflow), the field prefixed with the node:
 *   `nodes["bn1"].bn.variance[3]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { foldAffine } from "./passes.ts";
 * const one = new Float32Array([1]);
 * const graph = foldAffine({
 *   input: "x", output: "z", values: new Map(),
 *   nodes: [
 *     {
 *       op: "fullyConnected", name: "fc", opType: "Gemm", inputs: ["x"], output: "y",
 *       inFeatures: 1, outFeatures: 1, weights: new Float32Array([2]), activation: [-Infinity, Infinity],
 *     },
 *     {
 *       op: "batchNorm", name: "bn", opType: "BatchNormalization", inputs: ["y"], output: "z",
 *       params: { gamma: new Float32Array([3]), beta: one, mean: one, variance: one, epsilon: 0 },
 *     },
 *   ],
 * });
 * const [fc] = graph.nodes;
 * assert(fc.op === "fullyConnected" && fc.weights[0] === 6 && fc.bias![0] === -2 && fc.output === "z");
 * ```
 */
export function foldAffine(graph: IrGraph): IrGraph {
  let result = graph;
  for (const { name } of graph.nodes) {
    const node = result.nodes.find((candidate) => candidate.name === name)!;
    if (node.op !== "batchNorm" && node.op !== "bias") continue;
    const layer = producer(result, node.inputs[0]);
    if (
      (layer?.op !== "conv" && layer?.op !== "fullyConnected") || !unclamped(layer.activation) ||
      soleReader(result, layer.output)?.name !== node.name
    ) {
      continue;
    }
    const weights = layer.op === "conv" ? layer.filter : layer.weights;
    let folded: { weights: Float32Array; bias: Float32Array };
    if (node.op === "batchNorm") {
      try {
        const { filter, bias } = foldBatchNorm({
          filter: weights,
          ...(layer.bias === undefined ? {} : { bias: layer.bias }),
        }, node.params);
        folded = { weights: filter, bias };
      } catch (error) {
        throw withFieldPrefix(error, `nodes[${JSON.stringify(node.name)}].`);
      }
    } else {
      const bias = Float32Array.from(node.bias, (value, i) => value + (layer.bias?.[i] ?? 0));
      folded = { weights, bias };
    }
    const merged: IrNode = layer.op === "conv"
      ? { ...layer, filter: folded.weights, bias: folded.bias, output: node.output }
      : { ...layer, weights: folded.weights, bias: folded.bias, output: node.output };
    result = replace(result, [node.name], layer.name, merged);
  }
  return result;
}

/** A 1×1 depthwise convolution over `channels` channels, for a node the other passes left alone. */
function depthwise(
  node: IrNode,
  channels: number,
  filter: Float32Array,
  bias: Float32Array | undefined,
  fields: Partial<ConvNode> = {},
): ConvNode {
  return {
    op: "conv",
    name: node.name,
    opType: node.opType,
    inputs: [node.inputs[0]],
    output: node.output,
    inChannels: channels,
    outChannels: channels,
    kernel: [1, 1],
    stride: [1, 1],
    padding: [0, 0, 0, 0],
    dilation: [1, 1],
    groups: channels,
    filter,
    ...(bias === undefined ? {} : { bias }),
    activation: NO_CLAMP,
    ...fields,
  };
}

/** The channel count of an NCHW value, or undefined for other layouts. */
function channelsOf(graph: IrGraph, value: string): number | undefined {
  const layout = graph.values.get(value)?.layout;
  return layout?.kind === "nchw" && graph.values.get(value)!.shape.length === 4
    ? layout.dims[1]
    : undefined;
}

/**
 * Turns each BatchNormalization and constant bias that {@link foldAffine}
 * left (its input comes from a pool, a concat, the graph input…) into a
 * 1×1 depthwise convolution: filter `γ/√(σ²+ε)` (or ones) and the shift as
 * bias, so that an activation after it can still fuse. Only NCHW values:
 * on a 2-D tensor the node stays, and is refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { affineToDepthwise } from "./passes.ts";
 * const graph = affineToDepthwise({
 *   input: "x", output: "y",
 *   values: new Map([["x", { shape: [1, 2, 4, 4], layout: { kind: "nchw", dims: [1, 2, 4, 4] } }]]),
 *   nodes: [{ op: "bias", name: "b", opType: "Add", inputs: ["x"], output: "y", bias: new Float32Array([1, 2]) }],
 * });
 * const [conv] = graph.nodes;
 * assert(conv.op === "conv" && conv.groups === 2 && conv.filter.join() === "1,1" && conv.bias![1] === 2);
 * ```
 */
export function affineToDepthwise(graph: IrGraph): IrGraph {
  return {
    ...graph,
    nodes: graph.nodes.map((node) => {
      const channels = channelsOf(graph, node.inputs[0]);
      if (channels === undefined) return node;
      if (node.op === "bias") {
        return depthwise(node, channels, new Float32Array(channels).fill(1), node.bias);
      }
      if (node.op !== "batchNorm") return node;
      let folded;
      try {
        folded = foldBatchNorm({ filter: new Float32Array(channels).fill(1) }, node.params);
      } catch (error) {
        throw withFieldPrefix(error, `nodes[${JSON.stringify(node.name)}].`);
      }
      return depthwise(node, channels, folded.filter, folded.bias);
    }),
  };
}

/**
 * Fuses each Relu or Clip into the convolution, fully connected layer, add
 * or concat that alone feeds it: the clamps compose (`[max of mins, min of
 * maxes]`). Clamps whose ranges do not overlap stay apart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fuseActivations } from "./passes.ts";
 * const graph = fuseActivations({
 *   input: "x", output: "z", values: new Map(),
 *   nodes: [
 *     { op: "add", name: "add", opType: "Add", inputs: ["x", "x"], output: "y", activation: [0, Infinity] },
 *     { op: "clamp", name: "relu6", opType: "Clip", inputs: ["y"], output: "z", bounds: [0, 6] },
 *   ],
 * });
 * assert(graph.nodes.length === 1 && graph.nodes[0].op === "add");
 * assert(graph.nodes[0].activation.join() === "0,6" && graph.output === "z");
 * ```
 */
export function fuseActivations(graph: IrGraph): IrGraph {
  let result = graph;
  for (const clamp of graph.nodes) {
    if (clamp.op !== "clamp") continue;
    const layer = producer(result, clamp.inputs[0]);
    if (
      layer === undefined || soleReader(result, layer.output)?.name !== clamp.name ||
      (layer.op !== "conv" && layer.op !== "fullyConnected" && layer.op !== "add" &&
        layer.op !== "concat")
    ) {
      continue;
    }
    const min = Math.max(layer.activation[0], clamp.bounds[0]);
    const max = Math.min(layer.activation[1], clamp.bounds[1]);
    if (min > max) continue;
    const fused = { ...layer, activation: [min, max] as const, output: clamp.output };
    result = replace(result, [clamp.name], layer.name, fused);
  }
  return result;
}

/**
 * Turns each Relu or Clip that {@link fuseActivations} could not fuse, and
 * each zero Pad that {@link fusePadding} could not fold, into a 1×1
 * depthwise convolution with unit filter (a copy: `x·1` is `x`), carrying the
 * clamp or the padding. Exact. Only NCHW values: on other tensors the node
 * stays, and is refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { standaloneToDepthwise } from "./passes.ts";
 * const graph = standaloneToDepthwise({
 *   input: "x", output: "y",
 *   values: new Map([["x", { shape: [1, 3, 4, 4], layout: { kind: "nchw", dims: [1, 3, 4, 4] } }]]),
 *   nodes: [{ op: "pad", name: "pad", opType: "Pad", inputs: ["x"], output: "y", pads: [0, 1, 0, 1] }],
 * });
 * const [conv] = graph.nodes;
 * assert(conv.op === "conv" && conv.padding.join() === "0,1,0,1" && conv.bias === undefined);
 * ```
 */
export function standaloneToDepthwise(graph: IrGraph): IrGraph {
  return {
    ...graph,
    nodes: graph.nodes.map((node) => {
      const channels = channelsOf(graph, node.inputs[0]);
      if (channels === undefined || (node.op !== "clamp" && node.op !== "pad")) return node;
      const ones = new Float32Array(channels).fill(1);
      return depthwise(
        node,
        channels,
        ones,
        undefined,
        node.op === "clamp" ? { activation: node.bounds } : { padding: node.pads },
      );
    }),
  };
}

/**
 * Every pass, in order: no-ops, channel shuffles, padding, BatchNorm and
 * bias folding, leftover affine nodes, activations, leftover clamps and
 * pads. Whatever is not a core operator afterwards is refused by the
 * emitter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fuse } from "./passes.ts";
 * const graph = fuse({
 *   input: "x", output: "y", values: new Map(),
 *   nodes: [{ op: "identity", name: "id", opType: "Identity", inputs: ["x"], output: "y" }],
 * });
 * assert(graph.nodes.length === 0 && graph.output === "x");
 * ```
 */
export function fuse(graph: IrGraph): IrGraph {
  const passes = [
    removeNoOps,
    fuseChannelShuffle,
    removeNoOps,
    fusePadding,
    foldAffine,
    affineToDepthwise,
    fuseActivations,
    standaloneToDepthwise,
  ];
  return passes.reduce((result, pass) => pass(result), graph);
}
