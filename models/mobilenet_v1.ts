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
} from "@mobileops/core";
import { ModelOptionError } from "./errors.ts";
import { GRAPH_INPUT } from "@mobileops/graph";
import { type LayerSpec, Model } from "./model.ts";
import {
  oneOf,
  positiveInteger,
  resolution as checkResolution,
  seed as checkSeed,
} from "./options.ts";

/** Options of {@link mobilenetV1}. */
export interface MobileNetV1Options {
  /** Width multiplier α > 0 (the paper's 1, 0.75, 0.5, 0.25). */
  alpha: number;
  /** Input height = width; a multiple of 32 (the paper's ρ: 224, 192, 160, 128). */
  resolution: number;
  /** Default 1000. */
  classes?: number;
  /** Default `"relu6"` (TensorFlow's trained models); the paper says ReLU. */
  activation?: "relu6" | "relu";
  /**
   * `"symmetric"` (default): one pixel on every side of each 3×3 layer.
   * `"same"`: TensorFlow's rule, where stride-2 layers pad only bottom/right;
   * pick it for weights converted from TensorFlow.
   */
  padding?: "symmetric" | "same";
  /** Seed of the random initial weights. Default 1. */
  seed?: number;
  /** BatchNorm ε used when folding. Default 1e-3 (TensorFlow). */
  batchNormEpsilon?: number;
}

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
 * implementation does: `max(floor(channels · α), 8)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mobilenetChannels } from "@mobileops/models";
 * assert(mobilenetChannels(1024, 0.75) === 768 && mobilenetChannels(32, 0.1) === 8);
 * ```
 */
export function mobilenetChannels(channels: number, alpha: number): number {
  return Math.max(Math.floor(channels * alpha), 8);
}

/**
 * Builds MobileNet v1: 3×3/s2 conv (32α) → 13 depthwise-separable blocks
 * (3×3 depthwise + BN + act, 1×1 pointwise + BN + act) → global average pool
 * → fully connected. The graph's output is the logits (softmax is left to
 * the caller). Bad options throw {@link ModelOptionError}.
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
export function mobilenetV1(options: MobileNetV1Options): Model {
  const alpha = options.alpha;
  if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha <= 0) {
    throw new ModelOptionError("alpha", alpha, "must be a positive finite number");
  }
  const size = checkResolution(options.resolution);
  const classes = positiveInteger("classes", options.classes ?? 1000);
  const activation: Activation = oneOf("activation", options.activation ?? "relu6", [
    "relu6",
    "relu",
  ]);
  const paddingRule = oneOf("padding", options.padding ?? "symmetric", ["symmetric", "same"]);
  const epsilon = options.batchNormEpsilon ?? 1e-3;
  if (typeof epsilon !== "number" || !(epsilon >= 0)) {
    throw new ModelOptionError("batchNormEpsilon", epsilon, "must be a non-negative number");
  }
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
  BLOCKS.forEach(([width, stride], i) => {
    const block = `block${i + 1}`;
    const out = mobilenetChannels(width, alpha);
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
  }, { seed: checkSeed(options.seed ?? 1) });
}
