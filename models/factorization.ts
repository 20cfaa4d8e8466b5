/**
 * Why the networks factorize their convolutions, in numbers: one layer
 * computed as a standard convolution and as a depthwise-separable pair, and
 * a 1×1 layer with and without groups, costed by core's `opCost`.
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

/** One way of computing a layer (or one step of it): its operators, in order, and their summed cost. */
export interface FactorizationCost {
  /** Human-readable description, e.g. `"depthwise 3×3 on 64×64×3"`. */
  readonly label: string;
  /** The operator calls in order, each with its NHWC input shape. */
  readonly steps: readonly { readonly descriptor: OpDescriptor; readonly inputShape: Shape }[];
  /** Summed over the steps: one per filter tap per output (core's `opCost`). */
  readonly multiplyAdds: number;
  /** Summed over the steps: filter elements plus bias, where a step has one. */
  readonly parameters: number;
}

function costOf(
  label: string,
  steps: { descriptor: OpDescriptor; inputShape: Shape }[],
): FactorizationCost {
  const costs = steps.map((step) => opCost(step.descriptor, [step.inputShape]));
  return {
    label,
    steps,
    multiplyAdds: costs.reduce((sum, cost) => sum + cost.multiplyAdds, 0),
    parameters: costs.reduce((sum, cost) => sum + cost.parameters, 0),
  };
}

/**
 * Costs of a 3×3 layer 64×64×3 → 4 channels ("same" padding) as a standard
 * convolution versus depthwise + pointwise (each step, then the pair), and
 * of a 1×1 layer 64×64×4 → 2 channels without and with 2 groups. In order:
 * standard, depthwise, pointwise, depthwise separable, 1×1, grouped 1×1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { factorizationCosts } from "@mobileops/models";
 * const [standard, depthwise, pointwise, separable] = factorizationCosts();
 * assert(standard.multiplyAdds === 442_368 && separable.multiplyAdds === 159_744);
 * assert(depthwise.parameters + pointwise.parameters === separable.parameters);
 * ```
 */
export function factorizationCosts(): FactorizationCost[] {
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
    costOf("standard 3×3 conv 64×64×3 → 4", [{
      descriptor: denseConv2d({ inChannels: 3, outChannels: 4, kernel: 3, padding: "same" }),
      inputShape: image,
    }]),
    costOf("depthwise 3×3 on 64×64×3", [depthwise]),
    costOf("pointwise 1×1 3 → 4", [pointwise]),
    costOf("depthwise separable (depthwise + pointwise)", [depthwise, pointwise]),
    costOf("1×1 conv 64×64×4 → 2", [{
      descriptor: pointwiseConv2d({ inChannels: 4, outChannels: 2 }),
      inputShape: four,
    }]),
    costOf("1×1 group conv 64×64×4 → 2, 2 groups", [{
      descriptor: groupConv2d({ inChannels: 4, outChannels: 2, kernel: 1, groups: 2 }),
      inputShape: four,
    }]),
  ];
}
