/**
 * What the pooling variants share: uniform fields and values (sizes,
 * window, all four paddings, whether padding counts in an average's
 * divisor) and the step over output elements with its span.
 *
 * @module
 */

import type { AvgPool2dDescriptor, MaxPool2dDescriptor, OpGeometry } from "@mobileops/core";
import type { Program, Step, UniformField } from "../kernel.ts";
import { windowSpan } from "./spans.ts";

/**
 * Uniform fields of the pooling programs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { POOL_FIELDS } from "./pool.ts";
 * assert.equal(POOL_FIELDS.length, 14);
 * ```
 */
export const POOL_FIELDS: readonly UniformField[] = [
  ...(["h", "w", "c", "oh", "ow", "kh", "kw", "sh", "sw"] as const).map(
    (name): UniformField => [name, "u32"],
  ),
  ["top", "i32"],
  ["bottom", "i32"],
  ["left", "i32"],
  ["right", "i32"],
  ["include_pad", "u32"],
];

/**
 * The one step of a pooling program: a unit per output element (the
 * output has the input's channels), its input span the window rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inferGeometry, maxPool2d } from "@mobileops/core";
 * import type { Program } from "../kernel.ts";
 * import { poolStep } from "./pool.ts";
 * const d = maxPool2d({ kernel: 2 });
 * const step = poolStep({} as Program, d, inferGeometry(d, [[1, 4, 4, 3]]));
 * assert.equal(step.units, 12);
 * assert.deepEqual(step.span(1, 6, 12), [24, 48]); // output row 1: input rows 2–3
 * ```
 */
export function poolStep(
  program: Program,
  descriptor: AvgPool2dDescriptor | MaxPool2dDescriptor,
  geometry: OpGeometry,
): Step {
  const [, h, w, c] = geometry.inputShapes[0];
  const [n, oh, ow] = geometry.outputShape;
  const [top, bottom, left, right] = geometry.padding;
  const { kernel: [kh, kw], stride: [sh, sw] } = descriptor;
  const includePad = descriptor.op === "avgPool2d" && descriptor.countIncludePad ? 1 : 0;
  const rows = { h, w, c, oh, ow, oc: c, sh, top, extent: kh };
  return {
    program,
    units: n * oh * ow * c,
    values: [h, w, c, oh, ow, kh, kw, sh, sw, top, bottom, left, right, includePad],
    reads: [{ input: 0 }],
    span: (binding, start, end) => binding === 0 ? [start, end] : windowSpan(rows, start, end),
  };
}

/**
 * WGSL that decodes output element `u` of a pool into channel `ch`, batch
 * `n` and the window's first row and column `y0`, `x0`, and clips the
 * window to the image: rows `ys ≤ y < ye`, columns `xs ≤ x < xe` (never
 * empty: every window holds an image cell).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { POOL_WINDOW_WGSL } from "./pool.ts";
 * assert.match(POOL_WINDOW_WGSL, /let ye = min\(y0 \+ i32\(p\.kh\), i32\(p\.h\)\);/);
 * ```
 */
export const POOL_WINDOW_WGSL = `
  let ch = u % p.c;
  let pixel = u / p.c;
  let ox = pixel % p.ow;
  let row = pixel / p.ow;
  let oy = row % p.oh;
  let n = row / p.oh;
  let y0 = i32(oy * p.sh) - p.top;
  let x0 = i32(ox * p.sw) - p.left;
  let ys = max(y0, 0);
  let ye = min(y0 + i32(p.kh), i32(p.h));
  let xs = max(x0, 0);
  let xe = min(x0 + i32(p.kw), i32(p.w));`;
