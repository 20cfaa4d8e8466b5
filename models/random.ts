/**
 * The deterministic generator behind seeded weight initialization.
 *
 * @module
 */

/**
 * Returns a generator of uniform floats in [0, 1) fully determined by
 * `seed` (mulberry32: 32-bit state, good enough spread for initial weights,
 * and identical on every platform since it uses only 32-bit integer math).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uniformGenerator } from "./random.ts";
 * const a = uniformGenerator(7), b = uniformGenerator(7);
 * assert(a() === b() && a() < 1);
 * ```
 */
export function uniformGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
