/**
 * Dense (ungrouped) convolution with a kernel larger than 1×1, or strided,
 * or padded: any kernel size, stride, dilation and padding, e.g. the 3×3
 * stride-2 stem of both networks.
 *
 * Loop order: block of 4 output pixels → gather ("im2row") each pixel's
 * receptive field, `[kh][kw][in]` with zeros for padding taps, into a
 * scratch row → block of 4 output channels → K = kh·kw·in (inside
 * {@link gemm4Rows}). The OHWI filter flattened per output channel has
 * that same `[kh][kw][in]` order, so after the gather the convolution is
 * the register-blocked matrix product of `f32-gemm-1x1-js`. Gathering costs
 * K copies per pixel against K·outChannels multiply-adds, and buys 16 sums
 * in locals per 8 loads instead of a sum in memory per multiply-add.
 *
 * @module
 */

import type { Conv2dDescriptor, ConvWeights, OpGeometry } from "@mobileops/core";
import {
  type ActivationCode,
  activationCode,
  type JsKernel,
  type JsKernelVariant,
} from "../kernel.ts";
import { gemm1Row, gemm4Rows, type GemmPanels, packGemmPanels } from "./gemm.ts";

class Im2rowConv2d implements JsKernel {
  readonly #descriptor: Conv2dDescriptor;
  readonly #depth: number;
  readonly #packed: GemmPanels;
  readonly #rows: Float32Array;
  readonly #activation: ActivationCode;

  constructor(descriptor: Conv2dDescriptor, weights: ConvWeights) {
    const depth = descriptor.kernel[0] * descriptor.kernel[1] * descriptor.inChannels;
    this.#descriptor = descriptor;
    this.#depth = depth;
    this.#packed = packGemmPanels(1, depth, descriptor.outChannels, weights.filter, weights.bias);
    this.#rows = new Float32Array(4 * depth);
    this.#activation = activationCode(descriptor.activation);
  }

  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const input = inputs[0];
    const [n, h, w, channels] = geometry.inputShapes[0];
    const [, outH, outW, outChannels] = geometry.outputShape;
    const [padTop, , padLeft] = geometry.padding;
    const {
      kernel: [kh, kw],
      stride: [strideH, strideW],
      dilation: [dilationH, dilationW],
    } = this.#descriptor;
    const depth = this.#depth;
    const rows = this.#rows;
    const packed = this.#packed;
    const activation = this.#activation;
    const pixels = n * outH * outW;
    let b = 0, oy = 0, ox = 0;
    let filled = 0;
    let first = 0;
    for (let p = 0; p < pixels; p++) {
      gatherWindow(
        input,
        b * h,
        oy * strideH - padTop,
        ox * strideW - padLeft,
        h,
        w,
        channels,
        kh,
        kw,
        dilationH,
        dilationW,
        rows,
        filled * depth,
      );
      filled++;
      if (++ox === outW) {
        ox = 0;
        if (++oy === outH) {
          oy = 0;
          b++;
        }
      }
      if (filled < 4) continue;
      gemm4Rows(
        rows,
        0,
        depth,
        depth,
        packed,
        0,
        output,
        first * outChannels,
        outChannels,
        outChannels,
        activation,
      );
      first += 4;
      filled = 0;
    }
    for (let r = 0; r < filled; r++) {
      gemm1Row(
        rows,
        r * depth,
        depth,
        packed,
        0,
        output,
        (first + r) * outChannels,
        outChannels,
        activation,
      );
    }
  }
}

/**
 * Copies the receptive field of the window at `(y0, x0)` in image row
 * `imageRow` (batch × height) to `rows` at `at`, in `[kh][kw][channel]`
 * order, with zeros for padding taps.
 */
function gatherWindow(
  input: Float32Array,
  imageRow: number,
  y0: number,
  x0: number,
  h: number,
  w: number,
  channels: number,
  kh: number,
  kw: number,
  dilationH: number,
  dilationW: number,
  rows: Float32Array,
  at: number,
): void {
  for (let ky = 0; ky < kh; ky++) {
    const y = y0 + ky * dilationH;
    if (y < 0 || y >= h) {
      rows.fill(0, at, at + kw * channels);
      at += kw * channels;
      continue;
    }
    for (let kx = 0; kx < kw; kx++, at += channels) {
      const x = x0 + kx * dilationW;
      if (x < 0 || x >= w) {
        rows.fill(0, at, at + channels);
        continue;
      }
      const source = ((imageRow + y) * w + x) * channels;
      for (let c = 0; c < channels; c++) rows[at + c] = input[source + c];
    }
  }
}

/**
 * `f32-conv-im2row-js`: any convolution with a single group. `prepare`
 * packs the filter into matrix-product panels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseConv2d, depthwiseConv2d, inferGeometry } from "@mobileops/core";
 * import { f32ConvIm2rowJs } from "./f32-conv-im2row-js.ts";
 * assert(f32ConvIm2rowJs.matches(denseConv2d({ inChannels: 3, outChannels: 8, kernel: 3, stride: 2 }), undefined));
 * assert(!f32ConvIm2rowJs.matches(depthwiseConv2d({ channels: 8, kernel: 3 }), undefined));
 * // 2×1 kernel, "same" padding: the bottom row sees one real pixel and one padded zero.
 * const d = denseConv2d({ inChannels: 1, outChannels: 1, kernel: [2, 1], padding: "same" });
 * const kernel = f32ConvIm2rowJs.prepare(d, { filter: new Float32Array([1, 10]) });
 * const output = new Float32Array(2);
 * kernel.run([new Float32Array([1, 2])], output, inferGeometry(d, [[1, 2, 1, 1]]));
 * assert.deepEqual([...output], [21, 2]);
 * ```
 */
export const f32ConvIm2rowJs: JsKernelVariant<"conv2d"> = {
  name: "f32-conv-im2row-js",
  matches: (descriptor) => descriptor.groups === 1,
  prepare: (descriptor, weights) => new Im2rowConv2d(descriptor, weights),
};
