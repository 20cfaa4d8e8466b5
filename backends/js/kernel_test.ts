import assert from "node:assert/strict";
import { seededRandom } from "@mobileops/conformance";
import type { Activation } from "@mobileops/core";
import { activateRange, activationCode } from "./kernel.ts";

const CLAMPS: Readonly<Record<Activation, readonly [number, number]>> = {
  none: [-Infinity, Infinity],
  relu: [0, Infinity],
  relu6: [0, 6],
};

Deno.test("activateRange equals Math.min/Math.max clamping for every kind of float32", () => {
  const random = seededRandom(51);
  const special = [0, -0, 6, -6, 5.999999, 6.000001, 1e-45, -1e-45, 2 ** 52, 2 ** 53, 2 ** 60];
  const values = Float32Array.from([
    ...special,
    ...special.map((v) => -v),
    3.4e38,
    -3.4e38,
    Infinity,
    -Infinity,
    NaN,
    // Random magnitudes from 2^-40 to 2^40, both signs.
    ...Array.from({ length: 4000 }, () => (random() - 0.5) * 2 ** (80 * random() - 40)),
  ]);
  for (const activation of ["none", "relu", "relu6"] as const) {
    const [low, high] = CLAMPS[activation];
    const data = values.slice();
    activateRange(data, 0, data.length, activationCode(activation));
    values.forEach((value, i) => {
      const want = Math.fround(Math.min(Math.max(value, low), high));
      // −0 and +0 are one value to every comparison the conformance suite makes.
      assert(Object.is(data[i], want) || data[i] === want, `${activation}(${value}) = ${data[i]}`);
    });
  }
});

Deno.test("activateRange leaves values outside its range alone", () => {
  const data = new Float32Array([-1, -2, -3, -4]);
  activateRange(data, 1, 3, activationCode("relu"));
  assert.deepEqual([...data], [-1, 0, 0, -4]);
});
