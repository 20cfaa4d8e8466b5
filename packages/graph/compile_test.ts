import assert from "node:assert/strict";
import { add, channelShuffle, concat, ShapeError } from "@mobileops/core";
import { createJsBackend } from "@mobileops/backend-js";
import { GraphError, inferGraphShapes, type ModelGraph, planBuffers, shufflenetV1 } from "./mod.ts";

const shuffle = channelShuffle({ groups: 2 });

Deno.test("planBuffers never lets a node write a buffer that a live value holds", () => {
  for (
    const graph of [
      shufflenetV1({ groups: 3, scale: 0.5, resolution: 64 }).graph,
      shufflenetV1({ groups: 1, scale: 1, resolution: 64 }).graph,
    ]
  ) {
    const plan = planBuffers(graph);
    const shapes = inferGraphShapes(graph);
    const lastReader = new Map<string, number>();
    graph.nodes.forEach((node, i) => node.inputs.forEach((input) => lastReader.set(input, i)));
    const holder = new Map<number, string>();
    graph.nodes.forEach((node, i) => {
      const buffer = plan.assignment.get(node.name)!;
      assert.deepEqual(plan.buffers[buffer], shapes.get(node.name));
      const previous = holder.get(buffer);
      if (previous !== undefined) {
        assert.ok(lastReader.get(previous)! < i, `${node.name} overwrites ${previous}, still read`);
      }
      holder.set(buffer, node.name);
    });
    assert.ok(plan.buffers.length < graph.nodes.length / 2, `${plan.buffers.length} buffers`);
  }
});

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
  using backend = await createJsBackend();
  const compiled = await shufflenetV1({ groups: 2, scale: 0.25, resolution: 32, classes: 4 })
    .compile(backend);
  using wrong = backend.zeros([1, 64, 64, 3]);
  assert.throws(
    () => compiled.run(wrong),
    (e: unknown) => e instanceof ShapeError && e.field === "input.shape",
  );
  compiled.dispose();
  compiled.dispose();
  assert.deepEqual([backend.memoryStats().tensors, backend.memoryStats().kernels], [1, 0]);
});
