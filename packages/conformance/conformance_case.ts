/**
 * What a conformance case is — an operator call, the seed of its data and
 * the non-finite values placed into its inputs — and how a case is named.
 * The case tables (cases.ts, non_finite.ts, extreme_sizes.ts) build on it.
 *
 * @module
 */

import {
  type Activation,
  activationBounds,
  clamp,
  type OpDescriptor,
  type Padding,
  type Pair,
  type Shape,
} from "@mobileops/core";

/**
 * One value written into a case's input after the seeded draw, replacing
 * the drawn one: how the suite feeds NaN and ±Infinity to a backend.
 */
export interface SpecialValue {
  /** Which operator input: an index into the case's `inputShapes`. */
  readonly input: number;
  /** Flat row-major index into that input (NHWC: `((n·H + y)·W + x)·C + c`). */
  readonly index: number;
  /** The value written there: NaN, `Infinity` or `-Infinity`. */
  readonly value: number;
}

/** One operator call to check: descriptor, input shapes and the seed of its data. */
export interface ConformanceCase {
  /** Unique, and enough to reproduce the case. */
  readonly name: string;
  /** The operator call under test; its weights come from `caseData`. */
  readonly descriptor: OpDescriptor;
  /** One per operator input: NHWC, `[batch, …]` for fully connected, any rank for softmax. */
  readonly inputShapes: readonly Shape[];
  /** Seed of the inputs and weights (`caseData`). */
  readonly seed: number;
  /**
   * Inputs are drawn uniformly from `[low, high]`; wide enough for every
   * finite bound of the activation to clamp often.
   */
  readonly inputRange: readonly [low: number, high: number];
  /**
   * Values written into the inputs after the seeded draw (in order, so a
   * later one at the same place wins); none when absent. Weights are never
   * special: core refuses non-finite weights at prepare.
   */
  readonly specials?: readonly SpecialValue[];
}

/** A named group of cases, reported together. */
export interface CaseTable {
  /** Names the test step and prefixes each case's name, e.g. `"network layers"`. */
  readonly name: string;
  /** The same cases, with the same seeds, on every run. */
  readonly cases: readonly ConformanceCase[];
}

function pairText(pair: Pair): string {
  return `${pair[0]}x${pair[1]}`;
}

function paddingText(padding: Padding): string {
  return typeof padding === "string" ? padding : `[${padding.join(",")}]`;
}

/**
 * An activation as a case name shows it: its name, or `clamp[min,max]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clamp } from "@mobileops/core";
 * import { activationText } from "./conformance_case.ts";
 * assert.equal(activationText("relu6"), "relu6");
 * assert.equal(activationText(clamp(-Infinity, 0.5)), "clamp[-Infinity,0.5]");
 * ```
 */
export function activationText(activation: Activation): string {
  return typeof activation === "string" ? activation : `clamp[${activation.min},${activation.max}]`;
}

/** Input shapes a description lists before eliding the middle ones. */
const MAX_LISTED_SHAPES = 6;

/**
 * A short readable description of a descriptor applied to `inputShapes`
 * (past six inputs, the middle ones are elided).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeCall } from "@mobileops/conformance";
 * import { add, channelShuffle, clamp, concat, maxPool2d } from "@mobileops/core";
 * assert(describeCall(channelShuffle({ groups: 3 }), [[1, 2, 2, 6]]) === "channelShuffle g3 in 1x2x2x6");
 * assert.equal(describeCall(add({ activation: clamp(-1, 1) }), [[3], [3]]), "add clamp[-1,1] in 3 + 3");
 * assert.equal(
 *   describeCall(maxPool2d({ kernel: 3, stride: 2, ceilMode: true }), [[1, 4, 4, 1]]),
 *   "maxPool2d 3x3 s2x2 valid ceil in 1x4x4x1",
 * );
 * const many = Array.from({ length: 9 }, (_, i) => [1, 1, 1, i + 1]);
 * assert.equal(
 *   describeCall(concat(), many),
 *   "concat none in 1x1x1x1 + 1x1x1x2 + 1x1x1x3 + 1x1x1x4 + 1x1x1x5 + … + 1x1x1x9 (9 inputs)",
 * );
 * ```
 */
export function describeCall(descriptor: OpDescriptor, inputShapes: readonly Shape[]): string {
  const listed = inputShapes.length > MAX_LISTED_SHAPES
    ? [...inputShapes.slice(0, MAX_LISTED_SHAPES - 1), ["…"], inputShapes.at(-1)!]
    : inputShapes;
  const shapes = listed.map((shape) => shape.join("x")).join(" + ") +
    (listed === inputShapes ? "" : ` (${inputShapes.length} inputs)`);
  switch (descriptor.op) {
    case "conv2d": {
      const d = descriptor;
      return `conv2d ${pairText(d.kernel)} s${pairText(d.stride)} d${pairText(d.dilation)} ` +
        `${paddingText(d.padding)} g${d.groups} ${d.inChannels}->${d.outChannels}` +
        `${d.bias ? " bias" : ""} ${activationText(d.activation)} in ${shapes}`;
    }
    case "avgPool2d":
    case "maxPool2d":
      return `${descriptor.op} ${pairText(descriptor.kernel)} s${pairText(descriptor.stride)} ` +
        `${paddingText(descriptor.padding)}` +
        `${descriptor.op === "avgPool2d" && descriptor.countIncludePad ? " countIncludePad" : ""}` +
        `${descriptor.ceilMode ? " ceil" : ""} in ${shapes}`;
    case "channelShuffle":
      return `channelShuffle g${descriptor.groups} in ${shapes}`;
    case "add":
    case "concat":
      return `${descriptor.op} ${activationText(descriptor.activation)} in ${shapes}`;
    case "fullyConnected":
      return `fullyConnected ${descriptor.inFeatures}->${descriptor.outFeatures}` +
        `${descriptor.bias ? " bias" : ""} ${activationText(descriptor.activation)} in ${shapes}`;
    case "globalAvgPool":
    case "softmax":
      return `${descriptor.op} in ${shapes}`;
  }
}

/** Special values a name lists before counting the rest. */
const MAX_LISTED_SPECIALS = 8;

/**
 * The special values of a case as text, `" with in0[17]=NaN in1[3]=-Infinity"`,
 * or `""` when there are none; past eight, the rest are counted. Appended to
 * case names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeSpecials } from "./conformance_case.ts";
 * assert.equal(describeSpecials([{ input: 1, index: 3, value: -Infinity }]), " with in1[3]=-Infinity");
 * const many = Array.from({ length: 10 }, (_, index) => ({ input: 0, index, value: NaN }));
 * assert(describeSpecials(many).endsWith("in0[7]=NaN and 2 more"));
 * ```
 */
export function describeSpecials(specials: readonly SpecialValue[] = []): string {
  if (specials.length === 0) return "";
  const listed = specials.slice(0, MAX_LISTED_SPECIALS)
    .map((s) => `in${s.input}[${s.index}]=${s.value}`);
  const rest = specials.length - listed.length;
  return ` with ${listed.join(" ")}${rest > 0 ? ` and ${rest} more` : ""}`;
}

/** A clamp activation the case tables sweep, under a short name. */
export interface ClampKind {
  /** What is special about the bounds, e.g. `"min = max"`. */
  readonly name: string;
  /** The clamp, from core's {@link clamp} (never one of the named forms). */
  readonly activation: Activation;
}

/**
 * The clamp bounds every operator with an activation is swept with: finite
 * on both sides, one side only (either way), equal bounds, bounds narrower
 * than the data, ranges above zero and below it, and bounds that are not
 * float32 values (a float32 backend clamps to their float32 rounding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLAMP_KINDS } from "./conformance_case.ts";
 * assert(CLAMP_KINDS.every((kind) => typeof kind.activation === "object"));
 * assert(CLAMP_KINDS.some((kind) => kind.name === "min = max"));
 * ```
 */
export const CLAMP_KINDS: readonly ClampKind[] = [
  { name: "symmetric", activation: clamp(-1, 1) },
  { name: "upper only", activation: clamp(-Infinity, 0) },
  { name: "lower only, above 0", activation: clamp(0.5, Infinity) },
  { name: "wide", activation: clamp(-6, 6) },
  { name: "min = max", activation: clamp(2, 2) },
  { name: "narrow", activation: clamp(-0.25, 0.25) },
  { name: "below 0", activation: clamp(-3, -1) },
  { name: "upper only, below 0", activation: clamp(-Infinity, -0.5) },
  { name: "not float32", activation: clamp(-0.1, 0.3) },
];

/** The largest finite bound of an activation, in magnitude (0 when it has none, or only 0). */
function widestBound(activation: Activation): number {
  return Math.max(0, ...activationBounds(activation).filter(Number.isFinite).map(Math.abs));
}

/**
 * Input range for a convolution of `terms` products: wide enough that every
 * finite bound of the activation clamps often (a clamp at the wrong level
 * would otherwise pass unnoticed). Inputs and weights uniform in `[−s, s]`
 * and `[−1, 1]` give sums with standard deviation about `s·√terms / 3`;
 * `s` makes that the widest finite bound `B` (`s = 3B/√terms`), at least 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clamp } from "@mobileops/core";
 * import { convRange } from "./conformance_case.ts";
 * assert.deepEqual(convRange("relu", 9), [-1, 1]);
 * assert.deepEqual(convRange("relu6", 9), [-6, 6]);
 * assert.deepEqual(convRange(clamp(-Infinity, -3), 4), [-4.5, 4.5]);
 * ```
 */
export function convRange(activation: Activation, terms: number): [number, number] {
  const scale = Math.max(1, (3 * widestBound(activation)) / Math.sqrt(terms));
  return [-scale, scale];
}

/**
 * Input range for an element-wise operator's activation: the identity and
 * ReLU `[−1, 1]`, ReLU6 `[−8, 8]` (so 6 clamps); a clamp to `[lo, hi]` gets
 * its bounds widened by `d = max((hi − lo)/2, 1, |finite bound|)` each side
 * (a missing bound mirrors the other), so at least a quarter of the values
 * lie past each finite bound. For `add` (`inputs: 2`) each input gets half
 * the range, so the sum spans it (and at least an eighth of the sums lie
 * past each finite bound).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clamp } from "@mobileops/core";
 * import { glueRange } from "./conformance_case.ts";
 * assert.deepEqual(glueRange("relu6"), [-8, 8]);
 * assert.deepEqual(glueRange(clamp(-1, 1)), [-2, 2]);
 * assert.deepEqual(glueRange(clamp(2, 2)), [0, 4]);
 * assert.deepEqual(glueRange(clamp(0.5, Infinity), 2), [-0.25, 0.75]);
 * ```
 */
export function glueRange(activation: Activation, inputs: 1 | 2 = 1): [number, number] {
  if (activation === "none" || activation === "relu") return [-1, 1];
  if (activation === "relu6") return [-8, 8];
  const [min, max] = activationBounds(activation);
  const low = Number.isFinite(min) ? min : max;
  const high = Number.isFinite(max) ? max : min;
  const margin = Math.max((high - low) / 2, 1, widestBound(activation));
  return [(low - margin) / inputs, (high + margin) / inputs];
}
