/**
 * `f32-dwconv-2x4-wgsl`: depthwise convolution with multiplier 1, no
 * dilation, kernels up to 7×7 and strides up to 2, on channel counts that
 * are multiples of 4 — MobileNet's and ShuffleNet's depthwise layers.
 *
 * Each invocation computes a block of `ROWS` × `PIXELS` (2 × 4) adjacent
 * output pixels for 4 adjacent channels, one `vec4f` accumulator per pixel;
 * adjacent invocations take adjacent channel quads, so a SIMD group's loads
 * cover contiguous memory. It loads the block's filter taps once, then each
 * input row of the block's window once — `(PIXELS − 1)·stride + kernel`
 * `vec4f` columns — and applies it to every output row and pixel whose
 * window holds it: 3×3 stride 1 loads 4 rows of 6 columns and 9 taps for 72
 * vector multiply-adds (the one-pixel-per-invocation program loaded 9 of
 * each for 9). Rows, columns and taps are unrolled when the program is
 * generated, so they are plain registers; the kernel size and stride are
 * baked in, one pipeline each. No workgroup memory: on a software adapter,
 * staging the window there cost more than the loads it saved (an earlier
 * program staged an 8×8 tile's window in workgroup memory: 2× slower).
 *
 * Padding: a row or column outside the image is loaded from a clamped
 * in-image address and replaced by zeros with a `select`, so a padding tap
 * adds `weight·0 = ±0`, an exact zero, which no weight can turn into NaN
 * (weights are finite), and an image value is only ever multiplied by its
 * own tap's weight.
 *
 * Where the backend folds channel shuffles, a second program reads the
 * input through a pending shuffle of it: the 4 channels of a pixel are not
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
import type { Program, ProgramSpec, Step, WebGpuKernelVariant } from "../kernel.ts";
import {
  foldsChannelShuffle,
  SHUFFLED_CHANNEL_WGSL,
  type ShuffledReadKernel,
  unrolled,
} from "./conv.ts";
import { channelSpan, windowSpan } from "./spans.ts";
import {
  activationFields,
  activationKind,
  activationValues,
  activationWgsl,
  elementMain,
  elementWorkgroupSize,
  VEC4,
} from "./wgsl.ts";

const NAME = "f32-dwconv-2x4-wgsl";
/** Adjacent output pixels of one row per invocation. */
const PIXELS = 4;
/** Adjacent output rows per invocation: a loaded input row serves each of them it reaches. */
const ROWS = 2;
const MAX_KERNEL = 7;
const MAX_STRIDE = 2;

function spec(descriptor: Conv2dDescriptor, workgroupSize: number, shuffled: boolean): ProgramSpec {
  const { kernel: [kh, kw], stride: [sh, sw], activation } = descriptor;
  // The input rows and columns one block of output pixels reads.
  const [inputRows, cols] = [(ROWS - 1) * sh + kh, (PIXELS - 1) * sw + kw];
  // The 4 source channels are the same for every pixel: permuted once, up front.
  const channels = shuffled
    ? `let c4 = vec4u(shuffled(q * 4u), shuffled(q * 4u + 1u), shuffled(q * 4u + 2u), shuffled(q * 4u + 3u));`
    : `let c4 = q * 4u;`;
  const load = (j: number) =>
    shuffled
      ? `let at${j} = (row + col${j}) * p.c;
    let v${j} = select(vec4f(), vec4f(load_x(at${j} + c4.x), load_x(at${j} + c4.y), load_x(at${j} + c4.z), load_x(at${j} + c4.w)), in_row && in${j});`
      : `let v${j} = select(vec4f(), load4_x((row + col${j}) * p.c + c4), in_row && in${j});`;
  // Input row r feeds output row i of the block through kernel row r − i·stride, if there is one.
  const inputRow = (r: number) => {
    const taps: string[] = [];
    for (let i = 0; i < ROWS; i++) {
      const ky = r - i * sh;
      if (ky < 0 || ky >= kh) continue;
      for (let kx = 0; kx < kw; kx++) {
        for (let x = 0; x < PIXELS; x++) {
          taps.push(`acc${i}_${x} += v${x * sw + kx} * w${ky}_${kx};`);
        }
      }
    }
    return `{
    let in_row = u32(y0 + ${r}) < p.h;
    let row = (n * p.h + select(0u, u32(y0 + ${r}), in_row)) * p.w;
    ${unrolled(cols, "    ", load)}
    ${taps.join("\n    ")}
  }`;
  };
  const blocks = ROWS * PIXELS;
  return {
    variant: NAME,
    key: `${kh}x${kw}/${sh}x${sw}/${activationKind(activation)}${shuffled ? "/shuffled" : ""}`,
    reads: ["x", "weight", "bias"],
    vec4: shuffled ? ["weight", "bias", "y"] : ["x", "weight", "bias", "y"],
    fields: [
      ...(["h", "w", "c", "oh", "ow", "bands", "runs", "quads"] as const).map(
        (name) => [name, "u32"] as const,
      ),
      ["top", "i32"],
      ["left", "i32"],
      ...activationFields(activation),
      // The groups of the shuffle read through.
      ...(shuffled ? [["sg", "u32"] as const] : []),
    ],
    workgroupSize,
    unitsPerWorkgroup: workgroupSize,
    body: `${activationWgsl(activation, VEC4)}${shuffled ? SHUFFLED_CHANNEL_WGSL : ""}
fn unit(u: u32) {
  let q = u % p.quads;
  let ox = (u / p.quads) % p.runs * ${PIXELS}u;
  let oy = u / (p.quads * p.runs) % p.bands * ${ROWS}u;
  let n = u / (p.quads * p.runs * p.bands);
  ${channels}
  let y0 = i32(oy * ${sh}u) - p.top;
  let x0 = i32(ox * ${sw}u) - p.left;
  // Whether each column is in the image (a negative one wraps past p.w), and a clamped address:
  // the loads stay in the image, and a padding tap adds weight · 0. Rows likewise, below.
  ${unrolled(cols, "  ", (j) => `let in${j} = u32(x0 + ${j}) < p.w;`)}
  ${unrolled(cols, "  ", (j) => `let col${j} = select(0u, u32(x0 + ${j}), in${j});`)}
  let taps = q * ${kh * kw * 4}u;
  ${
      unrolled(kh * kw, "  ", (t) =>
        `let w${Math.floor(t / kw)}_${t % kw} = load4_weight(taps + ${t * 4}u);`)
    }
  let bias = load4_bias(q * 4u);
  ${unrolled(blocks, "  ", (b) => `var acc${Math.floor(b / PIXELS)}_${b % PIXELS} = bias;`)}
  ${unrolled(inputRows, "  ", inputRow)}
  let at = ((n * p.oh + oy) * p.ow + ox) * p.c + q * 4u;
  ${
      unrolled(blocks, "  ", (b) => {
        const [i, x] = [Math.floor(b / PIXELS), b % PIXELS];
        return `if (oy + ${i}u < p.oh && ox + ${x}u < p.ow) { store4_y(at + ${i}u * p.ow * p.c + ${x}u * p.c, act4(acc${i}_${x})); }`;
      })
    }
}
${elementMain(workgroupSize)}`,
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
 * import { packDepthwiseFilter } from "./f32-dwconv-2x4-wgsl.ts";
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

function runStep(program: Program, descriptor: Conv2dDescriptor, geometry: OpGeometry): Step {
  const [, h, w, c] = geometry.inputShapes[0];
  const [n, oh, ow] = geometry.outputShape;
  const [top, , left] = geometry.padding;
  const { kernel: [kh, kw], stride: [sh] } = descriptor;
  const [bands, runs, quads] = [Math.ceil(oh / ROWS), Math.ceil(ow / PIXELS), c / 4];
  // Units run over bands of ROWS output rows, runs of PIXELS pixels, then quads: to the window
  // helper, a band is a row of units and a run a column.
  const units = { oh: bands, ow: runs, oc: quads };
  const input = { ...units, h, w, c, sh: ROWS * sh, top, extent: (ROWS - 1) * sh + kh };
  const output = { ...units, h: oh, w: ow, c, sh: ROWS, top: 0, extent: ROWS };
  return {
    program,
    units: n * bands * runs * quads,
    values: [
      ...[h, w, c, oh, ow, bands, runs, quads, top, left],
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
 * Whether the depthwise program runs `descriptor`: multiplier 1, no
 * dilation, channels a multiple of 4, kernel ≤ 7 and stride ≤ 2 (each
 * program is unrolled over its kernel's taps).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d } from "@mobileops/core";
 * import { tiledDepthwiseMatches } from "./f32-dwconv-2x4-wgsl.ts";
 * const dw = (options: object) => depthwiseConv2d({ channels: 32, kernel: 3, ...options });
 * assert(tiledDepthwiseMatches(dw({ stride: 2 })));
 * assert(tiledDepthwiseMatches(dw({ kernel: 7, stride: 2 })));
 * assert(!tiledDepthwiseMatches(dw({ dilation: 2 })));
 * assert(!tiledDepthwiseMatches(dw({ multiplier: 2 })));
 * assert(!tiledDepthwiseMatches(dw({ stride: 3 })));
 * ```
 */
export function tiledDepthwiseMatches(descriptor: Conv2dDescriptor): boolean {
  const { kernel: [kh, kw], stride: [sh, sw], dilation, inChannels, outChannels } = descriptor;
  return convKind(descriptor) === "depthwise" && outChannels === inChannels &&
    inChannels % 4 === 0 && dilation[0] === 1 && dilation[1] === 1 &&
    kh <= MAX_KERNEL && kw <= MAX_KERNEL && sh <= MAX_STRIDE && sw <= MAX_STRIDE;
}

/**
 * The `f32-dwconv-2x4-wgsl` variant.
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
 *   assert.equal(kernel.variant, "f32-dwconv-2x4-wgsl");
 *   const x = backend.upload(new Float32Array(36).fill(1), [1, 3, 3, 4]);
 *   const y = await backend.run(kernel, [x]).download();
 *   assert.deepEqual([...y.slice(0, 4)], [4, 5, 6, 7]); // corner: 4 taps + bias
 *   assert.deepEqual([...y.slice(16, 20)], [9, 10, 11, 12]); // centre: 9 taps + bias
 * }
 * ```
 */
export const f32Dwconv2x4Wgsl: WebGpuKernelVariant<"conv2d"> = {
  name: NAME,
  matches: (descriptor) => tiledDepthwiseMatches(descriptor),
  async prepare(descriptor, weights: ConvWeights, context) {
    const workgroupSize = elementWorkgroupSize(context.limits);
    const program = await context.program(spec(descriptor, workgroupSize, false));
    // Both programs compile before any weight buffer exists, so a failed compile leaks none.
    const shuffled = foldsChannelShuffle(context)
      ? await context.program(spec(descriptor, workgroupSize, true))
      : undefined;
    const { inChannels, kernel: [kh, kw] } = descriptor;
    const kernel = {
      weights: [
        context.weights(packDepthwiseFilter(weights.filter, inChannels, kh * kw)),
        context.weights(weights.bias ?? new Float32Array(inChannels)),
      ],
      plan: (geometry: OpGeometry) => [runStep(program, descriptor, geometry)],
    };
    if (shuffled === undefined) return kernel;
    const folding: ShuffledReadKernel = {
      ...kernel,
      planShuffled: (geometry, groups) => {
        const step = runStep(shuffled, descriptor, geometry);
        return [{ ...step, values: [...step.values, groups] }];
      },
    };
    return folding;
  },
};
