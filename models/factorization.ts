/**
 * The seed's worked example of why the operators exist: one layer computed
 * as a standard convolution, as a depthwise-separable pair, and (for a 1×1
 * layer) with and without groups, costed by core's `opCost`.
 *
 * @module
 */

import {
  denseConv2d,
  depthwiseConv2d,
  groupConv2d,
  opCost,
  type OpDescriptor,
  pointwiseConv2d,
  type Shape,
} from "@mobileops/core";

/** One way of computing a layer: its operators, in order, and their summed cost. */
export interface LayerVariant {
  /** Human-readable description, e.g. `"depthwise 3×3 on 64×64×3"`. */
  readonly label: string;
  /** The operator calls in order, each with its NHWC input shape. */
  readonly steps: readonly { readonly descriptor: OpDescriptor; readonly inputShape: Shape }[];
  /** Summed over the steps: one per filter tap per output (core's `opCost`). */
  readonly multiplyAdds: number;
  /** Summed over the steps: filter elements plus bias, where a step has one. */
  readonly parameters: number;
}

function variant(
  label: string,
  steps: { descriptor: OpDescriptor; inputShape: Shape }[],
): LayerVariant {
  const costs = steps.map((step) => opCost(step.descriptor, [step.inputShape]));
  return {
    label,
    steps,
    multiplyAdds: costs.reduce((sum, cost) => sum + cost.multiplyAdds, 0),
    parameters: costs.reduce((sum, cost) => sum + cost.parameters, 0),
  };
}

/**
 * The seed's comparison: a 3×3 layer 64×64×3 → 4 channels ("same" padding)
 * as a standard convolution versus depthwise + pointwise, and a 1×1 layer
 * 64×64×4 → 2 channels without and with 2 groups.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seedComparison } from "@mobileops/models";
 * const [standard, depthwise, pointwise, separable] = seedComparison();
 * assert(standard.multiplyAdds === 442_368 && separable.multiplyAdds === 159_744);
 * assert(depthwise.parameters + pointwise.parameters === separable.parameters);
 * ```
 */
export function seedComparison(): LayerVariant[] {
  const image: Shape = [1, 64, 64, 3];
  const four: Shape = [1, 64, 64, 4];
  const depthwise = {
    descriptor: depthwiseConv2d({ channels: 3, kernel: 3, padding: "same" }),
    inputShape: image,
  };
  const pointwise = {
    descriptor: pointwiseConv2d({ inChannels: 3, outChannels: 4 }),
    inputShape: image,
  };
  return [
    variant("standard 3×3 conv 64×64×3 → 4", [{
      descriptor: denseConv2d({ inChannels: 3, outChannels: 4, kernel: 3, padding: "same" }),
      inputShape: image,
    }]),
    variant("depthwise 3×3 on 64×64×3", [depthwise]),
    variant("pointwise 1×1 3 → 4", [pointwise]),
    variant("depthwise separable (depthwise + pointwise)", [depthwise, pointwise]),
    variant("1×1 conv 64×64×4 → 2", [{
      descriptor: pointwiseConv2d({ inChannels: 4, outChannels: 2 }),
      inputShape: four,
    }]),
    variant("1×1 group conv 64×64×4 → 2, 2 groups", [{
      descriptor: groupConv2d({ inChannels: 4, outChannels: 2, kernel: 1, groups: 2 }),
      inputShape: four,
    }]),
  ];
}
