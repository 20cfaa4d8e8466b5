import assert from "node:assert/strict";
import {
  add,
  avgPool2d,
  channelShuffle,
  concat,
  conv2d,
  denseConv2d,
  depthwiseConv2d,
  DescriptorError,
  foldBatchNorm,
  fullyConnected,
  groupConv2d,
  inferGeometry,
  InvalidArgumentError,
  MAX_DIMENSION,
  MAX_ELEMENTS,
  MAX_WINDOW,
  maxPool2d,
  pointwiseConv2d,
  ShapeError,
  softmax,
  Tensor,
  validateDescriptor,
  validateShape,
  WeightsError,
} from "./mod.ts";

function refuses(call: () => unknown, field: string, ErrorType = DescriptorError) {
  assert.throws(call, (e: unknown) => {
    assert.ok(e instanceof ErrorType, `${e}`);
    assert.equal((e as InvalidArgumentError).field, field);
    return true;
  });
}

Deno.test("every descriptor constructor refuses missing, null and non-object options", () => {
  const constructors: [string, (options: never) => unknown][] = [
    ["conv2d", conv2d],
    ["depthwiseConv2d", depthwiseConv2d],
    ["pointwiseConv2d", pointwiseConv2d],
    ["groupConv2d", groupConv2d],
    ["denseConv2d", denseConv2d],
    ["avgPool2d", avgPool2d],
    ["maxPool2d", maxPool2d],
    ["channelShuffle", channelShuffle],
    ["fullyConnected", fullyConnected],
  ];
  for (const [name, make] of constructors) {
    for (const options of [undefined, null, 3, "relu", [1, 2]]) {
      assert.throws(() => make(options as never), DescriptorError, `${name}(${options})`);
    }
  }
  for (const make of [add, concat]) {
    assert.equal(make().activation, "none");
    refuses(() => make(null as never), "options");
  }
});

Deno.test("a null field is an error, not the default", () => {
  refuses(
    () => conv2d({ inChannels: 1, outChannels: 1, kernel: 1, stride: null as never }),
    "stride",
  );
  refuses(() => depthwiseConv2d({ channels: 2, kernel: 3, padding: null as never }), "padding");
  refuses(() => pointwiseConv2d({ inChannels: 1, outChannels: 1, bias: null as never }), "bias");
  refuses(() => add({ activation: null as never }), "activation");
  refuses(() => maxPool2d({ kernel: 2, stride: null as never }), "stride");
  refuses(
    () => fullyConnected({ inFeatures: 1, outFeatures: 1, activation: null as never }),
    "activation",
  );
  refuses(
    () => validateDescriptor({ op: "avgPool2d", kernel: 2, countIncludePad: null } as never),
    "countIncludePad",
  );
});

Deno.test("an unknown option key (a typo) is an error naming it", () => {
  refuses(
    () => conv2d({ inChannels: 1, outChannels: 1, kernel: 1, strides: 2 } as never),
    "options.strides",
  );
  refuses(() => depthwiseConv2d({ channels: 2, kernel: 3, groups: 2 } as never), "options.groups");
  refuses(
    () => pointwiseConv2d({ inChannels: 1, outChannels: 1, kernel: 3 } as never),
    "options.kernel",
  );
  refuses(() => channelShuffle({ groups: 2, group: 2 } as never), "options.group");
  refuses(() => validateDescriptor({ op: "softmax", axis: 1 } as never), "options.axis");
  refuses(() => validateDescriptor({ op: "conv2d" } as never), "inChannels");
});

Deno.test("sizes past the limits are refused where they are given", () => {
  refuses(() => depthwiseConv2d({ channels: 1, kernel: 3, dilation: 2 ** 32 }), "dilation");
  refuses(() => depthwiseConv2d({ channels: 1, kernel: 3, stride: MAX_WINDOW + 1 }), "stride");
  refuses(() => conv2d({ inChannels: 1, outChannels: 1, kernel: [20_000, 1] }), "kernel[0]");
  refuses(() => maxPool2d({ kernel: 2 ** 20 }), "kernel");
  refuses(
    () => conv2d({ inChannels: 1, outChannels: 1, kernel: 1, padding: [0, 70_000, 0, 0] }),
    "padding[1]",
  );
  refuses(() => channelShuffle({ groups: MAX_DIMENSION + 1 }), "groups");
  refuses(() => pointwiseConv2d({ inChannels: 2 ** 15, outChannels: 2 ** 14 }), "outChannels");
  refuses(() => fullyConnected({ inFeatures: 2 ** 20, outFeatures: 2 ** 10 }), "outFeatures");
  // The largest accepted values are accepted.
  const dw = depthwiseConv2d({
    channels: 1,
    kernel: 3,
    dilation: MAX_WINDOW,
    stride: MAX_WINDOW,
    padding: "same",
  });
  assert.deepEqual(inferGeometry(dw, [[1, 3, 3, 1]]).outputShape, [1, 1, 1, 1]);
});

Deno.test("shapes past MAX_DIMENSION or MAX_ELEMENTS are refused, inputs and outputs", () => {
  refuses(() => validateShape("shape", [1, MAX_DIMENSION + 1]), "shape[1]", ShapeError);
  refuses(() => validateShape("shape", [2 ** 10, 2 ** 10, 2 ** 9]), "shape", ShapeError);
  assert.equal(validateShape("shape", [MAX_ELEMENTS / MAX_DIMENSION, MAX_DIMENSION]).length, 2);
  const widen = pointwiseConv2d({ inChannels: 16, outChannels: 32 });
  refuses(() => inferGeometry(widen, [[1, 2 ** 12, 2 ** 12, 16]]), "inputs[0].shape", ShapeError);
  refuses(() => inferGeometry(softmax(), [[1, 2 ** 25]]), "inputs[0].shape[1]", ShapeError);
});

Deno.test("Tensor cannot be constructed outside a backend", () => {
  const owner = {
    name: "forged",
    download: () => Promise.resolve(new Float32Array()),
    releaseTensor() {},
  };
  const Forge = Tensor as unknown as new (...args: unknown[]) => Tensor;
  refuses(() => new Forge(owner, [1], 0), "new Tensor()", InvalidArgumentError);
});

Deno.test("foldBatchNorm names the BatchNorm field and channel at fault", () => {
  const bn = (change: Record<string, unknown> = {}) => ({
    gamma: new Float32Array([1, 1]),
    beta: new Float32Array([0, 0]),
    mean: new Float32Array([0, 0]),
    variance: new Float32Array([1, 1]),
    ...change,
  });
  const conv = { filter: new Float32Array([1, 2]) };
  refuses(
    () => foldBatchNorm(conv, bn({ gamma: new Float32Array([1, NaN]) }) as never),
    "bn.gamma[1]",
    WeightsError,
  );
  refuses(
    () => foldBatchNorm(conv, bn({ mean: new Float32Array([Infinity, 0]) }) as never),
    "bn.mean[0]",
    WeightsError,
  );
  refuses(() => foldBatchNorm(conv, bn({ gamma: [1, 1] }) as never), "bn.gamma", WeightsError);
  refuses(
    () => foldBatchNorm(conv, bn({ variance: [1, 1] }) as never),
    "bn.variance",
    WeightsError,
  );
  refuses(() => foldBatchNorm(conv, bn({ gama: 1 }) as never), "bn.gama", WeightsError);
  refuses(() => foldBatchNorm(conv, bn({ epsilon: "1e-3" }) as never), "bn.epsilon", WeightsError);
  refuses(() => foldBatchNorm(undefined as never, bn() as never), "conv", WeightsError);
  refuses(
    () => foldBatchNorm({ filter: new Float32Array([NaN, 1]) }, bn() as never),
    "conv.filter[0]",
    WeightsError,
  );
  refuses(
    () =>
      foldBatchNorm(
        { filter: new Float32Array([1e30, 1]) },
        bn({ variance: new Float32Array([1e-45, 1]), epsilon: 0 }) as never,
      ),
    "bn.variance[0]",
    WeightsError,
  );
});
