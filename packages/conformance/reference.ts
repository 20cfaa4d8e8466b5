/**
 * The float64 reference: every operator written as the plainest loops that
 * follow docs/operators.md, used as the oracle every backend is compared
 * against. It derives output sizes and padding itself, with its own loops,
 * so that a bug in core's `inferGeometry` shows up as a shape disagreement
 * instead of being shared by oracle and backend.
 *
 * Besides the values it reports, per output, the magnitude `Σ|term|` of the
 * sum that produced it and the number of rounding steps `K` an honest float32
 * evaluation may take; the tolerance (see tolerance.ts) is built from both.
 *
 * Non-finite inputs go through the same loops, so NaN and ±∞ propagate as
 * IEEE 754 arithmetic (and `Math.max` / `Math.min`, which return NaN for a
 * NaN operand) make them: this is the definition every backend follows. The
 * magnitudes count finite terms only, so an output the activation brings
 * back to a number (`relu(−∞) = 0`, `relu6(+∞) = 6`, a clamp's bound) still
 * gets a finite tolerance, and `K` counts only the terms that lie in the
 * image. Pools count their windows one by one too, in floor and ceil mode.
 *
 * @module
 */

import type {
  Activation,
  AvgPool2dDescriptor,
  Conv2dDescriptor,
  ConvWeights,
  FullyConnectedDescriptor,
  FullyConnectedWeights,
  MaxPool2dDescriptor,
  OpDescriptor,
  OpWeights,
  Padding,
  Shape,
} from "@mobileops/core";

/** An input to the reference: a shape and its values in NHWC order. */
export interface ReferenceTensor {
  /** NHWC for spatial operators, `[batch, …]` for fully connected, any rank for softmax. */
  readonly shape: Shape;
  /** Row-major, exactly the product of `shape` values (else `reference` throws `RangeError`). */
  readonly data: ArrayLike<number>;
}

/** What the reference computed, with what the tolerance needs to judge a float32 result. */
export interface ReferenceResult {
  /** Output shape, derived by the reference itself, independently of core's `inferGeometry`. */
  readonly shape: Shape;
  /** The exact-as-float64 outputs. */
  readonly values: Float64Array;
  /**
   * Per output: `Σ|x·w| (+|bias|)` over the finite terms of the sum behind it
   * (scaled by the divisor for averages), or `|value|` for operators that do
   * not accumulate; always finite.
   */
  readonly magnitude: Float64Array;
  /**
   * `K`: how many roundings a float32 evaluation of one output may incur
   * (the most terms of any output's sum that lie in the image, plus the
   * divide of an average); 0 for exact operators.
   */
  readonly accumulation: number;
}

/**
 * Computes `descriptor` on `inputs` in float64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reference } from "@mobileops/conformance";
 * import { channelShuffle } from "@mobileops/core";
 * const x = { shape: [1, 1, 1, 6], data: [0, 1, 2, 3, 4, 5] };
 * const result = reference(channelShuffle({ groups: 3 }), undefined, [x]);
 * assert(Array.from(result.values).join() === "0,2,4,1,3,5");
 * ```
 */
export function reference(
  descriptor: OpDescriptor,
  weights: OpWeights,
  inputs: readonly ReferenceTensor[],
): ReferenceResult {
  for (const [i, input] of inputs.entries()) {
    const size = input.shape.reduce((product, dim) => product * dim, 1);
    if (input.data.length !== size) {
      throw new RangeError(`reference: inputs[${i}] has ${input.data.length} values, not ${size}`);
    }
  }
  switch (descriptor.op) {
    case "conv2d":
      return conv2d(descriptor, weights as ConvWeights, inputs[0]);
    case "avgPool2d":
      return avgPool2d(descriptor, inputs[0]);
    case "maxPool2d":
      return maxPool2d(descriptor, inputs[0]);
    case "channelShuffle":
      return channelShuffle(descriptor.groups, inputs[0]);
    case "add":
      return add(descriptor.activation, inputs[0], inputs[1]);
    case "concat":
      return concat(descriptor.activation, inputs);
    case "globalAvgPool":
      return globalAvgPool(inputs[0]);
    case "fullyConnected":
      return fullyConnected(descriptor, weights as FullyConnectedWeights, inputs[0]);
    case "softmax":
      return softmax(inputs[0]);
  }
}

/** `|value|`, or 0 for NaN and ±∞: what a non-finite term adds to a magnitude. */
function finiteAbs(value: number): number {
  return Number.isFinite(value) ? Math.abs(value) : 0;
}

/**
 * `min(max(v, lo), hi)`. A clamp's bounds act as float32 values, like every
 * value a kernel holds, so a clamp to 0.1 gives `fround(0.1)`: the one
 * answer every float32 backend can give, exactly.
 */
function activate(activation: Activation, value: number): number {
  if (activation === "none") return value;
  if (activation === "relu") return Math.max(value, 0);
  if (activation === "relu6") return Math.min(Math.max(value, 0), 6);
  return Math.min(Math.max(value, Math.fround(activation.min)), Math.fround(activation.max));
}

/** Where the windows of one spatial axis start, relative to the unpadded input. */
interface AxisWindows {
  readonly count: number;
  /** Input coordinate of window `p`'s first tap: `p·stride − before`. */
  readonly first: (p: number) => number;
  /** Input coordinates of the padded axis: `[−before, size + after)`. */
  readonly paddedStart: number;
  readonly paddedEnd: number;
}

/**
 * Counts windows one by one. Floor mode: while a window fits the padded
 * axis. Ceil mode: while the previous window has not reached the padded end
 * and the new one starts inside the input or its leading padding.
 */
function axisWindows(
  padding: Padding,
  axis: 0 | 1,
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  ceilMode = false,
): AxisWindows {
  const extent = (kernel - 1) * dilation + 1;
  let before: number;
  let after: number;
  if (padding === "valid") {
    before = after = 0;
  } else if (padding === "same") {
    const total = Math.max((Math.ceil(size / stride) - 1) * stride + extent - size, 0);
    before = Math.floor(total / 2);
    after = total - before;
  } else {
    before = padding[2 * axis];
    after = padding[2 * axis + 1];
  }
  const padded = before + size + after;
  if (extent > padded) {
    throw new RangeError(
      `reference: kernel extent ${extent} exceeds padded size along axis ${axis}`,
    );
  }
  let count = 1;
  if (ceilMode) {
    while ((count - 1) * stride + extent < padded && count * stride < before + size) count++;
  } else {
    while (count * stride + extent <= padded) count++;
  }
  return {
    count,
    first: (p) => p * stride - before,
    paddedStart: -before,
    paddedEnd: size + after,
  };
}

function conv2d(d: Conv2dDescriptor, w: ConvWeights, x: ReferenceTensor): ReferenceResult {
  const [batch, height, width, channels] = x.shape;
  const [kh, kw] = d.kernel;
  const rows = axisWindows(d.padding, 0, height, kh, d.stride[0], d.dilation[0]);
  const cols = axisWindows(d.padding, 1, width, kw, d.stride[1], d.dilation[1]);
  const groupIn = d.inChannels / d.groups;
  const groupOut = d.outChannels / d.groups;
  const size = batch * rows.count * cols.count * d.outChannels;
  const values = new Float64Array(size);
  const magnitude = new Float64Array(size);
  let terms = 0;
  let index = 0;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < rows.count; oy++) {
      for (let ox = 0; ox < cols.count; ox++) {
        for (let o = 0; o < d.outChannels; o++) {
          const group = Math.floor(o / groupOut);
          let sum = w.bias ? w.bias[o] : 0;
          let total = Math.abs(sum);
          let count = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = rows.first(oy) + ky * d.dilation[0];
            if (iy < 0 || iy >= height) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = cols.first(ox) + kx * d.dilation[1];
              if (ix < 0 || ix >= width) continue;
              for (let i = 0; i < groupIn; i++) {
                const input =
                  x.data[((n * height + iy) * width + ix) * channels + group * groupIn + i];
                const product = input * w.filter[((o * kh + ky) * kw + kx) * groupIn + i];
                sum += product;
                total += finiteAbs(product);
              }
              count += groupIn;
            }
          }
          terms = Math.max(terms, count);
          values[index] = activate(d.activation, sum);
          magnitude[index++] = total;
        }
      }
    }
  }
  return {
    shape: [batch, rows.count, cols.count, d.outChannels],
    values,
    magnitude,
    accumulation: terms + (d.bias ? 1 : 0),
  };
}

/**
 * Every window's in-image cells, reduced by `reduce`. `paddedCells` counts
 * the window's cells inside the padded input: a ceil-mode window hanging
 * past the bottom/right padding has fewer than `kh·kw`.
 */
function pool(
  d: AvgPool2dDescriptor | MaxPool2dDescriptor,
  x: ReferenceTensor,
  reduce: (cells: number[], paddedCells: number) => [value: number, magnitude: number],
): ReferenceResult {
  const [batch, height, width, channels] = x.shape;
  const [kh, kw] = d.kernel;
  const rows = axisWindows(d.padding, 0, height, kh, d.stride[0], 1, d.ceilMode);
  const cols = axisWindows(d.padding, 1, width, kw, d.stride[1], 1, d.ceilMode);
  const inPadded = (axis: AxisWindows, p: number, k: number) => {
    let cells = 0;
    for (let t = 0; t < k; t++) {
      const at = axis.first(p) + t;
      if (at >= axis.paddedStart && at < axis.paddedEnd) cells++;
    }
    return cells;
  };
  const size = batch * rows.count * cols.count * channels;
  const values = new Float64Array(size);
  const magnitude = new Float64Array(size);
  let widest = 0;
  let index = 0;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < rows.count; oy++) {
      for (let ox = 0; ox < cols.count; ox++) {
        const paddedCells = inPadded(rows, oy, kh) * inPadded(cols, ox, kw);
        for (let c = 0; c < channels; c++) {
          const cells: number[] = [];
          for (let ky = 0; ky < kh; ky++) {
            const iy = rows.first(oy) + ky;
            if (iy < 0 || iy >= height) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = cols.first(ox) + kx;
              if (ix < 0 || ix >= width) continue;
              cells.push(x.data[((n * height + iy) * width + ix) * channels + c]);
            }
          }
          if (cells.length === 0) {
            throw new RangeError("reference: a pooling window lies entirely in the padding");
          }
          [values[index], magnitude[index]] = reduce(cells, paddedCells);
          widest = Math.max(widest, cells.length);
          index++;
        }
      }
    }
  }
  return {
    shape: [batch, rows.count, cols.count, channels],
    values,
    magnitude,
    accumulation: d.op === "avgPool2d" ? widest + 1 : 0,
  };
}

function avgPool2d(d: AvgPool2dDescriptor, x: ReferenceTensor): ReferenceResult {
  return pool(d, x, (cells, paddedCells) => {
    const divisor = d.countIncludePad ? paddedCells : cells.length;
    let sum = 0;
    let total = 0;
    for (const cell of cells) {
      sum += cell;
      total += finiteAbs(cell);
    }
    return [sum / divisor, total / divisor];
  });
}

/** `Math.max` over the window: NaN when any cell is NaN. */
function maxPool2d(d: MaxPool2dDescriptor, x: ReferenceTensor): ReferenceResult {
  return pool(d, x, (cells) => {
    let max = -Infinity;
    for (const cell of cells) max = Math.max(max, cell);
    return [max, finiteAbs(max)];
  });
}

function exact(shape: Shape, values: Float64Array): ReferenceResult {
  return { shape, values, magnitude: values.map(finiteAbs), accumulation: 0 };
}

function channelShuffle(groups: number, x: ReferenceTensor): ReferenceResult {
  const channels = x.shape[x.shape.length - 1];
  const perGroup = channels / groups;
  const values = new Float64Array(x.data.length);
  for (let base = 0; base < x.data.length; base += channels) {
    for (let i = 0; i < groups; i++) {
      for (let j = 0; j < perGroup; j++) {
        values[base + j * groups + i] = x.data[base + i * perGroup + j];
      }
    }
  }
  return exact(x.shape, values);
}

function add(activation: Activation, a: ReferenceTensor, b: ReferenceTensor): ReferenceResult {
  const values = new Float64Array(a.data.length);
  const magnitude = new Float64Array(a.data.length);
  for (let i = 0; i < values.length; i++) {
    values[i] = activate(activation, a.data[i] + b.data[i]);
    magnitude[i] = finiteAbs(a.data[i]) + finiteAbs(b.data[i]);
  }
  return { shape: a.shape, values, magnitude, accumulation: 1 };
}

function concat(activation: Activation, inputs: readonly ReferenceTensor[]): ReferenceResult {
  const [batch, height, width] = inputs[0].shape;
  const channels = inputs.reduce((sum, input) => sum + input.shape[3], 0);
  const values = new Float64Array(batch * height * width * channels);
  for (let pixel = 0; pixel < batch * height * width; pixel++) {
    let offset = pixel * channels;
    for (const input of inputs) {
      const c = input.shape[3];
      for (let i = 0; i < c; i++) {
        values[offset++] = activate(activation, input.data[pixel * c + i]);
      }
    }
  }
  return exact([batch, height, width, channels], values);
}

function globalAvgPool(x: ReferenceTensor): ReferenceResult {
  const [batch, height, width, channels] = x.shape;
  const values = new Float64Array(batch * channels);
  const magnitude = new Float64Array(batch * channels);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      let total = 0;
      for (let p = 0; p < height * width; p++) {
        const cell = x.data[(n * height * width + p) * channels + c];
        sum += cell;
        total += finiteAbs(cell);
      }
      values[n * channels + c] = sum / (height * width);
      magnitude[n * channels + c] = total / (height * width);
    }
  }
  return { shape: [batch, 1, 1, channels], values, magnitude, accumulation: height * width + 1 };
}

function fullyConnected(
  d: FullyConnectedDescriptor,
  w: FullyConnectedWeights,
  x: ReferenceTensor,
): ReferenceResult {
  const batch = x.shape[0];
  const values = new Float64Array(batch * d.outFeatures);
  const magnitude = new Float64Array(batch * d.outFeatures);
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < d.outFeatures; o++) {
      let sum = w.bias ? w.bias[o] : 0;
      let total = Math.abs(sum);
      for (let i = 0; i < d.inFeatures; i++) {
        const product = x.data[n * d.inFeatures + i] * w.weights[o * d.inFeatures + i];
        sum += product;
        total += finiteAbs(product);
      }
      values[n * d.outFeatures + o] = activate(d.activation, sum);
      magnitude[n * d.outFeatures + o] = total;
    }
  }
  return {
    shape: [batch, d.outFeatures],
    values,
    magnitude,
    accumulation: d.inFeatures + (d.bias ? 1 : 0),
  };
}

/**
 * Softmax's `K` is not a term count: docs/conformance.md derives the relative
 * error bound `u·(L + 13 + 10·R)` for rows of length `L` whose values span `R`
 * (max − min), which covers a float32 exp accurate to `3 + 2|x|` ulp. `R`
 * spans a row's finite values: a −∞ contributes an exact 0, and a row with
 * NaN or +∞ is NaN throughout (`+∞ − max` is NaN).
 */
function softmax(x: ReferenceTensor): ReferenceResult {
  const length = x.shape[x.shape.length - 1];
  const values = new Float64Array(x.data.length);
  let widestSpan = 0;
  for (let base = 0; base < x.data.length; base += length) {
    let max = -Infinity;
    let finiteMax = -Infinity;
    let finiteMin = Infinity;
    for (let i = 0; i < length; i++) {
      const value = x.data[base + i];
      max = Math.max(max, value);
      if (Number.isFinite(value)) {
        finiteMax = Math.max(finiteMax, value);
        finiteMin = Math.min(finiteMin, value);
      }
    }
    if (finiteMin <= finiteMax) widestSpan = Math.max(widestSpan, finiteMax - finiteMin);
    let sum = 0;
    for (let i = 0; i < length; i++) sum += Math.exp(x.data[base + i] - max);
    for (let i = 0; i < length; i++) values[base + i] = Math.exp(x.data[base + i] - max) / sum;
  }
  return {
    shape: x.shape,
    values,
    magnitude: values.map(finiteAbs),
    accumulation: length + 13 + Math.ceil(10 * widestSpan),
  };
}
