import assert from "node:assert/strict";
import {
  add,
  avgPool2d,
  channelShuffle,
  clamp,
  concat,
  conv2d,
  depthwiseConv2d,
  fullyConnected,
  globalAvgPool,
  maxPool2d,
  type OpDescriptor,
  type OpWeights,
  type Shape,
  softmax,
} from "@mobileops/core";
import { reference } from "./reference.ts";

const ONE_TO_NINE = [1, 2, 3, 4, 5, 6, 7, 8, 9];

function run(descriptor: OpDescriptor, weights: OpWeights, ...inputs: [Shape, number[]][]) {
  return reference(descriptor, weights, inputs.map(([shape, data]) => ({ shape, data })));
}

function values(descriptor: OpDescriptor, weights: OpWeights, ...inputs: [Shape, number[]][]) {
  return Array.from(run(descriptor, weights, ...inputs).values);
}

function filter(...taps: number[]) {
  return { filter: new Float32Array(taps) };
}

Deno.test("reference conv2d: 3×3 'same' on 3×3, all-ones filter sums each neighbourhood", () => {
  const d = conv2d({ inChannels: 1, outChannels: 1, kernel: 3, padding: "same" });
  const result = run(d, filter(1, 1, 1, 1, 1, 1, 1, 1, 1), [[1, 3, 3, 1], ONE_TO_NINE]);
  assert.deepEqual(result.shape, [1, 3, 3, 1]);
  // 1+2+4+5, 1+2+3+4+5+6, 2+3+5+6, …
  assert.deepEqual(Array.from(result.values), [12, 21, 16, 27, 45, 33, 24, 39, 28]);
});

Deno.test("reference conv2d: a one-hot filter shifts the image (tap order and zero padding)", () => {
  const d = conv2d({ inChannels: 1, outChannels: 1, kernel: 3, padding: "same" });
  // Only tap (ky=1, kx=2) is set: each output reads its right neighbour.
  assert.deepEqual(
    values(d, filter(0, 0, 0, 0, 0, 1, 0, 0, 0), [[1, 3, 3, 1], ONE_TO_NINE]),
    [2, 3, 0, 5, 6, 0, 8, 9, 0],
  );
  // Only tap (ky=0, kx=0): each output reads its upper-left neighbour.
  assert.deepEqual(
    values(d, filter(1, 0, 0, 0, 0, 0, 0, 0, 0), [[1, 3, 3, 1], ONE_TO_NINE]),
    [0, 0, 0, 0, 1, 2, 0, 4, 5],
  );
});

Deno.test("reference conv2d: 'same' stride 2 puts the odd padding row/column at the end", () => {
  const d = conv2d({ inChannels: 1, outChannels: 1, kernel: 3, stride: 2, padding: "same" });
  const image = Array.from({ length: 16 }, (_, i) => i);
  // 4×4 → 2×2, padding [0, 1, 0, 1]: tap (0, 0) of output (oy, ox) reads x[2·oy, 2·ox].
  const result = run(d, filter(1, 0, 0, 0, 0, 0, 0, 0, 0), [[1, 4, 4, 1], image]);
  assert.deepEqual(result.shape, [1, 2, 2, 1]);
  assert.deepEqual(Array.from(result.values), [0, 2, 8, 10]);
});

Deno.test("reference conv2d: asymmetric explicit padding and output size", () => {
  const d = conv2d({ inChannels: 1, outChannels: 1, kernel: 2, padding: [1, 0, 0, 2] });
  // 3×3 → (3+1−2+1) × (3+2−2+1) = 3×4; tap (0,0) reads x[oy − 1, ox].
  const result = run(d, filter(1, 0, 0, 0), [[1, 3, 3, 1], ONE_TO_NINE]);
  assert.deepEqual(result.shape, [1, 3, 4, 1]);
  assert.deepEqual(Array.from(result.values), [0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0]);
});

Deno.test("reference conv2d: 'valid' output size on a non-square input", () => {
  const d = conv2d({ inChannels: 1, outChannels: 1, kernel: 3, stride: 2 });
  const result = run(d, filter(...new Array(9).fill(0)), [[1, 7, 9, 1], new Array(63).fill(1)]);
  assert.deepEqual(result.shape, [1, 3, 4, 1]);
});

Deno.test("reference conv2d: dilation spaces the taps", () => {
  const d = conv2d({ inChannels: 1, outChannels: 1, kernel: [1, 3], dilation: 2 });
  // One output: x0·w0 + x2·w1 + x4·w2.
  assert.deepEqual(values(d, filter(1, 10, 100), [[1, 1, 5, 1], [1, 2, 3, 4, 5]]), [531]);
});

Deno.test("reference conv2d: depthwise multiplier puts filter k of channel c at c·m + k", () => {
  const d = depthwiseConv2d({ channels: 2, multiplier: 2, kernel: 1 });
  assert.deepEqual(values(d, filter(1, 2, 10, 20), [[1, 1, 1, 2], [3, 5]]), [3, 6, 50, 100]);
});

Deno.test("reference conv2d: each group reads only its own input channels", () => {
  const d = conv2d({ inChannels: 4, outChannels: 2, kernel: 1, groups: 2 });
  // o = 0 reads channels 0, 1; o = 1 reads channels 2, 3.
  assert.deepEqual(values(d, filter(1, 10, 100, 1000), [[1, 1, 1, 4], [1, 2, 3, 4]]), [21, 4300]);
});

Deno.test("reference conv2d: bias, then relu / relu6; magnitude and K", () => {
  const weights = { filter: new Float32Array([2, -3]), bias: new Float32Array([0.5]) };
  const x: [Shape, number[]] = [[1, 1, 1, 2], [4, 1]]; // 0.5 + 8 − 3 = 5.5
  const descriptor = (activation: "none" | "relu" | "relu6") =>
    conv2d({ inChannels: 2, outChannels: 1, kernel: 1, bias: true, activation });
  const none = run(descriptor("none"), weights, x);
  assert.deepEqual(Array.from(none.values), [5.5]);
  assert.deepEqual(Array.from(none.magnitude), [0.5 + 8 + 3]);
  assert.equal(none.accumulation, 3);
  const negative = { filter: new Float32Array([-2, -3]), bias: new Float32Array([0.5]) };
  assert.deepEqual(values(descriptor("relu"), negative, x), [0]);
  assert.deepEqual(values(descriptor("relu6"), weights, x), [5.5]);
  assert.deepEqual(values(descriptor("relu6"), { ...weights, bias: new Float32Array([2]) }, x), [
    6,
  ]);
});

Deno.test("reference avgPool2d: countIncludePad decides the divisor of border windows", () => {
  const pool = (countIncludePad: boolean) =>
    avgPool2d({ kernel: 2, stride: 1, padding: [0, 1, 0, 1], countIncludePad });
  const x: [Shape, number[]] = [[1, 3, 3, 1], ONE_TO_NINE];
  // Windows: {1,2,4,5} {2,3,5,6} {3,6} / {4,5,7,8} {5,6,8,9} {6,9} / {7,8} {8,9} {9}.
  assert.deepEqual(values(pool(false), undefined, x), [3, 4, 4.5, 6, 7, 7.5, 7.5, 8.5, 9]);
  assert.deepEqual(values(pool(true), undefined, x), [3, 4, 2.25, 6, 7, 3.75, 3.75, 4.25, 2.25]);
  assert.equal(run(pool(true), undefined, x).accumulation, 5);
});

Deno.test("reference maxPool2d: padded cells never win", () => {
  const d = maxPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1] });
  const x = ONE_TO_NINE.map((v) => -v);
  // 3×3 → 2×2; windows centred on (0,0), (0,2), (2,0), (2,2).
  assert.deepEqual(values(d, undefined, [[1, 3, 3, 1], x]), [-1, -2, -4, -5]);
});

Deno.test("reference channelShuffle: out[j·g + i] = in[i·(C/g) + j]", () => {
  const x: [Shape, number[]] = [[1, 1, 1, 6], [0, 1, 2, 3, 4, 5]];
  assert.deepEqual(values(channelShuffle({ groups: 3 }), undefined, x), [0, 2, 4, 1, 3, 5]);
  assert.deepEqual(values(channelShuffle({ groups: 2 }), undefined, x), [0, 3, 1, 4, 2, 5]);
  const twoPixels: [Shape, number[]] = [[1, 1, 2, 4], [0, 1, 2, 3, 10, 11, 12, 13]];
  assert.deepEqual(values(channelShuffle({ groups: 2 }), undefined, twoPixels), [
    0,
    2,
    1,
    3,
    10,
    12,
    11,
    13,
  ]);
});

Deno.test("reference add and concat: values, order, activation", () => {
  const a: [Shape, number[]] = [[1, 1, 2, 1], [1, -5]];
  const b: [Shape, number[]] = [[1, 1, 2, 1], [7, 2]];
  assert.deepEqual(values(add({ activation: "relu6" }), undefined, a, b), [6, 0]);
  assert.deepEqual(Array.from(run(add(), undefined, a, b).magnitude), [8, 7]);
  const c: [Shape, number[]] = [[1, 1, 2, 2], [3, 4, -8, 9]];
  assert.deepEqual(values(concat(), undefined, a, c), [1, 3, 4, -5, -8, 9]);
  assert.deepEqual(values(concat({ activation: "relu" }), undefined, c, a), [3, 4, 1, 0, 9, 0]);
});

Deno.test("reference globalAvgPool and fullyConnected", () => {
  const pooled = run(globalAvgPool(), undefined, [[1, 2, 2, 2], [1, 10, 2, 20, 3, 30, 4, -40]]);
  assert.deepEqual(pooled.shape, [1, 1, 1, 2]);
  assert.deepEqual(Array.from(pooled.values), [2.5, 5]);
  assert.deepEqual(Array.from(pooled.magnitude), [2.5, 25]);
  const fc = fullyConnected({ inFeatures: 4, outFeatures: 2, bias: true });
  const weights = {
    weights: new Float32Array([1, 0, 0, 1, 0, 1, 1, 0]),
    bias: new Float32Array([0, 100]),
  };
  // The [2, 1, 2, 2] input is read as two rows of four features.
  const result = run(fc, weights, [[2, 1, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]]);
  assert.deepEqual(result.shape, [2, 2]);
  assert.deepEqual(Array.from(result.values), [5, 105, 13, 113]);
});

Deno.test("reference softmax: last axis, shifted by the row maximum", () => {
  const result = run(softmax(), undefined, [[2, 2], [0, Math.log(3), 1000, 1000]]);
  const v = Array.from(result.values);
  assert.ok(Math.abs(v[0] - 0.25) < 1e-15 && Math.abs(v[1] - 0.75) < 1e-15);
  assert.deepEqual(v.slice(2), [0.5, 0.5]);
  // K = L + 13 + ⌈10·span⌉ with span ln 3.
  assert.equal(result.accumulation, 2 + 13 + Math.ceil(10 * Math.log(3)));
});

Deno.test("reference refuses data of the wrong length and windows past the padded input", () => {
  assert.throws(() => run(add(), undefined, [[2], [1]], [[2], [1, 2]]), RangeError);
  const d = conv2d({ inChannels: 1, outChannels: 1, kernel: 3 });
  assert.throws(() => run(d, filter(...new Array(9).fill(0)), [[1, 2, 3, 1], [1, 2, 3, 4, 5, 6]]));
});

const isNaNs = (values: number[]) => values.map((v) => Number.isNaN(v) ? "NaN" : v);

Deno.test("reference activations follow IEEE: relu(NaN) = NaN, relu(−∞) = 0, relu6(+∞) = 6", () => {
  const x: [Shape, number[]] = [[1, 1, 1, 4], [NaN, -Infinity, Infinity, 3]];
  const zero: [Shape, number[]] = [[1, 1, 1, 4], [0, 0, 0, 0]];
  assert.deepEqual(isNaNs(values(add({ activation: "relu" }), undefined, x, zero)), [
    "NaN",
    0,
    Infinity,
    3,
  ]);
  assert.deepEqual(isNaNs(values(add({ activation: "relu6" }), undefined, x, zero)), [
    "NaN",
    0,
    6,
    3,
  ]);
  assert.deepEqual(isNaNs(values(concat({ activation: "relu6" }), undefined, x)), [
    "NaN",
    0,
    6,
    3,
  ]);
  // A 1→1 pointwise convolution with weight 1 and ReLU keeps NaN.
  const pointwise = conv2d({ inChannels: 1, outChannels: 1, kernel: 1, activation: "relu" });
  assert.deepEqual(isNaNs(values(pointwise, filter(1), [[1, 1, 1, 1], [NaN]])), ["NaN"]);
});

Deno.test("reference sums follow IEEE: ∞·0 = NaN, ∞ + (−∞) = NaN, padding adds nothing", () => {
  const d = conv2d({ inChannels: 2, outChannels: 3, kernel: 1 });
  // Filters [1, 1], [0, 1], [1, 1]: on [∞, 1] the middle output is ∞·0 + 1 = NaN.
  const weights = filter(1, 1, 0, 1, 1, 1);
  assert.deepEqual(isNaNs(values(d, weights, [[1, 1, 1, 2], [Infinity, 1]])), [
    Infinity,
    "NaN",
    Infinity,
  ]);
  assert.deepEqual(isNaNs(values(d, weights, [[1, 1, 1, 2], [Infinity, -Infinity]])), [
    "NaN",
    "NaN",
    "NaN",
  ]);
  // 'same' padding around an infinite pixel: padded taps are not 0·∞.
  const same = conv2d({ inChannels: 1, outChannels: 1, kernel: 3, padding: "same" });
  assert.deepEqual(values(same, filter(1, 1, 1, 1, 1, 1, 1, 1, 1), [[1, 1, 1, 1], [Infinity]]), [
    Infinity,
  ]);
  const fc = fullyConnected({ inFeatures: 2, outFeatures: 1 });
  assert.deepEqual(
    isNaNs(values(fc, { weights: new Float32Array([1, 1]) }, [[2, 2], [NaN, 1, 2, 3]])),
    ["NaN", 5],
  );
});

Deno.test("reference pools follow IEEE: a NaN in the window wins the max, padding never does", () => {
  const max = maxPool2d({ kernel: [1, 2] });
  assert.deepEqual(isNaNs(values(max, undefined, [[1, 1, 2, 1], [NaN, 1]])), ["NaN"]);
  assert.deepEqual(isNaNs(values(max, undefined, [[1, 1, 2, 1], [1, NaN]])), ["NaN"]);
  assert.deepEqual(isNaNs(values(maxPool2d({ kernel: 1 }), undefined, [[1, 1, 1, 1], [NaN]])), [
    "NaN",
  ]);
  // The corner window holds one −∞ cell and three padded cells: −∞, not 0.
  const padded = maxPool2d({ kernel: 2, stride: 2, padding: [1, 0, 1, 0] });
  const corner = [-Infinity, -1, -2, -3, -4, -5, -6, -7, -8];
  assert.deepEqual(values(padded, undefined, [[1, 3, 3, 1], corner]), [-Infinity, -1, -3, -4]);
  const avg = (countIncludePad: boolean) =>
    avgPool2d({ kernel: 2, stride: 2, padding: [1, 0, 1, 0], countIncludePad });
  const mixed = [Infinity, 1, 2, -Infinity, 4, 5, NaN, 7, 8];
  for (const countIncludePad of [false, true]) {
    // Windows {∞}, {1, 2}, {−∞, NaN}, {4, 5, 7, 8}.
    const result = isNaNs(values(avg(countIncludePad), undefined, [[1, 3, 3, 1], mixed]));
    assert.deepEqual(result, [Infinity, countIncludePad ? 0.75 : 1.5, "NaN", 6]);
  }
  const global = values(globalAvgPool(), undefined, [[1, 1, 2, 3], [
    Infinity,
    Infinity,
    NaN,
    -Infinity,
    Infinity,
    1,
  ]]);
  assert.deepEqual(isNaNs(global), ["NaN", Infinity, "NaN"]);
});

Deno.test("reference softmax follows IEEE: NaN or +∞ in a row makes it NaN, −∞ gives 0", () => {
  const rows = [
    NaN,
    0,
    0,
    Infinity,
    0,
    0,
    -Infinity,
    0,
    Math.log(3),
    -Infinity,
    -Infinity,
    -Infinity,
  ];
  const result = run(softmax(), undefined, [[4, 3], rows]);
  const v = isNaNs(Array.from(result.values));
  assert.deepEqual(v.slice(0, 6), ["NaN", "NaN", "NaN", "NaN", "NaN", "NaN"]);
  assert.equal(v[6], 0);
  assert.ok(Math.abs((v[7] as number) - 0.25) < 1e-15 && Math.abs((v[8] as number) - 0.75) < 1e-15);
  assert.deepEqual(v.slice(9), ["NaN", "NaN", "NaN"]);
  // K spans the finite values only: ln 3 here.
  assert.equal(result.accumulation, 3 + 13 + Math.ceil(10 * Math.log(3)));
});

Deno.test("reference channel shuffle and concat move NaN and infinities like any value", () => {
  const x: [Shape, number[]] = [[1, 1, 1, 4], [NaN, Infinity, -Infinity, 1]];
  assert.deepEqual(isNaNs(values(channelShuffle({ groups: 2 }), undefined, x)), [
    "NaN",
    -Infinity,
    Infinity,
    1,
  ]);
  assert.deepEqual(isNaNs(values(concat(), undefined, x, x)), [
    "NaN",
    Infinity,
    -Infinity,
    1,
    "NaN",
    Infinity,
    -Infinity,
    1,
  ]);
});

Deno.test("reference magnitudes count finite terms only, and K the terms in the image", () => {
  const d = conv2d({ inChannels: 1, outChannels: 1, kernel: 3, padding: "same", bias: true });
  const weights = { filter: new Float32Array(9).fill(2), bias: new Float32Array([-1]) };
  // 1×2 image: each output has two taps in the image (K = 2 + bias) and a third of them infinite.
  const result = run(d, weights, [[1, 1, 2, 1], [-Infinity, 3]]);
  assert.deepEqual(Array.from(result.values), [-Infinity, -Infinity]);
  assert.deepEqual(Array.from(result.magnitude), [1 + 6, 1 + 6]);
  assert.equal(result.accumulation, 3);
  const relu = run({ ...d, activation: "relu" }, weights, [[1, 1, 2, 1], [-Infinity, 3]]);
  assert.deepEqual(Array.from(relu.values), [0, 0]);
  assert.ok(relu.magnitude.every(Number.isFinite));
  const pool = run(avgPool2d({ kernel: 3, padding: [1, 1, 1, 1] }), undefined, [[1, 1, 2, 1], [
    NaN,
    4,
  ]]);
  assert.deepEqual(Array.from(pool.magnitude), [2]);
  assert.equal(pool.accumulation, 3);
});

Deno.test("reference clamp: min(max(v, lo), hi) with IEEE NaN, infinite bounds, float32 bounds", () => {
  const x: [Shape, number[]] = [[1, 1, 1, 6], [NaN, -Infinity, Infinity, 3, -0.5, 2]];
  const zero: [Shape, number[]] = [[1, 1, 1, 6], [0, 0, 0, 0, 0, 0]];
  const clamped = (min: number, max: number) =>
    isNaNs(values(add({ activation: clamp(min, max) }), undefined, x, zero));
  assert.deepEqual(clamped(-1, 1), ["NaN", -1, 1, 1, -0.5, 1]);
  assert.deepEqual(clamped(-Infinity, 0), ["NaN", -Infinity, 0, 0, -0.5, 0]);
  assert.deepEqual(clamped(0.5, Infinity), ["NaN", 0.5, Infinity, 3, 0.5, 2]);
  assert.deepEqual(clamped(2, 2), ["NaN", 2, 2, 2, 2, 2]);
  assert.deepEqual(clamped(-3, -1), ["NaN", -3, -1, -1, -1, -1]);
  // Bounds act as float32 values: 0.3 clamps to fround(0.3), as any float32 backend stores it.
  const [low, high] = [Math.fround(-0.1), Math.fround(0.3)];
  assert.notEqual(high, 0.3);
  assert.deepEqual(clamped(-0.1, 0.3), ["NaN", low, high, high, low, high]);
  assert.deepEqual(isNaNs(values(concat({ activation: clamp(-1, 1) }), undefined, x)), [
    "NaN",
    -1,
    1,
    1,
    -0.5,
    1,
  ]);
  // Convolution and fully connected: the bias first, then the clamp; magnitude and K unchanged.
  const weights = { filter: new Float32Array([2, -3]), bias: new Float32Array([0.5]) };
  const d = conv2d({
    inChannels: 2,
    outChannels: 1,
    kernel: 1,
    bias: true,
    activation: clamp(-1, 5),
  });
  const result = run(d, weights, [[1, 1, 2, 2], [4, 1, -4, 1]]); // 5.5 and −10.5
  assert.deepEqual(Array.from(result.values), [5, -1]);
  assert.deepEqual(Array.from(result.magnitude), [11.5, 11.5]);
  assert.equal(result.accumulation, 3);
  const fc = fullyConnected({ inFeatures: 2, outFeatures: 1, activation: clamp(-Infinity, 0) });
  assert.deepEqual(values(fc, { weights: new Float32Array([1, 1]) }, [[2, 2], [1, 2, -1, -2]]), [
    0,
    -3,
  ]);
});

const ONE_TO_SIXTEEN = Array.from({ length: 16 }, (_, i) => i + 1);

Deno.test("reference ceil mode: ONNX's 4×4 max pool, kernel 3, stride 2 → [[11, 12], [15, 16]]", () => {
  const d = maxPool2d({ kernel: 3, stride: 2, ceilMode: true });
  const result = run(d, undefined, [[1, 4, 4, 1], ONE_TO_SIXTEEN]);
  assert.deepEqual(result.shape, [1, 2, 2, 1]);
  assert.deepEqual(Array.from(result.values), [11, 12, 15, 16]);
  // Floor mode keeps the one window that fits.
  assert.deepEqual(values({ ...d, ceilMode: false }, undefined, [[1, 4, 4, 1], ONE_TO_SIXTEEN]), [
    11,
  ]);
});

Deno.test("reference ceil mode: countIncludePad counts the padding but never the overhang", () => {
  // 1×6, kernel 3, stride 2, one padded column each side: padded width 8, ceil((8 − 3)/2) + 1 = 4
  // windows, the last starting on the last pixel: {pixel 6, padding, overhang}.
  const pool = (countIncludePad: boolean) =>
    avgPool2d({
      kernel: [1, 3],
      stride: [1, 2],
      padding: [0, 0, 1, 1],
      countIncludePad,
      ceilMode: true,
    });
  const x: [Shape, number[]] = [[1, 1, 6, 1], [1, 2, 3, 4, 5, 6]];
  // Windows {pad, 1, 2}, {2, 3, 4}, {4, 5, 6}, {6, pad, overhang}: divisors 3, 3, 3, 2.
  assert.deepEqual(values(pool(true), undefined, x), [1, 3, 5, 3]);
  // In-image cells only: 2, 3, 3, 1.
  assert.deepEqual(values(pool(false), undefined, x), [1.5, 3, 5, 6]);
  // Max pool over the same windows: the padding and the overhang never win.
  const max = maxPool2d({ kernel: [1, 3], stride: [1, 2], padding: [0, 0, 1, 1], ceilMode: true });
  assert.deepEqual(values(max, undefined, [[1, 1, 6, 1], [-1, -2, -3, -4, -5, -6]]), [
    -1,
    -2,
    -4,
    -6,
  ]);
});

Deno.test("reference ceil mode: no window starts in the trailing padding; overhung NaN and ±∞", () => {
  // 5×5, kernel 2, stride 2, padding 1: ceil((7 − 2)/2) + 1 = 4 windows per axis, but the last
  // would start on the bottom/right padding, so 3 (PyTorch's rule).
  const d = avgPool2d({ kernel: 2, stride: 2, padding: [1, 1, 1, 1], ceilMode: true });
  assert.deepEqual(run(d, undefined, [[1, 5, 5, 1], new Array(25).fill(1)]).shape, [1, 3, 3, 1]);
  // 1×3, kernel 2, stride 2: the second window is the last pixel and its overhang.
  const max = maxPool2d({ kernel: [1, 2], stride: 2, ceilMode: true });
  const avg = (countIncludePad: boolean) =>
    avgPool2d({ kernel: [1, 2], stride: 2, countIncludePad, ceilMode: true });
  for (const last of [-Infinity, Infinity, NaN]) {
    const x: [Shape, number[]] = [[1, 1, 3, 1], [1, 2, last]];
    assert.deepEqual(isNaNs(values(max, undefined, x)), isNaNs([2, last]));
    for (const countIncludePad of [false, true]) {
      assert.deepEqual(isNaNs(values(avg(countIncludePad), undefined, x)), isNaNs([1.5, last]));
    }
  }
  assert.deepEqual(values(avg(true), undefined, [[1, 1, 3, 1], [1, 2, 4]]), [1.5, 4]);
});
