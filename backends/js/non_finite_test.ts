// NaN and ±Infinity in input data propagate as IEEE 754 arithmetic does
// (docs/operators.md, "Non-finite values"); these are the calls reported
// against the backends, each checked against the float64 reference.
import { assertCasesPass, kernelCase } from "@mobileops/conformance";
import { add, maxPool2d, pointwiseConv2d, softmax } from "@mobileops/core";
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
