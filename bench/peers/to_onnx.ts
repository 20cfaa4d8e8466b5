/**
 * Converts a {@link ModelGraph} (NHWC, core descriptors, folded weights) into
 * an ONNX model for ONNX Runtime. ONNX convolutions are NCHW, so the ONNX
 * graph is built in NCHW throughout: its input is the NCHW form of the
 * graph's input, 4-D outputs come out NCHW, and filters are permuted from
 * OHWI to OIHW once here. Use {@link nhwcToNchw} / {@link nchwToNhwc} at the
 * boundary, outside any timed region.
 *
 * @module
 */

import onnxProto from "npm:onnx-proto@8.0.1";
import {
  type Activation,
  activationBounds,
  type Conv2dDescriptor,
  type ConvWeights,
  type FullyConnectedDescriptor,
  type FullyConnectedWeights,
  inferGeometry,
  type Shape,
} from "@mobileops/core";
import { GRAPH_INPUT, type GraphNode, type ModelGraph } from "@mobileops/graph";

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** The ONNX opset the converter emits (Softmax on one axis, Clip with tensor bounds). */
export const ONNX_OPSET = 13;

/**
 * Transposes NHWC data to NCHW.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nhwcToNchw } from "./to_onnx.ts";
 * // one pixel row of two pixels with channels (a, b): [a0 b0 a1 b1] → [a0 a1 b0 b1]
 * const nchw = nhwcToNchw(new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2]);
 * assert(nchw.join() === "1,3,2,4");
 * ```
 */
export function nhwcToNchw(data: Float32Array, nhwcShape: Shape): Float32Array {
  const [n, h, w, c] = nhwcShape;
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const from = ((b * h + y) * w + x) * c;
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[from + k];
      }
    }
  }
  return out;
}

/**
 * Transposes NCHW data back to NHWC; `nhwcShape` is the NHWC shape of the result.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nchwToNhwc, nhwcToNchw } from "./to_onnx.ts";
 * const data = new Float32Array([1, 2, 3, 4, 5, 6]);
 * assert(nchwToNhwc(nhwcToNchw(data, [1, 1, 2, 3]), [1, 1, 2, 3]).join() === "1,2,3,4,5,6");
 * ```
 */
export function nchwToNhwc(data: Float32Array, nhwcShape: Shape): Float32Array {
  const [n, h, w, c] = nhwcShape;
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      for (let y = 0; y < h; y++) {
        const from = ((b * c + k) * h + y) * w;
        for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + k] = data[from + x];
      }
    }
  }
  return out;
}

/**
 * The ONNX dimensions of a value the graph holds as `shape`: NCHW when 4-D, unchanged otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onnxShape } from "./to_onnx.ts";
 * assert(onnxShape([1, 224, 224, 3]).join() === "1,3,224,224");
 * assert(onnxShape([1, 1000]).join() === "1,1000");
 * ```
 */
export function onnxShape(shape: Shape): number[] {
  return shape.length === 4 ? [shape[0], shape[3], shape[1], shape[2]] : [...shape];
}

function ohwiToOihw(d: Conv2dDescriptor, filter: Float32Array): Float32Array {
  const [kh, kw] = d.kernel;
  const inPerGroup = d.inChannels / d.groups;
  const out = new Float32Array(filter.length);
  for (let o = 0; o < d.outChannels; o++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let i = 0; i < inPerGroup; i++) {
          out[((o * inPerGroup + i) * kh + y) * kw + x] =
            filter[((o * kh + y) * kw + x) * inPerGroup + i];
        }
      }
    }
  }
  return out;
}

function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes };
}

function int64Tensor(name: string, values: readonly number[]): TensorProto {
  return {
    name,
    dims: [values.length],
    dataType: onnx.TensorProto.DataType.INT64,
    int64Data: [...values],
  };
}

function ints(name: string, values: readonly number[]): AttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...values] };
}

function int(name: string, value: number): AttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

function valueInfo(name: string, dims: readonly number[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((dimValue) => ({ dimValue })) },
      },
    },
  };
}

/** Collects nodes and initializers while the graph is walked. */
class OnnxBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly #constants = new Set<string>();

  node(
    opType: string,
    inputs: string[],
    output: string,
    attribute: AttributeProto[] = [],
  ): string {
    this.nodes.push({ opType, name: output, input: inputs, output: [output], attribute });
    return output;
  }

  initializer(tensor: TensorProto): string {
    this.initializers.push(tensor);
    return tensor.name!;
  }

  /** A shared constant, added once however often it is used. */
  constant(tensor: TensorProto): string {
    if (!this.#constants.has(tensor.name!)) {
      this.#constants.add(tensor.name!);
      this.initializers.push(tensor);
    }
    return tensor.name!;
  }

  /** Applies `activation` to `value`, writing `output`. */
  activation(activation: Exclude<Activation, "none">, value: string, output: string): string {
    if (activation === "relu") return this.node("Relu", [value], output);
    const [min, max] = activationBounds(activation);
    const low = this.constant(floatTensor(`const/${min}`, [], new Float32Array([min])));
    const high = this.constant(floatTensor(`const/${max}`, [], new Float32Array([max])));
    return this.node("Clip", [value, low, high], output);
  }
}

function convNode(
  builder: OnnxBuilder,
  node: GraphNode,
  d: Conv2dDescriptor,
  inputShape: Shape,
): void {
  const weights = node.weights as ConvWeights;
  const [top, bottom, left, right] = inferGeometry(d, [inputShape]).padding;
  const filter = builder.initializer(
    floatTensor(`${node.name}/filter`, [
      d.outChannels,
      d.inChannels / d.groups,
      d.kernel[0],
      d.kernel[1],
    ], ohwiToOihw(d, weights.filter)),
  );
  const inputs = [node.inputs[0], filter];
  if (weights.bias !== undefined) {
    inputs.push(
      builder.initializer(floatTensor(`${node.name}/bias`, [d.outChannels], weights.bias)),
    );
  }
  const conv = d.activation === "none" ? node.name : `${node.name}/conv`;
  builder.node("Conv", inputs, conv, [
    int("group", d.groups),
    ints("kernel_shape", d.kernel),
    ints("strides", d.stride),
    ints("dilations", d.dilation),
    ints("pads", [top, left, bottom, right]),
  ]);
  if (d.activation !== "none") builder.activation(d.activation, conv, node.name);
}

function fullyConnectedNode(
  builder: OnnxBuilder,
  node: GraphNode,
  d: FullyConnectedDescriptor,
  inputShape: Shape,
): void {
  const weights = node.weights as FullyConnectedWeights;
  let features = node.inputs[0];
  // Core flattens NHWC order; a 4-D value here is NCHW, so restore NHWC first
  // unless the spatial extent is 1×1, where both orders agree.
  if (inputShape.length === 4 && inputShape[1] * inputShape[2] > 1) {
    features = builder.node("Transpose", [features], `${node.name}/nhwc`, [
      ints("perm", [0, 2, 3, 1]),
    ]);
  }
  if (inputShape.length !== 2) {
    features = builder.node("Flatten", [features], `${node.name}/flat`, [int("axis", 1)]);
  }
  const inputs = [
    features,
    builder.initializer(
      floatTensor(`${node.name}/weights`, [d.outFeatures, d.inFeatures], weights.weights),
    ),
  ];
  if (weights.bias !== undefined) {
    inputs.push(
      builder.initializer(floatTensor(`${node.name}/bias`, [d.outFeatures], weights.bias)),
    );
  }
  const gemm = d.activation === "none" ? node.name : `${node.name}/gemm`;
  builder.node("Gemm", inputs, gemm, [int("transB", 1)]);
  if (d.activation !== "none") builder.activation(d.activation, gemm, node.name);
}

/**
 * Builds the ONNX model (serialized `ModelProto`, opset {@link ONNX_OPSET}) of
 * `graph`. Its input is named `"input"` with the NCHW form of
 * `graph.inputShape`; its output is named after `graph.output`, NCHW when
 * 4-D. Channel shuffle becomes Reshape → Transpose → Reshape; relu6 becomes
 * Clip(0, 6); average pooling keeps `count_include_pad`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPool } from "@mobileops/core";
 * import { modelGraphToOnnx } from "./to_onnx.ts";
 * const bytes = modelGraphToOnnx({
 *   name: "pool",
 *   inputShape: [1, 4, 4, 8],
 *   nodes: [{ name: "pool", descriptor: globalAvgPool(), inputs: ["input"] }],
 *   output: "pool",
 * });
 * assert(bytes.length > 0);
 * ```
 */
export function modelGraphToOnnx(graph: ModelGraph): Uint8Array {
  const builder = new OnnxBuilder();
  const shapes = new Map<string, Shape>([[GRAPH_INPUT, graph.inputShape]]);
  for (const node of graph.nodes) {
    const inputShapes = node.inputs.map((input) => shapes.get(input)!);
    const { outputShape } = inferGeometry(node.descriptor, inputShapes);
    const d = node.descriptor;
    const [x] = node.inputs;
    switch (d.op) {
      case "conv2d":
        convNode(builder, node, d, inputShapes[0]);
        break;
      case "avgPool2d":
      case "maxPool2d": {
        const [top, bottom, left, right] = inferGeometry(d, inputShapes).padding;
        const attributes = [
          ints("kernel_shape", d.kernel),
          ints("strides", d.stride),
          ints("pads", [top, left, bottom, right]),
        ];
        if (d.op === "avgPool2d") {
          attributes.push(int("count_include_pad", d.countIncludePad ? 1 : 0));
        }
        builder.node(d.op === "avgPool2d" ? "AveragePool" : "MaxPool", [x], node.name, attributes);
        break;
      }
      case "channelShuffle": {
        const [n, h, w, c] = inputShapes[0];
        const grouped = builder.node("Reshape", [
          x,
          builder.initializer(
            int64Tensor(`${node.name}/grouped_shape`, [n, d.groups, c / d.groups, h, w]),
          ),
        ], `${node.name}/grouped`);
        const swapped = builder.node("Transpose", [grouped], `${node.name}/swapped`, [
          ints("perm", [0, 2, 1, 3, 4]),
        ]);
        builder.node("Reshape", [
          swapped,
          builder.initializer(int64Tensor(`${node.name}/flat_shape`, [n, c, h, w])),
        ], node.name);
        break;
      }
      case "add":
      case "concat": {
        const combined = d.activation === "none" ? node.name : `${node.name}/${d.op}`;
        if (d.op === "add") builder.node("Add", [...node.inputs], combined);
        else builder.node("Concat", [...node.inputs], combined, [int("axis", 1)]);
        if (d.activation !== "none") builder.activation(d.activation, combined, node.name);
        break;
      }
      case "globalAvgPool":
        builder.node("GlobalAveragePool", [x], node.name);
        break;
      case "fullyConnected":
        fullyConnectedNode(builder, node, d, inputShapes[0]);
        break;
      case "softmax":
        // Core's softmax is over the last axis; a 4-D value here is NCHW, whose channel axis is 1.
        builder.node("Softmax", [x], node.name, [
          int("axis", inputShapes[0].length === 4 ? 1 : -1),
        ]);
        break;
    }
    shapes.set(node.name, outputShape);
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "mobileops-bench",
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    graph: {
      name: graph.name,
      node: builder.nodes,
      initializer: builder.initializers,
      input: [valueInfo(GRAPH_INPUT, onnxShape(graph.inputShape))],
      output: [valueInfo(graph.output, onnxShape(shapes.get(graph.output)!))],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
