import assert from "node:assert/strict";
import {
  type Activation,
  activationBounds,
  add,
  avgPool2d,
  channelShuffle,
  clamp,
  conv2d,
  convKind,
  denseConv2d,
  depthwiseConv2d,
  DescriptorError,
  descriptorKey,
  fullyConnected,
  groupConv2d,
  maxPool2d,
  type OpDescriptor,
  pointwiseConv2d,
  validateDescriptor,
} from "./mod.ts";

Deno.test("named convolution forms share one descriptor type and classify by kind", () => {
  const dw = depthwiseConv2d({ channels: 8, multiplier: 2, kernel: 3, padding: "same" });
  assert.equal(dw.groups, 8);
  assert.equal(dw.outChannels, 16);
  assert.equal(convKind(dw), "depthwise");
  assert.equal(convKind(pointwiseConv2d({ inChannels: 8, outChannels: 4 })), "pointwise");
  assert.equal(convKind(pointwiseConv2d({ inChannels: 9, outChannels: 6, groups: 3 })), "group");
  assert.equal(
    convKind(groupConv2d({ inChannels: 8, outChannels: 8, groups: 2, kernel: 3 })),
    "group",
  );
  assert.equal(convKind(denseConv2d({ inChannels: 3, outChannels: 32, kernel: 3 })), "dense");
  assert.equal(convKind(depthwiseConv2d({ channels: 1, kernel: 3 })), "dense");
});

Deno.test("constructors fill defaults and freeze the result", () => {
  const d = conv2d({ inChannels: 4, outChannels: 4, kernel: [3, 5] });
  assert.deepEqual(d.kernel, [3, 5]);
  assert.deepEqual(d.stride, [1, 1]);
  assert.deepEqual(d.dilation, [1, 1]);
  assert.equal(d.padding, "valid");
  assert.equal(d.bias, false);
  assert.equal(d.activation, "none");
  assert.ok(Object.isFrozen(d) && Object.isFrozen(d.kernel));
  assert.deepEqual(maxPool2d({ kernel: 3 }).stride, [3, 3]);
});

Deno.test("invalid descriptor fields raise DescriptorError naming field and value", () => {
  const cases: [() => unknown, string][] = [
    [() => conv2d({ inChannels: 0, outChannels: 4, kernel: 3 }), "inChannels = 0"],
    [() => conv2d({ inChannels: 4, outChannels: 4, kernel: 3, stride: [1, -2] }), "stride[1] = -2"],
    [() => conv2d({ inChannels: 4, outChannels: 4, kernel: 2.5 }), "kernel = 2.5"],
    [() => conv2d({ inChannels: 6, outChannels: 6, kernel: 1, groups: 4 }), "groups = 4"],
    [() => conv2d({ inChannels: 6, outChannels: 4, kernel: 1, groups: 3 }), "outChannels = 4"],
    [
      () => conv2d({ inChannels: 4, outChannels: 4, kernel: 1, padding: [1, 1, -1, 0] }),
      "padding[2] = -1",
    ],
    [
      // @ts-expect-error: checking the runtime guard
      () => conv2d({ inChannels: 4, outChannels: 4, kernel: 1, activation: "gelu" }),
      'activation = "gelu"',
    ],
    [() => groupConv2d({ inChannels: 4, outChannels: 4, kernel: 1, groups: 4 }), "groups = 4"],
    [() => channelShuffle({ groups: 0 }), "groups = 0"],
    [() => maxPool2d({ kernel: 3, padding: [0, 3, 0, 0] }), "padding[1] = 3"],
    [() => avgPool2d({ kernel: [3, 2], padding: [1, 1, 2, 0] }), "padding[2] = 2"],
    [() => fullyConnected({ inFeatures: 10, outFeatures: -1 }), "outFeatures = -1"],
    [() => depthwiseConv2d({ channels: 4, multiplier: 0, kernel: 3 }), "multiplier = 0"],
    // @ts-expect-error: checking the runtime guard
    [() => validateDescriptor({ op: "gemm" }), 'op = "gemm"'],
  ];
  for (const [make, prefix] of cases) {
    assert.throws(make, (e: unknown) => {
      assert.ok(e instanceof DescriptorError, `${prefix}: got ${e}`);
      assert.ok(e.message.startsWith(prefix), `"${e.message}" should start with "${prefix}"`);
      return true;
    });
  }
});

Deno.test("descriptorKey is stable across key order and distinguishes every field", () => {
  const base: OpDescriptor = conv2d({ inChannels: 4, outChannels: 8, kernel: 3, padding: "same" });
  const shuffled = JSON.parse(
    '{"padding":"same","kernel":[3,3],"op":"conv2d","outChannels":8,"inChannels":4}',
  );
  assert.equal(descriptorKey(shuffled), descriptorKey(base));
  const variants: OpDescriptor[] = [
    conv2d({ inChannels: 4, outChannels: 8, kernel: 3, padding: "valid" }),
    conv2d({ inChannels: 4, outChannels: 8, kernel: 3, padding: "same", stride: 2 }),
    conv2d({ inChannels: 4, outChannels: 8, kernel: 3, padding: "same", dilation: 2 }),
    conv2d({ inChannels: 4, outChannels: 8, kernel: 3, padding: "same", bias: true }),
    conv2d({ inChannels: 4, outChannels: 8, kernel: 3, padding: "same", activation: "relu" }),
    conv2d({ inChannels: 4, outChannels: 8, kernel: 3, padding: "same", groups: 2 }),
    avgPool2d({ kernel: 3 }),
    avgPool2d({ kernel: 3, countIncludePad: true }),
    add(),
  ];
  const keys = new Set([base, ...variants].map(descriptorKey));
  assert.equal(keys.size, variants.length + 1);
});

Deno.test("clamp activations: named forms for the common bounds, validated otherwise", () => {
  assert.equal(clamp(0, 6), "relu6");
  assert.equal(clamp(0, Infinity), "relu");
  assert.equal(clamp(-0, Infinity), "relu");
  assert.equal(clamp(-Infinity, Infinity), "none");
  assert.deepEqual(clamp(-1, 1), { min: -1, max: 1 });
  assert.deepEqual(clamp(2, 2), { min: 2, max: 2 });
  assert.deepEqual(clamp(-Infinity, 0), { min: -Infinity, max: 0 });
  assert.ok(Object.isFrozen(clamp(-1, 1)));
  const conv = pointwiseConv2d({ inChannels: 1, outChannels: 1, activation: { min: 0, max: 6 } });
  assert.equal(conv.activation, "relu6");
  assert.deepEqual(add({ activation: { min: -3, max: 3 } }).activation, { min: -3, max: 3 });
  for (
    const [min, max, field] of [[1, 0, "activation.min"], [NaN, 1, "activation.min"], [
      0,
      "6",
      "activation.max",
    ]] as const
  ) {
    assert.throws(
      () => clamp(min, max as number),
      (e: unknown) => e instanceof DescriptorError && e.field === field,
    );
  }
  assert.throws(
    () => add({ activation: { min: 0, max: 1, slope: 2 } as never }),
    (e: unknown) => e instanceof DescriptorError && e.field === "activation.slope",
  );
  assert.deepEqual(activationBounds("none"), [-Infinity, Infinity]);
  assert.deepEqual(activationBounds(clamp(-1, 4)), [-1, 4]);
});

Deno.test("descriptorKey tells clamp bounds apart, infinities included", () => {
  const key = (activation: Activation) => descriptorKey(add({ activation }));
  assert.notEqual(key(clamp(-1, Infinity)), key(clamp(-1, 5)));
  assert.notEqual(key(clamp(-Infinity, 1)), key(clamp(-2, 1)));
  assert.equal(key(clamp(-1, 1)), key({ max: 1, min: -1 }));
  assert.notEqual(
    descriptorKey(maxPool2d({ kernel: 3, stride: 2 })),
    descriptorKey(maxPool2d({ kernel: 3, stride: 2, ceilMode: true })),
  );
});
