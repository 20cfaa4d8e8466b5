/**
 * The per-operator benchmark shapes: the layers MobileNet v1 and ShuffleNet
 * v1 spend their time in, at batch 1. One table shared by `ops_bench.ts`,
 * `ops_report.ts` and the tests, so every backend is timed on the same calls.
 *
 * @module
 */

import {
  channelShuffle,
  depthwiseConv2d,
  type OpDescriptor,
  pointwiseConv2d,
  type Shape,
} from "@mobileops/core";

/** One benchmarked operator call. */
export interface BenchOp {
  /** Short label, e.g. `"dwconv 3x3 s1 112x112x64"`. */
  readonly name: string;
  /** The operator and its attributes, as core's descriptor constructors build them. */
  readonly descriptor: OpDescriptor;
  /** NHWC input shapes, batch 1. */
  readonly inputShapes: Shape[];
}

function dwconv3x3(stride: number, h: number, w: number, c: number): BenchOp {
  return {
    name: `dwconv 3x3 s${stride} ${h}x${w}x${c}`,
    // MobileNet v1's depthwise layers: "same" padding, folded-BatchNorm bias, ReLU6.
    descriptor: depthwiseConv2d({
      channels: c,
      kernel: 3,
      stride,
      padding: "same",
      bias: true,
      activation: "relu6",
    }),
    inputShapes: [[1, h, w, c]],
  };
}

function pointwise(h: number, w: number, cin: number, cout: number): BenchOp {
  return {
    name: `pointwise ${h}x${w}x${cin}->${cout}`,
    descriptor: pointwiseConv2d({
      inChannels: cin,
      outChannels: cout,
      bias: true,
      activation: "relu6",
    }),
    inputShapes: [[1, h, w, cin]],
  };
}

function groupPointwise(groups: number, h: number, w: number, cin: number, cout: number): BenchOp {
  return {
    name: `group 1x1 g${groups} ${h}x${w}x${cin}->${cout}`,
    // ShuffleNet v1's grouped 1×1 layers: folded-BatchNorm bias, ReLU.
    descriptor: pointwiseConv2d({
      inChannels: cin,
      outChannels: cout,
      groups,
      bias: true,
      activation: "relu",
    }),
    inputShapes: [[1, h, w, cin]],
  };
}

/**
 * The benchmarked operator calls: 3×3 depthwise (stride 1 at 112×112×64,
 * 56×56×128, 14×14×512; stride 2 at 112×112×64), pointwise (56×56×128→128,
 * 28×28×256→256, 14×14×512→512, 7×7×1024→1024), grouped 1×1 (g=3
 * 28×28×240→240, g=8 28×28×384→384) and channel shuffle (g=3 28×28×240).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { opCost } from "@mobileops/core";
 * import { BENCH_OPS } from "./shapes.ts";
 * const op = BENCH_OPS.find((op) => op.name === "pointwise 7x7x1024->1024")!;
 * assert.equal(opCost(op.descriptor, op.inputShapes).multiplyAdds, 49 * 1024 * 1024);
 * ```
 */
export const BENCH_OPS: readonly BenchOp[] = [
  dwconv3x3(1, 112, 112, 64),
  dwconv3x3(1, 56, 56, 128),
  dwconv3x3(1, 14, 14, 512),
  dwconv3x3(2, 112, 112, 64),
  pointwise(56, 56, 128, 128),
  pointwise(28, 28, 256, 256),
  pointwise(14, 14, 512, 512),
  pointwise(7, 7, 1024, 1024),
  groupPointwise(3, 28, 28, 240, 240),
  groupPointwise(8, 28, 28, 384, 384),
  {
    name: "channel shuffle g3 28x28x240",
    descriptor: channelShuffle({ groups: 3 }),
    inputShapes: [[1, 28, 28, 240]],
  },
];
