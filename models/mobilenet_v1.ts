/**
 * MobileNet v1 (Howard et al. 2017, arXiv 1704.04861), Table 1.
 *
 * @module
 */

import {
  type Activation,
  denseConv2d,
  depthwiseConv2d,
  fullyConnected,
  globalAvgPool,
  type Padding,
  pointwiseConv2d,
  validateOptions,
} from "@mobileops/core";
import { ModelOptionError } from "./errors.ts";
import { GRAPH_INPUT } from "@mobileops/graph";
import { type LayerSpec, Model } from "./model.ts";
import {
  activationFits,
  alpha as checkAlpha,
  classes as checkClasses,
  epsilon as checkEpsilon,
  oneOf,
  orDefault,
  positiveInteger,
  resolution as checkResolution,
  seed as checkSeed,
} from "./options.ts";

/** Options of {@link mobilenetV1}; every one has a default. */
export interface MobileNetV1Options {
  /** Width multiplier α in (0, 4] (`MAX_ALPHA`; the paper's 1, 0.75, 0.5, 0.25). Default 1. */
  alpha?: number;
  /**
   * Input height = width; a multiple of 32 up to 4096 (`MAX_RESOLUTION`), the
   * paper's ρ: 224, 192, 160, 128. Default 224.
   */
  resolution?: number;
  /** Up to 65,536 (`MAX_CLASSES`). Default 1000. */
  classes?: number;
  /** Default `"relu6"` (TensorFlow's trained models); the paper says ReLU. */
  activation?: "relu6" | "relu";
  /**
   * `"symmetric"` (default): one pixel on every side of each 3×3 layer.
   * `"same"`: TensorFlow's rule, where stride-2 layers pad only bottom/right;
   * pick it for weights converted from TensorFlow.
   */
  padding?: "symmetric" | "same";
  /** Seed of the random initial weights, a safe integer. Default 1. */
  seed?: number;
  /** BatchNorm ε used when folding, finite and ≥ 0. Default 1e-3 (TensorFlow). */
  batchNormEpsilon?: number;
}

const OPTION_KEYS = [
  "alpha",
  "resolution",
  "classes",
  "activation",
  "padding",
  "seed",
  "batchNormEpsilon",
];

/**
 * The paper's Table 1 after the stem: each row is one depthwise-separable
 * block as [pointwise output channels at α = 1, depthwise stride]. The
 * table's last depthwise row says s2 on a 7×7 input, a known typo: stride 1.
 */
const BLOCKS: readonly (readonly [channels: number, stride: number])[] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

/**
 * Channels at width multiplier α, rounded as TF-slim's reference
 * implementation does: `max(floor(channels · α), 8)`. Throws
 * {@link ModelOptionError} unless `channels` is a positive integer and α is in
 * (0, `MAX_ALPHA`].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mobilenetChannels } from "@mobileops/models";
 * assert(mobilenetChannels(1024, 0.75) === 768 && mobilenetChannels(32, 0.1) === 8);
 * ```
 */
export function mobilenetChannels(channels: number, alpha: number): number {
  return Math.max(Math.floor(positiveInteger("channels", channels) * checkAlpha(alpha)), 8);
}

/**
 * Builds MobileNet v1: 3×3/s2 conv (32α) → 13 depthwise-separable blocks
 * (3×3 depthwise + BN + act, 1×1 pointwise + BN + act) → global average pool
 * → fully connected. The graph's output is the logits (softmax is left to
 * the caller). With no options it is the paper's 1.0-224 network.
 *
 * @throws {ModelOptionError} `options` is not an object (`options = null`),
 *   has an unknown key (`options.alpha_`), or an option is out of range —
 *   including a resolution at which, for α > 1, the largest activation would
 *   exceed core's `MAX_ELEMENTS` (field `resolution`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mobilenetV1 } from "@mobileops/models";
 * const model = mobilenetV1({ alpha: 0.5, resolution: 160 });
 * assert(model.name === "mobilenet_v1_0.5_160");
 * assert(model.graph.nodes.length === 1 + 13 * 2 + 2);
 * ```
 */
export function mobilenetV1(options?: MobileNetV1Options): Model {
  const o = validateOptions<MobileNetV1Options>("options", options, OPTION_KEYS, ModelOptionError);
  const alpha = checkAlpha(orDefault(o.alpha, 1));
  const size = checkResolution(orDefault(o.resolution, 224));
  const classes = checkClasses(orDefault(o.classes, 1000));
  const activation: Activation = oneOf("activation", orDefault(o.activation, "relu6"), [
    "relu6",
    "relu",
  ]);
  const paddingRule = oneOf("padding", orDefault(o.padding, "symmetric"), ["symmetric", "same"]);
  const epsilon = checkEpsilon("batchNormEpsilon", orDefault(o.batchNormEpsilon, 1e-3));
  const seed = checkSeed("seed", orDefault(o.seed, 1));
  const padding: Padding = paddingRule === "same" ? "same" : [1, 1, 1, 1];

  const stem = mobilenetChannels(32, alpha);
  const layers: LayerSpec[] = [{
    name: "conv1",
    descriptor: denseConv2d({
      inChannels: 3,
      outChannels: stem,
      kernel: 3,
      stride: 2,
      padding,
      bias: true,
      activation,
    }),
    inputs: [GRAPH_INPUT],
  }];
  let channels = stem;
  let spatial = size / 2;
  activationFits(spatial * spatial * stem, "conv1", size);
  BLOCKS.forEach(([width, stride], i) => {
    const block = `block${i + 1}`;
    const out = mobilenetChannels(width, alpha);
    spatial /= stride;
    activationFits(spatial * spatial * out, `${block}.pointwise`, size);
    layers.push({
      name: `${block}.depthwise`,
      descriptor: depthwiseConv2d({ channels, kernel: 3, stride, padding, bias: true, activation }),
      inputs: [layers.at(-1)!.name],
    }, {
      name: `${block}.pointwise`,
      descriptor: pointwiseConv2d({
        inChannels: channels,
        outChannels: out,
        bias: true,
        activation,
      }),
      inputs: [`${block}.depthwise`],
    });
    channels = out;
  });
  layers.push(
    { name: "pool", descriptor: globalAvgPool(), inputs: [layers.at(-1)!.name] },
    {
      name: "fc",
      descriptor: fullyConnected({ inFeatures: channels, outFeatures: classes, bias: true }),
      inputs: ["pool"],
    },
  );
  return new Model({
    name: `mobilenet_v1_${Number.isInteger(alpha) ? alpha.toFixed(1) : alpha}_${size}`,
    inputShape: [1, size, size, 3],
    layers,
    batchNormEpsilon: epsilon,
    config: {
      model: "mobilenet_v1",
      alpha,
      resolution: size,
      classes,
      activation,
      padding: paddingRule,
    },
  }, { seed });
}
