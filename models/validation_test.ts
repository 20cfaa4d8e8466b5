import assert from "node:assert/strict";
import {
  DescriptorError,
  InvalidArgumentError,
  MAX_ELEMENTS,
  pointwiseConv2d,
  ShapeError,
  WeightsError,
} from "@mobileops/core";
import { GraphError } from "@mobileops/graph";
import { createBackend } from "@mobileops/registry";
import {
  decodeSafetensors,
  encodeSafetensors,
  formatBytes,
  formatCount,
  formatSummaryTable,
  layerParameterShapes,
  loadSafetensors,
  MAX_ALPHA,
  MAX_CLASSES,
  MAX_RESOLUTION,
  mobilenetChannels,
  mobilenetV1,
  Model,
  ModelOptionError,
  SafetensorsError,
  saveSafetensors,
  shufflenetStage2Width,
  shufflenetV1,
  summary,
} from "./mod.ts";
import { checkModel, modelConformance } from "./testing.ts";

type ErrorClass = new (...args: never[]) => InvalidArgumentError;

function refuses(call: () => unknown, ErrorType: ErrorClass, field: string, what = field) {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof ErrorType, `${what}: ${error}`);
    assert.equal((error as InvalidArgumentError).field, field, `${what}: ${error}`);
    assert.ok((error as Error).message.startsWith(`${field} = `), (error as Error).message);
    return true;
  });
}

Deno.test("the builders' defaults are the papers' headline networks", () => {
  assert.equal(mobilenetV1().name, "mobilenet_v1_1.0_224");
  assert.equal(mobilenetV1(undefined).name, "mobilenet_v1_1.0_224");
  assert.deepEqual(mobilenetV1({}).config, mobilenetV1({ alpha: 1, resolution: 224 }).config);
  assert.equal(shufflenetV1().name, "shufflenet_v1_1.0x_g3_224");
  assert.equal(shufflenetV1({ resolution: 96 }).name, "shufflenet_v1_1.0x_g3_96");
  assert.equal(mobilenetV1().classes, 1000);
});

Deno.test("builder options: not an object, unknown keys, null and out-of-range values", () => {
  const cases: [string, () => unknown, string][] = [
    ["mobilenetV1(null)", () => mobilenetV1(null as never), "options"],
    ["mobilenetV1(3)", () => mobilenetV1(3 as never), "options"],
    ["mobilenetV1([])", () => mobilenetV1([] as never), "options"],
    ["shufflenetV1(null)", () => shufflenetV1(null as never), "options"],
    ["shufflenetV1('g3')", () => shufflenetV1("g3" as never), "options"],
    [
      "a misspelt ShuffleNet option",
      () => shufflenetV1({ stage2Channel: 240 } as never),
      "options.stage2Channel",
    ],
    [
      "a misspelt MobileNet option",
      () => mobilenetV1({ resolutoin: 160 } as never),
      "options.resolutoin",
    ],
    ["alpha: null", () => mobilenetV1({ alpha: null as never }), "alpha"],
    ["alpha: Infinity", () => mobilenetV1({ alpha: Infinity }), "alpha"],
    ["alpha above MAX_ALPHA", () => mobilenetV1({ alpha: MAX_ALPHA + 0.5 }), "alpha"],
    ["alpha: 16", () => mobilenetV1({ alpha: 16 }), "alpha"],
    ["alpha: '1'", () => mobilenetV1({ alpha: "1" as never }), "alpha"],
    ["resolution: NaN", () => mobilenetV1({ resolution: NaN }), "resolution"],
    ["resolution: -224", () => mobilenetV1({ resolution: -224 }), "resolution"],
    [
      "resolution above MAX_RESOLUTION",
      () => shufflenetV1({ resolution: MAX_RESOLUTION + 32 }),
      "resolution",
    ],
    ["resolution: 20000", () => mobilenetV1({ resolution: 20000 }), "resolution"],
    ["classes: null", () => mobilenetV1({ classes: null as never }), "classes"],
    ["classes above MAX_CLASSES", () => shufflenetV1({ classes: MAX_CLASSES + 1 }), "classes"],
    ["classes: 2.5", () => shufflenetV1({ classes: 2.5 }), "classes"],
    ["activation: null", () => mobilenetV1({ activation: null as never }), "activation"],
    ["padding: null", () => mobilenetV1({ padding: null as never }), "padding"],
    ["seed: null", () => mobilenetV1({ seed: null as never }), "seed"],
    ["seed: 2^53", () => shufflenetV1({ seed: 2 ** 53 }), "seed"],
    [
      "batchNormEpsilon: Infinity",
      () => mobilenetV1({ batchNormEpsilon: Infinity }),
      "batchNormEpsilon",
    ],
    ["batchNormEpsilon: -1", () => shufflenetV1({ batchNormEpsilon: -1 }), "batchNormEpsilon"],
    [
      "batchNormEpsilon: null",
      () => shufflenetV1({ batchNormEpsilon: null as never }),
      "batchNormEpsilon",
    ],
    ["groups: null", () => shufflenetV1({ groups: null as never }), "groups"],
    ["groups: 16", () => shufflenetV1({ groups: 16 as never }), "groups"],
    ["scale: 8", () => shufflenetV1({ scale: 8 as never }), "scale"],
    [
      "countIncludePad: 'yes'",
      () => shufflenetV1({ countIncludePad: "yes" as never }),
      "countIncludePad",
    ],
    ["conv1Channels: null", () => shufflenetV1({ conv1Channels: null as never }), "conv1Channels"],
    ["mobilenetChannels(32, 0)", () => mobilenetChannels(32, 0), "alpha"],
    ["mobilenetChannels(undefined, 1)", () => mobilenetChannels(undefined as never, 1), "channels"],
    ["shufflenetStage2Width(5, 1)", () => shufflenetStage2Width(5 as never, 1), "groups"],
    ["shufflenetStage2Width(3, 3)", () => shufflenetStage2Width(3, 3 as never), "scale"],
  ];
  for (const [what, build, field] of cases) refuses(build, ModelOptionError, field, what);
});

Deno.test("sizes up to the documented maxima build; a MobileNet activation beyond MAX_ELEMENTS does not", () => {
  // Building costs only the descriptors and shape inference: weights are generated on first use.
  const widest = mobilenetV1({ alpha: MAX_ALPHA, resolution: 2048, classes: MAX_CLASSES });
  assert.deepEqual([widest.config.alpha, widest.classes], [MAX_ALPHA, MAX_CLASSES]);
  assert.equal(mobilenetV1({ resolution: MAX_RESOLUTION }).inputShape[1], MAX_RESOLUTION);
  for (const groups of [1, 2, 3, 4, 8] as const) {
    shufflenetV1({ groups, scale: 2, resolution: MAX_RESOLUTION, classes: MAX_CLASSES });
  }
  assert.throws(
    () => mobilenetV1({ alpha: MAX_ALPHA, resolution: 2080 }),
    (error: unknown) => {
      assert.ok(error instanceof ModelOptionError && error.field === "resolution", `${error}`);
      assert.equal(
        error.message,
        `resolution = 2080: block1.pointwise would output ${1040 * 1040 * 256} values, more than ` +
          `core's MAX_ELEMENTS (${MAX_ELEMENTS}); lower the resolution or the width`,
      );
      return true;
    },
  );
});

function smallModel(): Model {
  return mobilenetV1({ alpha: 0.25, resolution: 32, classes: 3 });
}

Deno.test("the Model constructor and withParameters check their arguments", () => {
  const model = smallModel();
  const definition = model.definition;
  const layers = definition.layers;
  const seeded = { seed: 1 };
  const cases: [string, () => unknown, ErrorClass, string][] = [
    ["no definition", () => new Model(undefined as never, seeded), ModelOptionError, "definition"],
    ["a null definition", () => new Model(null as never, seeded), ModelOptionError, "definition"],
    [
      "an unknown definition key",
      () => new Model({ ...definition, epsilon: 1 } as never, seeded),
      ModelOptionError,
      "definition.epsilon",
    ],
    [
      "no layers",
      () => new Model({ ...definition, layers: [] }, seeded),
      ModelOptionError,
      "definition.layers",
    ],
    [
      "a null layer",
      () => new Model({ ...definition, layers: [null as never, ...layers] }, seeded),
      ModelOptionError,
      "definition.layers[0]",
    ],
    [
      "a convolution without bias",
      () =>
        new Model({
          ...definition,
          layers: [
            { ...layers[0], descriptor: { ...layers[0].descriptor, bias: false } as never },
            ...layers.slice(1),
          ],
        }, seeded),
      ModelOptionError,
      "definition.layers[0].descriptor.bias",
    ],
    [
      "a NaN ε",
      () => new Model({ ...definition, batchNormEpsilon: NaN }, seeded),
      ModelOptionError,
      "definition.batchNormEpsilon",
    ],
    [
      "a null config",
      () => new Model({ ...definition, config: null as never }, seeded),
      ModelOptionError,
      "definition.config",
    ],
    [
      "a layer reading nothing",
      () => new Model({ ...definition, layers: [{ ...layers[0], inputs: ["nope"] }] }, seeded),
      GraphError,
      "nodes[0].inputs[0]",
    ],
    ["no weights", () => new Model(definition, undefined as never), ModelOptionError, "weights"],
    [
      "a fractional seed",
      () => new Model(definition, { seed: 1.5 }),
      ModelOptionError,
      "weights.seed",
    ],
    [
      "a seed and parameters",
      () => new Model(definition, { seed: 1, parameters: model.parameters } as never),
      ModelOptionError,
      "weights",
    ],
    [
      "a source that is not a string",
      () => new Model(definition, { parameters: model.parameters, source: 3 as never }),
      ModelOptionError,
      "weights.source",
    ],
    [
      "parameters that are not a Map",
      () => model.withParameters({} as never, { source: "x" }),
      SafetensorsError,
      "parameters",
    ],
    [
      "a null tensor",
      () =>
        model.withParameters(new Map(model.parameters).set("fc.bias", null as never), {
          source: "x",
        }),
      SafetensorsError,
      "fc.bias",
    ],
    [
      "no origin",
      () => model.withParameters(model.parameters, undefined as never),
      ModelOptionError,
      "origin",
    ],
    [
      "an unknown origin key",
      () => model.withParameters(model.parameters, { source: "x", label: [] } as never),
      ModelOptionError,
      "origin.label",
    ],
    [
      "labels that are not strings",
      () => model.withParameters(model.parameters, { source: "x", labels: [1, 2, 3] as never }),
      SafetensorsError,
      "labels",
    ],
    [
      "layerParameterShapes(null)",
      () => layerParameterShapes(null as never),
      ModelOptionError,
      "layer",
    ],
    [
      "a layer with a bad descriptor",
      () => layerParameterShapes({ name: "x", descriptor: { op: "conv2d" } as never, inputs: [] }),
      DescriptorError,
      "inChannels",
    ],
  ];
  for (const [what, call, ErrorType, field] of cases) refuses(call, ErrorType, field, what);
  assert.equal(
    layerParameterShapes({
      name: "pw",
      descriptor: pointwiseConv2d({ inChannels: 2, outChannels: 3, bias: true }),
      inputs: ["input"],
    }).length,
    5,
  );
});

Deno.test("loaded weights: a NaN BatchNorm γ, and statistics that cannot fold, name the layer's parameter", () => {
  const model = smallModel();
  /** The model's parameters as a file, with `edits` of `[tensor, index, value]` applied. */
  const withValues = (...edits: [string, number, number][]) => {
    const parameters = new Map(model.parameters);
    for (const [name, index, value] of edits) {
      const data = parameters.get(name)!.data.slice();
      data[index] = value;
      parameters.set(name, { shape: [data.length], data });
    }
    return encodeSafetensors(parameters);
  };
  const withValue = (name: string, index: number, value: number) =>
    withValues([name, index, value]);
  assert.throws(
    () => loadSafetensors(model, withValue("conv1.bn.gamma", 0, NaN)),
    (error: unknown) => {
      assert.ok(error instanceof SafetensorsError, `${error}`);
      assert.equal(error.message, "conv1.bn.gamma[0] = NaN: must be finite");
      return true;
    },
  );
  refuses(
    () => loadSafetensors(model, withValue("block2.depthwise.bn.mean", 3, -Infinity)),
    SafetensorsError,
    "block2.depthwise.bn.mean[3]",
  );
  assert.throws(
    () => loadSafetensors(model, withValue("block2.depthwise.bn.variance", 1, -1)),
    (error: unknown) => {
      assert.ok(error instanceof WeightsError, `${error}`);
      assert.equal(error.field, "block2.depthwise.bn.variance[1]");
      assert.ok(error.cause instanceof WeightsError && error.cause.field === "bn.variance[1]");
      return true;
    },
  );
  assert.throws(
    () =>
      loadSafetensors(
        model,
        withValues(["conv1.bn.gamma", 2, 3e38], ["conv1.bn.variance", 2, 0]),
      ),
    (error: unknown) =>
      error instanceof WeightsError && error.field.startsWith("conv1.bn.") &&
      error.field.endsWith("[2]") && error.message.includes("overflow"),
  );
});

Deno.test("compile, summary, formatting and safetensors refuse arguments of the wrong type", async () => {
  const model = smallModel();
  for (const backend of [undefined, null, {}, "js"]) {
    await assert.rejects(
      model.compile(backend as never),
      (error: unknown) => error instanceof InvalidArgumentError && error.field === "backend",
    );
  }
  const bytes = saveSafetensors(model);
  const cases: [string, () => unknown, ErrorClass, string][] = [
    ["summary(undefined)", () => summary(undefined as never), ModelOptionError, "model"],
    ["summary({})", () => summary({} as never), ModelOptionError, "model"],
    ["formatCount(NaN)", () => formatCount(NaN), ModelOptionError, "value"],
    ["formatCount(-1)", () => formatCount(-1), ModelOptionError, "value"],
    ["formatBytes('1')", () => formatBytes("1" as never), ModelOptionError, "bytes"],
    [
      "formatSummaryTable(null)",
      () => formatSummaryTable(null as never),
      ModelOptionError,
      "summary",
    ],
    [
      "encodeSafetensors(undefined)",
      () => encodeSafetensors(undefined as never),
      SafetensorsError,
      "tensors",
    ],
    [
      "a tensor whose data is an Array",
      () => encodeSafetensors(new Map([["x", { shape: [2], data: [1, 2] as never }]])),
      SafetensorsError,
      "x.data",
    ],
    [
      "a negative dimension",
      () => encodeSafetensors(new Map([["x", { shape: [-1], data: new Float32Array(1) }]])),
      SafetensorsError,
      "x.shape",
    ],
    [
      "a tensor named __metadata__",
      () =>
        encodeSafetensors(new Map([["__metadata__", { shape: [1], data: new Float32Array(1) }]])),
      SafetensorsError,
      "tensors",
    ],
    [
      "null metadata",
      () => encodeSafetensors(new Map(), null as never),
      SafetensorsError,
      "metadata",
    ],
    [
      "numeric metadata",
      () => encodeSafetensors(new Map(), { a: 1 as never }),
      SafetensorsError,
      "metadata.a",
    ],
    [
      "decodeSafetensors(undefined)",
      () => decodeSafetensors(undefined as never),
      SafetensorsError,
      "file",
    ],
    [
      "decodeSafetensors(string)",
      () => decodeSafetensors("12345678" as never),
      SafetensorsError,
      "file",
    ],
    [
      "saveSafetensors(undefined)",
      () => saveSafetensors(undefined as never),
      ModelOptionError,
      "model",
    ],
    [
      "loadSafetensors({}, bytes)",
      () => loadSafetensors({} as never, bytes),
      ModelOptionError,
      "model",
    ],
    [
      "loadSafetensors(model)",
      () => loadSafetensors(model, undefined as never),
      SafetensorsError,
      "file",
    ],
    [
      "a numeric source",
      () => loadSafetensors(model, bytes, 3 as never),
      ModelOptionError,
      "source",
    ],
  ];
  for (const [what, call, ErrorType, field] of cases) refuses(call, ErrorType, field, what);
});

Deno.test("checkModel and modelConformance check their arguments", async () => {
  using backend = await createBackend("js");
  const model = smallModel();
  const input = new Float32Array(32 * 32 * 3);
  await assert.rejects(checkModel(undefined as never, backend, input), ModelOptionError);
  await assert.rejects(
    checkModel(model, null as never, input),
    (error: unknown) => error instanceof InvalidArgumentError && error.field === "backend",
  );
  await assert.rejects(
    checkModel(model, backend, new Float32Array(5)),
    (error: unknown) => error instanceof ShapeError && error.field === "input",
  );
  const create = () => createBackend("js");
  refuses(() => modelConformance("", create), ModelOptionError, "name");
  refuses(() => modelConformance("js", null as never), ModelOptionError, "createBackend");
  refuses(() => modelConformance("js", create, null as never), ModelOptionError, "options");
  refuses(
    () => modelConformance("js", create, { full: false } as never),
    ModelOptionError,
    "options.full",
  );
  refuses(
    () => modelConformance("js", create, { report: "no" as never }),
    ModelOptionError,
    "options.report",
  );
});
