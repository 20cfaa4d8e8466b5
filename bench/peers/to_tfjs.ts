/**
 * Converts a {@link ModelGraph} into a TF.js function over NHWC tensors, with
 * the weights uploaded once as TF.js tensors. TF.js is NHWC like the graph,
 * so filters are only re-laid out (OHWI → HWIO; for depthwise that is
 * TF.js's `[kh][kw][channels][multiplier]`). Where TF.js has no direct
 * equivalent the converter composes one:
 *
 * - group convolution (ShuffleNet's 1×1 g=3 layers): TF.js has no `groups`
 *   argument, so the input is split into channel groups, each group is
 *   convolved, and the results are concatenated;
 * - asymmetric padding that is not TF's "same" rule: explicit `tf.pad`, then
 *   a "valid" convolution or pool;
 * - padded average pooling: zero padding, then "valid" pooling, divided by
 *   the pooled fraction of real cells when `countIncludePad` is false, so
 *   the divisor is exactly core's;
 * - fully connected layers use `fused.matMul` without `transposeB`: the
 *   weights are stored `[in][out]`, because tfjs-backend-wasm 4.22 returns
 *   wrong values for fused `matMul` with `transposeB` and a bias;
 * - channel shuffle is reshape → transpose → reshape.
 *
 * @module
 */

import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import {
  type Activation,
  type AvgPool2dDescriptor,
  type Conv2dDescriptor,
  type ConvWeights,
  type FullyConnectedWeights,
  inferGeometry,
  type MaxPool2dDescriptor,
  type Pad4,
  type Padding,
  type Shape,
} from "@mobileops/core";
import { GRAPH_INPUT, type ModelGraph } from "@mobileops/graph";

/** A graph converted to TF.js. */
export interface TfjsGraph {
  /** Computes the graph's output from its input (NHWC when 4-D); intermediates are freed. */
  run(input: tf.Tensor): tf.Tensor;
  /** Frees the uploaded weights. */
  dispose(): void;
}

type Step = (inputs: tf.Tensor[]) => tf.Tensor;

/** TF.js's fused activation; a general clamp is applied after the op (see {@link clampAfter}). */
function fusedActivation(activation: Activation): tf.fused.Activation {
  return activation === "none" || typeof activation === "object" ? "linear" : activation;
}

/** TF.js fuses no general clamp: `step` followed by `clipByValue`. */
function clampAfter(activation: Activation, step: Step): Step {
  if (typeof activation !== "object") return step;
  return (inputs) => tf.clipByValue(step(inputs), activation.min, activation.max);
}

function applyActivation(activation: Activation, x: tf.Tensor): tf.Tensor {
  if (activation === "relu") return tf.relu(x);
  if (activation === "relu6") return tf.relu6(x);
  return x;
}

/**
 * TF.js's `pad` argument for a resolved padding: one number when symmetric,
 * `"same"` when the descriptor asked for it (TF's rule, which core follows),
 * and otherwise explicit padding applied beforehand plus `"valid"`.
 */
function tfjsPadding(
  padding: Padding,
  [top, bottom, left, right]: Pad4,
  fill: number,
): { pad: number | "same" | "valid"; before: (x: tf.Tensor) => tf.Tensor4D } {
  const asIs = (x: tf.Tensor) => x as tf.Tensor4D;
  if (top === bottom && top === left && top === right) return { pad: top, before: asIs };
  if (padding === "same") return { pad: "same", before: asIs };
  const paddings: [number, number][] = [[0, 0], [top, bottom], [left, right], [0, 0]];
  return { pad: "valid", before: (x) => tf.pad(x, paddings, fill) as tf.Tensor4D };
}

/** Rows `[from, to)` of an OHWI filter, as HWIO. */
function hwio(d: Conv2dDescriptor, filter: Float32Array, from: number, to: number): Float32Array {
  const [kh, kw] = d.kernel;
  const inPerGroup = d.inChannels / d.groups;
  const outs = to - from;
  const out = new Float32Array(kh * kw * inPerGroup * outs);
  for (let o = from; o < to; o++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let i = 0; i < inPerGroup; i++) {
          out[((y * kw + x) * inPerGroup + i) * outs + (o - from)] =
            filter[((o * kh + y) * kw + x) * inPerGroup + i];
        }
      }
    }
  }
  return out;
}

function convStep(
  d: Conv2dDescriptor,
  weights: ConvWeights,
  inputShape: Shape,
  keep: tf.Tensor[],
): Step {
  const { pad, before } = tfjsPadding(d.padding, inferGeometry(d, [inputShape]).padding, 0);
  const [kh, kw] = d.kernel;
  const strides: [number, number] = [d.stride[0], d.stride[1]];
  const dilations: [number, number] = [d.dilation[0], d.dilation[1]];
  const activation = fusedActivation(d.activation);
  const track = <T extends tf.Tensor>(t: T): T => {
    keep.push(t);
    return t;
  };
  if (d.groups === d.inChannels && d.groups > 1) {
    // With one input channel per group, HWIO's O axis is o = c·multiplier + k,
    // which is exactly TF.js's depthwise [kh][kw][c][k].
    const filter = track(
      tf.tensor4d(hwio(d, weights.filter, 0, d.outChannels), [
        kh,
        kw,
        d.inChannels,
        d.outChannels / d.inChannels,
      ]),
    );
    const bias = weights.bias && track(tf.tensor1d(weights.bias));
    return ([x]) =>
      tf.fused.depthwiseConv2d({
        x: before(x),
        filter,
        strides,
        pad,
        dilations,
        bias,
        activation,
      });
  }
  const outPerGroup = d.outChannels / d.groups;
  const groups = Array.from({ length: d.groups }, (_, g) => ({
    filter: track(
      tf.tensor4d(hwio(d, weights.filter, g * outPerGroup, (g + 1) * outPerGroup), [
        kh,
        kw,
        d.inChannels / d.groups,
        outPerGroup,
      ]),
    ),
    bias: weights.bias &&
      track(tf.tensor1d(weights.bias.subarray(g * outPerGroup, (g + 1) * outPerGroup))),
  }));
  const conv = (x: tf.Tensor4D, g: number) =>
    tf.fused.conv2d({
      x,
      filter: groups[g].filter,
      bias: groups[g].bias,
      strides,
      pad,
      dilations,
      activation,
    });
  if (d.groups === 1) return ([x]) => conv(before(x), 0);
  return ([x]) => {
    const parts = tf.split(before(x), d.groups, 3) as tf.Tensor4D[];
    return tf.concat(parts.map((part, g) => conv(part, g)), 3);
  };
}

function poolStep(
  d: AvgPool2dDescriptor | MaxPool2dDescriptor,
  inputShape: Shape,
  keep: tf.Tensor[],
): Step {
  const resolved = inferGeometry(d, [inputShape]).padding;
  const kernel: [number, number] = [d.kernel[0], d.kernel[1]];
  const stride: [number, number] = [d.stride[0], d.stride[1]];
  if (d.op === "maxPool2d") {
    // TF.js's own max pooling never lets a padded cell win, as core requires.
    const { pad, before } = tfjsPadding(d.padding, resolved, -Infinity);
    return ([x]) => tf.maxPool(before(x), kernel, stride, pad);
  }
  const paddings: [number, number][] = [
    [0, 0],
    [resolved[0], resolved[1]],
    [resolved[2], resolved[3]],
    [0, 0],
  ];
  const padded = resolved.some((side) => side > 0);
  const average = (x: tf.Tensor) =>
    tf.avgPool((padded ? tf.pad(x, paddings) : x) as tf.Tensor4D, kernel, stride, "valid");
  if (!padded || d.countIncludePad) return ([x]) => average(x);
  const [, h, w] = inputShape;
  const realFraction = tf.tidy(() => average(tf.ones([1, h, w, 1])));
  keep.push(realFraction);
  return ([x]) => tf.div(average(x), realFraction);
}

/**
 * Uploads `graph`'s weights to the current TF.js backend and returns a
 * function computing the graph (NHWC in, graph output out).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelShuffle } from "@mobileops/core";
 * import { initTfjsWasm } from "./tfjs.ts";
 * import { modelGraphToTfjs } from "./to_tfjs.ts";
 * const tf = await initTfjsWasm(1);
 * const graph = modelGraphToTfjs({
 *   name: "shuffle",
 *   inputShape: [1, 1, 1, 6],
 *   nodes: [{ name: "shuffle", descriptor: channelShuffle({ groups: 2 }), inputs: ["input"] }],
 *   output: "shuffle",
 * });
 * const y = graph.run(tf.tensor4d([0, 1, 2, 3, 4, 5], [1, 1, 1, 6]));
 * assert(y.dataSync().join() === "0,3,1,4,2,5");
 * graph.dispose();
 * ```
 */
export function modelGraphToTfjs(graph: ModelGraph): TfjsGraph {
  const keep: tf.Tensor[] = [];
  const shapes = new Map<string, Shape>([[GRAPH_INPUT, graph.inputShape]]);
  const steps: { name: string; inputs: readonly string[]; step: Step }[] = [];
  for (const node of graph.nodes) {
    const inputShapes = node.inputs.map((input) => shapes.get(input)!);
    const d = node.descriptor;
    let step: Step;
    switch (d.op) {
      case "conv2d":
        step = convStep(d, node.weights as ConvWeights, inputShapes[0], keep);
        break;
      case "avgPool2d":
      case "maxPool2d":
        step = poolStep(d, inputShapes[0], keep);
        break;
      case "channelShuffle": {
        const [n, h, w, c] = inputShapes[0];
        const grouped = [n, h, w, d.groups, c / d.groups];
        step = ([x]) =>
          tf.reshape(tf.transpose(tf.reshape(x, grouped), [0, 1, 2, 4, 3]), [n, h, w, c]);
        break;
      }
      case "add":
        step = ([a, b]) => applyActivation(d.activation, tf.add(a, b));
        break;
      case "concat":
        step = (xs) => applyActivation(d.activation, xs.length === 1 ? xs[0] : tf.concat(xs, 3));
        break;
      case "globalAvgPool":
        step = ([x]) => tf.mean(x, [1, 2], true);
        break;
      case "fullyConnected": {
        const weights = node.weights as FullyConnectedWeights;
        const transposed = tf.tidy(() =>
          tf.transpose(tf.tensor2d(weights.weights, [d.outFeatures, d.inFeatures]))
        );
        keep.push(transposed);
        const bias = weights.bias && tf.tensor1d(weights.bias);
        if (bias) keep.push(bias);
        const batch = inputShapes[0][0];
        step = ([x]) =>
          tf.fused.matMul({
            a: tf.reshape(x, [batch, d.inFeatures]),
            b: transposed,
            bias,
            activation: fusedActivation(d.activation),
          });
        break;
      }
      case "softmax":
        step = ([x]) => tf.softmax(x);
        break;
    }
    if ("activation" in d) step = clampAfter(d.activation, step);
    steps.push({ name: node.name, inputs: node.inputs, step });
    shapes.set(node.name, inferGeometry(d, inputShapes).outputShape);
  }
  return {
    run: (input) =>
      tf.tidy(() => {
        const values = new Map<string, tf.Tensor>([[GRAPH_INPUT, input]]);
        for (const { name, inputs, step } of steps) {
          values.set(name, step(inputs.map((value) => values.get(value)!)));
        }
        return values.get(graph.output)!;
      }),
    dispose: () => keep.forEach((t) => t.dispose()),
  };
}
