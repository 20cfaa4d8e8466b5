import assert from "node:assert/strict";
import {
  add,
  channelShuffle,
  concat,
  depthwiseConv2d,
  fullyConnected,
  globalAvgPool,
  ShapeError,
} from "@mobileops/core";
import { createBackend } from "@mobileops/registry";
import { compileGraph, GraphError, type ModelGraph, planBuffers } from "./mod.ts";

const shuffle = channelShuffle({ groups: 2 });

Deno.test("planBuffers keeps a residual input alive across its branch", () => {
  const graph: ModelGraph = {
    name: "residual",
    inputShape: [1, 1, 1, 4],
    nodes: [
      { name: "a", descriptor: shuffle, inputs: ["input"] },
      { name: "b", descriptor: shuffle, inputs: ["a"] },
      { name: "c", descriptor: shuffle, inputs: ["b"] },
      { name: "d", descriptor: add(), inputs: ["a", "c"] },
      { name: "e", descriptor: concat(), inputs: ["d", "d"] },
    ],
    output: "e",
  };
  const { assignment, buffers } = planBuffers(graph);
  // a, b, c all live at c (a is read again by d); d reuses b's buffer; e's shape is new.
  assert.deepEqual(["a", "b", "c", "d", "e"].map((name) => assignment.get(name)), [0, 1, 2, 1, 3]);
  assert.equal(buffers.length, 4);
});

Deno.test("malformed graphs throw GraphError", () => {
  const base = { name: "g", inputShape: [1, 1, 1, 4] };
  const cases: [ModelGraph, string][] = [
    [
      { ...base, nodes: [{ name: "a", descriptor: shuffle, inputs: ["b"] }], output: "a" },
      "nodes[0].inputs[0]",
    ],
    [{
      ...base,
      nodes: [
        { name: "a", descriptor: shuffle, inputs: ["input"] },
        { name: "a", descriptor: shuffle, inputs: ["a"] },
      ],
      output: "a",
    }, "nodes[1].name"],
    [
      { ...base, nodes: [{ name: "a", descriptor: shuffle, inputs: ["input"] }], output: "z" },
      "output",
    ],
  ];
  for (const [graph, field] of cases) {
    assert.throws(
      () => planBuffers(graph),
      (e: unknown) => e instanceof GraphError && e.field === field,
    );
  }
});

Deno.test("a compiled model rejects a wrongly shaped input and frees everything on dispose", async () => {
  using backend = await createBackend("js");
  const graph: ModelGraph = {
    name: "small",
    inputShape: [1, 8, 8, 3],
    nodes: [
      {
        name: "depthwise",
        descriptor: depthwiseConv2d({ channels: 3, kernel: 3, padding: "same", bias: true }),
        inputs: ["input"],
        weights: { filter: new Float32Array(27).fill(0.1), bias: new Float32Array(3) },
      },
      { name: "shuffle", descriptor: channelShuffle({ groups: 3 }), inputs: ["depthwise"] },
      { name: "sum", descriptor: add(), inputs: ["depthwise", "shuffle"] },
      { name: "pool", descriptor: globalAvgPool(), inputs: ["sum"] },
      {
        name: "fc",
        descriptor: fullyConnected({ inFeatures: 3, outFeatures: 4, bias: true }),
        inputs: ["pool"],
        weights: { weights: new Float32Array(12).fill(1), bias: new Float32Array(4) },
      },
    ],
    output: "fc",
  };
  const compiled = await compileGraph(graph, backend);
  using wrong = backend.zeros([1, 64, 64, 3]);
  assert.throws(
    () => compiled.run(wrong),
    (e: unknown) => e instanceof ShapeError && e.field === "input.shape",
  );
  compiled.dispose();
  compiled.dispose();
  assert.deepEqual([backend.memoryStats().tensors, backend.memoryStats().kernels], [1, 0]);
});

Deno.test("profile times every node once, counts its multiply-adds, and leaves the output", async () => {
  const graph: ModelGraph = {
    name: "dw-pool-fc",
    inputShape: [1, 8, 8, 4],
    nodes: [
      {
        name: "dw",
        descriptor: depthwiseConv2d({ channels: 4, kernel: 3, padding: "same" }),
        inputs: ["input"],
        weights: { filter: new Float32Array(36).fill(0.5) },
      },
      { name: "pool", descriptor: globalAvgPool(), inputs: ["dw"] },
      {
        name: "fc",
        descriptor: fullyConnected({ inFeatures: 4, outFeatures: 3 }),
        inputs: ["pool"],
        weights: { weights: new Float32Array(12).fill(1) },
      },
    ],
    output: "fc",
  };
  using backend = await createBackend("js");
  using compiled = await compileGraph(graph, backend);
  using input = backend.upload(new Float32Array(256).map((_, i) => i % 7), graph.inputShape);
  const output = compiled.run(input);
  const expected = await output.download();
  const profile = await compiled.profile(input);
  assert.equal(profile.clock, "cpu");
  assert.deepEqual(profile.layers.map((layer) => layer.node), ["dw", "pool", "fc"]);
  assert.deepEqual(profile.layers.map((layer) => layer.op), [
    "conv2d",
    "globalAvgPool",
    "fullyConnected",
  ]);
  assert.match(profile.layers[0].variant, /^f32-dwconv-3x3-js$/);
  assert.ok(profile.layers.every((layer) => backend.variants.includes(layer.variant)));
  // 8·8·4 outputs × 9 taps; 3 outputs × 4 inputs.
  assert.deepEqual(profile.layers.map((layer) => layer.multiplyAdds), [2304, 0, 12]);
  for (const layer of profile.layers) {
    assert.ok(layer.ms >= 0);
    const want = layer.ms > 0 ? 2 * layer.multiplyAdds / (layer.ms * 1e6) : 0;
    assert.equal(layer.gflops, want);
  }
  assert.equal(profile.totalMs, profile.layers.reduce((sum, layer) => sum + layer.ms, 0));
  assert.deepEqual(await output.download(), expected);
  await assert.rejects(compiled.profile(backend.zeros([1, 8, 8, 3])), ShapeError);
});
