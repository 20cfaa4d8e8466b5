/**
 * Operator descriptors: readonly plain data that says what an operator
 * computes, independent of any backend. Every constructor validates its
 * arguments and returns a frozen object; {@link descriptorKey} gives a stable
 * cache key.
 *
 * @module
 */

import { DescriptorError } from "./errors.ts";
import { MAX_DIMENSION, MAX_ELEMENTS, MAX_WINDOW, validateOptions } from "./limits.ts";

/**
 * Clamps each output to `[min, max]`: `min(max(x, min), max)`, NaN staying
 * NaN. Bounds may be ±Infinity; `min ≤ max`. Build one with {@link clamp},
 * which gives the named forms for the common bounds.
 */
export interface ClampActivation {
  /** Lower bound (−Infinity for none). */
  readonly min: number;
  /** Upper bound (+Infinity for none); at least `min`. */
  readonly max: number;
}

/**
 * The activation fused into an operator's epilogue: `"none"`, `"relu"`
 * (clamp to `[0, ∞)`), `"relu6"` (clamp to `[0, 6]`) or a general
 * {@link ClampActivation}. Constructors store the named form whenever the
 * bounds are those of one, so a clamp to `[0, 6]` is `"relu6"` everywhere.
 */
export type Activation = "none" | "relu" | "relu6" | ClampActivation;

/** Explicit padding `[top, bottom, left, right]`, or a rule that derives it. */
export type Padding =
  | "valid"
  | "same"
  | readonly [top: number, bottom: number, left: number, right: number];

/** A `[height, width]` pair. */
export type Pair = readonly [height: number, width: number];

/** A pair, or one number used for both height and width. */
export type PairLike = number | readonly [number, number];

/**
 * 2-D convolution over an NHWC tensor, with `groups` channel groups and a
 * fused bias + activation epilogue. Depthwise, pointwise, group and dense
 * convolutions are all this one type; see {@link convKind}.
 *
 * Filter layout is OHWI: `[outChannels][kernelH][kernelW][inChannels / groups]`.
 * Output channel `o` belongs to group `floor(o / (outChannels / groups))` and
 * reads that group's input channels.
 */
export interface Conv2dDescriptor {
  /** Discriminant of {@link OpDescriptor}: always `"conv2d"`. */
  readonly op: "conv2d";
  /** Input channels; must equal the input's `shape[3]` and be divisible by `groups`. */
  readonly inChannels: number;
  /** Output channels (the output's `shape[3]`); a multiple of `groups`. */
  readonly outChannels: number;
  /** Kernel `[height, width]` in taps, before dilation. */
  readonly kernel: Pair;
  /** Step between output windows `[height, width]`, in input pixels. */
  readonly stride: Pair;
  /** `"valid"` (none), `"same"` (TensorFlow rule) or `[top, bottom, left, right]` in pixels. */
  readonly padding: Padding;
  /** Spacing between kernel taps `[height, width]`; 1 is contiguous, extent `(k − 1)·d + 1`. */
  readonly dilation: Pair;
  /** Channel groups; divides both channel counts. 1 is ungrouped, `inChannels` (> 1) depthwise. */
  readonly groups: number;
  /** Whether the weights carry a bias of `outChannels` values, added before the activation. */
  readonly bias: boolean;
  /** Applied to each output after the bias. */
  readonly activation: Activation;
}

/** Average pooling; `countIncludePad` decides whether padded cells count in the divisor. */
export interface AvgPool2dDescriptor {
  /** Discriminant of {@link OpDescriptor}: always `"avgPool2d"`. */
  readonly op: "avgPool2d";
  /** Window `[height, width]` in pixels. */
  readonly kernel: Pair;
  /** Step between windows `[height, width]`, in input pixels; constructor default: `kernel`. */
  readonly stride: Pair;
  /** `"valid"`, `"same"` or `[top, bottom, left, right]` in pixels, each side < the kernel. */
  readonly padding: Padding;
  /**
   * `true`: padded cells count in the divisor; `false`: only in-image cells
   * do. Cells past the padding (a ceil-mode overhang) never count.
   */
  readonly countIncludePad: boolean;
  /**
   * Output size rounded up instead of down (ONNX / PyTorch `ceil_mode`): the
   * last window may hang past the bottom/right padding, but must start inside
   * the input or its top/left padding.
   */
  readonly ceilMode: boolean;
}

/** Max pooling; padded cells never win. */
export interface MaxPool2dDescriptor {
  /** Discriminant of {@link OpDescriptor}: always `"maxPool2d"`. */
  readonly op: "maxPool2d";
  /** Window `[height, width]` in pixels. */
  readonly kernel: Pair;
  /** Step between windows `[height, width]`, in input pixels; constructor default: `kernel`. */
  readonly stride: Pair;
  /** `"valid"`, `"same"` or `[top, bottom, left, right]` in pixels, each side < the kernel. */
  readonly padding: Padding;
  /** Output size rounded up instead of down; see {@link AvgPool2dDescriptor.ceilMode}. */
  readonly ceilMode: boolean;
}

/** Channel shuffle: output channel `j·g + i` takes input channel `i·(C/g) + j`. */
export interface ChannelShuffleDescriptor {
  /** Discriminant of {@link OpDescriptor}: always `"channelShuffle"`. */
  readonly op: "channelShuffle";
  /** Number of groups `g`; must divide the input's channel count `C`. */
  readonly groups: number;
}

/** Element-wise sum of two tensors of one shape, then the activation. */
export interface AddDescriptor {
  /** Discriminant of {@link OpDescriptor}: always `"add"`. */
  readonly op: "add";
  /** Applied to each sum. */
  readonly activation: Activation;
}

/** Concatenation of NHWC tensors along channels, in input order, then the activation. */
export interface ConcatDescriptor {
  /** Discriminant of {@link OpDescriptor}: always `"concat"`. */
  readonly op: "concat";
  /** Applied to every output element. */
  readonly activation: Activation;
}

/** Mean over height and width: `[N,H,W,C]` → `[N,1,1,C]`. */
export interface GlobalAvgPoolDescriptor {
  /** Discriminant of {@link OpDescriptor}: always `"globalAvgPool"`. */
  readonly op: "globalAvgPool";
}

/**
 * Fully connected layer over the flattened per-batch features.
 * Weight layout: `[outFeatures][inFeatures]`. Output shape `[N, outFeatures]`.
 */
export interface FullyConnectedDescriptor {
  /** Discriminant of {@link OpDescriptor}: always `"fullyConnected"`. */
  readonly op: "fullyConnected";
  /** Features per batch item: the input's element count divided by its `shape[0]`. */
  readonly inFeatures: number;
  /** Features per batch item in the `[N, outFeatures]` output. */
  readonly outFeatures: number;
  /** Whether the weights carry a bias of `outFeatures` values, added before the activation. */
  readonly bias: boolean;
  /** Applied to each output after the bias. */
  readonly activation: Activation;
}

/** Softmax over the last axis. */
export interface SoftmaxDescriptor {
  /** Discriminant of {@link OpDescriptor}: always `"softmax"`. */
  readonly op: "softmax";
}

/** Any operator descriptor. */
export type OpDescriptor =
  | Conv2dDescriptor
  | AvgPool2dDescriptor
  | MaxPool2dDescriptor
  | ChannelShuffleDescriptor
  | AddDescriptor
  | ConcatDescriptor
  | GlobalAvgPoolDescriptor
  | FullyConnectedDescriptor
  | SoftmaxDescriptor;

/** The operator names. */
export type OpName = OpDescriptor["op"];

/** One entry per operator: a missing or unknown name is a type error here. */
const OPERATORS: { readonly [Op in OpName]: true } = {
  conv2d: true,
  avgPool2d: true,
  maxPool2d: true,
  channelShuffle: true,
  add: true,
  concat: true,
  globalAvgPool: true,
  fullyConnected: true,
  softmax: true,
};

/**
 * Every operator name, in declaration order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_NAMES } from "@mobileops/core";
 * assert(OP_NAMES.includes("channelShuffle") && OP_NAMES.length === new Set(OP_NAMES).size);
 * ```
 */
export const OP_NAMES: readonly OpName[] = Object.freeze(Object.keys(OPERATORS) as OpName[]);

const NAMED_ACTIVATIONS = ["none", "relu", "relu6"] as const;

/** The bounds of each named activation. */
const NAMED_BOUNDS: Readonly<
  Record<(typeof NAMED_ACTIVATIONS)[number], readonly [number, number]>
> = {
  none: [-Infinity, Infinity],
  relu: [0, Infinity],
  relu6: [0, 6],
};

/**
 * A clamp activation in canonical form: `"none"`, `"relu"` or `"relu6"` when
 * the bounds are theirs (ONNX's `Clip(0, 6)` is ReLU6), else a frozen
 * {@link ClampActivation}. Throws {@link DescriptorError} when a bound is
 * not a number, is NaN, or `min > max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clamp } from "@mobileops/core";
 * assert.equal(clamp(0, 6), "relu6");
 * assert.equal(clamp(0, Infinity), "relu");
 * assert.deepEqual(clamp(-1, 1), { min: -1, max: 1 });
 * ```
 */
export function clamp(min: number, max: number): Activation {
  return activation("activation", { min, max });
}

/**
 * The `[min, max]` an activation clamps to: `[−∞, ∞]` for `"none"`, `[0, ∞]`
 * for `"relu"`, `[0, 6]` for `"relu6"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activationBounds } from "@mobileops/core";
 * assert.deepEqual(activationBounds("relu6"), [0, 6]);
 * assert.deepEqual(activationBounds({ min: -2, max: 2 }), [-2, 2]);
 * ```
 */
export function activationBounds(activation: Activation): readonly [min: number, max: number] {
  return typeof activation === "string"
    ? NAMED_BOUNDS[activation]
    : [activation.min, activation.max];
}

/** A positive integer no larger than `max`, the limit being named in the error. */
function positiveInteger(field: string, value: unknown, max: number, limit: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new DescriptorError(field, value, "must be a positive integer");
  }
  if (value > max) throw new DescriptorError(field, value, `must be at most ${max} (${limit})`);
  return value;
}

/** A channel or feature count. */
function dimension(field: string, value: unknown): number {
  return positiveInteger(field, value, MAX_DIMENSION, "MAX_DIMENSION");
}

/** A kernel size, stride or dilation, per axis. */
function pair(field: string, value: PairLike): Pair {
  if (typeof value === "number") {
    positiveInteger(field, value, MAX_WINDOW, "MAX_WINDOW");
    return Object.freeze([value, value] as const);
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw new DescriptorError(field, value, "must be a positive integer or a [height, width] pair");
  }
  positiveInteger(`${field}[0]`, value[0], MAX_WINDOW, "MAX_WINDOW");
  positiveInteger(`${field}[1]`, value[1], MAX_WINDOW, "MAX_WINDOW");
  return Object.freeze([value[0], value[1]] as const);
}

/** `value`, or `fallback` when it is `undefined` (not when it is `null`: that is an error). */
function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

function padding(field: string, value: Padding): Padding {
  if (value === "valid" || value === "same") return value;
  if (!Array.isArray(value) || value.length !== 4) {
    throw new DescriptorError(
      field,
      value,
      'must be "valid", "same" or [top, bottom, left, right]',
    );
  }
  value.forEach((side, i) => {
    if (typeof side !== "number" || !Number.isInteger(side) || side < 0) {
      throw new DescriptorError(`${field}[${i}]`, side, "must be a non-negative integer");
    }
    if (side > MAX_WINDOW) {
      throw new DescriptorError(
        `${field}[${i}]`,
        side,
        `must be at most ${MAX_WINDOW} (MAX_WINDOW)`,
      );
    }
  });
  return Object.freeze([value[0], value[1], value[2], value[3]] as const);
}

function activation(field: string, value: Activation): Activation {
  if (typeof value === "string" && (NAMED_ACTIVATIONS as readonly string[]).includes(value)) {
    return value;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new DescriptorError(
      field,
      value,
      `must be one of ${NAMED_ACTIVATIONS.join(", ")} or a clamp { min, max }`,
    );
  }
  const { min, max } = validateOptions<ClampActivation>(
    field,
    value,
    ["min", "max"],
    DescriptorError,
  );
  for (const [name, bound] of [["min", min], ["max", max]] as const) {
    if (typeof bound !== "number" || Number.isNaN(bound)) {
      throw new DescriptorError(`${field}.${name}`, bound, "must be a number (±Infinity allowed)");
    }
  }
  if (min > max) throw new DescriptorError(`${field}.min`, min, `must be at most max (${max})`);
  const named = NAMED_ACTIVATIONS.find((name) =>
    NAMED_BOUNDS[name][0] === min && NAMED_BOUNDS[name][1] === max
  );
  return named ?? Object.freeze({ min: min === 0 ? 0 : min, max: max === 0 ? 0 : max });
}

function boolean(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new DescriptorError(field, value, "must be a boolean");
  return value;
}

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Input channels, a positive integer divisible by `groups`. */
  inChannels: number;
  /** Output channels, a positive integer that is a multiple of `groups`. */
  outChannels: number;
  /** Kernel size in taps: one number for a square kernel, or `[height, width]`. */
  kernel: PairLike;
  /** Default 1. */
  stride?: PairLike;
  /** Default `"valid"`. */
  padding?: Padding;
  /** Default 1. */
  dilation?: PairLike;
  /** Default 1 (dense). */
  groups?: number;
  /** Default `false`. */
  bias?: boolean;
  /** Default `"none"`. */
  activation?: Activation;
}

/**
 * The general convolution descriptor. Prefer the named forms
 * ({@link depthwiseConv2d}, {@link pointwiseConv2d}, {@link groupConv2d},
 * {@link denseConv2d}) where one fits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conv2d } from "@mobileops/core";
 * const d = conv2d({ inChannels: 8, outChannels: 16, kernel: 3, padding: "same", groups: 2 });
 * assert(d.kernel[0] === 3 && d.groups === 2 && d.activation === "none");
 * ```
 */
export function conv2d(options: Conv2dOptions): Conv2dDescriptor {
  validateOptions("options", options, CONV2D_KEYS, DescriptorError);
  if (options === undefined) {
    throw new DescriptorError(
      "options",
      options,
      "conv2d needs { inChannels, outChannels, kernel }",
    );
  }
  const inChannels = dimension("inChannels", options.inChannels);
  const outChannels = dimension("outChannels", options.outChannels);
  const groups = dimension("groups", orDefault(options.groups, 1));
  if (inChannels % groups !== 0) {
    throw new DescriptorError("groups", groups, `must divide inChannels (${inChannels})`);
  }
  if (outChannels % groups !== 0) {
    throw new DescriptorError(
      "outChannels",
      outChannels,
      `must be a multiple of groups (${groups})`,
    );
  }
  const kernel = pair("kernel", options.kernel);
  const filterSize = outChannels * kernel[0] * kernel[1] * (inChannels / groups);
  if (filterSize > MAX_ELEMENTS) {
    throw new DescriptorError(
      "outChannels",
      outChannels,
      `the filter (outChannels × kernel × inChannels / groups = ${filterSize} values) must ` +
        `have at most ${MAX_ELEMENTS} (MAX_ELEMENTS)`,
    );
  }
  return Object.freeze({
    op: "conv2d",
    inChannels,
    outChannels,
    kernel,
    stride: pair("stride", orDefault(options.stride, 1)),
    padding: padding("padding", orDefault<Padding>(options.padding, "valid")),
    dilation: pair("dilation", orDefault(options.dilation, 1)),
    groups,
    bias: boolean("bias", orDefault(options.bias, false)),
    activation: activation("activation", orDefault<Activation>(options.activation, "none")),
  });
}

const CONV2D_KEYS = [
  "inChannels",
  "outChannels",
  "kernel",
  "stride",
  "padding",
  "dilation",
  "groups",
  "bias",
  "activation",
];

/** Options of {@link depthwiseConv2d}. */
export interface DepthwiseConv2dOptions
  extends Omit<Conv2dOptions, "inChannels" | "outChannels" | "groups"> {
  /** Input channels; also the group count, one channel per group. */
  channels: number;
  /** Channel multiplier: output channel `c·multiplier + k` filters input channel `c`. Default 1. */
  multiplier?: number;
}

/**
 * Depthwise convolution: `groups = channels`, `outChannels = channels × multiplier`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d } from "@mobileops/core";
 * const d = depthwiseConv2d({ channels: 32, kernel: 3, stride: 2, padding: "same" });
 * assert(d.groups === 32 && d.outChannels === 32);
 * ```
 */
export function depthwiseConv2d(options: DepthwiseConv2dOptions): Conv2dDescriptor {
  validateOptions("options", options, DEPTHWISE_KEYS, DescriptorError);
  if (options === undefined) {
    throw new DescriptorError("options", options, "depthwiseConv2d needs { channels, kernel }");
  }
  const { channels, multiplier, ...rest } = options;
  dimension("channels", channels);
  dimension("multiplier", orDefault(multiplier, 1));
  return conv2d({
    ...rest,
    inChannels: channels,
    outChannels: channels * orDefault(multiplier, 1),
    groups: channels,
  });
}

const DEPTHWISE_KEYS = [
  "channels",
  "multiplier",
  "kernel",
  "stride",
  "padding",
  "dilation",
  "bias",
  "activation",
];

/** Options of {@link pointwiseConv2d}. */
export type PointwiseConv2dOptions = Omit<Conv2dOptions, "kernel" | "padding" | "dilation">;

/**
 * 1×1 convolution (optionally grouped, as in ShuffleNet's group pointwise layers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pointwiseConv2d } from "@mobileops/core";
 * const d = pointwiseConv2d({ inChannels: 240, outChannels: 60, groups: 3, activation: "relu" });
 * assert(d.kernel[0] === 1 && d.groups === 3);
 * ```
 */
export function pointwiseConv2d(options: PointwiseConv2dOptions): Conv2dDescriptor {
  validateOptions("options", options, POINTWISE_KEYS, DescriptorError);
  if (options === undefined) {
    throw new DescriptorError(
      "options",
      options,
      "pointwiseConv2d needs { inChannels, outChannels }",
    );
  }
  return conv2d({ ...options, kernel: 1, padding: "valid", dilation: 1 });
}

const POINTWISE_KEYS = ["inChannels", "outChannels", "stride", "groups", "bias", "activation"];

/**
 * Group convolution: `1 < groups < inChannels`, any kernel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupConv2d } from "@mobileops/core";
 * const d = groupConv2d({ inChannels: 384, outChannels: 384, groups: 8, kernel: 1 });
 * assert(d.groups === 8);
 * ```
 */
export function groupConv2d(options: Conv2dOptions & { groups: number }): Conv2dDescriptor {
  validateOptions("options", options, CONV2D_KEYS, DescriptorError);
  if (options === undefined) {
    throw new DescriptorError(
      "options",
      options,
      "groupConv2d needs { inChannels, outChannels, kernel, groups }",
    );
  }
  const groups = dimension("groups", options.groups);
  const inChannels = dimension("inChannels", options.inChannels);
  if (groups < 2 || groups >= inChannels) {
    throw new DescriptorError(
      "groups",
      groups,
      `a group convolution needs 1 < groups < inChannels (${inChannels})`,
    );
  }
  return conv2d(options);
}

/**
 * Dense (ungrouped) convolution, e.g. the 3×3 stem of both networks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseConv2d } from "@mobileops/core";
 * const d = denseConv2d({ inChannels: 3, outChannels: 32, kernel: 3, stride: 2, padding: [1, 1, 1, 1] });
 * assert(d.groups === 1);
 * ```
 */
export function denseConv2d(options: Omit<Conv2dOptions, "groups">): Conv2dDescriptor {
  validateOptions(
    "options",
    options,
    CONV2D_KEYS.filter((key) => key !== "groups"),
    DescriptorError,
  );
  if (options === undefined) {
    throw new DescriptorError(
      "options",
      options,
      "denseConv2d needs { inChannels, outChannels, kernel }",
    );
  }
  return conv2d({ ...options, groups: 1 });
}

/** The named form a convolution descriptor takes, for dispatch to specialised kernels. */
export type ConvKind = "depthwise" | "pointwise" | "group" | "dense";

/**
 * Classifies a convolution: `depthwise` when every group holds one input
 * channel (and there is more than one), `group` for other grouped convolutions,
 * `pointwise` for ungrouped 1×1, `dense` otherwise. One-channel depthwise is
 * mathematically a dense convolution and is classified as such.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convKind, pointwiseConv2d } from "@mobileops/core";
 * assert(convKind(pointwiseConv2d({ inChannels: 4, outChannels: 8 })) === "pointwise");
 * ```
 */
export function convKind(d: Conv2dDescriptor): ConvKind {
  if (d.groups > 1 && d.groups === d.inChannels) return "depthwise";
  if (d.groups > 1) return "group";
  return d.kernel[0] === 1 && d.kernel[1] === 1 ? "pointwise" : "dense";
}

/** Options shared by the pooling constructors. */
export interface Pool2dOptions {
  /** Window size in pixels: one number for a square window, or `[height, width]`. */
  kernel: PairLike;
  /** Default: the kernel size. */
  stride?: PairLike;
  /** Default `"valid"`. */
  padding?: Padding;
  /** Round the output size up (ONNX / PyTorch `ceil_mode`). Default `false`. */
  ceilMode?: boolean;
}

/**
 * Pool padding must be smaller than the kernel on every side, so that no
 * window lies wholly in padding (its max or average would be undefined).
 */
function poolPadding(value: Padding, kernel: Pair): Padding {
  const checked = padding("padding", value);
  if (typeof checked === "string") return checked;
  checked.forEach((side, i) => {
    const extent = kernel[i < 2 ? 0 : 1];
    if (side >= extent) {
      throw new DescriptorError(
        `padding[${i}]`,
        side,
        `a pool's padding must be smaller than its kernel ${
          i < 2 ? "height" : "width"
        } (${extent})`,
      );
    }
  });
  return checked;
}

/**
 * Average pooling descriptor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { avgPool2d } from "@mobileops/core";
 * const d = avgPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1], countIncludePad: true });
 * assert(d.countIncludePad);
 * ```
 */
export function avgPool2d(
  options: Pool2dOptions & { countIncludePad?: boolean },
): AvgPool2dDescriptor {
  validateOptions("options", options, [...POOL_KEYS, "countIncludePad"], DescriptorError);
  if (options === undefined) {
    throw new DescriptorError("options", options, "avgPool2d needs { kernel }");
  }
  const kernel = pair("kernel", options.kernel);
  return Object.freeze({
    op: "avgPool2d",
    kernel,
    stride: pair("stride", orDefault<PairLike>(options.stride, kernel)),
    padding: poolPadding(orDefault<Padding>(options.padding, "valid"), kernel),
    countIncludePad: boolean("countIncludePad", orDefault(options.countIncludePad, false)),
    ceilMode: boolean("ceilMode", orDefault(options.ceilMode, false)),
  });
}

const POOL_KEYS = ["kernel", "stride", "padding", "ceilMode"];

/**
 * Max pooling descriptor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxPool2d } from "@mobileops/core";
 * const d = maxPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1] });
 * assert(d.stride[0] === 2);
 * ```
 */
export function maxPool2d(options: Pool2dOptions): MaxPool2dDescriptor {
  validateOptions("options", options, POOL_KEYS, DescriptorError);
  if (options === undefined) {
    throw new DescriptorError("options", options, "maxPool2d needs { kernel }");
  }
  const kernel = pair("kernel", options.kernel);
  return Object.freeze({
    op: "maxPool2d",
    kernel,
    stride: pair("stride", orDefault<PairLike>(options.stride, kernel)),
    padding: poolPadding(orDefault<Padding>(options.padding, "valid"), kernel),
    ceilMode: boolean("ceilMode", orDefault(options.ceilMode, false)),
  });
}

/**
 * Channel shuffle with `groups` groups (ShuffleNet's reshape(g, C/g) → transpose → reshape).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelShuffle } from "@mobileops/core";
 * assert(channelShuffle({ groups: 3 }).groups === 3);
 * ```
 */
export function channelShuffle(options: { groups: number }): ChannelShuffleDescriptor {
  validateOptions("options", options, ["groups"], DescriptorError);
  if (options === undefined) {
    throw new DescriptorError("options", options, "channelShuffle needs { groups }");
  }
  return Object.freeze({ op: "channelShuffle", groups: dimension("groups", options.groups) });
}

/**
 * Element-wise add of two same-shaped tensors with a fused activation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { add } from "@mobileops/core";
 * assert(add({ activation: "relu" }).activation === "relu");
 * ```
 */
export function add(options: { activation?: Activation } = {}): AddDescriptor {
  const checked = validateOptions<{ activation?: Activation }>(
    "options",
    options,
    ["activation"],
    DescriptorError,
  );
  return Object.freeze({
    op: "add",
    activation: activation("activation", orDefault<Activation>(checked.activation, "none")),
  });
}

/**
 * Channel concatenation with a fused activation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat } from "@mobileops/core";
 * assert(concat().op === "concat");
 * ```
 */
export function concat(options: { activation?: Activation } = {}): ConcatDescriptor {
  const checked = validateOptions<{ activation?: Activation }>(
    "options",
    options,
    ["activation"],
    DescriptorError,
  );
  return Object.freeze({
    op: "concat",
    activation: activation("activation", orDefault<Activation>(checked.activation, "none")),
  });
}

/**
 * Global average pooling descriptor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPool } from "@mobileops/core";
 * assert(globalAvgPool().op === "globalAvgPool");
 * ```
 */
export function globalAvgPool(): GlobalAvgPoolDescriptor {
  return Object.freeze({ op: "globalAvgPool" });
}

/**
 * Fully connected layer descriptor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullyConnected } from "@mobileops/core";
 * const d = fullyConnected({ inFeatures: 1024, outFeatures: 1000, bias: true });
 * assert(d.outFeatures === 1000);
 * ```
 */
export function fullyConnected(options: {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
  activation?: Activation;
}): FullyConnectedDescriptor {
  validateOptions(
    "options",
    options,
    ["inFeatures", "outFeatures", "bias", "activation"],
    DescriptorError,
  );
  if (options === undefined) {
    throw new DescriptorError(
      "options",
      options,
      "fullyConnected needs { inFeatures, outFeatures }",
    );
  }
  const inFeatures = dimension("inFeatures", options.inFeatures);
  const outFeatures = dimension("outFeatures", options.outFeatures);
  if (inFeatures * outFeatures > MAX_ELEMENTS) {
    throw new DescriptorError(
      "outFeatures",
      outFeatures,
      `the weight matrix (inFeatures × outFeatures = ${inFeatures * outFeatures} values) must ` +
        `have at most ${MAX_ELEMENTS} (MAX_ELEMENTS)`,
    );
  }
  return Object.freeze({
    op: "fullyConnected",
    inFeatures,
    outFeatures,
    bias: boolean("bias", orDefault(options.bias, false)),
    activation: activation("activation", orDefault<Activation>(options.activation, "none")),
  });
}

/**
 * Softmax over the last axis.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmax } from "@mobileops/core";
 * assert(softmax().op === "softmax");
 * ```
 */
export function softmax(): SoftmaxDescriptor {
  return Object.freeze({ op: "softmax" });
}

/**
 * Re-validates a descriptor that did not come from a constructor (e.g. parsed
 * from JSON), returning the frozen canonical form. Throws {@link DescriptorError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateDescriptor } from "@mobileops/core";
 * const d = validateDescriptor(JSON.parse('{"op":"channelShuffle","groups":4}'));
 * assert(d.op === "channelShuffle");
 * ```
 */
export function validateDescriptor(descriptor: OpDescriptor): OpDescriptor {
  if (descriptor === null || typeof descriptor !== "object") {
    throw new DescriptorError("descriptor", descriptor, "must be an operator descriptor object");
  }
  const { op: _, ...fields } = descriptor;
  switch (descriptor.op) {
    case "conv2d":
      return conv2d(fields as Conv2dOptions);
    case "avgPool2d":
      return avgPool2d(fields as Pool2dOptions);
    case "maxPool2d":
      return maxPool2d(fields as Pool2dOptions);
    case "channelShuffle":
      return channelShuffle(fields as { groups: number });
    case "add":
      return add(fields as { activation?: Activation });
    case "concat":
      return concat(fields as { activation?: Activation });
    case "globalAvgPool":
      validateOptions("options", fields, [], DescriptorError);
      return globalAvgPool();
    case "fullyConnected":
      return fullyConnected(fields as FullyConnectedDescriptor);
    case "softmax":
      validateOptions("options", fields, [], DescriptorError);
      return softmax();
    default: {
      const unknown: never = descriptor;
      throw new DescriptorError(
        "op",
        (unknown as { op: unknown }).op,
        `is not a known operator (${OP_NAMES.join(", ")})`,
      );
    }
  }
}

/**
 * A stable cache key: the same descriptor always gives the same string,
 * whatever the key order of the object it was built from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { descriptorKey, pointwiseConv2d } from "@mobileops/core";
 * const a = pointwiseConv2d({ inChannels: 4, outChannels: 8 });
 * const b = pointwiseConv2d({ outChannels: 8, inChannels: 4 });
 * assert(descriptorKey(a) === descriptorKey(b));
 * ```
 */
export function descriptorKey(descriptor: OpDescriptor): string {
  return canonicalJson(validateDescriptor(descriptor));
}

/** JSON with object keys sorted at every level and ±Infinity spelt out (JSON has no Infinity). */
function canonicalJson(value: unknown): string {
  if (typeof value === "number") {
    return Number.isFinite(value) ? JSON.stringify(value) : `"${value}"`;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${
      entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")
    }}`;
  }
  return JSON.stringify(value);
}
