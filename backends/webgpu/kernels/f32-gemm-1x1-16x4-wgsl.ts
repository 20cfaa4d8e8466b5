/**
 * `f32-gemm-1x1-16x4-wgsl`: pointwise and group 1×1 convolutions (stride
 * 1, no padding) whose channel counts per group and input channels are
 * multiples of 4, as a matrix product `[pixels × Cg] · [Cg × Og]` per
 * group.
 *
 * Each invocation computes a block of `PIXELS` pixels × 4 adjacent output
 * channels of one group in `vec4f` accumulators, adjacent invocations
 * taking adjacent channel quads (so a SIMD group's filter loads are
 * contiguous, and its input loads the same pixels). The reduction walks K
 * 4 at a time, loading one `vec4f` of K per pixel and one `vec4f` of
 * channels per k straight from memory: each value loaded serves 4 (input)
 * or `PIXELS` (filter) vector multiply-adds. The pixel loop is unrolled
 * when the program is generated, so the block is plain registers. No
 * workgroup memory: on a software adapter, staging a shared tile there (an
 * earlier program staged 32 × 32 tiles: 2.8× slower on MobileNet's
 * pointwise layers) cost more than the loads it saved. The filter is packed at prepare as
 * `[group][k][output channel]`, so a vec4 is 4 adjacent output channels at
 * one k.
 *
 * K is a multiple of 4 and a block's channels are all in its group, so no
 * term reaches past the matrix; a block's pixels past the last one read the
 * last pixel again (the loads stay in the tensor) and are never stored.
 *
 * @module
 */

import type { Activation, Conv2dDescriptor, ConvWeights, OpGeometry } from "@mobileops/core";
import type { PlanningLimits, Program, ProgramSpec, Step, WebGpuKernelVariant } from "../kernel.ts";
import { unrolled } from "./conv.ts";
import { isUnstridedOneByOne } from "./f32-gemm-1x1-wgsl.ts";
import {
  activationFields,
  activationKind,
  activationValues,
  activationWgsl,
  elementMain,
  elementWorkgroupSize,
  VEC4,
} from "./wgsl.ts";

const NAME = "f32-gemm-1x1-16x4-wgsl";
/** Pixels per invocation, each with a `vec4f` accumulator of 4 output channels. */
const PIXELS = 16;

function spec(activation: Activation, workgroupSize: number): ProgramSpec {
  return {
    variant: NAME,
    key: activationKind(activation),
    reads: ["x", "weight", "bias"],
    vec4: ["x", "weight", "bias", "y"],
    fields: [
      ...(["m", "c", "oc", "cg", "og", "blocks", "quads"] as const).map(
        (name) => [name, "u32"] as const,
      ),
      ...activationFields(activation),
    ],
    workgroupSize,
    unitsPerWorkgroup: workgroupSize,
    body: `${activationWgsl(activation, VEC4)}
fn unit(u: u32) {
  let n = (u % p.quads) * 4u;
  let m0 = ((u / p.quads) % p.blocks) * ${PIXELS}u;
  let g = u / (p.quads * p.blocks);
  ${unrolled(PIXELS, "  ", (i) => `let a${i}_at = min(m0 + ${i}u, p.m - 1u) * p.c + g * p.cg;`)}
  let b_at = g * p.cg * p.og + n;
  ${unrolled(PIXELS, "  ", (i) => `var acc${i} = vec4f();`)}
  for (var k = 0u; k < p.cg; k += 4u) {
    let b = b_at + k * p.og;
    let b0 = load4_weight(b);
    let b1 = load4_weight(b + p.og);
    let b2 = load4_weight(b + 2u * p.og);
    let b3 = load4_weight(b + 3u * p.og);
    ${
      unrolled(PIXELS, "    ", (i) =>
        `let a${i} = load4_x(a${i}_at + k);
    acc${i} += a${i}.x * b0 + a${i}.y * b1 + a${i}.z * b2 + a${i}.w * b3;`)
    }
  }
  let bias = load4_bias(g * p.og + n);
  let at = m0 * p.oc + g * p.og + n;
  ${
      unrolled(PIXELS, "  ", (i) =>
        `if (m0 + ${i}u < p.m) { store4_y(at + ${i}u * p.oc, act4(bias + acc${i})); }`)
    }
}
${elementMain(workgroupSize)}`,
  };
}

/**
 * The filter as `[group][k][output channel]` (OHWI with 1×1 taps is
 * `[group][output channel][k]`): a transpose per group.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packGemmFilter } from "./f32-gemm-1x1-16x4-wgsl.ts";
 * // One group, 2 outputs × 3 inputs → 3 × 2.
 * const filter = new Float32Array([1, 2, 3, 4, 5, 6]);
 * assert.deepEqual([...packGemmFilter(filter, 1, 3, 2)], [1, 4, 2, 5, 3, 6]);
 * ```
 */
export function packGemmFilter(
  filter: Float32Array,
  groups: number,
  cg: number,
  og: number,
): Float32Array {
  const packed = new Float32Array(filter.length);
  for (let g = 0; g < groups; g++) {
    for (let n = 0; n < og; n++) {
      for (let k = 0; k < cg; k++) {
        packed[(g * cg + k) * og + n] = filter[(g * og + n) * cg + k];
      }
    }
  }
  return packed;
}

function gemmStep(
  program: Program,
  descriptor: Conv2dDescriptor,
  geometry: OpGeometry,
): Step {
  const [n, h, w, c] = geometry.inputShapes[0];
  const { groups, outChannels: oc } = descriptor;
  const [m, cg, og] = [n * h * w, c / groups, oc / groups];
  const [blocks, quads] = [Math.ceil(m / PIXELS), og / 4];
  /** Pixels (or, across groups, every pixel) and groups of units `[start, end)`. */
  const extent = (start: number, end: number) => {
    const [first, last] = [Math.floor(start / quads), Math.floor((end - 1) / quads)];
    const [g0, g1] = [Math.floor(first / blocks), Math.floor(last / blocks)];
    const rows: readonly [number, number] = g0 === g1
      ? [(first % blocks) * PIXELS, Math.min(m, ((last % blocks) + 1) * PIXELS)]
      : [0, m];
    return { rows, groups: [g0, g1 + 1] as const };
  };
  return {
    program,
    units: groups * blocks * quads,
    values: [m, c, oc, cg, og, blocks, quads, ...activationValues(descriptor.activation)],
    reads: [{ input: 0 }, { weight: 0 }, { weight: 1 }],
    span: (binding, start, end) => {
      const { rows, groups: [g0, g1] } = extent(start, end);
      if (binding === 0) return [rows[0] * oc, rows[1] * oc];
      if (binding === 1) return [rows[0] * c, rows[1] * c];
      if (binding === 2) return [g0 * cg * og, g1 * cg * og];
      return [g0 * og, g1 * og];
    },
  };
}

/**
 * Whether the blocked product runs `descriptor` within `limits`: a 1×1
 * convolution at stride 1 without padding, input channels and channels per
 * group (in and out) multiples of 4, and a binding large enough for what
 * one invocation reads at once — its group's whole filter, its pixels'
 * input and output rows — plus the 256 bytes a window may start early (the
 * largest storage offset alignment).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupConv2d, pointwiseConv2d } from "@mobileops/core";
 * import { tiledGemmMatches } from "./f32-gemm-1x1-16x4-wgsl.ts";
 * const limits = { maxStorageBufferBindingSize: 1 << 27 };
 * assert(tiledGemmMatches(pointwiseConv2d({ inChannels: 64, outChannels: 128 }), limits));
 * assert(!tiledGemmMatches(pointwiseConv2d({ inChannels: 3, outChannels: 128 }), limits));
 * const grouped = (outChannels: number) =>
 *   groupConv2d({ inChannels: 24, outChannels, groups: 3, kernel: 1 });
 * assert(tiledGemmMatches(grouped(60), limits));
 * assert(!tiledGemmMatches(grouped(30), limits)); // 10 output channels per group
 * // A 128 × 128 filter is 64 KiB.
 * const small = { maxStorageBufferBindingSize: 65536 };
 * assert(!tiledGemmMatches(pointwiseConv2d({ inChannels: 128, outChannels: 128 }), small));
 * ```
 */
export function tiledGemmMatches(
  descriptor: Conv2dDescriptor,
  limits: Pick<PlanningLimits, "maxStorageBufferBindingSize">,
): boolean {
  const { inChannels, outChannels, groups } = descriptor;
  const [cg, og] = [inChannels / groups, outChannels / groups];
  const unitBytes = 4 * Math.max(cg * og, PIXELS * Math.max(inChannels, outChannels));
  return isUnstridedOneByOne(descriptor) && inChannels % 4 === 0 && cg % 4 === 0 &&
    og % 4 === 0 && unitBytes + 256 <= limits.maxStorageBufferBindingSize;
}

/**
 * The `f32-gemm-1x1-16x4-wgsl` variant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pointwiseConv2d } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   // 4 → 4 channels, filter row o = [o, 0, 0, 1]: output o = o·x0 + x3 + bias o.
 *   const filter = new Float32Array(16).map((_, i) => (i % 4 === 0 ? i / 4 : i % 4 === 3 ? 1 : 0));
 *   const pw = pointwiseConv2d({ inChannels: 4, outChannels: 4, bias: true, activation: "relu6" });
 *   const kernel = await backend.prepare(pw, { filter, bias: new Float32Array([0, 1, 2, 3]) });
 *   assert.equal(kernel.variant, "f32-gemm-1x1-16x4-wgsl");
 *   const y = backend.run(kernel, [backend.upload([2, 0, 0, -1], [1, 1, 1, 4])]);
 *   assert.deepEqual([...await y.download()], [0, 2, 5, 6]);
 * }
 * ```
 */
export const f32Gemm1x1Tile16x4Wgsl: WebGpuKernelVariant<"conv2d"> = {
  name: NAME,
  matches: (descriptor, context) => tiledGemmMatches(descriptor, context.limits),
  async prepare(descriptor, weights: ConvWeights, context) {
    const program = await context.program(
      spec(descriptor.activation, elementWorkgroupSize(context.limits)),
    );
    const { inChannels, outChannels, groups } = descriptor;
    const packed = packGemmFilter(
      weights.filter,
      groups,
      inChannels / groups,
      outChannels / groups,
    );
    return {
      weights: [
        context.weights(packed),
        context.weights(weights.bias ?? new Float32Array(outChannels)),
      ],
      plan: (geometry) => [gemmStep(program, descriptor, geometry)],
    };
  },
};
