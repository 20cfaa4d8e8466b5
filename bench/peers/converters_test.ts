import assert from "node:assert/strict";
import {
  randomFloat32,
  reference,
  type ReferenceResult,
  seededRandom,
  withinTolerance,
} from "@mobileops/conformance";
import {
  add,
  avgPool2d,
  channelShuffle,
  concat,
  conv2d,
  convFilterSize,
  type ConvWeights,
  depthwiseConv2d,
  fullyConnected,
  globalAvgPool,
  inferGeometry,
  maxPool2d,
  type OpDescriptor,
  pointwiseConv2d,
  type Shape,
  shapeSize,
  softmax,
} from "@mobileops/core";
import type { GraphNode, ModelGraph } from "@mobileops/graph";
import { referenceForward } from "@mobileops/graph/reference";
import { OrtModel } from "./ort.ts";
import { initTfjsWasm } from "./tfjs.ts";
import { modelGraphToOnnx, nchwToNhwc, nhwcToNchw, onnxShape } from "./to_onnx.ts";
import { modelGraphToTfjs } from "./to_tfjs.ts";

/** Runs `graph` in ONNX Runtime and TF.js; both results in NHWC order. */
async function runPeers(graph: ModelGraph, input: Float32Array, outputShape: Shape) {
  const ort = await OrtModel.create(modelGraphToOnnx(graph), onnxShape(graph.inputShape), {
    threads: 1,
  });
  const ortOut = await ort.run(
    graph.inputShape.length === 4 ? nhwcToNchw(input, graph.inputShape) : input,
  );
  await ort.release();
  const tf = await initTfjsWasm(1);
  const converted = modelGraphToTfjs(graph);
  const x = tf.tensor(input, [...graph.inputShape]);
  const y = converted.run(x);
  const tfjsOut = y.dataSync() as Float32Array;
  tf.dispose([x, y]);
  converted.dispose();
  return {
    ort: outputShape.length === 4 ? nchwToNhwc(ortOut, outputShape) : ortOut,
    tfjs: tfjsOut,
  };
}

function convNode(d: OpDescriptor & { op: "conv2d" }, random: () => number): GraphNode {
  const weights: ConvWeights = {
    filter: randomFloat32(random, convFilterSize(d)),
    bias: d.bias ? randomFloat32(random, d.outChannels) : undefined,
  };
  return { name: "op", descriptor: d, inputs: ["input"], weights };
}

/** One-node graphs covering every branch of both converters. */
const SINGLE_OPS: { name: string; inputShape: Shape; node: (r: () => number) => GraphNode }[] = [
  {
    name: "dense 3×3 s2 symmetric pad, bias, relu6",
    inputShape: [1, 9, 8, 3],
    node: (r) =>
      convNode(
        conv2d({
          inChannels: 3,
          outChannels: 5,
          kernel: 3,
          stride: 2,
          padding: [1, 1, 1, 1],
          bias: true,
          activation: "relu6",
        }),
        r,
      ),
  },
  {
    name: "dense 3×3 s2 'same' on even input (asymmetric)",
    inputShape: [1, 8, 8, 4],
    node: (r) =>
      convNode(conv2d({ inChannels: 4, outChannels: 3, kernel: 3, stride: 2, padding: "same" }), r),
  },
  {
    name: "dense 3×2 explicit asymmetric pad, dilation, relu",
    inputShape: [2, 7, 6, 2],
    node: (r) =>
      convNode(
        conv2d({
          inChannels: 2,
          outChannels: 4,
          kernel: [3, 2],
          dilation: [1, 2],
          padding: [0, 2, 1, 0],
          bias: true,
          activation: "relu",
        }),
        r,
      ),
  },
  {
    name: "depthwise 3×3 s1, multiplier 2, bias, relu6",
    inputShape: [1, 6, 7, 4],
    node: (r) =>
      convNode(
        depthwiseConv2d({
          channels: 4,
          multiplier: 2,
          kernel: 3,
          padding: [1, 1, 1, 1],
          bias: true,
          activation: "relu6",
        }),
        r,
      ),
  },
  {
    name: "depthwise 3×3 s2 'same' on even input",
    inputShape: [1, 8, 8, 6],
    node: (r) =>
      convNode(depthwiseConv2d({ channels: 6, kernel: 3, stride: 2, padding: "same" }), r),
  },
  {
    name: "depthwise 3×3 s2 explicit asymmetric pad",
    inputShape: [1, 8, 7, 3],
    node: (r) =>
      convNode(depthwiseConv2d({ channels: 3, kernel: 3, stride: 2, padding: [0, 1, 1, 0] }), r),
  },
  {
    name: "group 1×1 g=3, bias, relu",
    inputShape: [1, 5, 5, 12],
    node: (r) =>
      convNode(
        pointwiseConv2d({
          inChannels: 12,
          outChannels: 9,
          groups: 3,
          bias: true,
          activation: "relu",
        }),
        r,
      ),
  },
  {
    name: "group 3×3 g=2 padded",
    inputShape: [1, 5, 6, 4],
    node: (r) =>
      convNode(
        conv2d({ inChannels: 4, outChannels: 6, kernel: 3, groups: 2, padding: [1, 1, 1, 1] }),
        r,
      ),
  },
  {
    name: "avgPool 3×3 s2 padded, countIncludePad",
    inputShape: [1, 7, 8, 3],
    node: () => ({
      name: "op",
      descriptor: avgPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1], countIncludePad: true }),
      inputs: ["input"],
    }),
  },
  {
    name: "avgPool 3×3 s2 padded, padding excluded",
    inputShape: [1, 7, 8, 3],
    node: () => ({
      name: "op",
      descriptor: avgPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1] }),
      inputs: ["input"],
    }),
  },
  {
    name: "avgPool 2×2 valid",
    inputShape: [1, 6, 6, 2],
    node: () => ({ name: "op", descriptor: avgPool2d({ kernel: 2 }), inputs: ["input"] }),
  },
  {
    name: "maxPool 3×3 s2 symmetric pad",
    inputShape: [1, 9, 8, 3],
    node: () => ({
      name: "op",
      descriptor: maxPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1] }),
      inputs: ["input"],
    }),
  },
  {
    name: "maxPool 3×3 s2 asymmetric pad",
    inputShape: [1, 8, 8, 2],
    node: () => ({
      name: "op",
      descriptor: maxPool2d({ kernel: 3, stride: 2, padding: [0, 1, 1, 0] }),
      inputs: ["input"],
    }),
  },
  {
    name: "channel shuffle g=3",
    inputShape: [1, 3, 2, 12],
    node: () => ({ name: "op", descriptor: channelShuffle({ groups: 3 }), inputs: ["input"] }),
  },
  {
    name: "global average pool",
    inputShape: [2, 5, 4, 6],
    node: () => ({ name: "op", descriptor: globalAvgPool(), inputs: ["input"] }),
  },
  {
    name: "fully connected over NHWC-flattened 2×2×3 features, bias, relu",
    inputShape: [2, 2, 2, 3],
    node: (r) => ({
      name: "op",
      descriptor: fullyConnected({
        inFeatures: 12,
        outFeatures: 5,
        bias: true,
        activation: "relu",
      }),
      inputs: ["input"],
      weights: { weights: randomFloat32(r, 60), bias: randomFloat32(r, 5) },
    }),
  },
  {
    name: "fully connected with a clamp to [-0.5, 0.75]",
    inputShape: [2, 6],
    node: (r) => ({
      name: "op",
      descriptor: fullyConnected({
        inFeatures: 6,
        outFeatures: 4,
        bias: true,
        activation: { min: -0.5, max: 0.75 },
      }),
      inputs: ["input"],
      weights: { weights: randomFloat32(r, 24), bias: randomFloat32(r, 4) },
    }),
  },
  {
    name: "softmax over 2-D",
    inputShape: [2, 10],
    node: () => ({ name: "op", descriptor: softmax(), inputs: ["input"] }),
  },
  {
    name: "softmax over the channels of a 4-D value",
    inputShape: [1, 2, 3, 5],
    node: () => ({ name: "op", descriptor: softmax(), inputs: ["input"] }),
  },
];

function assertMatches(label: string, actual: ArrayLike<number>, expected: ReferenceResult) {
  const comparison = withinTolerance(actual, expected);
  assert.ok(comparison.ok, `${label}: ${comparison.detail}`);
}

Deno.test("ONNX and TF.js conversions of every operator match the float64 reference", async (t) => {
  for (const [i, testCase] of SINGLE_OPS.entries()) {
    await t.step(testCase.name, async () => {
      const random = seededRandom(100 + i);
      const node = testCase.node(random);
      const graph: ModelGraph = {
        name: "single",
        inputShape: testCase.inputShape,
        nodes: [node],
        output: "op",
      };
      const input = randomFloat32(random, shapeSize(testCase.inputShape), 2);
      const expected = reference(node.descriptor, node.weights, [{
        shape: testCase.inputShape,
        data: input,
      }]);
      const { outputShape } = inferGeometry(node.descriptor, [testCase.inputShape]);
      assert.deepEqual(expected.shape, outputShape);
      const { ort, tfjs } = await runPeers(graph, input, outputShape);
      assertMatches("ONNX Runtime", ort, expected);
      assertMatches("TF.js", tfjs, expected);
    });
  }
});

Deno.test("multi-input nodes (add, concat) read the right values in both conversions", async () => {
  const inputShape = [1, 3, 4, 6];
  const graph: ModelGraph = {
    name: "wiring",
    inputShape,
    nodes: [
      { name: "shuffled", descriptor: channelShuffle({ groups: 2 }), inputs: ["input"] },
      { name: "sum", descriptor: add({ activation: "relu" }), inputs: ["shuffled", "input"] },
      {
        name: "joined",
        descriptor: concat({ activation: "relu6" }),
        inputs: ["input", "sum", "shuffled"],
      },
    ],
    output: "joined",
  };
  // Small integers keep the add exact in float32, so every node is exact and
  // the result must equal the reference bit for bit (concat's tolerance is zero).
  const input = randomFloat32(seededRandom(7), shapeSize(inputShape), 8).map(Math.round);
  const expected = referenceForward(graph, input);
  const { ort, tfjs } = await runPeers(graph, input, [1, 3, 4, 18]);
  assertMatches("ONNX Runtime", ort, expected);
  assertMatches("TF.js", tfjs, expected);
});
