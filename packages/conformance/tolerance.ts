/**
 * How far a float32 result may lie from the float64 reference, and the
 * bit-exact comparison for operators that only move or select values.
 * docs/conformance.md gives the argument behind the bound.
 *
 * @module
 */

import type { ReferenceResult } from "./reference.ts";

/** `u`: the unit roundoff of float32 (round to nearest). */
export const FLOAT32_UNIT_ROUNDOFF: number = 2 ** -24;

/**
 * `c`: the factor over the worst-case bound `γ_K·M`. That bound is rigorous
 * for sums and dot products; the factor covers the reference's own float64
 * rounding and softmax's bound being first-order (docs/conformance.md).
 */
export const TOLERANCE_FACTOR = 2;

/**
 * Absolute slack for results a backend may flush to zero: float32 subnormals
 * (below 2^-126) on hardware without gradual underflow. Far below any value
 * the conformance cases produce otherwise.
 */
export const TOLERANCE_FLOOR: number = 2 ** -100;

/**
 * `γ_K = K·u / (1 − K·u)`: the worst relative error of a float32 sum of `K`
 * products, in any order, with or without fused multiply-add.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FLOAT32_UNIT_ROUNDOFF, gamma } from "@mobileops/conformance";
 * assert(gamma(0) === 0 && gamma(1) > FLOAT32_UNIT_ROUNDOFF);
 * ```
 */
export function gamma(accumulation: number): number {
  const ku = accumulation * FLOAT32_UNIT_ROUNDOFF;
  if (ku >= 1) throw new RangeError(`gamma: K = ${accumulation} is too long for float32 bounds`);
  return ku / (1 - ku);
}

/**
 * The allowed error of output `index`: `c·γ_K·magnitude[index] + floor`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toleranceAt } from "@mobileops/conformance";
 * const expected = {
 *   shape: [1], values: new Float64Array([1]), magnitude: new Float64Array([3]), accumulation: 9,
 * };
 * assert(toleranceAt(expected, 0) > 9 * 3 * 2 ** -24);
 * ```
 */
export function toleranceAt(expected: ReferenceResult, index: number): number {
  return TOLERANCE_FACTOR * gamma(expected.accumulation) * expected.magnitude[index] +
    TOLERANCE_FLOOR;
}

/** The outcome of comparing a result with the reference. */
export interface Comparison {
  /** Whether every output is within tolerance (or identical, for exact checks). */
  readonly ok: boolean;
  /**
   * Largest `|actual − expected| / tolerance`; above 1 fails. A non-finite
   * output counts 0 when it matches the reference exactly, and `Infinity`
   * when it does not (or the reference is finite), as does a length mismatch.
   */
  readonly worstRatio: number;
  /** Output with the worst ratio (the first mismatch, for exact checks); -1 when there is none. */
  readonly worstIndex: number;
  /** Outputs that failed. */
  readonly failures: number;
  /** One line saying where and by how much it failed; empty when `ok`. */
  readonly detail: string;
}

function lengthMismatch(actual: ArrayLike<number>, expected: ReferenceResult): Comparison {
  return {
    ok: false,
    worstRatio: Infinity,
    worstIndex: -1,
    failures: Math.max(actual.length, expected.values.length),
    detail: `${actual.length} values, expected ${expected.values.length}`,
  };
}

/** Equal, or both NaN: how an output the reference gives as NaN or ±∞ must come back. */
function identical(actual: number, expected: number): boolean {
  return actual === expected || (actual !== actual && expected !== expected);
}

/**
 * Compares `actual` with the reference under the accumulation-length
 * tolerance of {@link toleranceAt}. Where the reference is non-finite the
 * result must be too, exactly: NaN where it is NaN, the same infinity where
 * it is infinite. A non-finite result where the reference is finite fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reference, withinTolerance } from "@mobileops/conformance";
 * import { add } from "@mobileops/core";
 * const expected = reference(add(), undefined, [
 *   { shape: [3], data: [0.1, 1, NaN] },
 *   { shape: [3], data: [0.2, 2, 1] },
 * ]);
 * assert(withinTolerance(new Float32Array([0.1 + 0.2, 3, NaN]), expected).ok);
 * assert(!withinTolerance(new Float32Array([0.3001, 3, NaN]), expected).ok);
 * assert(!withinTolerance(new Float32Array([0.1 + 0.2, 3, 0]), expected).ok);
 * ```
 */
export function withinTolerance(
  actual: ArrayLike<number>,
  expected: ReferenceResult,
): Comparison {
  if (actual.length !== expected.values.length) return lengthMismatch(actual, expected);
  let worstRatio = 0;
  let worstIndex = -1;
  let failures = 0;
  for (let i = 0; i < actual.length; i++) {
    const want = expected.values[i];
    let ratio: number;
    if (Number.isFinite(want)) {
      const error = Math.abs(actual[i] - want);
      ratio = Number.isNaN(error) ? Infinity : error / toleranceAt(expected, i);
    } else {
      ratio = identical(actual[i], want) ? 0 : Infinity;
    }
    if (ratio > 1) failures++;
    if (worstIndex === -1 || ratio > worstRatio) {
      worstRatio = ratio;
      worstIndex = i;
    }
  }
  const bound = (i: number) =>
    Number.isFinite(expected.values[i])
      ? ` ± ${toleranceAt(expected, i).toExponential(2)} (${worstRatio.toPrecision(3)}×)`
      : " exactly";
  return {
    ok: failures === 0,
    worstRatio,
    worstIndex,
    failures,
    detail: failures === 0
      ? ""
      : `${failures} outputs out of tolerance; worst at [${worstIndex}]: ` +
        `got ${actual[worstIndex]}, expected ${expected.values[worstIndex]}${bound(worstIndex)}`,
  };
}

/**
 * Compares `actual` with the reference value for value, for operators that
 * only move or select float32 values: `===` (so −0 equals 0), except that
 * NaN matches NaN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitExact, reference } from "@mobileops/conformance";
 * import { concat } from "@mobileops/core";
 * const x = { shape: [1, 1, 1, 2], data: new Float32Array([0.1, NaN]) };
 * const expected = reference(concat(), undefined, [x, x]);
 * assert(bitExact(new Float32Array([0.1, NaN, 0.1, NaN]), expected).ok);
 * assert(!bitExact([0.1, NaN, 0.1, NaN], expected).ok); // 0.1 is not a float32
 * assert(!bitExact(new Float32Array([0.1, 0, 0.1, NaN]), expected).ok);
 * ```
 */
export function bitExact(actual: ArrayLike<number>, expected: ReferenceResult): Comparison {
  if (actual.length !== expected.values.length) return lengthMismatch(actual, expected);
  let failures = 0;
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    if (!identical(actual[i], expected.values[i])) {
      failures++;
      if (first === -1) first = i;
    }
  }
  return {
    ok: failures === 0,
    worstRatio: failures === 0 ? 0 : Infinity,
    worstIndex: first,
    failures,
    detail: failures === 0
      ? ""
      : `${failures} outputs differ; first at [${first}]: got ${actual[first]}, expected ${
        expected.values[first]
      }`,
  };
}
