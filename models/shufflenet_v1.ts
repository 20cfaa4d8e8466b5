/**
 * ShuffleNet v1 (Zhang et al. 2017, arXiv 1707.01083), Table 1 and Fig. 2.
 *
 * @module
 */

import {
  add,
  avgPool2d,
  channelShuffle,
  concat,
  denseConv2d,
  depthwiseConv2d,
  fullyConnected,
  globalAvgPool,
  maxPool2d,
  pointwiseConv2d,
  validateOptions,
} from "@mobileops/core";
import { ModelOptionError } from "./errors.ts";
import { GRAPH_INPUT } from "@mobileops/graph";
import { type LayerSpec, Model } from "./model.ts";
import {
  boolean,
  classes as checkClasses,
  epsilon as checkEpsilon,
  oneOf,
  orDefault,
  positiveInteger,
  resolution as checkResolution,
  seed as checkSeed,
} from "./options.ts";

/** The group counts of the paper's Table 1. */
export type ShuffleNetGroups = 1 | 2 | 3 | 4 | 8;
/** The width scales of the paper's Table 2. */
export type ShuffleNetScale = 0.25 | 0.5 | 1 | 1.5 | 2;

/**
 * Every group count {@link shufflenetV1} accepts (Table 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SHUFFLENET_GROUPS } from "@mobileops/models";
 * assert(SHUFFLENET_GROUPS.includes(8));
 * ```
 */
export const SHUFFLENET_GROUPS: readonly ShuffleNetGroups[] = Object.freeze([1, 2, 3, 4, 8]);

/**
 * Every width scale {@link shufflenetV1} accepts (Table 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SHUFFLENET_SCALES } from "@mobileops/models";
 * assert(SHUFFLENET_SCALES.includes(0.5));
 * ```
 */
export const SHUFFLENET_SCALES: readonly ShuffleNetScale[] = Object.freeze([0.25, 0.5, 1, 1.5, 2]);

/** Options of {@link shufflenetV1}; every one has a default. */
export interface ShuffleNetV1Options {
  /** Groups g of the 1×1 group convolutions and the channel shuffle: 1, 2, 3, 4 or 8. Default 3. */
  groups?: ShuffleNetGroups;
  /** Width scale s (the paper's "ShuffleNet s×"): 0.25, 0.5, 1, 1.5 or 2. Default 1. */
  scale?: ShuffleNetScale;
  /** Input height = width; a multiple of 32 up to 4096 (`MAX_RESOLUTION`). Default 224. */
  resolution?: number;
  /** Up to 65,536 (`MAX_CLASSES`). Default 1000. */
  classes?: number;
  /**
   * conv1's output channels. Default: 12/12/24/24/48 at 0.25×/0.5×/1×/1.5×/2×
   * (which reproduces the paper's complexity figures), raised to the next
   * value whose difference with Stage 2's width is a multiple of `groups`
   * (Stage 2's first unit outputs that difference through a grouped layer).
   */
  conv1Channels?: number;
  /**
   * Whether the stride-2 shortcut's 3×3 average pool counts padded cells in
   * its divisor. Default `true`, as PyTorch's `AvgPool2d` (and so weights
   * trained with it) does.
   */
  countIncludePad?: boolean;
  /** Seed of the random initial weights, a safe integer. Default 1. */
  seed?: number;
  /** BatchNorm ε used when folding, finite and ≥ 0. Default 1e-5 (PyTorch). */
  batchNormEpsilon?: number;
}

const OPTION_KEYS = [
  "groups",
  "scale",
  "resolution",
  "classes",
  "conv1Channels",
  "countIncludePad",
  "seed",
  "batchNormEpsilon",
];

/** Stage 2 output channels at 1× (Table 1), by groups. */
const STAGE2_WIDTH: Readonly<Record<ShuffleNetGroups, number>> = {
  1: 144,
  2: 200,
  3: 240,
  4: 272,
  8: 384,
};

const CONV1_WIDTH: Readonly<Record<ShuffleNetScale, number>> = {
  0.25: 12,
  0.5: 12,
  1: 24,
  1.5: 24,
  2: 48,
};

const UNITS_PER_STAGE = [4, 8, 4] as const;

/**
 * Stage 2's output channels at scale s: Table 1's width × s, rounded to the
 * nearest multiple of 4·groups (the bottleneck is a quarter of the width and
 * must split into `groups`). Exact for every width the paper reports.
 * Throws {@link ModelOptionError} for a group count or scale not in the
 * tables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shufflenetStage2Width } from "@mobileops/models";
 * assert(shufflenetStage2Width(3, 1) === 240 && shufflenetStage2Width(8, 0.5) === 192);
 * ```
 */
export function shufflenetStage2Width(groups: ShuffleNetGroups, scale: ShuffleNetScale): number {
  oneOf("groups", groups, SHUFFLENET_GROUPS);
  oneOf("scale", scale, SHUFFLENET_SCALES);
  const quantum = 4 * groups;
  return Math.max(quantum, Math.round((STAGE2_WIDTH[groups] * scale) / quantum) * quantum);
}

/**
 * Builds ShuffleNet v1: conv1 3×3/s2 + BN + ReLU → max pool 3×3/s2 →
 * stages 2–4 of 4/8/4 units → global average pool → fully connected. The
 * graph's output is the logits (no softmax). With no options it is the
 * paper's 1× g = 3 network at 224.
 *
 * @throws {ModelOptionError} `options` is not an object (`options = null`),
 *   has an unknown key (`options.stage2Channel`), or an option is out of its
 *   table or range. Every allowed configuration's activations and weights fit
 *   core's `MAX_ELEMENTS`.
 *
 * A unit is: 1×1 group conv to a bottleneck of ¼ the unit's output channels
 * (+ BN + ReLU; not grouped in Stage 2's first unit) → channel shuffle →
 * 3×3 depthwise (+ BN, no ReLU) → 1×1 group conv (+ BN). Stride-1 units add
 * the input and apply ReLU; stride-2 units (each stage's first) concatenate
 * a 3×3/s2 average-pooled input before their own branch, then ReLU, so the
 * branch makes output − input channels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shufflenetV1 } from "@mobileops/models";
 * const model = shufflenetV1({ groups: 3, scale: 1, resolution: 224 });
 * assert(model.name === "shufflenet_v1_1.0x_g3_224");
 * assert(model.parameters.get("stage4.unit4.expand.weight")!.shape.join() === "960,1,1,80");
 * ```
 */
export function shufflenetV1(options?: ShuffleNetV1Options): Model {
  const o = validateOptions<ShuffleNetV1Options>("options", options, OPTION_KEYS, ModelOptionError);
  const groups = oneOf("groups", orDefault(o.groups, 3), SHUFFLENET_GROUPS);
  const scale = oneOf("scale", orDefault(o.scale, 1), SHUFFLENET_SCALES);
  const size = checkResolution(orDefault(o.resolution, 224));
  const classes = checkClasses(orDefault(o.classes, 1000));
  const countIncludePad = boolean("countIncludePad", orDefault(o.countIncludePad, true));
  const epsilon = checkEpsilon("batchNormEpsilon", orDefault(o.batchNormEpsilon, 1e-5));
  const seed = checkSeed("seed", orDefault(o.seed, 1));
  const width = shufflenetStage2Width(groups, scale);
  let stem = CONV1_WIDTH[scale];
  if (o.conv1Channels === undefined) {
    while ((width - stem) % groups !== 0) stem++;
  } else {
    stem = positiveInteger("conv1Channels", o.conv1Channels);
    if (stem >= width || (width - stem) % groups !== 0) {
      throw new ModelOptionError(
        "conv1Channels",
        stem,
        `must be below Stage 2's width ${width} by a multiple of groups (${groups})`,
      );
    }
  }

  const layers: LayerSpec[] = [
    {
      name: "conv1",
      descriptor: denseConv2d({
        inChannels: 3,
        outChannels: stem,
        kernel: 3,
        stride: 2,
        padding: [1, 1, 1, 1],
        bias: true,
        activation: "relu",
      }),
      inputs: [GRAPH_INPUT],
    },
    {
      name: "maxpool",
      descriptor: maxPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1] }),
      inputs: ["conv1"],
    },
  ];
  let channels = stem;
  let previous = "maxpool";
  UNITS_PER_STAGE.forEach((units, s) => {
    const out = width << s;
    const bottleneck = out / 4;
    for (let u = 0; u < units; u++) {
      const unit = `stage${s + 2}.unit${u + 1}`;
      const stride = u === 0 ? 2 : 1;
      const firstGroups = s === 0 && u === 0 ? 1 : groups;
      const branchOut = stride === 2 ? out - channels : out;
      layers.push(
        {
          name: `${unit}.compress`,
          descriptor: pointwiseConv2d({
            inChannels: channels,
            outChannels: bottleneck,
            groups: firstGroups,
            bias: true,
            activation: "relu",
          }),
          inputs: [previous],
        },
      );
      // With one group there is nothing to shuffle; the paper's g = 1 has no shuffle.
      if (groups > 1) {
        layers.push({
          name: `${unit}.shuffle`,
          descriptor: channelShuffle({ groups }),
          inputs: [`${unit}.compress`],
        });
      }
      layers.push(
        {
          name: `${unit}.depthwise`,
          descriptor: depthwiseConv2d({
            channels: bottleneck,
            kernel: 3,
            stride,
            padding: [1, 1, 1, 1],
            bias: true,
          }),
          inputs: [layers.at(-1)!.name],
        },
        {
          name: `${unit}.expand`,
          descriptor: pointwiseConv2d({
            inChannels: bottleneck,
            outChannels: branchOut,
            groups,
            bias: true,
          }),
          inputs: [`${unit}.depthwise`],
          endsResidualBranch: stride === 1,
        },
      );
      if (stride === 2) {
        layers.push(
          {
            name: `${unit}.shortcut`,
            descriptor: avgPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1], countIncludePad }),
            inputs: [previous],
          },
          {
            name: `${unit}.concat`,
            descriptor: concat({ activation: "relu" }),
            inputs: [`${unit}.shortcut`, `${unit}.expand`],
          },
        );
        previous = `${unit}.concat`;
      } else {
        layers.push({
          name: `${unit}.add`,
          descriptor: add({ activation: "relu" }),
          inputs: [previous, `${unit}.expand`],
        });
        previous = `${unit}.add`;
      }
      channels = out;
    }
  });
  layers.push(
    { name: "pool", descriptor: globalAvgPool(), inputs: [previous] },
    {
      name: "fc",
      descriptor: fullyConnected({ inFeatures: channels, outFeatures: classes, bias: true }),
      inputs: ["pool"],
    },
  );
  return new Model({
    name: `shufflenet_v1_${Number.isInteger(scale) ? scale.toFixed(1) : scale}x_g${groups}_${size}`,
    inputShape: [1, size, size, 3],
    layers,
    batchNormEpsilon: epsilon,
    config: {
      model: "shufflenet_v1",
      groups,
      scale,
      resolution: size,
      classes,
      conv1Channels: stem,
      countIncludePad,
    },
  }, { seed });
}
