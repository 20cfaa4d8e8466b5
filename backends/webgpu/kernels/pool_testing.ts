/**
 * The pooling variants' shared test shapes: every window, stride, padding
 * kind and rounding mode over channel counts just around multiples of 4,
 * so that both the `vec4f` and the scalar program of `pool.ts` run.
 *
 * @module
 */

import { kernelCase } from "@mobileops/conformance";
import type { ConformanceCase } from "@mobileops/conformance";
import type { OpDescriptor, Padding, Pool2dOptions } from "@mobileops/core";

const WINDOWS = [[3, 2], [3, 1], [2, 2], [[1, 3], [1, 2]], [[3, 2], [2, 1]], [1, 1]] as const;

/**
 * Conformance cases of a pool built by `pool` from each window (kernel,
 * stride), padding (valid, same, or explicit top and right) and rounding
 * mode, over 3, 4, 5, 7, 8 and 12 channels; `seed` varies the rest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxPool2d } from "@mobileops/core";
 * import { poolCases } from "./pool_testing.ts";
 * const cases = poolCases((options) => maxPool2d(options));
 * assert.equal(cases.length, 72);
 * assert.equal(cases.filter((c) => c.inputShapes[0][3] % 4 === 0).length, 36);
 * ```
 */
export function poolCases(
  pool: (options: Pool2dOptions, seed: number) => OpDescriptor,
): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  let seed = 1;
  for (const [kernel, stride] of WINDOWS) {
    const [kh, kw] = typeof kernel === "number" ? [kernel, kernel] : kernel;
    // Explicit padding must stay below the kernel size: top and right only.
    const paddings: readonly Padding[] = ["valid", "same", [kh - 1, 0, 0, kw - 1]];
    for (const c of [3, 4, 5, 7, 8, 12]) {
      for (const ceilMode of [false, true]) {
        cases.push(kernelCase({
          descriptor: pool({ kernel, stride, padding: paddings[seed % 3], ceilMode }, seed),
          inputShapes: [[1 + (seed % 2), 7, 6, c]],
          seed: seed++,
        }));
      }
    }
  }
  return cases;
}
