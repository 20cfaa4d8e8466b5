import assert from "node:assert/strict";
import { fullyConnected } from "@mobileops/core";
import { randomFloat32, seededRandom } from "./random.ts";
import { reference, type ReferenceResult } from "./reference.ts";
import {
  bitExact,
  FLOAT32_UNIT_ROUNDOFF,
  gamma,
  TOLERANCE_FACTOR,
  TOLERANCE_FLOOR,
  toleranceAt,
  withinTolerance,
} from "./tolerance.ts";

function result(values: number[], magnitude: number[], accumulation: number): ReferenceResult {
  return {
    shape: [values.length],
    values: new Float64Array(values),
    magnitude: new Float64Array(magnitude),
    accumulation,
  };
}

Deno.test("gamma is K·u / (1 − K·u) and refuses K·u ≥ 1", () => {
  const u = FLOAT32_UNIT_ROUNDOFF;
  assert.equal(u, 5.960464477539063e-8);
  assert.equal(gamma(9), (9 * u) / (1 - 9 * u));
  assert.ok(gamma(1000) > 1000 * u);
  assert.throws(() => gamma(2 ** 24), RangeError);
});

Deno.test("toleranceAt scales with K and the magnitude", () => {
  const expected = result([0, 0], [1, 4], 9);
  assert.equal(toleranceAt(expected, 0), TOLERANCE_FACTOR * gamma(9) + TOLERANCE_FLOOR);
  assert.equal(toleranceAt(expected, 1), 4 * TOLERANCE_FACTOR * gamma(9) + TOLERANCE_FLOOR);
});

Deno.test("withinTolerance: accepts the bound, rejects just past it, reports the worst", () => {
  const expected = result([1, 2, 3], [10, 10, 10], 100);
  const bound = toleranceAt(expected, 0);
  const atBound = withinTolerance([1 + bound, 2 - bound / 2, 3], expected);
  assert.ok(atBound.ok);
  assert.equal(atBound.worstIndex, 0);
  assert.ok(Math.abs(atBound.worstRatio - 1) < 1e-6);
  const past = withinTolerance([1, 2 - 1.01 * bound, 3], expected);
  assert.ok(!past.ok);
  assert.equal(past.failures, 1);
  assert.equal(past.worstIndex, 1);
  assert.match(past.detail, /\[1\]/);
});

Deno.test("withinTolerance: NaN and length mismatches fail", () => {
  const expected = result([1, 2], [1, 2], 4);
  const nan = withinTolerance([1, NaN], expected);
  assert.ok(!nan.ok);
  assert.equal(nan.worstRatio, Infinity);
  assert.ok(!withinTolerance([1], expected).ok);
});

Deno.test("bitExact: any difference fails, -0 equals 0", () => {
  const expected = result([0, 1.5, -2], [0, 1.5, 2], 0);
  assert.ok(bitExact(new Float32Array([-0, 1.5, -2]), expected).ok);
  const off = bitExact([0, 1.5 + 2 ** -20, -2], expected);
  assert.ok(!off.ok);
  assert.equal(off.worstIndex, 1);
});

Deno.test("an honest float32 dot product, in any order, stays within tolerance", () => {
  // Recursive float32 summation forward, backward and pairwise, with and without bias.
  const random = seededRandom(99);
  const f = Math.fround;
  const pairwise = (terms: number[]): number =>
    terms.length === 1
      ? terms[0]
      : f(pairwise(terms.slice(0, terms.length >> 1)) + pairwise(terms.slice(terms.length >> 1)));
  let worst = 0;
  for (const inFeatures of [1, 7, 64, 1000, 4000]) {
    const d = fullyConnected({ inFeatures, outFeatures: 8, bias: true });
    const weights = {
      weights: randomFloat32(random, inFeatures * 8),
      bias: randomFloat32(random, 8),
    };
    const x = randomFloat32(random, inFeatures, 4);
    const expected = reference(d, weights, [{ shape: [1, inFeatures], data: x }]);
    for (const order of ["forward", "backward", "pairwise"] as const) {
      const actual = new Float32Array(8);
      for (let o = 0; o < 8; o++) {
        const terms = [weights.bias[o]];
        for (let i = 0; i < inFeatures; i++) {
          terms.push(f(x[i] * weights.weights[o * inFeatures + i]));
        }
        if (order === "backward") terms.reverse();
        actual[o] = order === "pairwise" ? pairwise(terms) : terms.reduce((s, t) => f(s + t));
      }
      const comparison = withinTolerance(actual, expected);
      assert.ok(comparison.ok, `${order} K=${inFeatures}: ${comparison.detail}`);
      worst = Math.max(worst, comparison.worstRatio);
    }
  }
  // The emulation really rounded (a float64 sum would give 0 or the final rounding only).
  assert.ok(worst > 0, `worst ratio ${worst}`);
});

Deno.test("withinTolerance: a non-finite reference value must come back exactly", () => {
  const expected = result([NaN, Infinity, -Infinity, 2], [0, 0, 0, 2], 4);
  const exact = withinTolerance([NaN, Infinity, -Infinity, 2], expected);
  assert.ok(exact.ok);
  assert.equal(exact.worstRatio, 0);
  for (
    const [index, wrong] of [[0, 0], [0, Infinity], [1, -Infinity], [1, 3.4e38], [2, NaN]] as const
  ) {
    const actual = [NaN, Infinity, -Infinity, 2];
    actual[index] = wrong;
    const comparison = withinTolerance(actual, expected);
    assert.ok(!comparison.ok, `${wrong} for ${expected.values[index]}`);
    assert.equal(comparison.worstIndex, index);
    assert.equal(comparison.worstRatio, Infinity);
    assert.match(comparison.detail, /exactly$/);
  }
  // An infinity where the reference is finite fails like NaN does.
  assert.ok(!withinTolerance([NaN, Infinity, -Infinity, Infinity], expected).ok);
});

Deno.test("bitExact: NaN matches NaN, and nothing else", () => {
  const expected = result([NaN, -Infinity], [0, 0], 0);
  assert.ok(bitExact(new Float32Array([NaN, -Infinity]), expected).ok);
  assert.ok(!bitExact(new Float32Array([0, -Infinity]), expected).ok);
  assert.ok(!bitExact(new Float32Array([NaN, NaN]), expected).ok);
  assert.ok(!bitExact(new Float32Array([NaN, Infinity]), expected).ok);
});

Deno.test("finite outputs of a sum with a non-finite term elsewhere keep a finite tolerance", () => {
  const d = fullyConnected({ inFeatures: 3, outFeatures: 2, activation: "relu" });
  // Row 0 sums to −∞ (ReLU gives 0), row 1 is finite.
  const weights = { weights: new Float32Array([1, 1, 1, 1, 1, 1]) };
  const expected = reference(d, weights, [{ shape: [2, 3], data: [-Infinity, 1, 2, 1, 2, 3] }]);
  assert.deepEqual(Array.from(expected.values), [0, 0, 6, 6]);
  for (let i = 0; i < 4; i++) assert.ok(Number.isFinite(toleranceAt(expected, i)));
  assert.ok(withinTolerance(new Float32Array([0, 0, 6, 6]), expected).ok);
  assert.ok(!withinTolerance(new Float32Array([0, 0.001, 6, 6]), expected).ok);
});
