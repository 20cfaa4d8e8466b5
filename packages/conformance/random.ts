/**
 * Deterministic pseudo-random numbers for test data: the same seed gives the
 * same tensors on every machine, so a failing conformance case can be rerun
 * exactly from its seed.
 *
 * @module
 */

/**
 * A deterministic generator of uniform numbers in `[0, 1)`. It walks a Weyl
 * sequence and scrambles each step with a 32-bit integer hash, so nearby
 * seeds give unrelated streams.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seededRandom } from "@mobileops/conformance";
 * const a = seededRandom(7), b = seededRandom(7);
 * const first = a();
 * assert(first === b() && first >= 0 && first < 1);
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 2 ** 32;
  };
}

/**
 * `length` float32 values drawn uniformly from `[-scale, scale]` (rounding to float32 may
 * reach either end).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomFloat32, seededRandom } from "@mobileops/conformance";
 * const data = randomFloat32(seededRandom(1), 100, 2);
 * assert(data.length === 100 && data.every((v) => v >= -2 && v <= 2));
 * ```
 */
export function randomFloat32(random: () => number, length: number, scale = 1): Float32Array {
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = (2 * random() - 1) * scale;
  return data;
}

/**
 * Picks one element of `items` uniformly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pickOne, seededRandom } from "@mobileops/conformance";
 * assert([1, 3, 5].includes(pickOne(seededRandom(3), [1, 3, 5])));
 * ```
 */
export function pickOne<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}
