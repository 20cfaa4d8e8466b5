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
