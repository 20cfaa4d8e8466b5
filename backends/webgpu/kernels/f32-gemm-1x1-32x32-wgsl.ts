/**
 * `f32-gemm-1x1-32x32-wgsl`: pointwise and group 1×1 convolutions (stride
 * 1, no padding) whose channel counts per group and input channels are
 * multiples of 4, as a tiled matrix product `[pixels × Cg] · [Cg × Og]` per
 * group.
 *
 * Each workgroup of 8×8 invocations computes a 32-pixel × 32-channel tile
 * of one group, each invocation a 4 × 4 block of it (4 pixels × 4 adjacent
 * output channels) in four `vec4f` accumulators. The reduction walks K in
 * steps of 16: the workgroup stages a 32 × 16 slice of the input and a
 * 16 × 32 slice of the filter in workgroup memory (4 KiB, every load a
 * `vec4f`, two per invocation and matrix), so each value loaded from
 * memory serves 32 multiply-adds instead of one. The filter is packed at
 * prepare as `[group][k][output channel]`, so a vec4 is 4 adjacent output
 * channels at one k.
 *
 * Staged values past the matrix are zeros, on both sides of a product
 * whenever it reaches past K: such a term is `0·0`, never `0·∞` (a product
 * past the last pixel or channel only reaches an accumulator that is
 * never stored).
 *
 * @module
 */

import type { Activation, Conv2dDescriptor, ConvWeights, OpGeometry } from "@mobileops/core";
import type { PlanningLimits, Program, ProgramSpec, Step, WebGpuKernelVariant } from "../kernel.ts";
import { isUnstridedOneByOne } from "./f32-gemm-1x1-wgsl.ts";
import { activationFields, activationKind, activationValues, activationWgsl } from "./wgsl.ts";

const NAME = "f32-gemm-1x1-32x32-wgsl";
/** Pixels and output channels per workgroup tile, and the K step staged at once. */
const TILE = 32;
const STEP = 16;
/** 8 × 8 invocations, each 4 pixels × 4 channels. */
const INVOCATIONS = 64;
/** Workgroup memory: a 32 × 16 and a 16 × 32 slice of float32. */
const STORAGE_BYTES = 2 * TILE * STEP * 4;

function spec(activation: Activation): ProgramSpec {
  return {
    variant: NAME,
    key: activationKind(activation),
    reads: ["x", "weight", "bias"],
    vec4: ["x", "weight", "bias"],
    fields: [
      ...(["m", "c", "oc", "cg", "og", "mtiles", "ntiles"] as const).map(
        (name) => [name, "u32"] as const,
      ),
      ...activationFields(activation),
    ],
    workgroupSize: INVOCATIONS,
    unitsPerWorkgroup: 1,
    body: `${activationWgsl(activation)}
// tile_a[row · 4 + k / 4]: 32 pixels × 16 k; tile_b[k · 8 + n / 4]: 16 k × 32 channels.
var<workgroup> tile_a: array<vec4f, ${TILE * STEP / 4}>;
var<workgroup> tile_b: array<vec4f, ${TILE * STEP / 4}>;

@compute @workgroup_size(${INVOCATIONS})
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let tile = p.base + wid.y * nwg.x + wid.x;
  if (tile >= p.end) { return; }
  let n0 = (tile % p.ntiles) * ${TILE}u;
  let m0 = ((tile / p.ntiles) % p.mtiles) * ${TILE}u;
  let g = tile / (p.ntiles * p.mtiles);
  let tx = lid % 8u;
  let ty = lid / 8u;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < p.cg; k0 += ${STEP}u) {
    for (var s = 0u; s < 2u; s++) {
      let e = lid + ${INVOCATIONS}u * s;
      let row = m0 + e / 4u;
      let ka = k0 + (e % 4u) * 4u;
      var a = vec4f();
      if (row < p.m && ka < p.cg) { a = load4_x(row * p.c + g * p.cg + ka); }
      tile_a[e] = a;
      let kb = k0 + e / 8u;
      let n = n0 + (e % 8u) * 4u;
      var b = vec4f();
      if (kb < p.cg && n < p.og) { b = load4_weight((g * p.cg + kb) * p.og + n); }
      tile_b[e] = b;
    }
    workgroupBarrier();
    for (var kq = 0u; kq < 4u; kq++) {
      let b0 = tile_b[(kq * 4u) * 8u + tx];
      let b1 = tile_b[(kq * 4u + 1u) * 8u + tx];
      let b2 = tile_b[(kq * 4u + 2u) * 8u + tx];
      let b3 = tile_b[(kq * 4u + 3u) * 8u + tx];
      for (var r = 0u; r < 4u; r++) {
        let a = tile_a[(ty * 4u + r) * 4u + kq];
        acc[r] += a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
      }
    }
    workgroupBarrier();
  }
  let n = n0 + tx * 4u;
  if (n >= p.og) { return; }
  let bias = load4_bias(g * p.og + n);
  for (var r = 0u; r < 4u; r++) {
    let row = m0 + ty * 4u + r;
    if (row < p.m) {
      let v = bias + acc[r];
      let at = row * p.oc + g * p.og + n;
      store_y(at, act(v.x));
      store_y(at + 1u, act(v.y));
      store_y(at + 2u, act(v.z));
      store_y(at + 3u, act(v.w));
    }
  }
}`,
  };
}

/**
 * The filter as `[group][k][output channel]` (OHWI with 1×1 taps is
 * `[group][output channel][k]`): a transpose per group.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packGemmFilter } from "./f32-gemm-1x1-32x32-wgsl.ts";
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
  const [mtiles, ntiles] = [Math.ceil(m / TILE), Math.ceil(og / TILE)];
  /** Pixels (or, across groups, every pixel) and groups of units `[start, end)`. */
  const extent = (start: number, end: number) => {
    const [first, last] = [Math.floor(start / ntiles), Math.floor((end - 1) / ntiles)];
    const [g0, g1] = [Math.floor(first / mtiles), Math.floor(last / mtiles)];
    const rows: readonly [number, number] = g0 === g1
      ? [(first % mtiles) * TILE, Math.min(m, ((last % mtiles) + 1) * TILE)]
      : [0, m];
    return { rows, groups: [g0, g1 + 1] as const };
  };
  return {
    program,
    units: groups * mtiles * ntiles,
    values: [m, c, oc, cg, og, mtiles, ntiles, ...activationValues(descriptor.activation)],
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
 * Whether the tiled product runs `descriptor` within `limits`: a 1×1
 * convolution at stride 1 without padding, input channels and channels per
 * group (in and out) multiples of 4, and 64 invocations with 4 KiB of
 * workgroup memory allowed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pointwiseConv2d } from "@mobileops/core";
 * import { tiledGemmMatches } from "./f32-gemm-1x1-32x32-wgsl.ts";
 * const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384 };
 * assert(tiledGemmMatches(pointwiseConv2d({ inChannels: 64, outChannels: 128 }), limits));
 * assert(!tiledGemmMatches(pointwiseConv2d({ inChannels: 3, outChannels: 128 }), limits));
 * assert(!tiledGemmMatches(pointwiseConv2d({ inChannels: 64, outChannels: 128 }), {
 *   ...limits,
 *   maxComputeWorkgroupStorageSize: 2048,
 * }));
 * ```
 */
export function tiledGemmMatches(
  descriptor: Conv2dDescriptor,
  limits: Pick<
    PlanningLimits,
    "maxComputeInvocationsPerWorkgroup" | "maxComputeWorkgroupStorageSize"
  >,
): boolean {
  const { inChannels, outChannels, groups } = descriptor;
  return isUnstridedOneByOne(descriptor) && inChannels % 4 === 0 &&
    (inChannels / groups) % 4 === 0 && (outChannels / groups) % 4 === 0 &&
    limits.maxComputeInvocationsPerWorkgroup >= INVOCATIONS &&
    limits.maxComputeWorkgroupStorageSize >= STORAGE_BYTES;
}

/**
 * The `f32-gemm-1x1-32x32-wgsl` variant.
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
 *   assert.equal(kernel.variant, "f32-gemm-1x1-32x32-wgsl");
 *   const y = backend.run(kernel, [backend.upload([2, 0, 0, -1], [1, 1, 1, 4])]);
 *   assert.deepEqual([...await y.download()], [0, 2, 5, 6]);
 * }
 * ```
 */
export const f32Gemm1x1Tile32Wgsl: WebGpuKernelVariant<"conv2d"> = {
  name: NAME,
  matches: (descriptor, context) => tiledGemmMatches(descriptor, context.limits),
  async prepare(descriptor, weights: ConvWeights, context) {
    const program = await context.program(spec(descriptor.activation));
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
