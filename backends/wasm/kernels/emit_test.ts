import assert from "node:assert/strict";
import {
  assertCasesPass,
  caseData,
  type ConformanceCase,
  kernelCase,
  type SpecialValue,
} from "@mobileops/conformance";
import {
  type Activation,
  add,
  clamp,
  concat,
  conv2d,
  depthwiseConv2d,
  fullyConnected,
  inferGeometry,
  type OpDescriptor,
  pointwiseConv2d,
  type Shape,
  shapeSize,
} from "@mobileops/core";
import { assembleModule, FunctionBuilder } from "../assembler.ts";
import { createWasmBackend } from "../mod.ts";
import { activationLocals, applyActivation, applyScalarActivation } from "./emit.ts";
import { MAX_UNROLLED_CONCAT_VECTORS } from "./f32-concat-wasmsimd.ts";
import { convUnrolled } from "./f32-conv-wasmsimd.ts";
import { defaultDepthwiseUnroll, depthwiseUnrolled } from "./f32-dwconv-wasmsimd.ts";
import { windowGeometry } from "./window.ts";

/**
 * Clamps whose code differs: both sides, one side either way, min = max,
 * bounds that are not float32 values, bounds beyond float32's range (one
 * side rounds to the infinity it stands for and is skipped; a lower bound
 * rounding to +∞ still clamps, to +∞).
 */
const CLAMPS: readonly Activation[] = [
  clamp(-1, 1),
  clamp(-Infinity, 0.5),
  clamp(0.5, Infinity),
  clamp(2, 2),
  clamp(-0.1, 0.3),
  clamp(-3, -1),
  clamp(-Infinity, -0.5),
  clamp(-1e39, 1e39),
  clamp(1e39, Infinity),
];

const SPECIALS = [NaN, Infinity, -Infinity];

/**
 * NaN and ±∞ at the first and last value of every input (the last lands in
 * the channel or vector tail) and at a seeded position in between.
 */
function specialsFor(shapes: readonly Shape[], seed: number): SpecialValue[] {
  return shapes.flatMap((shape, input) => {
    const size = shapeSize(shape);
    const indices = new Set([0, Math.min(Math.floor(size / 2) + (seed % 3), size - 1), size - 1]);
    return [...indices].map((index, i) => ({
      input,
      index,
      value: SPECIALS[(seed + i + input) % 3],
    }));
  });
}

/** One case per clamp of {@link CLAMPS}, half of them with NaN / ±∞ inputs. */
function clampCases(
  build: (activation: Activation) => OpDescriptor,
  inputShapes: readonly Shape[],
  firstSeed: number,
): ConformanceCase[] {
  return CLAMPS.map((activation, i) =>
    kernelCase({
      descriptor: build(activation),
      inputShapes,
      seed: firstSeed + i,
      inputRange: [-4, 4],
      ...(i % 2 === 0 ? { specials: specialsFor(inputShapes, firstSeed + i) } : {}),
    })
  );
}

/** The epilogue of every generator that takes an activation, with its vector and scalar tails. */
const EPILOGUES: readonly { variant: string; cases: () => ConformanceCase[] }[] = [
  {
    variant: "f32-gemm-1x1-wasmsimd",
    cases: () => [
      // 13 outputs: a full panel, then a 4- and a 1-lane tail; 7 pixels: a 6-pixel tile + 1.
      ...clampCases(
        (activation) => pointwiseConv2d({ inChannels: 5, outChannels: 13, bias: true, activation }),
        [[1, 1, 7, 5]],
        0,
      ),
      ...clampCases(
        (activation) => pointwiseConv2d({ inChannels: 6, outChannels: 15, groups: 3, activation }),
        [[1, 2, 3, 6]],
        100,
      ),
      // Few pixels and a short K: split by output panels.
      ...clampCases(
        (activation) => pointwiseConv2d({ inChannels: 8, outChannels: 22, activation }),
        [[1, 1, 2, 8]],
        200,
      ),
    ],
  },
  {
    variant: "f32-fully-connected-wasmsimd",
    cases: () =>
      clampCases(
        (activation) => fullyConnected({ inFeatures: 9, outFeatures: 11, bias: true, activation }),
        [[3, 9]],
        300,
      ),
  },
  {
    variant: "f32-dwconv-wasmsimd",
    cases: () => [
      ...clampCases(
        (activation) =>
          depthwiseConv2d({ channels: 7, kernel: 3, padding: "same", bias: true, activation }),
        [[1, 4, 9, 7]],
        400,
      ),
      // 81 taps: the looped walker.
      ...clampCases(
        (activation) => depthwiseConv2d({ channels: 6, kernel: 9, padding: "same", activation }),
        [[1, 3, 5, 6]],
        500,
      ),
    ],
  },
  {
    variant: "f32-conv-wasmsimd",
    cases: () => [
      ...clampCases(
        (activation) =>
          conv2d({
            inChannels: 3,
            outChannels: 10,
            kernel: 3,
            stride: 2,
            padding: "same",
            bias: true,
            activation,
          }),
        [[1, 5, 5, 3]],
        600,
      ),
      // 81 taps: the looped walker.
      ...clampCases(
        (activation) =>
          conv2d({ inChannels: 2, outChannels: 5, kernel: 9, padding: "same", activation }),
        [[1, 3, 4, 2]],
        700,
      ),
    ],
  },
  {
    variant: "f32-add-wasmsimd",
    cases: () => clampCases((activation) => add({ activation }), [[1, 2, 3, 3], [1, 2, 3, 3]], 800),
  },
  {
    variant: "f32-concat-wasmsimd",
    cases: () => [
      ...clampCases((activation) => concat({ activation }), [[1, 2, 2, 3], [1, 2, 2, 6]], 900),
      // Past MAX_UNROLLED_CONCAT_VECTORS: the looped copy, whose 1–3 channel tails are scalar.
      ...clampCases(
        (activation) => concat({ activation }),
        [[1, 1, 2, 4 * MAX_UNROLLED_CONCAT_VECTORS + 3], [1, 1, 2, 2]],
        1000,
      ),
    ],
  },
];

Deno.test("clamp epilogue: every generator, vector and scalar tails, NaN / ±∞ inputs", async () => {
  for (const relaxedSimd of [true, false]) {
    using backend = await createWasmBackend({ threads: 1, relaxedSimd });
    for (const { variant, cases } of EPILOGUES) {
      await assertCasesPass(backend, cases(), { variant });
    }
  }
});

Deno.test("clamp epilogue: the looped cases above take the looped code", () => {
  const dw = depthwiseConv2d({ channels: 6, kernel: 9, padding: "same" });
  const dwGeometry = windowGeometry(
    inferGeometry(dw, [[1, 3, 5, 6]]),
    dw.kernel,
    dw.stride,
    [1, 1],
    6,
  );
  assert(!depthwiseUnrolled(dwGeometry, defaultDepthwiseUnroll(dwGeometry.outWidth)));
  const conv = conv2d({ inChannels: 2, outChannels: 5, kernel: 9, padding: "same" });
  const convGeometry = windowGeometry(
    inferGeometry(conv, [[1, 3, 4, 2]]),
    conv.kernel,
    conv.stride,
    conv.dilation,
    5,
  );
  assert(!convUnrolled(convGeometry, { groups: 1, inPerGroup: 2, outPerGroup: 5, kernel: [9, 9] }));
});

Deno.test("clamp epilogue: bit-identical on 1 and 2 threads on layers large enough to split", async () => {
  const layers: [OpDescriptor, Shape[]][] = [
    [
      pointwiseConv2d({ inChannels: 64, outChannels: 70, activation: clamp(-0.5, 0.5) }),
      [[1, 28, 28, 64]],
    ],
    [
      depthwiseConv2d({
        channels: 66,
        kernel: 3,
        padding: "same",
        activation: clamp(-1, Infinity),
      }),
      [[1, 30, 30, 66]],
    ],
    [add({ activation: clamp(-Infinity, 0.25) }), [[1, 56, 56, 70], [1, 56, 56, 70]]],
  ];
  for (const relaxedSimd of [true, false]) {
    using single = await createWasmBackend({ threads: 1, relaxedSimd });
    using double = await createWasmBackend({ threads: 2, relaxedSimd });
    for (const [descriptor, inputShapes] of layers) {
      const testCase = kernelCase({
        descriptor,
        inputShapes,
        seed: 7,
        inputRange: [-2, 2],
        specials: specialsFor(inputShapes, 7),
      });
      await assertCasesPass(double, [testCase]);
      const { weights, inputs } = caseData(testCase);
      const results: Float32Array[] = [];
      for (const backend of [single, double]) {
        using kernel = await backend.prepare(descriptor, weights as never);
        const tensors = inputs.map((data, i) => backend.upload(data, inputShapes[i]));
        results.push(await backend.run(kernel, tensors).download());
        for (const tensor of tensors) tensor.dispose();
      }
      assert.deepEqual(results[1], results[0], descriptor.op);
    }
  }
});

/** `applyActivation` on one v128 parameter, run on 4 lanes. */
function vectorClamp(activation: Activation): (lanes: number[]) => number[] {
  const f = new FunctionBuilder("clamp", ["i32"]);
  const value = f.local("v128");
  const bounds = activationLocals(f, activation);
  f.localGet(0).v128Load().localSet(value);
  applyActivation(f, bounds, value);
  f.localGet(0).localGet(value).v128Store();
  const memory = new WebAssembly.Memory({ initial: 1 });
  const module = new WebAssembly.Module(
    assembleModule([f], { initialPages: 1, shared: false }),
  );
  const run = new WebAssembly.Instance(module, { env: { memory } }).exports.clamp as (
    pointer: number,
  ) => void;
  return (lanes) => {
    const view = new Float32Array(memory.buffer, 0, 4);
    view.set(lanes);
    run(0);
    return [...view];
  };
}

Deno.test("applyActivation: clamp lanes, NaN kept, ±∞ clamped, infinite sides skipped", () => {
  const lanes = [NaN, -Infinity, Infinity, 0.4];
  assert.deepEqual(vectorClamp(clamp(-1, 1))(lanes), [NaN, -1, 1, 0.4].map(Math.fround));
  assert.deepEqual(vectorClamp(clamp(2, 2))(lanes), [NaN, 2, 2, 2]);
  assert.deepEqual(vectorClamp(clamp(-Infinity, 0))(lanes), [NaN, -Infinity, 0, 0]);
  assert.deepEqual(vectorClamp(clamp(0.5, Infinity))(lanes), [NaN, 0.5, Infinity, 0.5]);
  assert.deepEqual(vectorClamp(clamp(1e39, Infinity))(lanes), [NaN, Infinity, Infinity, Infinity]);
  assert.deepEqual(vectorClamp(clamp(-0.1, 0.1))([0.3, -0.3, 0, 0.05]), [
    Math.fround(0.1),
    Math.fround(-0.1),
    0,
    Math.fround(0.05),
  ]);
});

Deno.test("applyActivation: one instruction per clamped side; relu and relu6 as before", () => {
  const body = (activation: Activation) => {
    const f = new FunctionBuilder("f", ["v128"]);
    applyActivation(f, activationLocals(f, activation), 0);
    return f.body;
  };
  const pmax = [0xfd, 0xeb, 0x01];
  const pmin = [0xfd, 0xea, 0x01];
  // v128.const + local.set per bound, then local.get x, [local.get lo, pmax], [local.get hi, pmin].
  const set = (local: number, value: number) => [
    0xfd,
    0x0c,
    ...new Uint8Array(new Float32Array([value, value, value, value]).buffer),
    0x21,
    local,
  ];
  assert.deepEqual(body("none"), []);
  assert.deepEqual(body("relu"), [...set(1, 0), 0x20, 0, 0x20, 1, ...pmax, 0x21, 0]);
  assert.deepEqual(body("relu6"), [
    ...set(1, 0),
    ...set(2, 6),
    0x20,
    0,
    0x20,
    1,
    ...pmax,
    0x20,
    2,
    ...pmin,
    0x21,
    0,
  ]);
  assert.deepEqual(body(clamp(-Infinity, 3)), [...set(2, 3), 0x20, 0, 0x20, 2, ...pmin, 0x21, 0]);
  assert.deepEqual(body(clamp(-1e39, 1e39)), []);
});

Deno.test("applyScalarActivation: f32.max / f32.min of the float32 bounds, NaN kept", () => {
  const scalar = (activation: Activation) => {
    const f = new FunctionBuilder("clamp", ["f32"], ["f32"]);
    applyScalarActivation(f, activation, 0);
    const module = new WebAssembly.Module(assembleModule([f.localGet(0)]));
    return new WebAssembly.Instance(module).exports.clamp as (x: number) => number;
  };
  const narrow = scalar(clamp(-0.1, 0.3));
  assert.equal(narrow(1), Math.fround(0.3));
  assert.equal(narrow(-Infinity), Math.fround(-0.1));
  assert(Number.isNaN(narrow(NaN)));
  const above = scalar(clamp(1e39, Infinity));
  assert.equal(above(-Infinity), Infinity);
  assert(Number.isNaN(above(NaN)));
  assert.equal(scalar(clamp(-Infinity, -2))(5), -2);
});
