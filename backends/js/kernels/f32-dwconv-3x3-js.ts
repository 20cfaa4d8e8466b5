/**
 * 3×3 depthwise convolution, multiplier 1, stride 1 or 2 on each axis,
 * dilation 1, any padding: the spatial filter of every MobileNet and
 * ShuffleNet block.
 *
 * Loop order: output row → block of 4 output pixels → channel, with the
 * nine taps unrolled. NHWC makes a pixel's channels contiguous, so the
 * channel loop walks contiguous input and weight rows (the filter is packed
 * tap-major, `[tap][channel]`, at prepare). Neighbouring windows overlap,
 * so a block of 4 pixels loads each input column it touches once (6 per
 * row at stride 1, 9 at stride 2) instead of 3 per pixel, and the nine
 * weights once instead of per pixel: about a third of the loads of a
 * pixel-at-a-time loop. Interior pixels, whose whole window lies inside the
 * input, run without a bounds test; the border ring takes a path that
 * skips padding taps. Each output row is stored raw, then activated in one
 * pass while it is still in L1 (see `activateRange`).
 *
 * @module
 */

import type { Conv2dDescriptor, ConvWeights, OpGeometry } from "@mobileops/core";
import {
  activateRange,
  type ActivationCode,
  activationCode,
  type JsKernel,
  type JsKernelVariant,
} from "../kernel.ts";

class Dwconv3x3 implements JsKernel {
  readonly #strideH: number;
  readonly #strideW: number;
  readonly #filter: Float32Array;
  readonly #bias: Float32Array;
  readonly #activation: ActivationCode;

  constructor(descriptor: Conv2dDescriptor, weights: ConvWeights) {
    const channels = descriptor.inChannels;
    const filter = new Float32Array(9 * channels);
    for (let c = 0; c < channels; c++) {
      for (let tap = 0; tap < 9; tap++) filter[tap * channels + c] = weights.filter[c * 9 + tap];
    }
    this.#strideH = descriptor.stride[0];
    this.#strideW = descriptor.stride[1];
    this.#filter = filter;
    this.#bias = weights.bias?.slice() ?? new Float32Array(channels);
    this.#activation = activationCode(descriptor.activation);
  }

  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const input = inputs[0];
    const [n, h, w, channels] = geometry.inputShapes[0];
    const [, outH, outW] = geometry.outputShape;
    const [padTop, , padLeft] = geometry.padding;
    const strideH = this.#strideH;
    const strideW = this.#strideW;
    // Output columns whose window starts at x ≥ 0 and ends at x + 2 ≤ w − 1.
    const firstX = Math.ceil(padLeft / strideW);
    const lastX = Math.min(outW - 1, Math.floor((w - 3 + padLeft) / strideW));
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < outH; oy++) {
        const y0 = oy * strideH - padTop;
        const rowOut = ((b * outH + oy) * outW) * channels;
        if (y0 < 0 || y0 + 2 >= h || firstX > lastX) {
          for (let ox = 0; ox < outW; ox++) {
            this.#border(
              input,
              output,
              b,
              y0,
              ox * strideW - padLeft,
              h,
              w,
              channels,
              rowOut + ox * channels,
            );
          }
        } else {
          for (let ox = 0; ox < firstX; ox++) {
            this.#border(
              input,
              output,
              b,
              y0,
              ox * strideW - padLeft,
              h,
              w,
              channels,
              rowOut + ox * channels,
            );
          }
          const source = ((b * h + y0) * w + firstX * strideW - padLeft) * channels;
          const target = rowOut + firstX * channels;
          const count = lastX - firstX + 1;
          const blocks = count >> 2;
          if (strideW === 1) {
            this.#interior4Stride1(input, output, source, w * channels, channels, target, blocks);
          } else {
            this.#interior4Stride2(input, output, source, w * channels, channels, target, blocks);
          }
          this.#interior(
            input,
            output,
            source + 4 * blocks * strideW * channels,
            w * channels,
            strideW * channels,
            channels,
            target + 4 * blocks * channels,
            count - 4 * blocks,
          );
          for (let ox = lastX + 1; ox < outW; ox++) {
            this.#border(
              input,
              output,
              b,
              y0,
              ox * strideW - padLeft,
              h,
              w,
              channels,
              rowOut + ox * channels,
            );
          }
        }
        activateRange(output, rowOut, rowOut + outW * channels, this.#activation);
      }
    }
  }

  /** `count` pixels of one row whose windows lie inside the input, one at a time. */
  #interior(
    input: Float32Array,
    output: Float32Array,
    source: number,
    rowStride: number,
    pixelStride: number,
    channels: number,
    target: number,
    count: number,
  ): void {
    const f = this.#filter;
    const bias = this.#bias;
    const c1 = channels, c2 = 2 * channels, c3 = 3 * channels, c4 = 4 * channels;
    const c5 = 5 * channels, c6 = 6 * channels, c7 = 7 * channels, c8 = 8 * channels;
    for (let p = 0; p < count; p++, source += pixelStride, target += channels) {
      const r0 = source;
      const r1 = r0 + rowStride;
      const r2 = r1 + rowStride;
      for (let c = 0; c < channels; c++) {
        let s = bias[c];
        s += input[r0 + c] * f[c];
        s += input[r0 + c1 + c] * f[c1 + c];
        s += input[r0 + c2 + c] * f[c2 + c];
        s += input[r1 + c] * f[c3 + c];
        s += input[r1 + c1 + c] * f[c4 + c];
        s += input[r1 + c2 + c] * f[c5 + c];
        s += input[r2 + c] * f[c6 + c];
        s += input[r2 + c1 + c] * f[c7 + c];
        s += input[r2 + c2 + c] * f[c8 + c];
        output[target + c] = s;
      }
    }
  }

  /**
   * Blocks of 4 interior pixels at stride 1: their windows overlap, so each
   * input row of the block is loaded once (6 values) and the nine weights
   * once, for 36 multiply-adds.
   */
  #interior4Stride1(
    input: Float32Array,
    output: Float32Array,
    source: number,
    rowStride: number,
    channels: number,
    target: number,
    blocks: number,
  ): void {
    const f = this.#filter;
    const bias = this.#bias;
    const c1 = channels, c2 = 2 * channels, c3 = 3 * channels, c4 = 4 * channels, c5 = 5 * channels;
    for (let q = 0; q < blocks; q++, source += 4 * channels, target += 4 * channels) {
      const r1 = source + rowStride;
      const r2 = r1 + rowStride;
      const t1 = target + channels;
      const t2 = t1 + channels;
      const t3 = t2 + channels;
      for (let c = 0; c < channels; c++) {
        const w0 = f[c];
        const w1 = f[c1 + c];
        const w2 = f[c2 + c];
        const w3 = f[c3 + c];
        const w4 = f[c4 + c];
        const w5 = f[c5 + c];
        const w6 = f[6 * channels + c];
        const w7 = f[7 * channels + c];
        const w8 = f[8 * channels + c];
        const b = bias[c];
        let x0 = input[source + c];
        let x1 = input[source + c1 + c];
        let x2 = input[source + c2 + c];
        let x3 = input[source + c3 + c];
        let x4 = input[source + c4 + c];
        let x5 = input[source + c5 + c];
        let s0 = b + x0 * w0 + x1 * w1 + x2 * w2;
        let s1 = b + x1 * w0 + x2 * w1 + x3 * w2;
        let s2 = b + x2 * w0 + x3 * w1 + x4 * w2;
        let s3 = b + x3 * w0 + x4 * w1 + x5 * w2;
        x0 = input[r1 + c];
        x1 = input[r1 + c1 + c];
        x2 = input[r1 + c2 + c];
        x3 = input[r1 + c3 + c];
        x4 = input[r1 + c4 + c];
        x5 = input[r1 + c5 + c];
        s0 += x0 * w3 + x1 * w4 + x2 * w5;
        s1 += x1 * w3 + x2 * w4 + x3 * w5;
        s2 += x2 * w3 + x3 * w4 + x4 * w5;
        s3 += x3 * w3 + x4 * w4 + x5 * w5;
        x0 = input[r2 + c];
        x1 = input[r2 + c1 + c];
        x2 = input[r2 + c2 + c];
        x3 = input[r2 + c3 + c];
        x4 = input[r2 + c4 + c];
        x5 = input[r2 + c5 + c];
        s0 += x0 * w6 + x1 * w7 + x2 * w8;
        s1 += x1 * w6 + x2 * w7 + x3 * w8;
        s2 += x2 * w6 + x3 * w7 + x4 * w8;
        s3 += x3 * w6 + x4 * w7 + x5 * w8;
        output[target + c] = s0;
        output[t1 + c] = s1;
        output[t2 + c] = s2;
        output[t3 + c] = s3;
      }
    }
  }

  /**
   * Blocks of 4 interior pixels at stride 2: their windows overlap, so each
   * input row of the block is loaded once (9 values) and the nine weights
   * once, for 36 multiply-adds.
   */
  #interior4Stride2(
    input: Float32Array,
    output: Float32Array,
    source: number,
    rowStride: number,
    channels: number,
    target: number,
    blocks: number,
  ): void {
    const f = this.#filter;
    const bias = this.#bias;
    const c1 = channels,
      c2 = 2 * channels,
      c3 = 3 * channels,
      c4 = 4 * channels,
      c5 = 5 * channels,
      c6 = 6 * channels,
      c7 = 7 * channels,
      c8 = 8 * channels;
    for (let q = 0; q < blocks; q++, source += 8 * channels, target += 4 * channels) {
      const r1 = source + rowStride;
      const r2 = r1 + rowStride;
      const t1 = target + channels;
      const t2 = t1 + channels;
      const t3 = t2 + channels;
      for (let c = 0; c < channels; c++) {
        const w0 = f[c];
        const w1 = f[c1 + c];
        const w2 = f[c2 + c];
        const w3 = f[c3 + c];
        const w4 = f[c4 + c];
        const w5 = f[c5 + c];
        const w6 = f[c6 + c];
        const w7 = f[c7 + c];
        const w8 = f[c8 + c];
        const b = bias[c];
        let x0 = input[source + c];
        let x1 = input[source + c1 + c];
        let x2 = input[source + c2 + c];
        let x3 = input[source + c3 + c];
        let x4 = input[source + c4 + c];
        let x5 = input[source + c5 + c];
        let x6 = input[source + c6 + c];
        let x7 = input[source + c7 + c];
        let x8 = input[source + c8 + c];
        let s0 = b + x0 * w0 + x1 * w1 + x2 * w2;
        let s1 = b + x2 * w0 + x3 * w1 + x4 * w2;
        let s2 = b + x4 * w0 + x5 * w1 + x6 * w2;
        let s3 = b + x6 * w0 + x7 * w1 + x8 * w2;
        x0 = input[r1 + c];
        x1 = input[r1 + c1 + c];
        x2 = input[r1 + c2 + c];
        x3 = input[r1 + c3 + c];
        x4 = input[r1 + c4 + c];
        x5 = input[r1 + c5 + c];
        x6 = input[r1 + c6 + c];
        x7 = input[r1 + c7 + c];
        x8 = input[r1 + c8 + c];
        s0 += x0 * w3 + x1 * w4 + x2 * w5;
        s1 += x2 * w3 + x3 * w4 + x4 * w5;
        s2 += x4 * w3 + x5 * w4 + x6 * w5;
        s3 += x6 * w3 + x7 * w4 + x8 * w5;
        x0 = input[r2 + c];
        x1 = input[r2 + c1 + c];
        x2 = input[r2 + c2 + c];
        x3 = input[r2 + c3 + c];
        x4 = input[r2 + c4 + c];
        x5 = input[r2 + c5 + c];
        x6 = input[r2 + c6 + c];
        x7 = input[r2 + c7 + c];
        x8 = input[r2 + c8 + c];
        s0 += x0 * w6 + x1 * w7 + x2 * w8;
        s1 += x2 * w6 + x3 * w7 + x4 * w8;
        s2 += x4 * w6 + x5 * w7 + x6 * w8;
        s3 += x6 * w6 + x7 * w7 + x8 * w8;
        output[target + c] = s0;
        output[t1 + c] = s1;
        output[t2 + c] = s2;
        output[t3 + c] = s3;
      }
    }
  }

  /**
   * One pixel whose window `(y0, x0)` overlaps the padding. Which taps are
   * in range is decided once per pixel; the tests inside the channel loop
   * then go the same way for every channel, so they are predicted.
   */
  #border(
    input: Float32Array,
    output: Float32Array,
    b: number,
    y0: number,
    x0: number,
    h: number,
    w: number,
    channels: number,
    target: number,
  ): void {
    const f = this.#filter;
    const bias = this.#bias;
    const top = y0 >= 0 && y0 < h;
    const middle = y0 + 1 >= 0 && y0 + 1 < h;
    const bottom = y0 + 2 >= 0 && y0 + 2 < h;
    const left = x0 >= 0 && x0 < w;
    const centre = x0 + 1 >= 0 && x0 + 1 < w;
    const right = x0 + 2 >= 0 && x0 + 2 < w;
    const t0 = top && left, t1 = top && centre, t2 = top && right;
    const t3 = middle && left, t4 = middle && centre, t5 = middle && right;
    const t6 = bottom && left, t7 = bottom && centre, t8 = bottom && right;
    const r0 = ((b * h + y0) * w + x0) * channels;
    const r1 = r0 + w * channels;
    const r2 = r1 + w * channels;
    const c1 = channels, c2 = 2 * channels, c3 = 3 * channels, c4 = 4 * channels;
    const c5 = 5 * channels, c6 = 6 * channels, c7 = 7 * channels, c8 = 8 * channels;
    for (let c = 0; c < channels; c++) {
      let s = bias[c];
      if (t0) s += input[r0 + c] * f[c];
      if (t1) s += input[r0 + c1 + c] * f[c1 + c];
      if (t2) s += input[r0 + c2 + c] * f[c2 + c];
      if (t3) s += input[r1 + c] * f[c3 + c];
      if (t4) s += input[r1 + c1 + c] * f[c4 + c];
      if (t5) s += input[r1 + c2 + c] * f[c5 + c];
      if (t6) s += input[r2 + c] * f[c6 + c];
      if (t7) s += input[r2 + c1 + c] * f[c7 + c];
      if (t8) s += input[r2 + c2 + c] * f[c8 + c];
      output[target + c] = s;
    }
  }
}

/**
 * `f32-dwconv-3x3-js`: depthwise with multiplier 1, a 3×3 kernel, strides
 * of 1 or 2 and no dilation. `prepare` packs the filter tap-major.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d, inferGeometry } from "@mobileops/core";
 * import { f32Dwconv3x3Js } from "./f32-dwconv-3x3-js.ts";
 * assert(f32Dwconv3x3Js.matches(depthwiseConv2d({ channels: 8, kernel: 3, stride: 2, padding: "same" }), undefined));
 * assert(!f32Dwconv3x3Js.matches(depthwiseConv2d({ channels: 8, kernel: 3, multiplier: 2 }), undefined));
 * const d = depthwiseConv2d({ channels: 2, kernel: 3, padding: "same" });
 * const kernel = f32Dwconv3x3Js.prepare(d, { filter: new Float32Array(18).fill(1) });
 * const output = new Float32Array(2);
 * // A 1×1 image: only the centre tap sees data.
 * kernel.run([new Float32Array([3, 4])], output, inferGeometry(d, [[1, 1, 1, 2]]));
 * assert(output.join() === "3,4");
 * ```
 */
export const f32Dwconv3x3Js: JsKernelVariant<"conv2d"> = {
  name: "f32-dwconv-3x3-js",
  matches: ({ groups, inChannels, outChannels, kernel, stride, dilation }) =>
    groups === inChannels && outChannels === inChannels &&
    kernel[0] === 3 && kernel[1] === 3 && dilation[0] === 1 && dilation[1] === 1 &&
    (stride[0] === 1 || stride[0] === 2) && (stride[1] === 1 || stride[1] === 2),
  prepare: (descriptor, weights) => new Dwconv3x3(descriptor, weights),
};
