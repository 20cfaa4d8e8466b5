/**
 * `f32-conv-3x3s2-wgsl`: the dense 3×3 stride-2 convolution of an image
 * with few channels (at most {@link STEM_MAX_IN_CHANNELS}) — the first
 * layer ("stem") of MobileNet v1 (224×224×3 → 112×112×32) and ShuffleNet v1
 * (→ 24 channels).
 *
 * The generic `f32-conv-wgsl` computes one output value per invocation and
 * so reads each pixel's 27-value window once per output channel. Here an
 * invocation takes one output pixel and a block of up to
 * {@link STEM_BLOCK_QUADS} × 4 output channels: it loads the window once
 * into registers (the taps and input channels are unrolled, the channel
 * count baked into the program), then for each quad of output channels runs
 * the unrolled taps as `scalar × vec4f` multiply-adds against the filter
 * packed `[quad][ky][kx][ci][4]`, so every filter read is one `vec4f`.
 * Padding taps hold an exact zero (never loaded), multiplied by a finite
 * weight: `±0`, which no value turns into NaN. Output channels that do not
 * fill the last quad have zero weights and bias and are not stored.
 *
 * @module
 */

import type { Activation, Conv2dDescriptor, ConvWeights, OpGeometry } from "@mobileops/core";
import type { PlanningLimits, Program, ProgramSpec, Step, WebGpuKernelVariant } from "../kernel.ts";
import { channelSpan, windowSpan } from "./spans.ts";
import {
  activationFields,
  activationKind,
  activationValues,
  activationWgsl,
  elementMain,
  elementWorkgroupSize,
} from "./wgsl.ts";

const NAME = "f32-conv-3x3s2-wgsl";
/** Taps of the 3×3 window. */
const TAPS = 9;
/**
 * The most input channels the variant takes: the window (taps × channels)
 * is held in registers, and images have 1 (grey), 3 (RGB) or 4 (RGBA).
 */
export const STEM_MAX_IN_CHANNELS = 4;
/**
 * Quads of output channels per invocation: 8 (32 channels, MobileNet's
 * whole stem) reuses each loaded window across every output channel of the
 * networks' stems.
 */
export const STEM_BLOCK_QUADS = 8;

/** WGSL that loads the window of pixel (`n`, `y0`, `x0`) into `x_<tap>_<channel>`. */
function windowLoads(channels: number): string {
  const lines: string[] = [];
  for (let t = 0; t < TAPS; t++) {
    for (let ci = 0; ci < channels; ci++) lines.push(`  var x_${t}_${ci} = 0.0;`);
  }
  for (let ky = 0; ky < 3; ky++) {
    lines.push(`  let iy${ky} = y0 + ${ky};`);
    lines.push(`  if (iy${ky} >= 0 && iy${ky} < i32(p.h)) {`);
    lines.push(`    let row = (n * p.h + u32(iy${ky})) * p.w;`);
    for (let kx = 0; kx < 3; kx++) {
      const t = ky * 3 + kx;
      lines.push(`    if (x0 + ${kx} >= 0 && x0 + ${kx} < i32(p.w)) {`);
      lines.push(`      let at = (row + u32(x0 + ${kx})) * ${channels}u;`);
      for (let ci = 0; ci < channels; ci++) {
        lines.push(`      x_${t}_${ci} = load_x(at + ${ci}u);`);
      }
      lines.push(`    }`);
    }
    lines.push(`  }`);
  }
  return lines.join("\n");
}

/** WGSL of the multiply-adds of one quad: every tap and channel against its `vec4f` of weights. */
function quadTerms(channels: number): string {
  const lines: string[] = [];
  for (let t = 0; t < TAPS; t++) {
    for (let ci = 0; ci < channels; ci++) {
      lines.push(`    acc += x_${t}_${ci} * load4_weight(wq + ${4 * (t * channels + ci)}u);`);
    }
  }
  return lines.join("\n");
}

function spec(channels: number, activation: Activation, workgroupSize: number): ProgramSpec {
  const perQuad = 4 * TAPS * channels;
  return {
    variant: NAME,
    key: `${channels}/${activationKind(activation)}`,
    reads: ["x", "weight", "bias"],
    vec4: ["weight", "bias"],
    fields: [
      ...(["h", "w", "oh", "ow", "oc", "quads", "blocks"] as const).map(
        (name) => [name, "u32"] as const,
      ),
      ["top", "i32"],
      ["left", "i32"],
      ...activationFields(activation),
    ],
    workgroupSize,
    unitsPerWorkgroup: workgroupSize,
    body: `${activationWgsl(activation)}
fn unit(u: u32) {
  let block = u % p.blocks;
  let pixel = u / p.blocks;
  let ox = pixel % p.ow;
  let row_out = pixel / p.ow;
  let oy = row_out % p.oh;
  let n = row_out / p.oh;
  let y0 = i32(oy * 2u) - p.top;
  let x0 = i32(ox * 2u) - p.left;
${windowLoads(channels)}
  let q0 = block * ${STEM_BLOCK_QUADS}u;
  let q1 = min(q0 + ${STEM_BLOCK_QUADS}u, p.quads);
  for (var q = q0; q < q1; q++) {
    let wq = q * ${perQuad}u;
    var acc = load4_bias(q * 4u);
${quadTerms(channels)}
    let o = q * 4u;
    let at = pixel * p.oc + o;
    store_y(at, act(acc.x));
    if (o + 1u < p.oc) { store_y(at + 1u, act(acc.y)); }
    if (o + 2u < p.oc) { store_y(at + 2u, act(acc.z)); }
    if (o + 3u < p.oc) { store_y(at + 3u, act(acc.w)); }
  }
}
${elementMain(workgroupSize)}`,
  };
}

/**
 * The dense OHWI filter of a 3×3 convolution (`[o][ky][kx][ci]`) as
 * `[o / 4][ky][kx][ci][o % 4]`, zero-padded to whole quads of output
 * channels: one `vec4f` is one tap and input channel of 4 adjacent output
 * channels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packStemFilter } from "./f32-conv-3x3s2-wgsl.ts";
 * // 2 output channels, 1 input channel: output channel o's taps are 10·o + t.
 * const filter = Float32Array.from({ length: 18 }, (_, i) => 10 * Math.floor(i / 9) + (i % 9));
 * const packed = packStemFilter(filter, 2, 1);
 * assert.equal(packed.length, 36); // one quad: 9 taps × 4 lanes
 * assert.deepEqual([...packed.slice(0, 8)], [0, 10, 0, 0, 1, 11, 0, 0]);
 * ```
 */
export function packStemFilter(
  filter: Float32Array,
  outChannels: number,
  inChannels: number,
): Float32Array {
  const quads = Math.ceil(outChannels / 4);
  const packed = new Float32Array(quads * 4 * TAPS * inChannels);
  for (let o = 0; o < outChannels; o++) {
    for (let t = 0; t < TAPS; t++) {
      for (let ci = 0; ci < inChannels; ci++) {
        packed[(((o >> 2) * TAPS + t) * inChannels + ci) * 4 + (o & 3)] =
          filter[(o * TAPS + t) * inChannels + ci];
      }
    }
  }
  return packed;
}

function stemStep(program: Program, descriptor: Conv2dDescriptor, geometry: OpGeometry): Step {
  const [, h, w, c] = geometry.inputShapes[0];
  const [n, oh, ow, oc] = geometry.outputShape;
  const [top, , left] = geometry.padding;
  const quads = Math.ceil(oc / 4);
  const blocks = Math.ceil(quads / STEM_BLOCK_QUADS);
  const rows = { h, w, c, oh, ow, oc: blocks, sh: 2, top, extent: 3 };
  return {
    program,
    units: n * oh * ow * blocks,
    values: [
      h,
      w,
      oh,
      ow,
      oc,
      quads,
      blocks,
      top,
      left,
      ...activationValues(descriptor.activation),
    ],
    reads: [{ input: 0 }, { weight: 0 }, { weight: 1 }],
    span: (binding, start, end) =>
      binding === 0
        ? [Math.floor(start / blocks) * oc, (Math.floor((end - 1) / blocks) + 1) * oc]
        : binding === 1
        ? windowSpan(rows, start, end)
        : channelSpan(start, end, blocks, STEM_BLOCK_QUADS * (binding === 2 ? 4 * TAPS * c : 4)),
  };
}

/**
 * Whether `f32-conv-3x3s2-wgsl` runs `descriptor` within `limits`: a dense
 * (one group) 3×3 convolution with stride 2, no dilation, at most
 * {@link STEM_MAX_IN_CHANNELS} input channels, and a packed filter that a
 * storage binding holds whole (so no dispatch needs a window of it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conv2d } from "@mobileops/core";
 * import { stemMatches } from "./f32-conv-3x3s2-wgsl.ts";
 * const limits = { maxStorageBufferBindingSize: 1 << 27 };
 * const stem = (options: object) =>
 *   conv2d({ inChannels: 3, outChannels: 32, kernel: 3, stride: 2, padding: "same", ...options });
 * assert(stemMatches(stem({}), limits));
 * assert(!stemMatches(stem({ stride: 1 }), limits));
 * assert(!stemMatches(stem({ inChannels: 8 }), limits));
 * // 32 × 9 × 3 filter values (3456 bytes) do not fit a 2 KiB binding.
 * assert(!stemMatches(stem({}), { maxStorageBufferBindingSize: 2048 }));
 * ```
 */
export function stemMatches(
  descriptor: Conv2dDescriptor,
  limits: Pick<PlanningLimits, "maxStorageBufferBindingSize">,
): boolean {
  const { kernel, stride, dilation, groups, inChannels, outChannels } = descriptor;
  const filterBytes = 4 * Math.ceil(outChannels / 4) * 4 * TAPS * inChannels;
  return groups === 1 && inChannels <= STEM_MAX_IN_CHANNELS &&
    kernel[0] === 3 && kernel[1] === 3 && stride[0] === 2 && stride[1] === 2 &&
    dilation[0] === 1 && dilation[1] === 1 &&
    filterBytes <= limits.maxStorageBufferBindingSize;
}

/**
 * The `f32-conv-3x3s2-wgsl` variant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseConv2d } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   // 3×3 stride 2 "same" on a 3×3 RGB image of ones: one output pixel, 5 channels.
 *   const conv = denseConv2d({
 *     inChannels: 3,
 *     outChannels: 5,
 *     kernel: 3,
 *     stride: 2,
 *     padding: "same",
 *     bias: true,
 *   });
 *   const kernel = await backend.prepare(conv, {
 *     filter: new Float32Array(5 * 27).fill(1),
 *     bias: new Float32Array([0, 1, 2, 3, 4]),
 *   });
 *   assert.equal(kernel.variant, "f32-conv-3x3s2-wgsl");
 *   const y = backend.run(kernel, [backend.upload(new Float32Array(27).fill(1), [1, 3, 3, 3])]);
 *   // "same" pads one pixel a side: the first output pixel sees 2×2 taps × 3 channels.
 *   assert.deepEqual([...await y.download()].slice(0, 5), [12, 13, 14, 15, 16]);
 * }
 * ```
 */
export const f32Conv3x3s2Wgsl: WebGpuKernelVariant<"conv2d"> = {
  name: NAME,
  matches: (descriptor, context) => stemMatches(descriptor, context.limits),
  async prepare(descriptor, weights: ConvWeights, context) {
    const { inChannels, outChannels } = descriptor;
    const workgroupSize = elementWorkgroupSize(context.limits);
    const program = await context.program(spec(inChannels, descriptor.activation, workgroupSize));
    const bias = new Float32Array(4 * Math.ceil(outChannels / 4));
    if (weights.bias !== undefined) bias.set(weights.bias);
    return {
      weights: [
        context.weights(packStemFilter(weights.filter, outChannels, inChannels)),
        context.weights(bias),
      ],
      plan: (geometry) => [stemStep(program, descriptor, geometry)],
    };
  },
};
