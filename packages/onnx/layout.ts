/**
 * NCHW (ONNX) ↔ NHWC (core) data layout conversions: the graph's input and
 * output, convolution filters, and the columns of a fully connected layer
 * that reads a flattened feature map.
 *
 * @module
 */

import { OnnxError } from "./errors.ts";

function checkData(data: Float32Array, shape: readonly number[], field: string): number[] {
  if (!(data instanceof Float32Array)) {
    throw new OnnxError("data", data, "must be a Float32Array");
  }
  const dims = [...(shape ?? [])];
  if (
    dims.length !== 4 || dims.some((dim) => !Number.isInteger(dim) || dim < 1) ||
    dims.reduce((product, dim) => product * dim, 1) !== data.length
  ) {
    throw new OnnxError(
      field,
      shape,
      `must be 4 positive integers whose product is data.length (${data.length})`,
    );
  }
  return dims;
}

/**
 * NCHW data (the layout of an ONNX image input) as NHWC (the layout of the
 * imported graph's input). `shape` is the NCHW shape `[N, C, H, W]`, e.g. an
 * imported model's `input.shape`; the result has shape `[N, H, W, C]`.
 * Throws {@link OnnxError} when `shape` does not describe `data`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nchwToNhwc } from "@mobileops/onnx";
 * // two channels of a 1×2 image: red [1, 2], green [3, 4] → per pixel (1, 3), (2, 4)
 * assert(nchwToNhwc(new Float32Array([1, 2, 3, 4]), [1, 2, 1, 2]).join() === "1,3,2,4");
 * ```
 */
export function nchwToNhwc(data: Float32Array, shape: readonly number[]): Float32Array {
  const [n, c, h, w] = checkData(data, shape, "shape");
  const out = new Float32Array(data.length);
  const plane = h * w;
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      const from = (b * c + k) * plane;
      for (let p = 0; p < plane; p++) out[(b * plane + p) * c + k] = data[from + p];
    }
  }
  return out;
}

/**
 * NHWC data (a 4-D tensor of the imported graph, e.g. its output) as NCHW
 * (the layout ONNX gives it). `shape` is the NHWC shape `[N, H, W, C]` of
 * `data`, e.g. the output tensor's `shape`; the result has shape
 * `[N, C, H, W]`. Throws {@link OnnxError} when `shape` does not describe
 * `data`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nchwToNhwc, nhwcToNchw } from "@mobileops/onnx";
 * assert(nhwcToNchw(new Float32Array([1, 3, 2, 4]), [1, 1, 2, 2]).join() === "1,2,3,4");
 * const data = new Float32Array([1, 2, 3, 4, 5, 6]);
 * assert(nhwcToNchw(nchwToNhwc(data, [1, 3, 2, 1]), [1, 2, 1, 3]).join() === "1,2,3,4,5,6");
 * ```
 */
export function nhwcToNchw(data: Float32Array, shape: readonly number[]): Float32Array {
  const [n, h, w, c] = checkData(data, shape, "shape");
  const out = new Float32Array(data.length);
  const plane = h * w;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < plane; p++) {
      const from = (b * plane + p) * c;
      for (let k = 0; k < c; k++) out[(b * c + k) * plane + p] = data[from + k];
    }
  }
  return out;
}

/**
 * An ONNX convolution filter `[O][I/g][kH][kW]` in core's OHWI order
 * `[O][kH][kW][I/g]`. `dims` is the OIHW shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oihwToOhwi } from "./layout.ts";
 * // one output, two input channels, 1×2 kernel: [[a0 a1], [b0 b1]] → [a0 b0 a1 b1]
 * assert(oihwToOhwi(new Float32Array([1, 2, 3, 4]), [1, 2, 1, 2]).join() === "1,3,2,4");
 * ```
 */
export function oihwToOhwi(filter: Float32Array, dims: readonly number[]): Float32Array {
  const [o, i, h, w] = dims;
  // Per output channel, [I][H·W] → [H·W][I]: the same transposition as NCHW → NHWC.
  return nchwToNhwc(filter, [o, i, h, w]);
}

/**
 * Fully connected weights `[out][C·H·W]` whose columns follow an NCHW
 * feature map flattened in ONNX order, with their columns reordered for the
 * same feature map in NHWC order, which is how the graph holds it. Exact:
 * only the order of the products changes. `chw` is `[C, H, W]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nchwColumnsToNhwc } from "./layout.ts";
 * // C = 2, H·W = 2: columns (c0p0 c0p1 c1p0 c1p1) → (c0p0 c1p0 c0p1 c1p1)
 * assert(nchwColumnsToNhwc(new Float32Array([1, 2, 3, 4]), 1, [2, 1, 2]).join() === "1,3,2,4");
 * ```
 */
export function nchwColumnsToNhwc(
  weights: Float32Array,
  outFeatures: number,
  chw: readonly [number, number, number],
): Float32Array {
  const [c, h, w] = chw;
  return nchwToNhwc(weights, [outFeatures, c, h, w]);
}
