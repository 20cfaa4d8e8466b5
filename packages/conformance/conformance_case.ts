/**
 * What a conformance case is — an operator call, the seed of its data and
 * the non-finite values placed into its inputs — and how a case is named.
 * The case tables (cases.ts, non_finite.ts, extreme_sizes.ts) build on it.
 *
 * @module
 */

import type { Activation, OpDescriptor, Padding, Pair, Shape } from "@mobileops/core";

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
  /** Inputs are drawn uniformly from `[low, high]`; wide enough for relu6 to clamp. */
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
 * import { channelShuffle, concat } from "@mobileops/core";
 * assert(describeCall(channelShuffle({ groups: 3 }), [[1, 2, 2, 6]]) === "channelShuffle g3 in 1x2x2x6");
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
        `${d.bias ? " bias" : ""} ${d.activation} in ${shapes}`;
    }
    case "avgPool2d":
    case "maxPool2d":
      return `${descriptor.op} ${pairText(descriptor.kernel)} s${pairText(descriptor.stride)} ` +
        `${paddingText(descriptor.padding)}` +
        `${descriptor.op === "avgPool2d" && descriptor.countIncludePad ? " countIncludePad" : ""}` +
        ` in ${shapes}`;
    case "channelShuffle":
      return `channelShuffle g${descriptor.groups} in ${shapes}`;
    case "add":
    case "concat":
      return `${descriptor.op} ${descriptor.activation} in ${shapes}`;
    case "fullyConnected":
      return `fullyConnected ${descriptor.inFeatures}->${descriptor.outFeatures}` +
        `${descriptor.bias ? " bias" : ""} ${descriptor.activation} in ${shapes}`;
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

/**
 * Input range for a convolution of `terms` products: wide enough that relu6
 * clamps often (a clamp at the wrong level would otherwise pass unnoticed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convRange } from "./conformance_case.ts";
 * assert.deepEqual(convRange("relu", 9), [-1, 1]);
 * assert.deepEqual(convRange("relu6", 9), [-6, 6]);
 * ```
 */
export function convRange(activation: Activation, terms: number): [number, number] {
  const scale = activation === "relu6" ? Math.max(1, 18 / Math.sqrt(terms)) : 1;
  return [-scale, scale];
}
