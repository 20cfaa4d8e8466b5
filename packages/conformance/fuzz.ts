/**
 * The fuzzer's case generator: {@link fuzzCase} draws a random valid operator
 * call — every operator, every option, odd sizes, non-finite input values —
 * from a seed and an index alone, so any failure reruns from those two
 * numbers; {@link shrinkCase} reduces a failing call to a minimal one that
 * still fails. The cases are ordinary {@link ConformanceCase}s, judged by
 * `runCase` under the suite's tolerance.
 *
 * @module
 */

import {
  type Activation,
  add,
  avgPool2d,
  channelShuffle,
  clamp,
  concat,
  conv2d,
  type Conv2dDescriptor,
  type Conv2dOptions,
  convFilterSize,
  denseConv2d,
  depthwiseConv2d,
  fullyConnected,
  globalAvgPool,
  groupConv2d,
  inferGeometry,
  InvalidArgumentError,
  maxPool2d,
  opCost,
  type OpDescriptor,
  type OpName,
  type Pad4,
  type Padding,
  type Pair,
  pointwiseConv2d,
  type Shape,
  shapeSize,
  softmax,
} from "@mobileops/core";
import {
  type ConformanceCase,
  convRange,
  describeCall,
  describeSpecials,
  glueRange,
  type SpecialValue,
} from "./conformance_case.ts";
import { pickOne, seededRandom } from "./random.ts";

/**
 * Most work one fuzz case may take: the larger of its multiply-adds, its
 * input elements and its output elements. Keeps thousands of cases quick on
 * the scalar js backend and the float64 reference.
 */
export const FUZZ_MULTIPLY_ADD_BUDGET = 200_000;

/** Share of cases whose inputs carry NaN or ±Infinity values ({@link SpecialValue}). */
export const FUZZ_SPECIAL_SHARE = 0.3;

/** Every size to 17 (each remainder modulo 4, 8 and 16 SIMD lanes), then primes and powers of 2. */
const CHANNELS = [...Array.from({ length: 17 }, (_, i) => i + 1), 19, 23, 31, 32, 33, 37, 64];
const SPATIAL = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14, 16, 17, 19, 23, 29];
const BATCHES = [1, 1, 2, 3];
const KERNELS = [1, 2, 3, 3, 4, 5, 7];
const STRIDES = [1, 1, 2, 2, 3];
const DILATIONS = [1, 1, 1, 2, 3];
const GROUPS = [2, 3, 4, 8];
const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];
/** Share of activations that are a general clamp rather than a named one. */
const CLAMP_SHARE = 0.25;
/** Clamp bounds: both signs, equal magnitudes, and 0.1, which is not a float32 value. */
const CLAMP_BOUNDS = [-6, -3, -1, -0.5, -0.25, 0, 0.1, 0.25, 0.5, 1, 2, 6];
/** Share of pools in ceil mode. */
const CEIL_SHARE = 0.3;
const SPECIAL_VALUES = [NaN, Infinity, -Infinity];
const PADDING_FORMS = ["valid", "same", "symmetric", "asymmetric"] as const;

type Random = () => number;

function below(random: Random, bound: number): number {
  return Math.floor(random() * bound);
}

/** A pair, square most of the time (the networks' shapes), else each side drawn alone. */
function pairOf(random: Random, values: readonly number[]): Pair {
  const height = pickOne(random, values);
  return random() < 0.7 ? [height, height] : [height, pickOne(random, values)];
}

function extentOf(kernel: Pair, dilation: Pair): Pair {
  return [(kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1];
}

/**
 * A padding of a random form. `limit` bounds each explicit side (inclusive):
 * a pool's side must stay below its kernel, a convolution's may reach past
 * its extent, leaving windows that see only padding and bias.
 */
function drawPadding(random: Random, limit: Pair): Padding {
  const form = pickOne(random, PADDING_FORMS);
  if (form === "valid" || form === "same") return form;
  const side = (axis: 0 | 1) => below(random, limit[axis] + 1);
  if (form === "symmetric") {
    const [h, w] = [side(0), side(1)];
    return [h, h, w, w];
  }
  return [side(0), side(0), side(1), side(1)];
}

/** The smallest spatial size at least `drawn` that the window fits once padded. */
function fitted(drawn: Pair, padding: Padding, extent: Pair): Pair {
  if (typeof padding === "string") {
    return padding === "same"
      ? drawn
      : [Math.max(drawn[0], extent[0]), Math.max(drawn[1], extent[1])];
  }
  return [
    Math.max(drawn[0], extent[0] - padding[0] - padding[1], 1),
    Math.max(drawn[1], extent[1] - padding[2] - padding[3], 1),
  ];
}

/**
 * A named activation, or (a {@link CLAMP_SHARE} of the time) a clamp with
 * both bounds, one bound either way, or equal bounds. Core's `clamp` gives
 * the named form where the bounds are one's (`[0, 6]` is relu6).
 */
function drawActivation(random: Random): Activation {
  if (random() >= CLAMP_SHARE) return pickOne(random, ACTIVATIONS);
  const a = pickOne(random, CLAMP_BOUNDS);
  switch (pickOne(random, ["both", "lower", "upper", "equal"] as const)) {
    case "both": {
      const b = pickOne(random, CLAMP_BOUNDS);
      return clamp(Math.min(a, b), Math.max(a, b));
    }
    case "lower":
      return clamp(a, Infinity);
    case "upper":
      return clamp(-Infinity, a);
    case "equal":
      return clamp(a, a);
  }
}

/** A descriptor, its input shapes and the span of its random inputs. */
interface Call {
  readonly descriptor: OpDescriptor;
  readonly inputShapes: readonly Shape[];
  readonly inputRange: readonly [number, number];
}

function drawConv(random: Random): Call {
  const kind = pickOne(random, ["depthwise", "pointwise", "group", "dense"] as const);
  const activation = drawActivation(random);
  const bias = random() < 0.5;
  const batch = pickOne(random, BATCHES);
  if (kind === "pointwise") {
    const inChannels = pickOne(random, CHANNELS);
    const descriptor = pointwiseConv2d({
      inChannels,
      outChannels: pickOne(random, CHANNELS),
      stride: pairOf(random, STRIDES),
      bias,
      activation,
    });
    const [h, w] = pairOf(random, SPATIAL);
    return {
      descriptor,
      inputShapes: [[batch, h, w, inChannels]],
      inputRange: convRange(activation, inChannels),
    };
  }
  const kernel = pairOf(random, KERNELS);
  const dilation = random() < 0.3 ? pairOf(random, DILATIONS) : [1, 1] as Pair;
  const stride = pairOf(random, STRIDES);
  const extent = extentOf(kernel, dilation);
  const padding = drawPadding(random, extent);
  const window = { kernel, stride, dilation, padding, bias, activation };
  let descriptor;
  if (kind === "depthwise") {
    descriptor = depthwiseConv2d({
      ...window,
      channels: pickOne(random, CHANNELS),
      multiplier: pickOne(random, [1, 1, 2, 3]),
    });
  } else if (kind === "group") {
    const groups = pickOne(random, GROUPS);
    descriptor = groupConv2d({
      ...window,
      groups,
      inChannels: groups * pickOne(random, [2, 3, 4, 5, 8]),
      outChannels: groups * pickOne(random, [1, 2, 3, 4, 5]),
    });
  } else {
    descriptor = denseConv2d({
      ...window,
      inChannels: pickOne(random, CHANNELS.slice(0, 14)),
      outChannels: pickOne(random, CHANNELS),
    });
  }
  const [h, w] = fitted(pairOf(random, SPATIAL), padding, extent);
  const terms = kernel[0] * kernel[1] * (descriptor.inChannels / descriptor.groups);
  return {
    descriptor,
    inputShapes: [[batch, h, w, descriptor.inChannels]],
    inputRange: convRange(activation, terms),
  };
}

function drawPool(random: Random, op: "avgPool2d" | "maxPool2d"): Call {
  const kernel = pairOf(random, KERNELS.slice(0, 6));
  const stride = random() < 0.3 ? kernel : pairOf(random, STRIDES);
  const padding = drawPadding(random, [kernel[0] - 1, kernel[1] - 1]);
  const ceilMode = random() < CEIL_SHARE;
  const descriptor = op === "avgPool2d"
    ? avgPool2d({ kernel, stride, padding, countIncludePad: random() < 0.5, ceilMode })
    : maxPool2d({ kernel, stride, padding, ceilMode });
  const [h, w] = fitted(pairOf(random, SPATIAL), padding, kernel);
  // All-negative inputs catch a padded zero winning a max.
  const inputRange: [number, number] = op === "maxPool2d" && random() < 0.3 ? [-3, -1] : [-1, 1];
  return {
    descriptor,
    inputShapes: [[pickOne(random, BATCHES), h, w, pickOne(random, CHANNELS)]],
    inputRange,
  };
}

function nhwc(random: Random, channels: number): Shape {
  const [h, w] = pairOf(random, SPATIAL);
  return [pickOne(random, BATCHES), h, w, channels];
}

/** A shape of `rank` whose last axis is `last`; rank 4 reads as NHWC. */
function shapeOfRank(random: Random, rank: number, last: number): Shape {
  if (rank === 4) return nhwc(random, last);
  const leading = Array.from({ length: rank - 1 }, () => pickOne(random, SPATIAL.slice(0, 8)));
  return [...leading, last];
}

function drawShuffle(random: Random): Call {
  const groups = pickOne(random, [1, 2, 3, 4, 5, 8]);
  return {
    descriptor: channelShuffle({ groups }),
    inputShapes: [nhwc(random, groups * pickOne(random, [1, 2, 3, 4, 5, 7, 8, 17]))],
    inputRange: [-1, 1],
  };
}

function drawAdd(random: Random): Call {
  const activation = drawActivation(random);
  const shape = shapeOfRank(random, 1 + below(random, 4), pickOne(random, CHANNELS));
  return {
    descriptor: add({ activation }),
    inputShapes: [shape, shape],
    inputRange: glueRange(activation, 2),
  };
}

function drawConcat(random: Random): Call {
  const activation = drawActivation(random);
  const [n, h, w] = nhwc(random, 1);
  const count = 1 + below(random, 4);
  return {
    descriptor: concat({ activation }),
    inputShapes: Array.from({ length: count }, () => [n, h, w, pickOne(random, CHANNELS)]),
    inputRange: glueRange(activation),
  };
}

function drawGlobalAvgPool(random: Random): Call {
  return {
    descriptor: globalAvgPool(),
    inputShapes: [nhwc(random, pickOne(random, CHANNELS))],
    inputRange: [-1, 1],
  };
}

function drawFullyConnected(random: Random): Call {
  const activation = drawActivation(random);
  const batch = pickOne(random, BATCHES);
  const shape: Shape = random() < 0.5
    ? [batch, pickOne(random, [...CHANNELS, 100, 127, 257])]
    : nhwc(random, pickOne(random, CHANNELS.slice(0, 12))).with(0, batch);
  const inFeatures = shapeSize(shape) / batch;
  return {
    descriptor: fullyConnected({
      inFeatures,
      outFeatures: pickOne(random, [1, 2, 3, 5, 8, 10, 17, 33, 100]),
      bias: random() < 0.5,
      activation,
    }),
    inputShapes: [shape],
    inputRange: convRange(activation, inFeatures),
  };
}

function drawSoftmax(random: Random): Call {
  const length = pickOne(random, [...CHANNELS, 100, 1000]);
  const scale = pickOne(random, [1, 4, 10, 40]);
  return {
    descriptor: softmax(),
    inputShapes: [shapeOfRank(random, 1 + below(random, 4), length)],
    inputRange: [-scale, scale],
  };
}

/**
 * Each operator with its share of the cases (convolution has the most forms,
 * so the most), keyed by every operator so that a new one is a type error
 * here until the fuzzer draws it.
 */
const DRAWS_BY_OP: {
  readonly [Op in OpName]: readonly [weight: number, draw: (random: Random) => Call];
} = {
  conv2d: [8, drawConv],
  avgPool2d: [2, (random) => drawPool(random, "avgPool2d")],
  maxPool2d: [2, (random) => drawPool(random, "maxPool2d")],
  channelShuffle: [1, drawShuffle],
  add: [2, drawAdd],
  concat: [2, drawConcat],
  globalAvgPool: [1, drawGlobalAvgPool],
  fullyConnected: [2, drawFullyConnected],
  softmax: [2, drawSoftmax],
};
const DRAWS = Object.values(DRAWS_BY_OP);
const TOTAL_WEIGHT = DRAWS.reduce((sum, [weight]) => sum + weight, 0);

function drawCall(random: Random): Call {
  let pick = random() * TOTAL_WEIGHT;
  for (const [weight, draw] of DRAWS) {
    if (pick < weight) return draw(random);
    pick -= weight;
  }
  return DRAWS.at(-1)![1](random);
}

/** The larger of multiply-adds, input elements and output elements. */
function work(descriptor: OpDescriptor, inputShapes: readonly Shape[]): number {
  const { multiplyAdds, outputShape } = opCost(descriptor, inputShapes);
  const touched = inputShapes.reduce((sum, shape) => sum + shapeSize(shape), 0);
  return Math.max(multiplyAdds, touched, shapeSize(outputShape));
}

/** Row-major strides of `shape`. */
function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let axis = shape.length - 2; axis >= 0; axis--) {
    strides[axis] = strides[axis + 1] * shape[axis + 1];
  }
  return strides;
}

/**
 * One flat position in `shape`, chosen where kernels are most likely to get
 * non-finite values wrong: anywhere; the first or last element; a spatial
 * border (next to padding); the channel tail that a SIMD loop handles apart.
 */
function specialPosition(random: Random, shape: Shape): number {
  const size = shapeSize(shape);
  const strides = stridesOf(shape);
  const coordinates = shape.map((dim) => below(random, dim));
  const last = shape.length - 1;
  switch (pickOne(random, ["anywhere", "ends", "border", "tail"] as const)) {
    case "anywhere":
      return below(random, size);
    case "ends":
      return random() < 0.5 ? 0 : size - 1;
    case "border":
      for (let axis = Math.max(0, last - 2); axis < last; axis++) {
        if (random() < 0.7) coordinates[axis] = random() < 0.5 ? 0 : shape[axis] - 1;
      }
      break;
    case "tail":
      coordinates[last] = shape[last] - 1 - below(random, Math.min(shape[last], 4));
      break;
  }
  return coordinates.reduce((flat, coordinate, axis) => flat + coordinate * strides[axis], 0);
}

function drawSpecials(random: Random, inputShapes: readonly Shape[]): SpecialValue[] {
  const count = random() < 0.6 ? 1 : 2 + below(random, 5);
  const specials: SpecialValue[] = [];
  for (let k = 0; k < count; k++) {
    const input = below(random, inputShapes.length);
    const index = specialPosition(random, inputShapes[input]);
    const value = pickOne(random, SPECIAL_VALUES);
    if (!specials.some((s) => s.input === input && s.index === index)) {
      specials.push({ input, index, value });
    }
  }
  return specials;
}

function checkedCounter(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 32) {
    throw new InvalidArgumentError(field, value, "must be an integer in [0, 2^32)");
  }
  return value;
}

/**
 * The seed of case `index`'s stream: a bijection of `index` for each `seed`
 * (xor, odd multiplies and xor-shifts are all invertible on 32 bits), so no
 * two cases of one seed share a stream.
 */
function streamSeed(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x27d4eb2f, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15) ^ index, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae3d);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Draws per case before giving up; a draw fits the budget far more often than not. */
const MAX_DRAWS = 1000;

/**
 * Draws case `index` of fuzz run `seed`: a random valid operator call (every
 * operator; convolutions depthwise with multiplier, pointwise, group and
 * dense, dilated, strided, every padding form, non-square kernels; pools with
 * and without `countIncludePad`, in floor and ceil mode; concat of 1–4
 * inputs; fully connected on rank-2 and rank-4 inputs; softmax and add of
 * rank 1–4), every named activation and clamps of every kind (both bounds,
 * one, equal ones), bias or not, odd sizes and batch 1–3, within
 * {@link FUZZ_MULTIPLY_ADD_BUDGET}. About {@link FUZZ_SPECIAL_SHARE} of the
 * cases carry `specials`: NaN, +Infinity or −Infinity written over some
 * inputs (anywhere, at the ends, at spatial borders, in the channel tail).
 * The same `(seed, index)` always gives the same case, data included.
 * Descriptors come from core's constructors and input shapes pass
 * `inferGeometry`.
 *
 * @param seed The run's seed, an integer in `[0, 2^32)`.
 * @param index The case's index in the run, an integer in `[0, 2^32)`.
 * @throws {InvalidArgumentError} `seed` or `index` is not an integer in `[0, 2^32)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fuzzCase } from "@mobileops/conformance";
 * import { inferGeometry } from "@mobileops/core";
 * const a = fuzzCase(1, 42), b = fuzzCase(1, 42);
 * assert.deepEqual(a, b);
 * assert(inferGeometry(a.descriptor, a.inputShapes).outputShape.length > 0);
 * assert.match(a.name, /^fuzz 1#42: /);
 * ```
 */
export function fuzzCase(seed: number, index: number): ConformanceCase {
  checkedCounter("seed", seed);
  checkedCounter("index", index);
  const random = seededRandom(streamSeed(seed, index));
  for (let attempt = 0; attempt < MAX_DRAWS; attempt++) {
    const call = drawCall(random);
    inferGeometry(call.descriptor, call.inputShapes);
    if (work(call.descriptor, call.inputShapes) > FUZZ_MULTIPLY_ADD_BUDGET) continue;
    const dataSeed = Math.floor(random() * 2 ** 32);
    const specials = random() < FUZZ_SPECIAL_SHARE
      ? drawSpecials(random, call.inputShapes)
      : undefined;
    return {
      name: `fuzz ${seed}#${index}: ${describeCall(call.descriptor, call.inputShapes)}` +
        describeSpecials(specials),
      descriptor: call.descriptor,
      inputShapes: call.inputShapes,
      seed: dataSeed,
      inputRange: call.inputRange,
      ...(specials === undefined ? {} : { specials }),
    };
  }
  throw new RangeError(`fuzz ${seed}#${index}: no draw fits the multiply-add budget`);
}

/**
 * How big a case is, compared lexicographically: inputs, specials, batch,
 * then the options' distance from the plainest form, then rank and elements. Every
 * accepted shrinking step lowers it, so shrinking ends.
 */
function complexity(testCase: ConformanceCase): number[] {
  const d = testCase.descriptor;
  const shapes = testCase.inputShapes;
  const batch = shapes.reduce((sum, shape) => sum + (shape.length > 1 ? shape[0] - 1 : 0), 0);
  let options = 0;
  let weights = 0;
  const window = (kernel: Pair, stride: Pair, padding: Padding, dilation: Pair = [1, 1]) =>
    kernel[0] + kernel[1] + stride[0] + stride[1] + dilation[0] + dilation[1] +
    (padding === "valid" ? 0 : padding === "same" ? 1 : 2 + padding.reduce((a, b) => a + b, 0));
  switch (d.op) {
    case "conv2d":
      options = window(d.kernel, d.stride, d.padding, d.dilation) + d.groups;
      weights = convFilterSize(d) + (d.bias ? d.outChannels : 0);
      break;
    case "avgPool2d":
      options = window(d.kernel, d.stride, d.padding) + (d.countIncludePad ? 1 : 0) +
        (d.ceilMode ? 1 : 0);
      break;
    case "maxPool2d":
      options = window(d.kernel, d.stride, d.padding) + (d.ceilMode ? 1 : 0);
      break;
    case "channelShuffle":
      options = d.groups;
      break;
    case "fullyConnected":
      weights = d.inFeatures * d.outFeatures + (d.bias ? d.outFeatures : 0);
      break;
  }
  if ("bias" in d && d.bias) options++;
  // A clamp is one step further from the plainest form than relu.
  if ("activation" in d && d.activation !== "none") {
    options += typeof d.activation === "string" ? 1 : 2;
  }
  const rank = shapes.reduce((sum, shape) => sum + shape.length, 0);
  const elements = shapes.reduce((sum, shape) => sum + shapeSize(shape), 0) + weights;
  return [shapes.length, testCase.specials?.length ?? 0, batch, options, rank, elements];
}

function smaller(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i];
  }
  return false;
}

/** Smaller values of one size: 1, half, one less. */
function fewer(value: number): number[] {
  return [...new Set([1, Math.floor(value / 2), value - 1])].filter((v) => v >= 1 && v < value);
}

/**
 * Moves a special value from its element of shape `from` to the element at
 * the same coordinates of `to` (clamped to its bounds), so a NaN at a border
 * stays at the border as the tensor shrinks. When the rank changed it keeps
 * its flat index if that is still in range, and is dropped otherwise.
 */
function remapSpecial(special: SpecialValue, from: Shape, to: Shape): SpecialValue | undefined {
  if (from.length !== to.length) {
    return special.index < shapeSize(to) ? special : undefined;
  }
  const fromStrides = stridesOf(from);
  const toStrides = stridesOf(to);
  let rest = special.index;
  let index = 0;
  for (let axis = 0; axis < from.length; axis++) {
    const coordinate = Math.floor(rest / fromStrides[axis]);
    rest -= coordinate * fromStrides[axis];
    index += Math.min(coordinate, to[axis] - 1) * toStrides[axis];
  }
  return { ...special, index };
}

/**
 * `testCase` with another call; `inputOf[i]` is the old input that new input
 * `i` came from (default: the same one). `undefined` when the call is invalid.
 */
function rebuilt(
  testCase: ConformanceCase,
  make: () => { descriptor: OpDescriptor; inputShapes: readonly Shape[] },
  inputOf?: readonly number[],
): ConformanceCase | undefined {
  let call;
  try {
    call = make();
    inferGeometry(call.descriptor, call.inputShapes);
  } catch {
    return undefined;
  }
  const source = inputOf ?? call.inputShapes.map((_, i) => i);
  const specials = (testCase.specials ?? []).flatMap((special) => {
    const input = source.indexOf(special.input);
    if (input < 0) return [];
    const moved = remapSpecial(
      { ...special, input },
      testCase.inputShapes[special.input],
      call.inputShapes[input],
    );
    return moved === undefined ? [] : [moved];
  });
  // Two values moved onto one element: the later one is what the data held there last.
  const unique = specials.filter((s, i) =>
    specials.findLastIndex((t) => t.input === s.input && t.index === s.index) === i
  );
  return withSpecials(
    { ...testCase, descriptor: call.descriptor, inputShapes: call.inputShapes },
    unique,
  );
}

function withSpecials(
  testCase: ConformanceCase,
  specials: readonly SpecialValue[],
): ConformanceCase {
  const { name: _, specials: __, ...call } = testCase;
  return {
    ...call,
    name: `${describeCall(call.descriptor, call.inputShapes)} seed ${call.seed}` +
      describeSpecials(specials),
    ...(specials.length === 0 ? {} : { specials }),
  };
}

/** The same shape with `axis` set to `value`. */
function resized(shape: Shape, axis: number, value: number): Shape {
  return shape.with(axis, value);
}

function convOptions(d: Conv2dDescriptor): Conv2dOptions {
  return {
    inChannels: d.inChannels,
    outChannels: d.outChannels,
    kernel: d.kernel,
    stride: d.stride,
    padding: d.padding,
    dilation: d.dilation,
    groups: d.groups,
    bias: d.bias,
    activation: d.activation,
  };
}

/** Explicit padding clamped below `kernel`, as a pool requires. */
function poolPadding(padding: Padding, kernel: Pair): Padding {
  if (typeof padding === "string") return padding;
  return [
    Math.min(padding[0], kernel[0] - 1),
    Math.min(padding[1], kernel[0] - 1),
    Math.min(padding[2], kernel[1] - 1),
    Math.min(padding[3], kernel[1] - 1),
  ];
}

function withSide(pair: Pair, axis: 0 | 1, value: number): Pair {
  return axis === 0 ? [value, pair[1]] : [pair[0], value];
}

function withPad(padding: Pad4, side: number, value: number): Pad4 {
  const sides = padding.map((pad, i) => i === side ? value : pad);
  return [sides[0], sides[1], sides[2], sides[3]];
}

/** Smaller windows, strides, dilations and paddings of one kernel description. */
function simplerWindows(
  kernel: Pair,
  stride: Pair,
  padding: Padding,
  dilation: Pair,
): { kernel: Pair; stride: Pair; padding: Padding; dilation: Pair }[] {
  const options = [];
  const base = { kernel, stride, padding, dilation };
  options.push({ ...base, kernel: [1, 1] as Pair });
  for (const axis of [0, 1] as const) {
    for (const k of fewer(kernel[axis])) {
      options.push({ ...base, kernel: withSide(kernel, axis, k) });
    }
    if (stride[axis] > 1) options.push({ ...base, stride: withSide(stride, axis, 1) });
    if (dilation[axis] > 1) options.push({ ...base, dilation: withSide(dilation, axis, 1) });
  }
  if (padding !== "valid") options.push({ ...base, padding: "valid" as Padding });
  if (typeof padding !== "string") {
    padding.forEach((side, i) => {
      for (const s of fewer(side + 1)) {
        options.push({ ...base, padding: withPad(padding, i, s - 1) });
      }
    });
  }
  return options;
}

/** Axes of the inputs that shrink without touching the descriptor, on every input at once. */
function freeAxes(descriptor: OpDescriptor, shape: Shape): number[] {
  switch (descriptor.op) {
    case "conv2d":
    case "channelShuffle":
    case "concat":
      return [1, 2];
    case "avgPool2d":
    case "maxPool2d":
    case "globalAvgPool":
      return [1, 2, 3];
    case "add":
    case "softmax":
      return shape.length === 1 ? [0] : shape.map((_, axis) => axis).slice(1);
    case "fullyConnected":
      return [];
  }
}

function isClamp(activation: Activation): boolean {
  return typeof activation === "object";
}

/** Every candidate one step simpler than `testCase`, most drastic first; invalid ones are `undefined`. */
function* reductions(testCase: ConformanceCase): Generator<ConformanceCase | undefined> {
  const specials = testCase.specials ?? [];
  if (specials.length > 1) yield withSpecials(testCase, []);
  for (let i = 0; i < specials.length; i++) {
    yield withSpecials(testCase, specials.filter((_, j) => j !== i));
  }
  const d = testCase.descriptor;
  const shapes = testCase.inputShapes;
  const to = (descriptor: () => OpDescriptor, inputShapes = shapes, inputOf?: number[]) =>
    rebuilt(testCase, () => ({ descriptor: descriptor(), inputShapes }), inputOf);
  if (shapes[0].length > 1 && shapes[0][0] > 1) {
    yield to(() => d, shapes.map((shape) => resized(shape, 0, 1)));
  }
  switch (d.op) {
    case "conv2d": {
      const o = convOptions(d);
      if (d.activation !== "none") yield to(() => conv2d({ ...o, activation: "none" }));
      if (isClamp(d.activation)) yield to(() => conv2d({ ...o, activation: "relu" }));
      if (d.bias) yield to(() => conv2d({ ...o, bias: false }));
      for (const window of simplerWindows(d.kernel, d.stride, d.padding, d.dilation)) {
        yield to(() => conv2d({ ...o, ...window }));
      }
      const perIn = d.inChannels / d.groups;
      const perOut = d.outChannels / d.groups;
      const grouped = (groups: number, cin: number, cout: number) =>
        to(
          () => conv2d({ ...o, groups, inChannels: groups * cin, outChannels: groups * cout }),
          [resized(shapes[0], 3, groups * cin)],
        );
      for (const g of fewer(d.groups)) yield grouped(g, perIn, perOut);
      for (const c of fewer(perIn)) yield grouped(d.groups, c, perOut);
      for (const c of fewer(perOut)) yield grouped(d.groups, perIn, c);
      break;
    }
    case "avgPool2d":
    case "maxPool2d": {
      const count = d.op === "avgPool2d" && d.countIncludePad;
      const make = (
        kernel: Pair,
        stride: Pair,
        padding: Padding,
        countIncludePad: boolean,
        ceilMode: boolean,
      ) =>
      () =>
        d.op === "avgPool2d"
          ? avgPool2d({
            kernel,
            stride,
            padding: poolPadding(padding, kernel),
            countIncludePad,
            ceilMode,
          })
          : maxPool2d({ kernel, stride, padding: poolPadding(padding, kernel), ceilMode });
      if (d.ceilMode) yield to(make(d.kernel, d.stride, d.padding, count, false));
      if (count) yield to(make(d.kernel, d.stride, d.padding, false, d.ceilMode));
      for (const window of simplerWindows(d.kernel, d.stride, d.padding, [1, 1])) {
        yield to(make(window.kernel, window.stride, window.padding, count, d.ceilMode));
      }
      break;
    }
    case "channelShuffle": {
      const perGroup = shapes[0][3] / d.groups;
      for (const g of fewer(d.groups)) {
        yield to(() => channelShuffle({ groups: g }), [resized(shapes[0], 3, g * perGroup)]);
      }
      for (const p of fewer(perGroup)) yield to(() => d, [resized(shapes[0], 3, d.groups * p)]);
      break;
    }
    case "add":
      if (d.activation !== "none") yield to(() => add());
      if (isClamp(d.activation)) yield to(() => add({ activation: "relu" }));
      if (shapes[0].length > 1) yield to(() => d, [shapes[0].slice(1), shapes[0].slice(1)]);
      break;
    case "concat":
      if (d.activation !== "none") yield to(() => concat());
      if (isClamp(d.activation)) yield to(() => concat({ activation: "relu" }));
      for (let i = 0; i < shapes.length && shapes.length > 1; i++) {
        const kept = shapes.map((_, j) => j).filter((j) => j !== i);
        yield to(() => d, kept.map((j) => shapes[j]), kept);
      }
      for (let i = 0; i < shapes.length; i++) {
        for (const c of fewer(shapes[i][3])) {
          yield to(() => d, shapes.with(i, resized(shapes[i], 3, c)));
        }
      }
      break;
    case "fullyConnected": {
      const o = {
        inFeatures: d.inFeatures,
        outFeatures: d.outFeatures,
        bias: d.bias,
        activation: d.activation,
      };
      if (d.activation !== "none") yield to(() => fullyConnected({ ...o, activation: "none" }));
      if (isClamp(d.activation)) yield to(() => fullyConnected({ ...o, activation: "relu" }));
      if (d.bias) yield to(() => fullyConnected({ ...o, bias: false }));
      for (const f of fewer(d.outFeatures)) {
        yield to(() => fullyConnected({ ...o, outFeatures: f }));
      }
      if (shapes[0].length > 2) yield to(() => d, [[shapes[0][0], d.inFeatures]]);
      for (let axis = 1; axis < shapes[0].length; axis++) {
        for (const size of fewer(shapes[0][axis])) {
          const shape = resized(shapes[0], axis, size);
          const inFeatures = shapeSize(shape) / shape[0];
          yield to(() => fullyConnected({ ...o, inFeatures }), [shape]);
        }
      }
      break;
    }
    case "softmax":
      if (shapes[0].length > 1) yield to(() => d, [shapes[0].slice(1)]);
      break;
    case "globalAvgPool":
      break;
  }
  for (const axis of freeAxes(d, shapes[0])) {
    for (const size of fewer(shapes[0][axis])) {
      yield to(() => d, shapes.map((shape) => resized(shape, axis, size)));
    }
  }
}

/** Options of {@link shrinkCase}. */
export interface ShrinkOptions {
  /** Most candidate cases to try (calls of `stillFails`). Default 400. */
  readonly maxAttempts?: number;
}

/**
 * Reduces a failing case while it still fails: fewer non-finite values,
 * batch 1, the plainest options (activation none, or relu for a clamp; no
 * bias, kernel 1, stride 1, dilation 1, no padding, fewer groups, floor
 * mode, no `countIncludePad`), then fewer inputs, channels, features and
 * pixels. Tries candidates one step simpler, keeps the first that
 * `stillFails`, and repeats until none fails or `maxAttempts` candidates
 * were tried. Non-finite values move with
 * their coordinates (clamped into the smaller shape); the data seed is kept.
 *
 * @param testCase A case that fails.
 * @param stillFails Whether a candidate still fails, e.g. `runCase` not `ok`.
 * @returns The simplest failing case found (`testCase` itself if nothing simpler fails).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fuzzCase, shrinkCase } from "@mobileops/conformance";
 * // A stand-in bug: any add of more than 3 elements fails.
 * const failing = (c: { descriptor: { op: string }; inputShapes: readonly (readonly number[])[] }) =>
 *   c.descriptor.op === "add" && c.inputShapes[0].reduce((a, b) => a * b) > 3;
 * let index = 0;
 * while (!failing(fuzzCase(1, index))) index++;
 * const minimal = await shrinkCase(fuzzCase(1, index), (c) => Promise.resolve(failing(c)));
 * assert.equal(minimal.inputShapes[0].reduce((a, b) => a * b), 4);
 * assert.equal(minimal.specials, undefined);
 * ```
 */
export async function shrinkCase(
  testCase: ConformanceCase,
  stillFails: (candidate: ConformanceCase) => Promise<boolean>,
  options: ShrinkOptions = {},
): Promise<ConformanceCase> {
  const maxAttempts = options.maxAttempts ?? 400;
  let current = testCase;
  let attempts = 0;
  search: while (attempts < maxAttempts) {
    const size = complexity(current);
    for (const candidate of reductions(current)) {
      if (candidate === undefined || !smaller(complexity(candidate), size)) continue;
      if (attempts++ >= maxAttempts) break search;
      if (await stillFails(candidate)) {
        current = candidate;
        continue search;
      }
    }
    break;
  }
  return current;
}
