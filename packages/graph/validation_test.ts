import assert from "node:assert/strict";
import {
  BackendMismatchError,
  channelShuffle,
  depthwiseConv2d,
  DescriptorError,
  DisposedError,
  fullyConnected,
  globalAvgPool,
  InvalidArgumentError,
  ShapeError,
  WeightsError,
} from "@mobileops/core";
import { createBackend } from "@mobileops/registry";
import {
  compileGraph,
  GraphError,
  inferGraphShapes,
  lastUses,
  type ModelGraph,
  planBuffers,
  withFieldPrefix,
} from "./mod.ts";
import { referenceForward } from "./reference.ts";

const GOOD: ModelGraph = {
  name: "pool-fc",
  inputShape: [1, 2, 2, 3],
  nodes: [
    { name: "pool", descriptor: globalAvgPool(), inputs: ["input"] },
    {
      name: "fc",
      descriptor: fullyConnected({ inFeatures: 3, outFeatures: 2 }),
      inputs: ["pool"],
      weights: { weights: new Float32Array(6).fill(1) },
    },
  ],
  output: "fc",
};

/** The graph with node `i` replaced by `node` (a partial node is merged into the original). */
function withNode(i: number, node: unknown, merge = true): ModelGraph {
  const nodes: unknown[] = [...GOOD.nodes];
  nodes[i] = merge ? { ...GOOD.nodes[i], ...(node as object) } : node;
  return { ...GOOD, nodes } as ModelGraph;
}

function refuses(
  call: () => unknown,
  ErrorType: new (...args: never[]) => InvalidArgumentError,
  field: string,
) {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof ErrorType, `${error}`);
    assert.equal((error as InvalidArgumentError).field, field, `${error}`);
    assert.ok((error as Error).message.startsWith(`${field} = `), (error as Error).message);
    return true;
  });
}

const MALFORMED: [string, unknown, new (...args: never[]) => InvalidArgumentError, string][] = [
  ["missing", undefined, GraphError, "graph"],
  ["null", null, GraphError, "graph"],
  ["a number", 3, GraphError, "graph"],
  ["an array", [GOOD], GraphError, "graph"],
  ["an unknown key", { ...GOOD, ouptut: "fc" }, GraphError, "graph.ouptut"],
  ["an empty name", { ...GOOD, name: "" }, GraphError, "name"],
  ["a name that is not a string", { ...GOOD, name: 7 }, GraphError, "name"],
  ["no inputShape", { ...GOOD, inputShape: undefined }, ShapeError, "inputShape"],
  ["a zero dimension", { ...GOOD, inputShape: [1, 0, 2, 3] }, ShapeError, "inputShape[1]"],
  ["a fractional dimension", { ...GOOD, inputShape: [1, 2.5, 2, 3] }, ShapeError, "inputShape[1]"],
  ["nodes that are not an array", { ...GOOD, nodes: {} }, GraphError, "nodes"],
  ["a null node", withNode(0, null, false), GraphError, "nodes[0]"],
  ["an undefined node", withNode(0, undefined, false), GraphError, "nodes[0]"],
  ["a misspelt node key", withNode(1, { weigths: {} }), GraphError, "nodes[1].weigths"],
  ["a node name that is not a string", withNode(0, { name: null }), GraphError, "nodes[0].name"],
  ["a node named like the input", withNode(0, { name: "input" }), GraphError, "nodes[0].name"],
  [
    "a null descriptor",
    withNode(0, { descriptor: null }),
    DescriptorError,
    'nodes["pool"].descriptor',
  ],
  [
    "an unknown operator",
    withNode(0, { descriptor: { op: "lstm" } }),
    DescriptorError,
    'nodes["pool"].descriptor.op',
  ],
  [
    "a descriptor missing a field",
    withNode(1, { descriptor: { op: "fullyConnected", outFeatures: 2 } }),
    DescriptorError,
    'nodes["fc"].descriptor.inFeatures',
  ],
  [
    "a descriptor with an unknown field",
    withNode(1, { descriptor: { ...fullyConnected({ inFeatures: 3, outFeatures: 2 }), k: 1 } }),
    DescriptorError,
    'nodes["fc"].descriptor.k',
  ],
  ["inputs that are not an array", withNode(0, { inputs: "input" }), GraphError, "nodes[0].inputs"],
  ["an input that is not a string", withNode(0, { inputs: [0] }), GraphError, "nodes[0].inputs[0]"],
  [
    "an operator refusing its input shape",
    withNode(1, { descriptor: fullyConnected({ inFeatures: 4, outFeatures: 2 }) }),
    ShapeError,
    'nodes["fc"].inputs[0].shape',
  ],
  ["an output that is not a string", { ...GOOD, output: ["fc"] }, GraphError, "output"],
  ["the input as output", { ...GOOD, output: "input" }, GraphError, "output"],
];

Deno.test("every graph entry point refuses a malformed graph with a typed error naming the field", async () => {
  using backend = await createBackend("js");
  for (const [what, graph, ErrorType, field] of MALFORMED) {
    const g = graph as ModelGraph;
    for (
      const call of [
        () => inferGraphShapes(g),
        () => lastUses(g),
        () => planBuffers(g),
        () => referenceForward(g, new Float32Array(12)),
      ]
    ) {
      refuses(call, ErrorType, field);
    }
    await assert.rejects(compileGraph(g, backend), (error: unknown) => {
      assert.ok(error instanceof ErrorType, `${what}: ${error}`);
      assert.equal((error as InvalidArgumentError).field, field, what);
      return true;
    });
  }
  assert.deepEqual(backend.memoryStats().kernels, 0);
});

Deno.test("compileGraph refuses anything that is not a Backend", async () => {
  for (const backend of [undefined, null, "js", {}, { prepare: () => {} }]) {
    await assert.rejects(
      compileGraph(GOOD, backend as never),
      (error: unknown) =>
        error instanceof InvalidArgumentError && error.field === "backend" &&
        error.message.includes("must be a Backend"),
    );
  }
});

Deno.test("a weight refused at compile time names the node, keeps the class and frees everything", async () => {
  using backend = await createBackend("js");
  const filter = new Float32Array(27).fill(0.5);
  filter[4] = NaN;
  const graph: ModelGraph = {
    name: "dw-fc",
    inputShape: [1, 4, 4, 3],
    nodes: [
      {
        name: "conv1",
        descriptor: depthwiseConv2d({ channels: 3, kernel: 3, padding: "same" }),
        inputs: ["input"],
        weights: { filter: new Float32Array(27).fill(1) },
      },
      {
        name: "conv2",
        descriptor: depthwiseConv2d({ channels: 3, kernel: 3, padding: "same" }),
        inputs: ["conv1"],
        weights: { filter },
      },
    ],
    output: "conv2",
  };
  await assert.rejects(compileGraph(graph, backend), (error: unknown) => {
    assert.ok(error instanceof WeightsError, `${error}`);
    assert.equal(error.message, 'nodes["conv2"].weights.filter[4] = NaN: must be finite');
    assert.equal(error.field, 'nodes["conv2"].weights.filter[4]');
    assert.ok(Number.isNaN(error.value));
    assert.ok(error.cause instanceof WeightsError && error.cause.field === "weights.filter[4]");
    return true;
  });
  const missing = { ...graph, nodes: [graph.nodes[0], { ...graph.nodes[1], weights: undefined }] };
  await assert.rejects(
    compileGraph(missing, backend),
    (error: unknown) => error instanceof WeightsError && error.field === 'nodes["conv2"].weights',
  );
  assert.deepEqual([backend.memoryStats().kernels, backend.memoryStats().tensors], [0, 0]);
  refuses(
    () => referenceForward(graph, new Float32Array(48)),
    WeightsError,
    'nodes["conv2"].weights.filter[4]',
  );
});

Deno.test("compiled.run refuses what is not a live tensor of its backend with the graph's input shape", async () => {
  using backend = await createBackend("js");
  using other = await createBackend("js");
  const compiled = await compileGraph(GOOD, backend);
  for (const input of [undefined, null, [0, 1], { shape: [1, 2, 2, 3] }]) {
    refuses(() => compiled.run(input as never), BackendMismatchError, "input");
  }
  using foreign = other.zeros([1, 2, 2, 3]);
  refuses(() => compiled.run(foreign), BackendMismatchError, 'nodes["pool"].inputs[0]');
  const gone = backend.zeros([1, 2, 2, 3]);
  gone.dispose();
  assert.throws(
    () => compiled.run(gone),
    (e: unknown) => e instanceof DisposedError && e.subject === "input",
  );
  using wrong = backend.zeros([1, 2, 2, 4]);
  refuses(() => compiled.run(wrong), ShapeError, "input.shape");
  using input = backend.upload(new Float32Array(12).fill(2), [1, 2, 2, 3]);
  assert.deepEqual([...await compiled.run(input).download()], [6, 6]);
  compiled.dispose();
  assert.throws(
    () => compiled.run(input),
    (e: unknown) => e instanceof DisposedError && e.subject === "compiled model pool-fc",
  );
});

Deno.test("referenceForward refuses input that is not numbers of the input shape's size", () => {
  refuses(() => referenceForward(GOOD, undefined as never), ShapeError, "input");
  refuses(() => referenceForward(GOOD, "123456789012" as never), ShapeError, "input");
  refuses(() => referenceForward(GOOD, new Float32Array(11)), ShapeError, "input.length");
  const strings = Array.from({ length: 12 }, () => 1) as unknown[];
  strings[5] = "1";
  refuses(() => referenceForward(GOOD, strings as number[]), ShapeError, "input[5]");
  const data = new Float32Array(12).fill(1);
  data[0] = NaN;
  assert.ok(referenceForward(GOOD, data).values.every(Number.isNaN), "NaN data propagates");
});

Deno.test("withFieldPrefix rebuilds core's typed errors and passes others through", () => {
  const plain = new TypeError("x");
  assert.equal(withFieldPrefix(plain, "a."), plain);
  const prefixed = withFieldPrefix(new GraphError("output", "z", "names no node"), "models[0].");
  assert.ok(prefixed instanceof GraphError);
  assert.equal(prefixed.message, 'models[0].output = "z": names no node');
  assert.equal(prefixed.name, "GraphError");
  refuses(() => withFieldPrefix(plain, undefined as never), InvalidArgumentError, "prefix");
});

Deno.test("a shuffle graph still plans and runs after validation", () => {
  const shuffle = channelShuffle({ groups: 2 });
  const plan = planBuffers({
    name: "two",
    inputShape: [1, 1, 1, 4],
    nodes: [
      { name: "a", descriptor: shuffle, inputs: ["input"] },
      { name: "b", descriptor: shuffle, inputs: ["a"] },
    ],
    output: "b",
  });
  assert.deepEqual([...plan.assignment.values()], [0, 1]);
});
