import assert from "node:assert/strict";
import type { ConvNode, IrGraph, IrNode, IrValue, PoolNode } from "./ir.ts";
import {
  affineToDepthwise,
  foldAffine,
  fuse,
  fuseActivations,
  fuseChannelShuffle,
  fusePadding,
  removeNoOps,
  standaloneToDepthwise,
} from "./passes.ts";

const NONE = [-Infinity, Infinity] as const;
const map = (dims: [number, number, number, number]): IrValue => ({
  shape: dims,
  layout: { kind: "nchw", dims },
});

function conv(
  name: string,
  input: string,
  output: string,
  fields: Partial<ConvNode> = {},
): ConvNode {
  return {
    op: "conv",
    name,
    opType: "Conv",
    inputs: [input],
    output,
    inChannels: 1,
    outChannels: 1,
    kernel: [1, 1],
    stride: [1, 1],
    padding: [0, 0, 0, 0],
    dilation: [1, 1],
    groups: 1,
    filter: new Float32Array([2]),
    activation: NONE,
    ...fields,
  };
}

function graph(nodes: IrNode[], output: string, values: [string, IrValue][] = []): IrGraph {
  return { input: "x", nodes, output, values: new Map(values) };
}

Deno.test("removeNoOps: chains of no-ops collapse onto the first input", () => {
  const result = removeNoOps(graph([
    { op: "identity", name: "a", opType: "Identity", inputs: ["x"], output: "a" },
    { op: "clamp", name: "b", opType: "Clip", inputs: ["a"], output: "b", bounds: NONE },
    { op: "identity", name: "c", opType: "Dropout", inputs: ["b"], output: "c" },
    { op: "softmax", name: "s", opType: "Softmax", inputs: ["c"], output: "s" },
  ], "s"));
  assert.deepEqual(result.nodes.map((n) => [n.name, n.inputs]), [["s", ["x"]]]);
});

Deno.test("fuseChannelShuffle: not when the split tensor has another reader", () => {
  const values: [string, IrValue][] = [
    ["x", map([1, 6, 1, 1])],
    ["r", { shape: [1, 3, 2, 1, 1], layout: { kind: "plain" } }],
    ["t", { shape: [1, 2, 3, 1, 1], layout: { kind: "plain" } }],
    ["y", map([1, 6, 1, 1])],
  ];
  const nodes: IrNode[] = [
    { op: "reshape", name: "r", opType: "Reshape", inputs: ["x"], output: "r" },
    {
      op: "transpose",
      name: "t",
      opType: "Transpose",
      inputs: ["r"],
      output: "t",
      perm: [0, 2, 1, 3, 4],
    },
    { op: "reshape", name: "y", opType: "Reshape", inputs: ["t"], output: "y" },
  ];
  assert.equal(fuseChannelShuffle(graph(nodes, "y", values)).nodes.length, 1);
  const shared = graph(nodes, "y", values);
  const read = {
    ...shared,
    nodes: [
      ...nodes,
      { op: "softmax", name: "s", opType: "Softmax", inputs: ["r"], output: "s" } as IrNode,
    ],
  };
  assert.equal(fuseChannelShuffle(read).nodes.length, 4);
  const otherPerm = graph(
    [nodes[0], { ...nodes[1], perm: [0, 1, 2, 4, 3] } as IrNode, nodes[2]],
    "y",
    values,
  );
  assert.equal(fuseChannelShuffle(otherPerm).nodes.length, 3);
});

Deno.test("fusePadding: sums into conv padding; declines an excluding average pool with padding", () => {
  const pad: IrNode = {
    op: "pad",
    name: "p",
    opType: "Pad",
    inputs: ["x"],
    output: "p",
    pads: [1, 0, 0, 1],
  };
  const fused = fusePadding(graph([pad, conv("c", "p", "y", { padding: [1, 1, 1, 1] })], "y"));
  assert.equal(fused.nodes.length, 1);
  assert.deepEqual((fused.nodes[0] as ConvNode).padding, [2, 1, 1, 2]);
  assert.deepEqual(fused.nodes[0].inputs, ["x"]);
  const pool: PoolNode = {
    op: "avgPool",
    name: "a",
    opType: "AveragePool",
    inputs: ["p"],
    output: "y",
    kernel: [3, 3],
    stride: [1, 1],
    padding: [1, 1, 1, 1],
    countIncludePad: false,
    ceilMode: false,
  };
  assert.equal(fusePadding(graph([pad, pool], "y")).nodes.length, 2);
  assert.equal(fusePadding(graph([pad, { ...pool, countIncludePad: true }], "y")).nodes.length, 1);
  // Padding as large as the kernel cannot be a pool's.
  assert.equal(
    fusePadding(
      graph([{ ...pad, pads: [2, 0, 0, 0] } as IrNode, { ...pool, countIncludePad: true }], "y"),
    ).nodes.length,
    2,
  );
  // In ceil mode a Pad's bottom/right zeros are input to ONNX (the last window may start in
  // them) but would be padding to core (it may not): not fused.
  const ceil = { ...pool, countIncludePad: true, ceilMode: true };
  assert.equal(fusePadding(graph([pad, ceil], "y")).nodes.length, 2);
  const leading = { ...pad, pads: [1, 0, 1, 0] } as IrNode;
  assert.equal(fusePadding(graph([leading, ceil], "y")).nodes.length, 1);
});

Deno.test("foldAffine: BatchNorm then bias fold in order; not across an activation or a second reader", () => {
  const one = new Float32Array([1]);
  const bn: IrNode = {
    op: "batchNorm",
    name: "bn",
    opType: "BatchNormalization",
    inputs: ["c"],
    output: "n",
    params: { gamma: new Float32Array([3]), beta: one, mean: one, variance: one, epsilon: 0 },
  };
  const bias: IrNode = {
    op: "bias",
    name: "b",
    opType: "Add",
    inputs: ["n"],
    output: "y",
    bias: new Float32Array([0.5]),
  };
  const folded = foldAffine(graph([conv("c", "x", "c"), bn, bias], "y"));
  assert.equal(folded.nodes.length, 1);
  const [node] = folded.nodes as ConvNode[];
  assert.deepEqual([...node.filter, ...node.bias!], [6, (0 - 1) * 3 + 1 + 0.5]);
  assert.equal(node.output, "y");
  const clamped = foldAffine(graph([conv("c", "x", "c", { activation: [0, Infinity] }), bn], "n"));
  assert.equal(clamped.nodes.length, 2);
  const shared = foldAffine(graph([
    conv("c", "x", "c"),
    bn,
    { op: "add", name: "a", opType: "Add", inputs: ["c", "n"], output: "y", activation: NONE },
  ], "y"));
  assert.equal(shared.nodes.length, 3);
});

Deno.test("affineToDepthwise: only NCHW values; a 2-D BatchNorm stays for the emitter to refuse", () => {
  const bn = (input: string): IrNode => ({
    op: "batchNorm",
    name: "bn",
    opType: "BatchNormalization",
    inputs: [input],
    output: "y",
    params: {
      gamma: new Float32Array([2, 2]),
      beta: new Float32Array([0, 1]),
      mean: new Float32Array([0, 0]),
      variance: new Float32Array([1, 1]),
      epsilon: 0,
    },
  });
  const nchw = affineToDepthwise(graph([bn("x")], "y", [["x", map([1, 2, 3, 3])]]));
  const [dw] = nchw.nodes as ConvNode[];
  assert.ok(
    dw.op === "conv" && dw.groups === 2 && dw.filter.join() === "2,2" && dw.bias!.join() === "0,1",
  );
  const plain = affineToDepthwise(
    graph([bn("x")], "y", [["x", { shape: [1, 2], layout: { kind: "plain" } }]]),
  );
  assert.equal(plain.nodes[0].op, "batchNorm");
});

Deno.test("fuseActivations: clamps compose; disjoint ones and shared producers stay apart", () => {
  const relu: IrNode = {
    op: "clamp",
    name: "r",
    opType: "Relu",
    inputs: ["c"],
    output: "y",
    bounds: [0, Infinity],
  };
  const composed = fuseActivations(graph([conv("c", "x", "c", { activation: [0, 6] }), relu], "y"));
  assert.deepEqual((composed.nodes[0] as ConvNode).activation, [0, 6]);
  const disjoint = fuseActivations(graph([
    conv("c", "x", "c", { activation: [0, 6] }),
    { ...relu, bounds: [7, 8] } as IrNode,
  ], "y"));
  assert.equal(disjoint.nodes.length, 2);
  const pool: IrNode = {
    op: "globalAvgPool",
    name: "c",
    opType: "GlobalAveragePool",
    inputs: ["x"],
    output: "c",
  };
  assert.equal(fuseActivations(graph([pool, relu], "y")).nodes.length, 2);
  assert.equal(fuseActivations(graph([conv("c", "x", "c"), relu], "c")).nodes.length, 2);
});

Deno.test("standaloneToDepthwise and fuse: a Relu after a pool becomes a copy with the clamp", () => {
  const nodes: IrNode[] = [
    { op: "globalAvgPool", name: "g", opType: "GlobalAveragePool", inputs: ["x"], output: "g" },
    { op: "clamp", name: "r", opType: "Relu", inputs: ["g"], output: "y", bounds: [0, 6] },
  ];
  const values: [string, IrValue][] = [["x", map([1, 3, 2, 2])], ["g", map([1, 3, 1, 1])]];
  for (
    const result of [
      standaloneToDepthwise(graph(nodes, "y", values)),
      fuse(graph(nodes, "y", values)),
    ]
  ) {
    const copy = result.nodes[1] as ConvNode;
    assert.ok(copy.op === "conv" && copy.groups === 3 && copy.filter.every((w) => w === 1));
    assert.deepEqual(copy.activation, [0, 6]);
    assert.equal(copy.bias, undefined);
  }
});
