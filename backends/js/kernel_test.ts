import assert from "node:assert/strict";
import { seededRandom } from "@mobileops/conformance";
import { type Activation, activationBounds, clamp } from "@mobileops/core";
import { activateRange, activationCode } from "./kernel.ts";

const ACTIVATIONS: readonly Activation[] = [
  "none",
  "relu",
  "relu6",
  clamp(-1, 1),
  clamp(-Infinity, 0),
  clamp(0.5, Infinity),
  clamp(2, 2),
  clamp(-3, -1),
  // Not float32 values: the result is the float32 rounding of the bound.
  clamp(-0.1, 0.3),
  clamp(-1e-40, 1e39),
];

Deno.test("activateRange equals Math.min/Math.max clamping for every kind of float32", () => {
  const random = seededRandom(51);
  const special = [0, -0, 6, -6, 5.999999, 6.000001, 1e-45, -1e-45, 2 ** 52, 2 ** 53, 2 ** 60];
  const values = Float32Array.from([
    ...special,
    ...special.map((v) => -v),
    0.1,
    0.3,
    -0.1,
    0.5,
    1,
    -1,
    2,
    3.4e38,
    -3.4e38,
    Infinity,
    -Infinity,
    NaN,
    // Random magnitudes from 2^-40 to 2^40, both signs.
    ...Array.from({ length: 4000 }, () => (random() - 0.5) * 2 ** (80 * random() - 40)),
  ]);
  for (const activation of ACTIVATIONS) {
    const [low, high] = activationBounds(activation).map(Math.fround);
    const data = values.slice();
    activateRange(data, 0, data.length, activationCode(activation));
    values.forEach((value, i) => {
      const want = Math.fround(Math.min(Math.max(value, low), high));
      // −0 and +0 are one value to every comparison the conformance suite makes.
      assert(
        Object.is(data[i], want) || data[i] === want,
        `${JSON.stringify(activation)}(${value}) = ${data[i]}`,
      );
    });
  }
});

Deno.test("activationCode keeps the named fast paths and passes other clamps' bounds", () => {
  assert.deepEqual(["none", "relu", "relu6"].map((a) => activationCode(a as Activation)), [
    0,
    1,
    2,
  ]);
  assert.equal(activationCode(clamp(0, 6)), 2);
  assert.deepEqual(activationCode(clamp(-6, 6)), { min: -6, max: 6 });
});

Deno.test("activateRange leaves values outside its range alone", () => {
  const data = new Float32Array([-1, -2, -3, -4]);
  activateRange(data, 1, 3, activationCode("relu"));
  assert.deepEqual([...data], [-1, 0, 0, -4]);
  activateRange(data, 0, 1, activationCode(clamp(-0.5, 0.5)));
  assert.deepEqual([...data], [-0.5, 0, 0, -4]);
});
