/**
 * `f32-dwconv-8x8-wgsl`: depthwise convolution with multiplier 1, no
 * dilation, kernels up to 7×7 and strides up to 2, on channel counts that
 * are multiples of 4 — MobileNet's and ShuffleNet's depthwise layers.
 *
 * Each workgroup of 8×8 invocations computes an 8×8 tile of output pixels
 * for 4 adjacent channels, one pixel (a `vec4f` of channels) per
 * invocation. It first stages the tile's input window — the tile plus its
 * halo, `(8 − 1)·stride + kernel` cells a side, each a `vec4f` — in
 * workgroup memory, so each input value is loaded from memory once per
 * workgroup instead of once per tap (9× for 3×3 stride 1). Cells in the
 * padding are staged as zeros: a padding tap then adds `weight·0 = ±0`, an
 * exact zero, which no weight can turn into NaN (weights are finite), and
 * an image cell's value is only ever multiplied by its own tap's weight.
 * The halo size is baked into the program, so each kernel size and stride
 * gets its own pipeline.
 *
 * Where the backend folds channel shuffles, a second program stages the
 * input through a pending shuffle of it: the 4 channels of a cell are not
 * adjacent in the shuffle's source, so it loads them as 4 scalars
 * (`shuffled(c)`) instead of one `vec4f`; the rest is the same program.
 *
 * @module
 */

import {
  type Conv2dDescriptor,
  convKind,
  type ConvWeights,
  type OpGeometry,
} from "@mobileops/core";
import type { PlanningLimits, Program, ProgramSpec, Step, WebGpuKernelVariant } from "../kernel.ts";
import { foldsChannelShuffle, SHUFFLED_CHANNEL_WGSL, type ShuffledReadKernel } from "./conv.ts";
import { channelSpan, windowSpan } from "./spans.ts";
import { activationFields, activationKind, activationValues, activationWgsl } from "./wgsl.ts";

const NAME = "f32-dwconv-8x8-wgsl";
/** Output pixels per workgroup tile, a side. */
const TILE = 8;
const INVOCATIONS = TILE * TILE;
const MAX_KERNEL = 7;
const MAX_STRIDE = 2;

/** Cells a side of the staged window: the tile's windows, halo included. */
function haloSide(kernel: number, stride: number): number {
  return (TILE - 1) * stride + kernel;
}

function spec(descriptor: Conv2dDescriptor, shuffled: boolean): ProgramSpec {
  const { kernel: [kh, kw], stride: [sh, sw], activation } = descriptor;
  const [hh, hw] = [haloSide(kh, sh), haloSide(kw, sw)];
  const cell = "((n * p.h + u32(iy)) * p.w + u32(ix)) * p.c";
  // The workgroup's 4 source channels are the same for every cell: permuted once, up front.
  const channels = shuffled
    ? `let c4 = vec4u(shuffled(q * 4u), shuffled(q * 4u + 1u), shuffled(q * 4u + 2u), shuffled(q * 4u + 3u));`
    : `let c4 = q * 4u;`;
  const load = shuffled
    ? `let at = ${cell};
      v = vec4f(load_x(at + c4.x), load_x(at + c4.y), load_x(at + c4.z), load_x(at + c4.w));`
    : `v = load4_x(${cell} + c4);`;
  return {
    variant: NAME,
    key: `${kh}x${kw}/${sh}x${sw}/${activationKind(activation)}${shuffled ? "/shuffled" : ""}`,
    reads: ["x", "weight", "bias"],
    vec4: shuffled ? ["weight", "bias"] : ["x", "weight", "bias"],
    fields: [
      ...(["h", "w", "c", "oh", "ow", "tiles_y", "tiles_x", "quads"] as const).map(
        (name) => [name, "u32"] as const,
      ),
      ["top", "i32"],
      ["left", "i32"],
      ...activationFields(activation),
      // The groups of the shuffle read through.
      ...(shuffled ? [["sg", "u32"] as const] : []),
    ],
    workgroupSize: INVOCATIONS,
    unitsPerWorkgroup: 1,
    body: `${activationWgsl(activation)}${shuffled ? SHUFFLED_CHANNEL_WGSL : ""}
var<workgroup> halo: array<vec4f, ${hh * hw}>;

@compute @workgroup_size(${INVOCATIONS})
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let tile = p.base + wid.y * nwg.x + wid.x;
  if (tile >= p.end) { return; }
  let q = tile % p.quads;
  let tx = (tile / p.quads) % p.tiles_x;
  let ty = (tile / (p.quads * p.tiles_x)) % p.tiles_y;
  let n = tile / (p.quads * p.tiles_x * p.tiles_y);
  ${channels}
  let y0 = i32(ty * ${TILE * sh}u) - p.top;
  let x0 = i32(tx * ${TILE * sw}u) - p.left;
  for (var i = lid; i < ${hh * hw}u; i += ${INVOCATIONS}u) {
    let iy = y0 + i32(i / ${hw}u);
    let ix = x0 + i32(i % ${hw}u);
    var v = vec4f();
    if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
      ${load}
    }
    halo[i] = v;
  }
  workgroupBarrier();
  let oy = ty * ${TILE}u + lid / ${TILE}u;
  let ox = tx * ${TILE}u + lid % ${TILE}u;
  if (oy >= p.oh || ox >= p.ow) { return; }
  var acc = load4_bias(q * 4u);
  let corner = (lid / ${TILE}u) * ${sh * hw}u + (lid % ${TILE}u) * ${sw}u;
  for (var ky = 0u; ky < ${kh}u; ky++) {
    for (var kx = 0u; kx < ${kw}u; kx++) {
      acc += halo[corner + ky * ${hw}u + kx] * load4_weight((q * ${
      kh * kw
    }u + ky * ${kw}u + kx) * 4u);
    }
  }
  let at = ((n * p.oh + oy) * p.ow + ox) * p.c + q * 4u;
  store_y(at, act(acc.x));
  store_y(at + 1u, act(acc.y));
  store_y(at + 2u, act(acc.z));
  store_y(at + 3u, act(acc.w));
}`,
  };
}

/**
 * The depthwise filter (OHWI with one input channel: `[channel][ky][kx]`)
 * as `[channel / 4][ky][kx][channel % 4]`: a `vec4f` is one tap of 4
 * adjacent channels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packDepthwiseFilter } from "./f32-dwconv-8x8-wgsl.ts";
 * // 4 channels, 1×2 taps: channel c's taps are [c, 10 + c].
 * const filter = new Float32Array([0, 10, 1, 11, 2, 12, 3, 13]);
 * assert.deepEqual([...packDepthwiseFilter(filter, 4, 2)], [0, 1, 2, 3, 10, 11, 12, 13]);
 * ```
 */
export function packDepthwiseFilter(filter: Float32Array, channels: number, taps: number) {
  const packed = new Float32Array(filter.length);
  for (let c = 0; c < channels; c++) {
    for (let t = 0; t < taps; t++) {
      packed[((c >> 2) * taps + t) * 4 + (c & 3)] = filter[c * taps + t];
    }
  }
  return packed;
}

function tileStep(program: Program, descriptor: Conv2dDescriptor, geometry: OpGeometry): Step {
  const [, h, w, c] = geometry.inputShapes[0];
  const [n, oh, ow] = geometry.outputShape;
  const [top, , left] = geometry.padding;
  const { kernel: [kh, kw], stride: [sh] } = descriptor;
  const [tilesY, tilesX, quads] = [Math.ceil(oh / TILE), Math.ceil(ow / TILE), c / 4];
  // A row of tiles is a row of "units" for the window helper: its input rows, its output rows.
  const tiles = { oh: tilesY, ow: tilesX, oc: quads };
  const input = { ...tiles, h, w, c, sh: TILE * sh, top, extent: (TILE - 1) * sh + kh };
  const output = { ...tiles, h: oh, w: ow, c, sh: TILE, top: 0, extent: TILE };
  return {
    program,
    units: n * tilesY * tilesX * quads,
    values: [
      ...[h, w, c, oh, ow, tilesY, tilesX, quads, top, left],
      ...activationValues(descriptor.activation),
    ],
    reads: [{ input: 0 }, { weight: 0 }, { weight: 1 }],
    span: (binding, start, end) =>
      binding === 0
        ? windowSpan(output, start, end)
        : binding === 1
        ? windowSpan(input, start, end)
        : channelSpan(start, end, quads, binding === 2 ? 4 * kh * kw : 4),
  };
}

/**
 * Whether the tiled depthwise program runs `descriptor` within `limits`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d } from "@mobileops/core";
 * import { tiledDepthwiseMatches } from "./f32-dwconv-8x8-wgsl.ts";
 * const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384 };
 * const dw = (options: object) => depthwiseConv2d({ channels: 32, kernel: 3, ...options });
 * assert(tiledDepthwiseMatches(dw({ stride: 2 }), limits));
 * assert(!tiledDepthwiseMatches(dw({ dilation: 2 }), limits));
 * assert(!tiledDepthwiseMatches(dw({ multiplier: 2 }), limits));
 * // 7×7 stride 2 stages 21 × 21 cells of 16 bytes: 7056 bytes.
 * const small = { ...limits, maxComputeWorkgroupStorageSize: 7000 };
 * assert(!tiledDepthwiseMatches(dw({ kernel: 7, stride: 2 }), small));
 * ```
 */
export function tiledDepthwiseMatches(
  descriptor: Conv2dDescriptor,
  limits: Pick<
    PlanningLimits,
    "maxComputeInvocationsPerWorkgroup" | "maxComputeWorkgroupStorageSize"
  >,
): boolean {
  const { kernel: [kh, kw], stride: [sh, sw], dilation, inChannels, outChannels } = descriptor;
  return convKind(descriptor) === "depthwise" && outChannels === inChannels &&
    inChannels % 4 === 0 && dilation[0] === 1 && dilation[1] === 1 &&
    kh <= MAX_KERNEL && kw <= MAX_KERNEL && sh <= MAX_STRIDE && sw <= MAX_STRIDE &&
    limits.maxComputeInvocationsPerWorkgroup >= INVOCATIONS &&
    limits.maxComputeWorkgroupStorageSize >= 16 * haloSide(kh, sh) * haloSide(kw, sw);
}

/**
 * The `f32-dwconv-8x8-wgsl` variant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   const dw = depthwiseConv2d({ channels: 4, kernel: 3, padding: "same", bias: true });
 *   const kernel = await backend.prepare(dw, {
 *     filter: new Float32Array(36).fill(1),
 *     bias: new Float32Array([0, 1, 2, 3]),
 *   });
 *   assert.equal(kernel.variant, "f32-dwconv-8x8-wgsl");
 *   const x = backend.upload(new Float32Array(36).fill(1), [1, 3, 3, 4]);
 *   const y = await backend.run(kernel, [x]).download();
 *   assert.deepEqual([...y.slice(0, 4)], [4, 5, 6, 7]); // corner: 4 taps + bias
 *   assert.deepEqual([...y.slice(16, 20)], [9, 10, 11, 12]); // centre: 9 taps + bias
 * }
 * ```
 */
export const f32Dwconv8x8Wgsl: WebGpuKernelVariant<"conv2d"> = {
  name: NAME,
  matches: (descriptor, context) => tiledDepthwiseMatches(descriptor, context.limits),
  async prepare(descriptor, weights: ConvWeights, context) {
    const program = await context.program(spec(descriptor, false));
    // Both programs compile before any weight buffer exists, so a failed compile leaks none.
    const shuffled = foldsChannelShuffle(context)
      ? await context.program(spec(descriptor, true))
      : undefined;
    const { inChannels, kernel: [kh, kw] } = descriptor;
    const kernel = {
      weights: [
        context.weights(packDepthwiseFilter(weights.filter, inChannels, kh * kw)),
        context.weights(weights.bias ?? new Float32Array(inChannels)),
      ],
      plan: (geometry: OpGeometry) => [tileStep(program, descriptor, geometry)],
    };
    if (shuffled === undefined) return kernel;
    const folding: ShuffledReadKernel = {
      ...kernel,
      planShuffled: (geometry, groups) => {
        const step = tileStep(shuffled, descriptor, geometry);
        return [{ ...step, values: [...step.values, groups] }];
      },
    };
    return folding;
  },
};
