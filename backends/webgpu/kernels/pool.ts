/**
 * What the pooling variants share: the program around a window reduction
 * (the window walk with the kernel size as `override` constants, one
 * output channel per invocation or four as a `vec4f`), its uniform fields
 * (sizes, stride, all four paddings, whether padding counts in an
 * average's divisor), and the kernel that picks the width by channel count
 * (`poolKernel`).
 *
 * @module
 */

import type { AvgPool2dDescriptor, MaxPool2dDescriptor, OpGeometry } from "@mobileops/core";
import type { Program, Step, UniformField, WebGpuContext, WebGpuKernel } from "../kernel.ts";
import { windowSpan } from "./spans.ts";
import { elementMain, elementWorkgroupSize, type Lanes, SCALAR, VEC4 } from "./wgsl.ts";

/**
 * Uniform fields of the pooling programs (the kernel size is a pair of
 * `override` constants instead).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { POOL_FIELDS } from "./pool.ts";
 * assert.equal(POOL_FIELDS.length, 12);
 * ```
 */
export const POOL_FIELDS: readonly UniformField[] = [
  ...(["h", "w", "c", "oh", "ow", "sh", "sw"] as const).map((name): UniformField => [name, "u32"]),
  ["top", "i32"],
  ["bottom", "i32"],
  ["left", "i32"],
  ["right", "i32"],
  ["include_pad", "u32"],
];

/**
 * The one step of a pooling program: a unit per output element, or per 4
 * adjacent channels of one output pixel when `lanes` is 4 (the output has
 * the input's channels), its input span the window rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inferGeometry, maxPool2d } from "@mobileops/core";
 * import type { Program } from "../kernel.ts";
 * import { poolStep } from "./pool.ts";
 * const d = maxPool2d({ kernel: 2 });
 * const step = poolStep({} as Program, 1, inferGeometry(d, [[1, 4, 4, 3]]), d);
 * assert.equal(step.units, 12);
 * assert.deepEqual(step.span(1, 6, 12), [24, 48]); // output row 1: input rows 2–3
 * const wide = poolStep({} as Program, 4, inferGeometry(d, [[1, 4, 4, 8]]), d);
 * assert.equal(wide.units, 8);
 * assert.deepEqual(wide.span(0, 2, 4), [8, 16]);
 * ```
 */
export function poolStep(
  program: Program,
  lanes: 1 | 4,
  geometry: OpGeometry,
  descriptor: AvgPool2dDescriptor | MaxPool2dDescriptor,
): Step {
  const [, h, w, c] = geometry.inputShapes[0];
  const [n, oh, ow] = geometry.outputShape;
  const [top, bottom, left, right] = geometry.padding;
  const includePad = descriptor.op === "avgPool2d" && descriptor.countIncludePad ? 1 : 0;
  const { kernel: [kh], stride: [sh, sw] } = descriptor;
  const rows = { h, w, c, oh, ow, oc: c, sh, top, extent: kh };
  return {
    program,
    units: (n * oh * ow * c) / lanes,
    values: [h, w, c, oh, ow, sh, sw, top, bottom, left, right, includePad],
    reads: [{ input: 0 }],
    span: (binding, start, end) =>
      binding === 0 ? [start * lanes, end * lanes] : windowSpan(rows, start * lanes, end * lanes),
  };
}

/**
 * A reduction over a pooling window, as WGSL at a lane width: what comes
 * before the walk, what each image cell adds (its value or values in `v`),
 * and what follows it, ending with `let out` (the output value or values).
 * Between them the program defines `KH`, `KW` (the window) and `y0`, `x0`
 * (its first row and column, maybe in the padding).
 */
export interface PoolReduction {
  /** Declarations before the walk. */
  start(lanes: Lanes): string;
  /** Statements per image cell of the window (padding and overhang are skipped). */
  cell(lanes: Lanes): string;
  /** Statements after the walk that define `out`. */
  finish(lanes: Lanes): string;
}

function poolBody(reduction: PoolReduction, lanes: Lanes, workgroupSize: number): string {
  const s = lanes.suffix;
  return `override KH: u32;
override KW: u32;
fn unit(u: u32) {
  let e = u * ${lanes.count}u;
  let ch = e % p.c;
  let pixel = e / p.c;
  let ox = pixel % p.ow;
  let row = pixel / p.ow;
  let oy = row % p.oh;
  let n = row / p.oh;
  let y0 = i32(oy * p.sh) - p.top;
  let x0 = i32(ox * p.sw) - p.left;
  ${reduction.start(lanes)}
  // Constant trip counts (the window, not its clipped part) let the compiler unroll the walk.
  for (var ky = 0u; ky < KH; ky++) {
    let y = y0 + i32(ky);
    if (y < 0 || y >= i32(p.h)) { continue; }
    let base = (n * p.h + u32(y)) * p.w;
    for (var kx = 0u; kx < KW; kx++) {
      let x = x0 + i32(kx);
      if (x < 0 || x >= i32(p.w)) { continue; }
      let v = load${s}_x((base + u32(x)) * p.c + ch);
      ${reduction.cell(lanes)}
    }
  }
  ${reduction.finish(lanes)}
  store${s}_y(e, out);
}
${elementMain(workgroupSize)}`;
}

/**
 * The kernel of a pooling variant: `reduction`'s program at both widths,
 * compiled with the descriptor's kernel size as `override` constants (one
 * pipeline per kernel size and width, from the backend-wide cache: the
 * stride only places a window, so it stays a uniform), and a plan that takes 4 channels per invocation as
 * `vec4f`s when the channel count is a multiple of 4, else one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inferGeometry, maxPool2d } from "@mobileops/core";
 * import type { Program, ProgramSpec, WebGpuContext } from "../kernel.ts";
 * import { poolKernel } from "./pool.ts";
 * const specs: ProgramSpec[] = [];
 * const context = {
 *   limits: { maxComputeInvocationsPerWorkgroup: 256 },
 *   program: (spec: ProgramSpec) => (specs.push(spec), Promise.resolve({ spec } as Program)),
 * } as WebGpuContext;
 * const d = maxPool2d({ kernel: 3, stride: 2 });
 * const kernel = await poolKernel("f32-toy-pool-wgsl", d, context, {
 *   start: (lanes) => `var total = ${lanes.type}(0.0);`,
 *   cell: () => "total += v;",
 *   finish: () => "let out = total;",
 * });
 * assert.deepEqual(specs[0].constants, { KH: 3, KW: 3 });
 * const [step] = kernel.plan(inferGeometry(d, [[1, 5, 5, 8]]));
 * assert.equal(step.program.spec.key, "vec4");
 * assert.equal(step.units, 8);
 * ```
 */
export async function poolKernel(
  variant: string,
  descriptor: AvgPool2dDescriptor | MaxPool2dDescriptor,
  context: WebGpuContext,
  reduction: PoolReduction,
): Promise<WebGpuKernel> {
  const workgroupSize = elementWorkgroupSize(context.limits);
  const [kh, kw] = descriptor.kernel;
  const [scalar, vec4] = await Promise.all(
    [SCALAR, VEC4].map((lanes) =>
      context.program({
        variant,
        key: lanes.count === 1 ? "" : "vec4",
        reads: ["x"],
        ...(lanes.count === 1 ? {} : { vec4: ["x", "y"] }),
        fields: POOL_FIELDS,
        constants: { KH: kh, KW: kw },
        workgroupSize,
        unitsPerWorkgroup: workgroupSize,
        body: poolBody(reduction, lanes, workgroupSize),
      })
    ),
  );
  return {
    weights: [],
    plan: (geometry) => {
      const lanes = geometry.inputShapes[0][3] % 4 === 0 ? 4 : 1;
      return [poolStep(lanes === 4 ? vec4 : scalar, lanes, geometry, descriptor)];
    },
  };
}
