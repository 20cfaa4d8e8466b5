import assert from "node:assert/strict";
import { UnsupportedError, WeightsError } from "@mobileops/core";
import { BACKEND_NAMES, createBackend } from "@mobileops/registry";
import { type AttributeValue, craftModel, runOnnx } from "./_craft.ts";
import {
  decodeOnnxTensor,
  loadOnnx,
  nchwToNhwc,
  nhwcToNchw,
  OnnxError,
  OnnxUnsupportedError,
} from "./mod.ts";
import { onnx } from "./proto.ts";

/** Deterministic values in [-1, 1). */
function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 1073741824 - 1;
  });
}

/** An independent NCHW convolution in float64, written from ONNX's definition. */
function convNchw(
  x: Float32Array,
  [n, c, h, w]: number[],
  weights: Float32Array,
  [o, perGroup, kh, kw]: number[],
  {
    pads = [0, 0, 0, 0],
    strides = [1, 1],
    dilations = [1, 1],
    group = 1,
    bias = undefined as
      | Float32Array
      | undefined,
  } = {},
): { data: Float64Array; shape: number[] } {
  const oh = Math.floor((h + pads[0] + pads[2] - ((kh - 1) * dilations[0] + 1)) / strides[0]) + 1;
  const ow = Math.floor((w + pads[1] + pads[3] - ((kw - 1) * dilations[1] + 1)) / strides[1]) + 1;
  const out = new Float64Array(n * o * oh * ow);
  const perOut = o / group;
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const g = Math.floor(oc / perOut);
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          let sum = bias?.[oc] ?? 0;
          for (let i = 0; i < perGroup; i++) {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const iy = y * strides[0] - pads[0] + ky * dilations[0];
                const ix = xx * strides[1] - pads[1] + kx * dilations[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                sum += x[((b * c + g * perGroup + i) * h + iy) * w + ix] *
                  weights[((oc * perGroup + i) * kh + ky) * kw + kx];
              }
            }
          }
          out[((b * o + oc) * oh + y) * ow + xx] = sum;
        }
      }
    }
  }
  return { data: out, shape: [n, o, oh, ow] };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance * (1 + Math.abs(expected[i])),
      `[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

Deno.test("layout: nchwToNhwc and nhwcToNchw are inverse transpositions", () => {
  const data = values(2 * 3 * 4 * 5, 1);
  const nhwc = nchwToNhwc(data, [2, 3, 4, 5]);
  assert.equal(nhwc[1], data[20]); // pixel (0, 0), channel 1
  assert.deepEqual(nhwcToNchw(nhwc, [2, 4, 5, 3]), data);
  assert.throws(() => nchwToNhwc(data, [2, 3, 4, 4]), OnnxError);
});

Deno.test("Conv: OIHW filters, groups, dilation, strides and asymmetric pads match NCHW", async () => {
  using backend = await createBackend("js");
  const shape = [1, 4, 7, 6];
  const x = values(4 * 7 * 6, 2);
  // Each case: the filter shape, the ONNX attributes, and the same in the naive convolution's terms
  // (SAME_LOWER puts the odd extra row and column first, SAME_UPPER last).
  const cases: [number[], Record<string, AttributeValue>, Parameters<typeof convNchw>[4]][] = [
    [[6, 2, 3, 2], { group: 2, pads: [1, 0, 2, 1], strides: [2, 1] }, {
      group: 2,
      pads: [1, 0, 2, 1],
      strides: [2, 1],
    }],
    [[8, 1, 3, 3], { group: 4, dilations: [2, 1], pads: [2, 1, 2, 1] }, {
      group: 4,
      dilations: [2, 1],
      pads: [2, 1, 2, 1],
    }],
    [[3, 4, 2, 2], { auto_pad: "SAME_LOWER", strides: [2, 2] }, {
      pads: [1, 0, 0, 0],
      strides: [2, 2],
    }],
    [[3, 4, 2, 2], { auto_pad: "SAME_UPPER", strides: [2, 2] }, {
      pads: [0, 0, 1, 0],
      strides: [2, 2],
    }],
  ];
  for (const [i, [wShape, attributes, naive]] of cases.entries()) {
    const w = values(wShape.reduce((a, b) => a * b, 1), 10 + i);
    const bias = values(wShape[0], 20 + i);
    const model = loadOnnx(craftModel({
      nodes: [{ op: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attributes }],
      input: { name: "x", shape },
      output: "y",
      initializers: { w: { shape: wShape, data: w }, b: { shape: [wShape[0]], data: bias } },
    }));
    const expected = convNchw(x, shape, w, wShape, { ...naive, bias });
    assert.deepEqual(model.output.shape, expected.shape);
    assertClose(await runOnnx(model, backend, x), expected.data);
  }
});

Deno.test("Flatten → Gemm on a C×H×W map: the columns are permuted exactly", async () => {
  using backend = await createBackend("js");
  const [c, h, w, out] = [3, 2, 2, 4];
  const x = values(c * h * w, 3);
  const b = values(out * c * h * w, 4);
  const model = loadOnnx(craftModel({
    nodes: [
      { op: "Flatten", inputs: ["x"], outputs: ["f"] },
      { op: "Gemm", inputs: ["f", "b"], outputs: ["y"], attributes: { transB: 1 } },
    ],
    input: { name: "x", shape: [1, c, h, w] },
    output: "y",
    initializers: { b: { shape: [out, c * h * w], data: b } },
  }));
  const [fc] = model.graph.nodes;
  assert.equal(model.graph.nodes.length, 1);
  assert.ok(fc.weights !== undefined && "weights" in fc.weights);
  // Column (y·W + x)·C + c of the graph's weights is ONNX's column (c·H + y)·W + x.
  assert.equal(fc.weights.weights[1], b[h * w]);
  assert.deepEqual(fc.weights.weights, nchwToNhwc(b, [out, c, h, w]));
  const expected = Array.from(
    { length: out },
    (_, o) => x.reduce((sum, v, i) => sum + v * b[o * c * h * w + i], 0),
  );
  assertClose(await runOnnx(model, backend, x), expected);
});

Deno.test("Reshape with its shape as an initializer (opset 7) flattens before MatMul + Add", async () => {
  using backend = await createBackend("js");
  const x = values(2 * 2 * 1 * 1, 5);
  const model = loadOnnx(craftModel({
    opset: 7,
    nodes: [
      { op: "Reshape", inputs: ["x", "shape"], outputs: ["r"] },
      { op: "MatMul", inputs: ["r", "w"], outputs: ["m"] },
      { op: "Add", inputs: ["m", "b"], outputs: ["y"] },
    ],
    input: { name: "x", shape: [2, 2, 1, 1] },
    output: "y",
    initializers: {
      shape: { shape: [2], data: [2, -1], int64: true },
      w: { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
      b: { shape: [3], data: [0.5, 0, -0.5] },
    },
  }));
  assert.deepEqual(model.graph.nodes.map((n) => n.descriptor.op), ["fullyConnected"]);
  const expected = [0, 1].flatMap((n) =>
    [0, 1, 2].map((o) => x[2 * n] * (o + 1) + x[2 * n + 1] * (o + 4) + [0.5, 0, -0.5][o])
  );
  assertClose(await runOnnx(model, backend, x), expected);
});

Deno.test("Gemm: alpha, beta, transB and Gemm-6 broadcast fold into weights and bias", async () => {
  using backend = await createBackend("js");
  const x = values(2 * 3, 6);
  const b = values(3 * 2, 7);
  for (const opset of [6, 13]) {
    const model = loadOnnx(craftModel({
      opset,
      nodes: [{
        op: "Gemm",
        inputs: ["x", "b", "c"],
        outputs: ["y"],
        attributes: { alpha: 0.5, beta: { f: 2 }, ...(opset < 7 ? { broadcast: 1 } : {}) },
      }],
      input: { name: "x", shape: [2, 3] },
      output: "y",
      initializers: { b: { shape: [3, 2], data: b }, c: { shape: [1, 2], data: [1, -1] } },
    }));
    const expected = [0, 1].flatMap((m) =>
      [0, 1].map((n) =>
        0.5 * [0, 1, 2].reduce((s, k) => s + x[m * 3 + k] * b[k * 2 + n], 0) + 2 * [1, -1][n]
      )
    );
    assertClose(await runOnnx(model, backend, x), expected);
  }
});

Deno.test("Clip: attributes before opset 11, inputs (from Constant nodes) after; fused into the conv", () => {
  const conv = { op: "Conv", inputs: ["x", "w"], outputs: ["c"] };
  const initializers = { w: { shape: [2, 2, 1, 1], data: [1, 0, 0, 1] } };
  const input = { name: "x", shape: [1, 2, 3, 3] };
  const old = loadOnnx(craftModel({
    opset: 6,
    nodes: [conv, {
      op: "Clip",
      inputs: ["c"],
      outputs: ["y"],
      attributes: { min: { f: 0 }, max: { f: 6 } },
    }],
    input,
    output: "y",
    initializers,
  }));
  const current = loadOnnx(craftModel({
    nodes: [
      conv,
      { op: "Constant", inputs: [], outputs: ["lo"], attributes: { value_float: { f: 0 } } },
      { op: "Constant", inputs: [], outputs: ["hi"], attributes: { value_float: { f: 6 } } },
      { op: "Clip", inputs: ["c", "lo", "hi"], outputs: ["y"] },
    ],
    input,
    output: "y",
    initializers,
  }));
  for (const model of [old, current]) {
    assert.equal(model.graph.nodes.length, 1);
    const [node] = model.graph.nodes;
    assert.ok(node.descriptor.op === "conv2d" && node.descriptor.activation === "relu6");
  }
});

Deno.test("activations fuse into add and concat; a lone Relu becomes a 1×1 depthwise copy", async () => {
  using backend = await createBackend("js");
  const x = values(4 * 2 * 2, 8);
  const model = loadOnnx(craftModel({
    nodes: [
      { op: "MaxPool", inputs: ["x"], outputs: ["p"], attributes: { kernel_shape: [1, 1] } },
      { op: "Relu", inputs: ["p"], outputs: ["r"] },
      { op: "Add", inputs: ["r", "x"], outputs: ["a"] },
      { op: "Relu", inputs: ["a"], outputs: ["ar"] },
      { op: "Concat", inputs: ["ar", "x"], outputs: ["c"], attributes: { axis: 1 } },
      { op: "Relu", inputs: ["c"], outputs: ["y"] },
    ],
    input: { name: "x", shape: [1, 4, 2, 2] },
    output: "y",
  }));
  const ops = model.graph.nodes.map((
    n,
  ) => [n.descriptor.op, "activation" in n.descriptor ? n.descriptor.activation : ""]);
  assert.deepEqual(ops, [
    ["maxPool2d", ""],
    ["conv2d", "relu"],
    ["add", "relu"],
    ["concat", "relu"],
  ]);
  const relu = (v: number) => Math.max(v, 0);
  const expected = [...x.map((v) => relu(relu(v) + v)), ...x.map(relu)];
  assertClose(await runOnnx(model, backend, x), expected);
});

Deno.test("BatchNormalization: folded into the conv; standalone, a depthwise 1×1 that takes the Relu", async () => {
  using backend = await createBackend("js");
  const bn = (input: string, output: string) => ({
    op: "BatchNormalization",
    inputs: [input, "g", "be", "m", "v"],
    outputs: [output],
    attributes: { epsilon: { f: 0.001 }, spatial: 1 },
  });
  const params = {
    g: { shape: [2], data: [1.5, 0.5] },
    be: { shape: [2], data: [0.1, -0.2] },
    m: { shape: [2], data: [0.3, -0.1] },
    v: { shape: [2], data: [2, 0.5] },
    w: { shape: [2, 2, 1, 1], data: [1, 2, 3, 4] },
  };
  const model = loadOnnx(craftModel({
    opset: 7,
    nodes: [
      { op: "Conv", inputs: ["x", "w"], outputs: ["c"] },
      bn("c", "n1"),
      { op: "MaxPool", inputs: ["n1"], outputs: ["p"], attributes: { kernel_shape: [1, 1] } },
      bn("p", "n2"),
      { op: "Relu", inputs: ["n2"], outputs: ["y"] },
    ],
    input: { name: "x", shape: [1, 2, 1, 2] },
    output: "y",
    initializers: params,
  }));
  assert.deepEqual(model.graph.nodes.map((n) => n.descriptor.op), [
    "conv2d",
    "maxPool2d",
    "conv2d",
  ]);
  const dw = model.graph.nodes[2].descriptor;
  assert.ok(dw.op === "conv2d" && dw.groups === 2 && dw.activation === "relu");
  const x = [0.5, -1, 2, 0.25];
  const norm = (v: number, c: number) =>
    (v - params.m.data[c]) / Math.sqrt(params.v.data[c] + 0.001) * params.g.data[c] +
    params.be.data[c];
  const conv = [0, 1].flatMap((o) =>
    [0, 1].map((p) => params.w.data[2 * o] * x[p] + params.w.data[2 * o + 1] * x[2 + p])
  );
  const expected = conv.map((v, i) => Math.max(norm(norm(v, i >> 1), i >> 1), 0));
  assertClose(await runOnnx(model, backend, x), expected);
});

Deno.test("BatchNormalization that cannot fold: WeightsError naming the node", () => {
  assert.throws(
    () =>
      loadOnnx(craftModel({
        nodes: [
          { op: "Conv", inputs: ["x", "w"], outputs: ["c"] },
          {
            op: "BatchNormalization",
            inputs: ["c", "g", "g", "g", "v"],
            outputs: ["y"],
            name: "bn1",
            attributes: { epsilon: { f: 0 } },
          },
        ],
        input: { name: "x", shape: [1, 1, 2, 2] },
        output: "y",
        initializers: {
          w: { shape: [1, 1, 1, 1], data: [1] },
          g: { shape: [1], data: [1] },
          v: { shape: [1], data: [-1] },
        },
      })),
    (error) => error instanceof WeightsError && error.field === 'nodes["bn1"].bn.variance[0]',
  );
});

Deno.test("Pad: folds into Conv and into AveragePool (counting padded cells); before MaxPool it is a padded copy", async () => {
  using backend = await createBackend("js");
  const x = values(1 * 1 * 3 * 3, 9).map((v) => v - 1); // all negative: a padded zero would win a max
  const pad = { op: "Pad", inputs: ["x", "pads"], outputs: ["p"] };
  const pads = { pads: { shape: [8], data: [0, 0, 1, 1, 0, 0, 1, 1], int64: true } };
  const input = { name: "x", shape: [1, 1, 3, 3] };
  const convModel = loadOnnx(craftModel({
    nodes: [pad, {
      op: "Conv",
      inputs: ["p", "w"],
      outputs: ["y"],
      attributes: { pads: [1, 0, 0, 0] },
    }],
    input,
    output: "y",
    initializers: { ...pads, w: { shape: [1, 1, 3, 3], data: values(9, 10) } },
  }));
  const conv = convModel.graph.nodes[0].descriptor;
  assert.ok(conv.op === "conv2d" && JSON.stringify(conv.padding) === "[2,1,1,1]");
  const avgModel = loadOnnx(craftModel({
    nodes: [pad, {
      op: "AveragePool",
      inputs: ["p"],
      outputs: ["y"],
      attributes: { kernel_shape: [3, 3], strides: [2, 2] },
    }],
    input,
    output: "y",
    initializers: pads,
  }));
  const avg = avgModel.graph.nodes[0].descriptor;
  assert.ok(
    avg.op === "avgPool2d" && avg.countIncludePad && JSON.stringify(avg.padding) === "[1,1,1,1]",
  );
  const corner = (x[0] + x[1] + x[3] + x[4]) / 9;
  assertClose((await runOnnx(avgModel, backend, x)).slice(0, 1), [corner]);
  const maxModel = loadOnnx(craftModel({
    nodes: [pad, {
      op: "MaxPool",
      inputs: ["p"],
      outputs: ["y"],
      attributes: { kernel_shape: [2, 2], strides: [2, 2] },
    }],
    input,
    output: "y",
    initializers: pads,
  }));
  assert.deepEqual(maxModel.graph.nodes.map((n) => n.descriptor.op), ["conv2d", "maxPool2d"]);
  const out = await runOnnx(maxModel, backend, x);
  assert.deepEqual([...out], [0, 0, 0, Math.max(x[4], x[5], x[7], x[8])]);
});

Deno.test("channel shuffle: (g, C/g) gives g groups, the inverse (C/g, g) form C/g groups", async () => {
  using backend = await createBackend("js");
  const x = Float32Array.from({ length: 6 }, (_, i) => i);
  for (const [a, b, order] of [[3, 2, [0, 2, 4, 1, 3, 5]], [2, 3, [0, 3, 1, 4, 2, 5]]] as const) {
    const model = loadOnnx(craftModel({
      nodes: [
        { op: "Reshape", inputs: ["x", "split"], outputs: ["r"] },
        { op: "Transpose", inputs: ["r"], outputs: ["t"], attributes: { perm: [0, 2, 1, 3, 4] } },
        { op: "Reshape", inputs: ["t", "merge"], outputs: ["y"] },
      ],
      input: { name: "x", shape: [1, 6, 1, 1] },
      output: "y",
      initializers: {
        split: { shape: [5], data: [1, a, b, 1, 1], int64: true },
        merge: { shape: [4], data: [1, -1, 1, 1], int64: true },
      },
    }));
    const [shuffle] = model.graph.nodes;
    assert.ok(model.graph.nodes.length === 1 && shuffle.descriptor.op === "channelShuffle");
    assert.equal(shuffle.descriptor.groups, a);
    // ONNX's reshape/transpose semantics, written out: output channel j·a + i is input i·b + j.
    assert.deepEqual([...await runOnnx(model, backend, x)], order);
  }
});

Deno.test("Identity, Dropout and a no-op Flatten vanish; a 4-D output comes back NCHW", async () => {
  using backend = await createBackend("js");
  const model = loadOnnx(craftModel({
    nodes: [
      { op: "Identity", inputs: ["x"], outputs: ["i"] },
      { op: "Dropout", inputs: ["i"], outputs: ["d"] },
      { op: "GlobalAveragePool", inputs: ["d"], outputs: ["g"] },
      { op: "Flatten", inputs: ["g"], outputs: ["f"] },
      { op: "Identity", inputs: ["f"], outputs: ["y"] },
    ],
    input: { name: "x", shape: [1, 2, 2, 2] },
    output: "y",
  }));
  assert.deepEqual(model.graph.nodes.map((n) => n.descriptor.op), ["globalAvgPool"]);
  assert.deepEqual(model.output.shape, [1, 2]);
  assert.deepEqual([...await runOnnx(model, backend, [1, 2, 3, 4, 5, 6, 7, 8])], [2.5, 6.5]);
  const copy = loadOnnx(craftModel({
    nodes: [{ op: "Identity", inputs: ["x"], outputs: ["y"] }],
    input: { name: "x", shape: [1, 2, 1, 2] },
    output: "y",
  }));
  assert.equal(copy.output.layout, "nchw");
  assert.deepEqual([...await runOnnx(copy, backend, [1, 2, 3, 4])], [1, 2, 3, 4]);
});

Deno.test("a constant bias Add folds into the conv before it, or becomes a depthwise 1×1", () => {
  const model = loadOnnx(craftModel({
    nodes: [
      { op: "Conv", inputs: ["x", "w"], outputs: ["c"] },
      { op: "Add", inputs: ["bias", "c"], outputs: ["a"] },
      { op: "MaxPool", inputs: ["a"], outputs: ["p"], attributes: { kernel_shape: [1, 1] } },
      { op: "Add", inputs: ["p", "bias4"], outputs: ["y"] },
    ],
    input: { name: "x", shape: [1, 2, 2, 2] },
    output: "y",
    initializers: {
      w: { shape: [2, 2, 1, 1], data: [1, 0, 0, 1] },
      bias: { shape: [2, 1, 1], data: [1, 2] },
      bias4: { shape: [1, 2, 1, 1], data: [3, 4] },
    },
  }));
  const [conv, , dw] = model.graph.nodes;
  assert.equal(model.graph.nodes.length, 3);
  assert.ok(conv.weights && "filter" in conv.weights && conv.weights.bias!.join() === "1,2");
  assert.ok(dw.descriptor.op === "conv2d" && dw.descriptor.groups === 2);
  assert.ok(dw.weights && "filter" in dw.weights && dw.weights.bias!.join() === "3,4");
});

Deno.test("ceil_mode = 1 is accepted where it gives core's output size", () => {
  const model = loadOnnx(craftModel({
    nodes: [{
      op: "MaxPool",
      inputs: ["x"],
      outputs: ["y"],
      attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 },
    }],
    input: { name: "x", shape: [1, 1, 7, 7] },
    output: "y",
  }));
  assert.deepEqual(model.output.shape, [1, 1, 4, 4]); // (7 + 2 − 3) / 2 + 1, exactly
  const descriptor = model.graph.nodes[0].descriptor;
  assert.ok(descriptor.op === "maxPool2d" && JSON.stringify(descriptor.padding) === "[1,1,1,1]");
});

Deno.test("constants option: weights given as graph inputs are bound by name", async () => {
  using backend = await createBackend("js");
  const bytes = craftModel({
    nodes: [{ op: "Conv", inputs: ["x", "W"], outputs: ["y"] }],
    input: { name: "x", shape: [1, 1, 2, 2] },
    extraInputs: ["W"],
    output: "y",
  });
  assert.throws(() => loadOnnx(bytes), /more than one data input/);
  const model = loadOnnx(bytes, {
    constants: { W: { shape: [1, 1, 1, 1], data: new Float32Array([2]) } },
  });
  assert.deepEqual([...await runOnnx(model, backend, [1, 2, 3, 4])], [2, 4, 6, 8]);
  assert.throws(
    () => loadOnnx(bytes, { constants: { W: { shape: [2], data: new Float32Array(1) } } }),
    (error) => error instanceof OnnxError && error.field === 'options.constants["W"]',
  );
});

Deno.test("dynamic input dimensions: options.inputShape fixes them, or a clear error", () => {
  const bytes = craftModel({
    nodes: [{ op: "GlobalAveragePool", inputs: ["x"], outputs: ["y"] }],
    input: { name: "x", shape: ["batch", 3, "height", "width"] },
    output: "y",
  });
  assert.throws(
    () => loadOnnx(bytes),
    (error) =>
      error instanceof OnnxError && error.field === 'graph.input["x"].shape[0]' &&
      error.message.includes('"batch"') && error.message.includes("options.inputShape"),
  );
  const model = loadOnnx(bytes, { inputShape: [1, 3, 16, 8] });
  assert.deepEqual(model.graph.inputShape, [1, 16, 8, 3]);
  assert.throws(
    () => loadOnnx(bytes, { inputShape: [1, 4, 16, 8] }),
    (error) => error instanceof OnnxError && error.field === "options.inputShape[1]",
  );
  assert.throws(() => loadOnnx(bytes, { inputShape: [1, 3] }), OnnxError);
});

Deno.test("bad bytes: truncated, garbage and non-ONNX files give OnnxError on field bytes", () => {
  const bytes = craftModel({
    nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
    input: { name: "x", shape: [1, 1, 2, 2] },
    output: "y",
  });
  for (
    const bad of [bytes.subarray(0, bytes.length - 3), new Uint8Array([0xff, 0xff, 0xff, 0xff])]
  ) {
    assert.throws(
      () => loadOnnx(bad),
      (error) =>
        error instanceof OnnxError && error.field === "bytes" &&
        error.message.includes("truncated or malformed ONNX file"),
    );
  }
  assert.throws(() => loadOnnx(new Uint8Array(0)), /not an ONNX model/);
  assert.throws(() => loadOnnx("model.onnx" as unknown as Uint8Array), OnnxError);
  assert.throws(() => decodeOnnxTensor(new Uint8Array([0x0a, 0x05, 1])), /truncated or malformed/);
});

Deno.test("external data: OnnxError naming the tensor and its file", () => {
  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      node: [{ opType: "Conv", input: ["x", "conv1.weight"], output: ["y"] }],
      input: [{
        name: "x",
        type: {
          tensorType: { elemType: 1, shape: { dim: [1, 1, 2, 2].map((d) => ({ dimValue: d })) } },
        },
      }],
      initializer: [{
        name: "conv1.weight",
        dims: [1, 1, 1, 1],
        dataType: 1,
        dataLocation: 1,
        externalData: [{ key: "location", value: "weights.bin" }],
      }],
      output: [{ name: "y" }],
    },
  }).finish();
  assert.throws(
    () => loadOnnx(bytes),
    (error) =>
      error instanceof OnnxError &&
      error.field === 'graph.initializer["conv1.weight"].data_location' &&
      error.message.includes('"weights.bin"'),
  );
});

Deno.test("unsupported nodes: one error at load time lists every one, with attribute and value", () => {
  const bytes = craftModel({
    nodes: [
      { op: "LeakyRelu", inputs: ["x"], outputs: ["a"], name: "leaky" },
      { op: "Clip", inputs: ["x", "lo", "hi"], outputs: ["b"], name: "clip" },
      {
        op: "MaxPool",
        inputs: ["x"],
        outputs: ["c"],
        name: "dilated",
        attributes: { kernel_shape: [2, 2], dilations: [2, 2] },
      },
      {
        op: "Conv",
        inputs: ["x", "w"],
        outputs: ["e"],
        name: "conv",
        attributes: { kernel_shape: [1, 1], foo: 3 },
      },
      { op: "Relu", inputs: ["a"], outputs: ["f"] }, // reads a refused node's output: not reported again
      { op: "Add", inputs: ["b", "c"], outputs: ["y"] },
    ],
    input: { name: "x", shape: [1, 1, 4, 4] },
    output: "y",
    initializers: {
      lo: { shape: [], data: [1] },
      hi: { shape: [], data: [-1] },
      w: { shape: [1, 1, 1, 1], data: [1] },
    },
  });
  let error: unknown;
  try {
    loadOnnx(bytes);
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof OnnxUnsupportedError && error instanceof UnsupportedError);
  const entries = error.nodes.map((n) => [n.node, n.opType, n.attribute, n.value]);
  assert.deepEqual(entries, [
    ["leaky", "LeakyRelu", undefined, undefined],
    ["clip", "Clip", "min, max", [1, -1]],
    ["dilated", "MaxPool", "dilations", [2, 2]],
    ["conv", "Conv", "foo", 3],
  ]);
  assert.deepEqual(error.value, ["leaky", "clip", "dilated", "conv"]);
  assert.match(error.message, /"clip" \(Clip\) min, max = \[1, -1\]: a clamp needs min ≤ max/);
});

Deno.test("a Transpose outside a channel shuffle is refused after fusion", () => {
  assert.throws(
    () =>
      loadOnnx(craftModel({
        nodes: [
          { op: "Reshape", inputs: ["x", "split"], outputs: ["r"] },
          { op: "Transpose", inputs: ["r"], outputs: ["t"], attributes: { perm: [0, 2, 1, 3, 4] } },
          { op: "Relu", inputs: ["r"], outputs: ["extra"] },
          { op: "Reshape", inputs: ["t", "merge"], outputs: ["y"] },
        ],
        input: { name: "x", shape: [1, 6, 1, 1] },
        output: "y",
        initializers: {
          split: { shape: [5], data: [1, 3, 2, 1, 1], int64: true },
          merge: { shape: [4], data: [1, 6, 1, 1], int64: true },
        },
      })),
    (error) =>
      error instanceof OnnxUnsupportedError &&
      error.nodes.some((n) => n.opType === "Transpose" && n.reason.includes("channel shuffle")),
  );
});

Deno.test("file-level refusals: opset, two outputs, a non-FLOAT input", () => {
  const model = (fields: Partial<Parameters<typeof craftModel>[0]>) =>
    craftModel({
      nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
      input: { name: "x", shape: [1, 1, 2, 2] },
      output: "y",
      ...fields,
    });
  assert.throws(
    () => loadOnnx(model({ opset: 22 })),
    (e) => e instanceof OnnxError && e.field === "opset_import",
  );
  assert.throws(
    () =>
      loadOnnx(
        model({
          nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }, {
            op: "Relu",
            inputs: ["x"],
            outputs: ["z"],
          }],
          output: ["y", "z"],
        }),
      ),
    (e) => e instanceof OnnxError && e.field === "graph.output",
  );
  const graph = onnx.ModelProto.decode(model({}));
  graph.graph!.input![0].type!.tensorType!.elemType = 7;
  assert.throws(
    () => loadOnnx(onnx.ModelProto.encode(graph).finish()),
    (e) => e instanceof OnnxError && e.field === 'graph.input["x"].type.elem_type',
  );
  assert.throws(() => loadOnnx(model({}), { inputShapes: [1] } as never), OnnxError);
});

Deno.test("Clip with any bounds fuses as a clamp; ceil_mode pools keep ONNX's output size", async () => {
  const model = loadOnnx(craftModel({
    nodes: [
      {
        op: "Conv",
        inputs: ["x", "w"],
        outputs: ["c"],
        name: "conv",
        attributes: { kernel_shape: [1, 1] },
      },
      { op: "Clip", inputs: ["c", "lo", "hi"], outputs: ["k"], name: "clip" },
      {
        op: "MaxPool",
        inputs: ["k"],
        outputs: ["m"],
        name: "max",
        attributes: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 },
      },
      {
        op: "AveragePool",
        inputs: ["m"],
        outputs: ["y"],
        name: "avg",
        attributes: { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], ceil_mode: 1 },
      },
    ],
    input: { name: "x", shape: [1, 1, 4, 4] },
    output: "y",
    initializers: {
      w: { shape: [1, 1, 1, 1], data: [1] },
      lo: { shape: [], data: [2] },
      hi: { shape: [], data: [12.5] },
    },
  }));
  const conv = model.graph.nodes[0].descriptor;
  assert.ok(conv.op === "conv2d");
  assert.deepEqual(conv.activation, { min: 2, max: 12.5 });
  assert.equal(model.graph.nodes.length, 3);
  // 4×4 → max 3×3/2 ceil → 2×2 (ONNX's own example; floor would give 1×1) → avg 2×2/2 with
  // bottom/right padding 1: rounding up gives 2, but that window would start in the padding → 1×1.
  assert.deepEqual(model.output.shape, [1, 1, 1, 1]);
  const input = Array.from({ length: 16 }, (_, i) => i + 1);
  for (const name of BACKEND_NAMES) {
    using backend = await createBackend(name, { wasm: { threads: 1 } });
    // Max pool of clamp(1…16, 2, 12.5) is [[11, 12], [12.5, 12.5]]; their mean is 12.
    assert.deepEqual([...await runOnnx(model, backend, input)], [12], name);
  }
});
