/**
 * The cost of one operator call: multiply-adds, parameters and bytes moved,
 * counted the way the MobileNet and ShuffleNet papers count them.
 *
 * @module
 */

import type { OpDescriptor } from "./descriptors.ts";
import { inferGeometry, type Shape, shapeSize } from "./geometry.ts";
import { convFilterSize } from "./weights.ts";

/** What one operator call costs. */
export interface OpCost {
  /** Multiply-adds (1 MAC = 2 FLOPs). Only convolutions and fully connected layers have any. */
  readonly multiplyAdds: number;
  /** Learned parameters: filter/weight elements plus the bias when the descriptor has one. */
  readonly parameters: number;
  /** float32 bytes read and written: every input, the output and the parameters, once each. */
  readonly bytesMoved: number;
  /** The output shape, as {@link inferGeometry} computes it. */
  readonly outputShape: Shape;
}

/**
 * Computes the cost of `descriptor` applied to inputs of `inputShapes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conv2d, opCost } from "@mobileops/core";
 * // A standard 3×3 convolution, 64×64×3 → 4 channels, "same" padding.
 * const cost = opCost(conv2d({ inChannels: 3, outChannels: 4, kernel: 3, padding: "same" }), [[1, 64, 64, 3]]);
 * assert(cost.multiplyAdds === 442_368 && cost.parameters === 108);
 * ```
 */
export function opCost(descriptor: OpDescriptor, inputShapes: readonly Shape[]): OpCost {
  const { outputShape } = inferGeometry(descriptor, inputShapes);
  const outputs = shapeSize(outputShape);
  let multiplyAdds = 0;
  let parameters = 0;
  switch (descriptor.op) {
    case "conv2d": {
      const perOutput = descriptor.kernel[0] * descriptor.kernel[1] *
        (descriptor.inChannels / descriptor.groups);
      multiplyAdds = outputs * perOutput;
      parameters = convFilterSize(descriptor) + (descriptor.bias ? descriptor.outChannels : 0);
      break;
    }
    case "fullyConnected":
      multiplyAdds = outputs * descriptor.inFeatures;
      parameters = descriptor.inFeatures * descriptor.outFeatures +
        (descriptor.bias ? descriptor.outFeatures : 0);
      break;
    case "avgPool2d":
    case "maxPool2d":
    case "channelShuffle":
    case "add":
    case "concat":
    case "globalAvgPool":
    case "softmax":
      // Comparisons, additions and moves: no multiply-adds, no parameters.
      break;
    default: {
      const unknown: never = descriptor;
      return unknown;
    }
  }
  const inputs = inputShapes.reduce((sum, shape) => sum + shapeSize(shape), 0);
  return { multiplyAdds, parameters, bytesMoved: 4 * (inputs + outputs + parameters), outputShape };
}
