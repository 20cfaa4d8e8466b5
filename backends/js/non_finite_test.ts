// NaN and ±Infinity in input data propagate as IEEE 754 arithmetic does
// (docs/operators.md, "Non-finite values"); these are the calls reported
// against the backends, each checked against the float64 reference.
import { assertCasesPass, kernelCase } from "@mobileops/conformance";
import {
  add,
  avgPool2d,
  clamp,
  concat,
  conv2d,
  depthwiseConv2d,
  fullyConnected,
  maxPool2d,
  type OpDescriptor,
  pointwiseConv2d,
  softmax,
} from "@mobileops/core";
import { createBackend } from "@mobileops/registry";

Deno.test("js: NaN survives ReLU in add and a pointwise convolution", async () => {
  using backend = await createBackend("js");
  const nan = [{ input: 0, index: 0, value: NaN }];
  await assertCasesPass(backend, [
    kernelCase({
      descriptor: add({ activation: "relu" }),
      inputShapes: [[1, 1, 1, 1], [1, 1, 1, 1]],
      specials: nan,
    }),
    kernelCase({
      descriptor: pointwiseConv2d({ inChannels: 1, outChannels: 1, activation: "relu" }),
      inputShapes: [[1, 1, 1, 1]],
      specials: nan,
    }),
  ]);
});

Deno.test("f32-maxpool-js: a NaN anywhere in the window wins", async () => {
  using backend = await createBackend("js");
  const cases = [
    kernelCase({
      descriptor: maxPool2d({ kernel: [1, 2] }),
      inputShapes: [[1, 1, 2, 1]],
      specials: [{ input: 0, index: 0, value: NaN }],
    }),
    kernelCase({
      descriptor: maxPool2d({ kernel: 1 }),
      inputShapes: [[1, 1, 1, 1]],
      specials: [{ input: 0, index: 0, value: NaN }],
    }),
  ];
  // Every tap of a padded 3×3 window, with +∞ elsewhere in the window.
  for (let tap = 0; tap < 9; tap++) {
    cases.push(kernelCase({
      descriptor: maxPool2d({ kernel: 3, stride: 1, padding: [1, 1, 1, 1] }),
      inputShapes: [[1, 3, 3, 2]],
      specials: [
        { input: 0, index: 2 * tap + 1, value: NaN },
        { input: 0, index: 2 * ((tap + 4) % 9) + 1, value: Infinity },
      ],
    }));
  }
  await assertCasesPass(backend, cases, { variant: "f32-maxpool-js" });
});

Deno.test("f32-softmax-js: NaN and +∞ poison their row, −∞ gives 0", async () => {
  using backend = await createBackend("js");
  await assertCasesPass(backend, [
    kernelCase({
      descriptor: softmax(),
      inputShapes: [[4, 3]],
      specials: [
        { input: 0, index: 1, value: NaN },
        { input: 0, index: 5, value: Infinity },
        { input: 0, index: 6, value: -Infinity },
        ...[9, 10, 11].map((index) => ({ input: 0, index, value: -Infinity })),
      ],
    }),
  ], { variant: "f32-softmax-js" });
});

Deno.test("js: every kernel with an activation clamps NaN to NaN and ±∞ to the bounds", async () => {
  using backend = await createBackend("js");
  const activation = clamp(-0.5, 0.25);
  const specials = [
    { input: 0, index: 0, value: NaN },
    { input: 0, index: 5, value: Infinity },
    { input: 0, index: 10, value: -Infinity },
  ];
  const convs: readonly [string, OpDescriptor][] = [
    ["f32-gemm-1x1-js", pointwiseConv2d({ inChannels: 3, outChannels: 5, activation })],
    ["f32-dwconv-3x3-js", depthwiseConv2d({ channels: 3, kernel: 3, padding: "same", activation })],
    ["f32-conv-im2row-js", conv2d({ inChannels: 3, outChannels: 4, kernel: 3, activation })],
    [
      "f32-conv-generic-js",
      conv2d({ inChannels: 3, outChannels: 3, groups: 3, kernel: 3, dilation: 2, activation }),
    ],
  ];
  for (const [variant, descriptor] of convs) {
    await assertCasesPass(backend, [
      kernelCase({ descriptor, inputShapes: [[1, 5, 5, 3]], specials }),
    ], { variant });
  }
  await assertCasesPass(backend, [
    kernelCase({
      descriptor: add({ activation }),
      inputShapes: [[1, 2, 3, 4], [1, 2, 3, 4]],
      specials,
    }),
  ], { variant: "f32-add-js" });
  await assertCasesPass(backend, [
    kernelCase({ descriptor: concat({ activation }), inputShapes: [[1, 2, 3, 4]], specials }),
  ], { variant: "f32-concat-js" });
  await assertCasesPass(backend, [
    kernelCase({
      descriptor: fullyConnected({ inFeatures: 12, outFeatures: 3, activation }),
      inputShapes: [[2, 12]],
      specials,
    }),
  ], { variant: "f32-fully-connected-js" });
});

Deno.test("f32-avgpool-js, f32-maxpool-js: ceil mode; the overhang never wins or counts", async () => {
  using backend = await createBackend("js");
  // 1×6 (and 6×7) with kernel 3, stride 2, one padded cell each side: the last window holds
  // the last pixel, one padded cell and one cell of overhang.
  const window = { kernel: 3, stride: 2, padding: [1, 1, 1, 1] as const, ceilMode: true };
  const shapes = [[1, 1, 6, 2], [2, 6, 7, 3]];
  const corner = (shape: number[]) =>
    Array.from({ length: shape[3] }, (_, c) => ({
      input: 0,
      index: shape.reduce((a, b) => a * b) - 1 - c,
      value: [-Infinity, NaN, Infinity][c % 3],
    }));
  for (const countIncludePad of [false, true]) {
    await assertCasesPass(
      backend,
      shapes.map((shape) =>
        kernelCase({
          descriptor: avgPool2d({ ...window, countIncludePad }),
          inputShapes: [shape],
          specials: corner(shape),
        })
      ),
      { variant: "f32-avgpool-js" },
    );
  }
  await assertCasesPass(
    backend,
    shapes.map((shape) =>
      kernelCase({
        descriptor: maxPool2d(window),
        inputShapes: [shape],
        inputRange: [-3, -1],
        specials: corner(shape),
      })
    ),
    { variant: "f32-maxpool-js" },
  );
});
