import assert from "node:assert/strict";
import { type Conv2dDescriptor, convKind, foldBatchNorm, MobileOpsError } from "@mobileops/core";
import { inferGraphShapes, planBuffers } from "@mobileops/graph";
import {
  mobilenetChannels,
  mobilenetV1,
  ModelOptionError,
  SafetensorsError,
  shufflenetStage2Width,
  shufflenetV1,
} from "./mod.ts";

function convs(nodes: readonly { descriptor: { op: string } }[]): Conv2dDescriptor[] {
  return nodes.map((node) => node.descriptor).filter((d): d is Conv2dDescriptor =>
    d.op === "conv2d"
  );
}

Deno.test("mobilenetV1 follows Table 1, with the last depthwise layer at stride 1", () => {
  const model = mobilenetV1({ alpha: 1, resolution: 224 });
  const layers = convs(model.graph.nodes);
  assert.equal(layers.length, 27);
  assert.deepEqual(
    layers.filter((d) => convKind(d) === "pointwise").map((d) => d.outChannels),
    [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024],
  );
  const strides = layers.filter((d) => convKind(d) === "depthwise").map((d) => d.stride[0]);
  assert.deepEqual(strides, [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]);
  const shapes = inferGraphShapes(model.graph);
  assert.deepEqual(shapes.get("block13.pointwise"), [1, 7, 7, 1024]);
  assert.deepEqual(shapes.get("fc"), [1, 1000]);
  assert.ok(layers.every((d) => d.activation === "relu6" && d.bias));
  assert.deepEqual(layers[0].padding, [1, 1, 1, 1]);
});

Deno.test("mobilenetV1 options: α rounding, ReLU, TensorFlow padding, classes", () => {
  assert.equal(mobilenetChannels(64, 0.75), 48);
  assert.equal(mobilenetChannels(32, 0.2), 8);
  const model = mobilenetV1({
    alpha: 0.75,
    resolution: 160,
    classes: 10,
    activation: "relu",
    padding: "same",
  });
  const layers = convs(model.graph.nodes);
  assert.equal(layers[0].outChannels, 24);
  assert.equal(layers.at(-1)!.outChannels, 768);
  assert.ok(layers.every((d) => d.activation === "relu"));
  assert.ok(layers.filter((d) => d.kernel[0] === 3).every((d) => d.padding === "same"));
  assert.deepEqual(inferGraphShapes(model.graph).get("fc"), [1, 10]);
  assert.equal(model.name, "mobilenet_v1_0.75_160");
});

Deno.test("shufflenetV1 follows Table 1 and Fig. 2", () => {
  const model = shufflenetV1({ groups: 3, scale: 1, resolution: 224 });
  const shapes = inferGraphShapes(model.graph);
  assert.deepEqual(shapes.get("maxpool"), [1, 56, 56, 24]);
  assert.deepEqual(shapes.get("stage2.unit4.add"), [1, 28, 28, 240]);
  assert.deepEqual(shapes.get("stage3.unit8.add"), [1, 14, 14, 480]);
  assert.deepEqual(shapes.get("stage4.unit4.add"), [1, 7, 7, 960]);
  const nodes = new Map(model.graph.nodes.map((node) => [node.name, node]));
  const compress = nodes.get("stage2.unit1.compress")!.descriptor as Conv2dDescriptor;
  assert.deepEqual([compress.groups, compress.outChannels], [1, 60]);
  const expand = nodes.get("stage2.unit1.expand")!.descriptor as Conv2dDescriptor;
  assert.deepEqual([expand.groups, expand.outChannels, expand.activation], [3, 216, "none"]);
  const depthwise = nodes.get("stage3.unit1.depthwise")!.descriptor as Conv2dDescriptor;
  assert.deepEqual([depthwise.stride[0], depthwise.activation], [2, "none"]);
  assert.deepEqual(nodes.get("stage3.unit1.concat")!.inputs, [
    "stage3.unit1.shortcut",
    "stage3.unit1.expand",
  ]);
  assert.deepEqual(nodes.get("stage3.unit2.add")!.inputs, [
    "stage3.unit1.concat",
    "stage3.unit2.expand",
  ]);
  const shortcut = nodes.get("stage2.unit1.shortcut")!.descriptor;
  assert.ok(shortcut.op === "avgPool2d" && shortcut.countIncludePad);
  const units = model.graph.nodes.filter((node) => node.name.endsWith(".depthwise"));
  assert.equal(units.length, 16);
});

Deno.test("shufflenetV1 widths, conv1 channels and options", () => {
  assert.deepEqual(
    ([1, 2, 3, 4, 8] as const).map((g) => shufflenetStage2Width(g, 1)),
    [144, 200, 240, 272, 384],
  );
  assert.equal(shufflenetStage2Width(3, 2), 480);
  const stem = (groups: 1 | 2 | 3 | 4 | 8, scale: 0.25 | 0.5 | 1 | 1.5 | 2) =>
    shufflenetV1({ groups, scale, resolution: 224 }).config.conv1Channels;
  assert.deepEqual([stem(3, 0.25), stem(3, 0.5), stem(3, 1), stem(3, 1.5), stem(3, 2)], [
    12,
    12,
    24,
    24,
    48,
  ]);
  assert.equal(stem(8, 0.5), 16);
  const custom = shufflenetV1({
    groups: 8,
    scale: 1,
    resolution: 96,
    conv1Channels: 32,
    countIncludePad: false,
  });
  assert.equal((custom.graph.nodes[0].descriptor as Conv2dDescriptor).outChannels, 32);
  const shortcut = custom.graph.nodes.find((node) => node.name === "stage2.unit1.shortcut")!;
  assert.ok(shortcut.descriptor.op === "avgPool2d" && !shortcut.descriptor.countIncludePad);
  const g1 = shufflenetV1({ groups: 1, scale: 1, resolution: 224 });
  assert.ok(!g1.graph.nodes.some((node) => node.descriptor.op === "channelShuffle"));
});

Deno.test("bad builder options throw ModelOptionError naming the option", () => {
  const cases: [() => unknown, string][] = [
    [() => mobilenetV1({ alpha: 0, resolution: 224 }), "alpha"],
    [() => mobilenetV1({ alpha: -0.5, resolution: 224 }), "alpha"],
    [() => mobilenetV1({ alpha: NaN, resolution: 224 }), "alpha"],
    [() => mobilenetV1({ alpha: 1, resolution: 100 }), "resolution"],
    [() => mobilenetV1({ alpha: 1, resolution: 0 }), "resolution"],
    [() => mobilenetV1({ alpha: 1, resolution: 224, classes: 0 }), "classes"],
    [() => mobilenetV1({ alpha: 1, resolution: 224, activation: "gelu" as "relu" }), "activation"],
    [() => mobilenetV1({ alpha: 1, resolution: 224, padding: "full" as "same" }), "padding"],
    [() => mobilenetV1({ alpha: 1, resolution: 224, seed: 0.5 }), "seed"],
    [() => shufflenetV1({ groups: 5 as 4, scale: 1, resolution: 224 }), "groups"],
    [() => shufflenetV1({ groups: 3, scale: 0.75 as 1, resolution: 224 }), "scale"],
    [() => shufflenetV1({ groups: 3, scale: 1, resolution: 230 }), "resolution"],
    [
      () => shufflenetV1({ groups: 3, scale: 1, resolution: 224, conv1Channels: 25 }),
      "conv1Channels",
    ],
  ];
  for (const [build, field] of cases) {
    assert.throws(build, (error: unknown) => {
      assert.ok(error instanceof ModelOptionError && error instanceof MobileOpsError);
      assert.equal(error.field, field);
      assert.ok(error.message.startsWith(`${field} = `), error.message);
      return true;
    });
  }
});

Deno.test("weights are seeded, and the graph carries them BatchNorm-folded", () => {
  const options = { groups: 3, scale: 0.25, resolution: 64, classes: 7 } as const;
  const a = shufflenetV1(options);
  const b = shufflenetV1(options);
  const c = shufflenetV1({ ...options, seed: 2 });
  const name = "stage3.unit2.compress.weight";
  assert.deepEqual(a.parameters.get(name), b.parameters.get(name));
  assert.notDeepEqual(a.parameters.get(name)!.data, c.parameters.get(name)!.data);
  assert.deepEqual(a.weightsOrigin, { kind: "random", seed: 1 });
  const node = a.graph.nodes.find((n) => n.name === "stage3.unit2.compress")!;
  const p = (suffix: string) => a.parameters.get(`stage3.unit2.compress.${suffix}`)!.data;
  const folded = foldBatchNorm({ filter: p("weight") }, {
    gamma: p("bn.gamma"),
    beta: p("bn.beta"),
    mean: p("bn.mean"),
    variance: p("bn.variance"),
    epsilon: 1e-5,
  });
  assert.deepEqual(node.weights, folded);
  assert.equal(a.graph, a.graph, "the folded graph is computed once");
});

Deno.test("withParameters rejects missing, unexpected and mis-shaped tensors", () => {
  const model = mobilenetV1({ alpha: 0.25, resolution: 32, classes: 3 });
  const full = new Map(model.parameters);
  const missing = new Map(full);
  missing.delete("block3.depthwise.bn.mean");
  const extra = new Map(full).set("head.weight", { shape: [1], data: new Float32Array(1) });
  const misShaped = new Map(full).set("fc.weight", {
    shape: [256, 3],
    data: new Float32Array(768),
  });
  for (
    const [parameters, field] of [
      [missing, "block3.depthwise.bn.mean"],
      [extra, "head.weight"],
      [misShaped, "fc.weight"],
    ] as const
  ) {
    assert.throws(
      () => model.withParameters(parameters, { source: "test" }),
      (error: unknown) => error instanceof SafetensorsError && error.field === field,
    );
  }
  assert.throws(
    () => model.withParameters(full, { source: "test", labels: ["a", "b"] }),
    (error: unknown) => error instanceof SafetensorsError && error.field === "labels",
  );
  const labelled = model.withParameters(full, { source: "test", labels: ["a", "b", "c"] });
  assert.deepEqual(labelled.labels, ["a", "b", "c"]);
  assert.deepEqual(labelled.weightsOrigin, { kind: "loaded", source: "test" });
});

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
