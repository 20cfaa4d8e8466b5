/**
 * Weight sets for the operators that have them, their validation, and
 * BatchNorm folding.
 *
 * @module
 */

import type { Conv2dDescriptor, FullyConnectedDescriptor, OpDescriptor } from "./descriptors.ts";
import { WeightsError } from "./errors.ts";
import { validateOptions } from "./limits.ts";

/** Convolution weights: OHWI filter, optional per-output-channel bias. */
export interface ConvWeights {
  /** OHWI filter, {@link convFilterSize} finite values. */
  readonly filter: Float32Array;
  /** `outChannels` finite values; present exactly when the descriptor has `bias: true`. */
  readonly bias?: Float32Array;
}

/** Fully connected weights: `[outFeatures][inFeatures]` matrix, optional bias. */
export interface FullyConnectedWeights {
  /** Row-major `[outFeatures][inFeatures]`: `outFeatures · inFeatures` finite values. */
  readonly weights: Float32Array;
  /** `outFeatures` finite values; present exactly when the descriptor has `bias: true`. */
  readonly bias?: Float32Array;
}

/** The weights an operator takes (`undefined` for weightless operators). */
export type WeightsFor<D extends OpDescriptor> = D extends Conv2dDescriptor ? ConvWeights
  : D extends FullyConnectedDescriptor ? FullyConnectedWeights
  : undefined;

/** Any operator's weights. */
export type OpWeights = ConvWeights | FullyConnectedWeights | undefined;

/**
 * Number of filter elements a convolution needs:
 * `outChannels · kernelH · kernelW · inChannels / groups`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convFilterSize, depthwiseConv2d } from "@mobileops/core";
 * assert(convFilterSize(depthwiseConv2d({ channels: 3, kernel: 3 })) === 27);
 * ```
 */
export function convFilterSize(d: Conv2dDescriptor): number {
  return d.outChannels * d.kernel[0] * d.kernel[1] * (d.inChannels / d.groups);
}

function float32Array(field: string, value: unknown, length: number) {
  if (!(value instanceof Float32Array)) {
    throw new WeightsError(field, value, `must be a Float32Array of length ${length}`);
  }
  if (value.length !== length) {
    throw new WeightsError(
      field,
      value,
      `length ${value.length} does not match the expected ${length}`,
    );
  }
  for (let i = 0; i < value.length; i++) {
    if (!Number.isFinite(value[i])) {
      throw new WeightsError(`${field}[${i}]`, value[i], "must be finite");
    }
  }
}

function optionalBias(field: string, value: unknown, wanted: boolean, length: number) {
  if (!wanted) {
    if (value !== undefined) {
      throw new WeightsError(field, value, "given, but the descriptor has bias: false");
    }
    return;
  }
  if (value === undefined) {
    throw new WeightsError(field, value, "missing, but the descriptor has bias: true");
  }
  float32Array(field, value, length);
}

/**
 * Checks that `weights` fit `descriptor`. Throws {@link WeightsError} naming
 * the field, or returns the weights unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pointwiseConv2d, validateWeights, WeightsError } from "@mobileops/core";
 * const d = pointwiseConv2d({ inChannels: 4, outChannels: 2 });
 * validateWeights(d, { filter: new Float32Array(8) });
 * try {
 *   validateWeights(d, { filter: new Float32Array(7) });
 * } catch (e) {
 *   assert(e instanceof WeightsError);
 * }
 * ```
 */
export function validateWeights<D extends OpDescriptor>(
  descriptor: D,
  weights: WeightsFor<D> | undefined,
): WeightsFor<D> {
  switch (descriptor.op) {
    case "conv2d": {
      if (weights === null || typeof weights !== "object") {
        throw new WeightsError("weights", weights, "conv2d needs { filter, bias? }");
      }
      const w = weights as ConvWeights;
      float32Array("weights.filter", w.filter, convFilterSize(descriptor));
      optionalBias("weights.bias", w.bias, descriptor.bias, descriptor.outChannels);
      return weights as WeightsFor<D>;
    }
    case "fullyConnected": {
      if (weights === null || typeof weights !== "object") {
        throw new WeightsError("weights", weights, "fullyConnected needs { weights, bias? }");
      }
      const w = weights as FullyConnectedWeights;
      float32Array("weights.weights", w.weights, descriptor.inFeatures * descriptor.outFeatures);
      optionalBias("weights.bias", w.bias, descriptor.bias, descriptor.outFeatures);
      return weights as WeightsFor<D>;
    }
    case "avgPool2d":
    case "maxPool2d":
    case "channelShuffle":
    case "add":
    case "concat":
    case "globalAvgPool":
    case "softmax":
      if (weights !== undefined) {
        throw new WeightsError("weights", weights, `${descriptor.op} takes no weights`);
      }
      return weights as WeightsFor<D>;
  }
}

/** BatchNorm parameters, one value per channel. */
export interface BatchNormParams {
  /** Scale γ; its length sets the channel count the other arrays must match. */
  readonly gamma: Float32Array;
  /** Shift β, added after scaling. */
  readonly beta: Float32Array;
  /** Running mean μ, subtracted before scaling. */
  readonly mean: Float32Array;
  /** Running variance σ²; `σ² + ε` must be positive. */
  readonly variance: Float32Array;
  /** Default 1e-3 (TensorFlow/Keras); PyTorch uses 1e-5. */
  readonly epsilon?: number;
}

/**
 * Folds an inference-mode BatchNorm into the preceding convolution:
 * `scale = γ / √(σ² + ε)`, `filter'[o] = filter[o]·scale[o]`,
 * `bias'[o] = (bias[o] − μ[o])·scale[o] + β[o]`. The result always has a bias,
 * so the folded layer's descriptor needs `bias: true`. Computed in float64,
 * rounded once to float32.
 *
 * @throws {WeightsError} A parameter that is not a Float32Array of the right
 *   length or holds a non-finite value (named as `bn.gamma[i]`, `bn.mean[i]`,
 *   `conv.filter[i]`…), `σ² + ε ≤ 0`, or a fold that overflows float32 (named
 *   with the channel).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { foldBatchNorm } from "@mobileops/core";
 * const one = new Float32Array([1]);
 * const folded = foldBatchNorm(
 *   { filter: new Float32Array([2, 4]) },
 *   { gamma: new Float32Array([3]), beta: one, mean: one, variance: new Float32Array([1]), epsilon: 0 },
 * );
 * assert(folded.filter.join() === "6,12" && folded.bias![0] === -2);
 * ```
 */
export function foldBatchNorm(conv: ConvWeights, bn: BatchNormParams): Required<ConvWeights> {
  validateOptions("conv", conv, ["filter", "bias"], WeightsError);
  validateOptions("bn", bn, ["gamma", "beta", "mean", "variance", "epsilon"], WeightsError);
  if (conv === undefined || bn === undefined) {
    throw new WeightsError(conv === undefined ? "conv" : "bn", undefined, "is required");
  }
  if (!(bn.gamma instanceof Float32Array) || bn.gamma.length === 0) {
    throw new WeightsError("bn.gamma", bn.gamma, "must be a non-empty Float32Array");
  }
  const channels = bn.gamma.length;
  for (const field of ["gamma", "beta", "mean", "variance"] as const) {
    float32Array(`bn.${field}`, bn[field], channels);
  }
  if (!(conv.filter instanceof Float32Array) || conv.filter.length % channels !== 0) {
    throw new WeightsError(
      "conv.filter",
      conv.filter,
      `must be a Float32Array whose length is a multiple of the ${channels} BatchNorm channels`,
    );
  }
  float32Array("conv.filter", conv.filter, conv.filter.length);
  if (conv.bias !== undefined) float32Array("conv.bias", conv.bias, channels);
  const epsilon = bn.epsilon ?? 1e-3;
  if (typeof epsilon !== "number" || !(epsilon >= 0) || epsilon === Infinity) {
    throw new WeightsError("bn.epsilon", epsilon, "must be a finite non-negative number");
  }
  const perChannel = conv.filter.length / channels;
  const filter = new Float32Array(conv.filter.length);
  const bias = new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    const variance = bn.variance[o] + epsilon;
    if (!(variance > 0)) {
      throw new WeightsError(
        `bn.variance[${o}]`,
        bn.variance[o],
        `variance + epsilon (${epsilon}) must be positive`,
      );
    }
    const scale = bn.gamma[o] / Math.sqrt(variance);
    for (let i = o * perChannel; i < (o + 1) * perChannel; i++) filter[i] = conv.filter[i] * scale;
    bias[o] = ((conv.bias?.[o] ?? 0) - bn.mean[o]) * scale + bn.beta[o];
    const overflowed = !Number.isFinite(bias[o]) ||
      filter.subarray(o * perChannel, (o + 1) * perChannel).some((value) =>
        !Number.isFinite(value)
      );
    if (overflowed) {
      throw new WeightsError(
        `bn.variance[${o}]`,
        bn.variance[o],
        `folding channel ${o} overflows float32 (scale γ/√(σ²+ε) = ${scale})`,
      );
    }
  }
  return { filter, bias };
}
