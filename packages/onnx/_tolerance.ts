/**
 * Test helper: the float64 result of a whole graph and a per-output error
 * bound in the conformance suite's terms (docs/conformance.md). A single
 * operator's bound is the suite's own, `c·γ_K·M + floor`, with `M` the
 * output's `Σ|terms|` and `K` its accumulation length. For a network the
 * bound treats the whole path as one accumulation: `K` is the sum of the
 * accumulation lengths along the longest path to the output and `M` the
 * last operator's `Σ|terms|` on float64 inputs. It is not a worst-case
 * bound through many layers (a rigorous one, carried by `|W|`, grows with
 * the product of the layers' weight sums and says nothing); it states what
 * rounding alone should stay well within, and the tests report how far
 * within.
 *
 * @module
 */

import {
  gamma,
  reference,
  type ReferenceTensor,
  TOLERANCE_FACTOR,
  TOLERANCE_FLOOR,
} from "@mobileops/conformance";
import { GRAPH_INPUT, type ModelGraph } from "@mobileops/graph";

/** The float64 output of a graph and the bound a float32 evaluation must stay within. */
export interface NetworkReference {
  /** The graph's output, computed in float64. */
  readonly values: Float64Array;
  /** Per output: `c·γ_K·M + floor`. */
  readonly bound: Float64Array;
  /** `K`: accumulation lengths summed along the longest path. */
  readonly accumulation: number;
}

/**
 * Runs `graph` on `input` (NHWC, the graph's input shape) in float64 and
 * bounds each output's float32 error. `extraPerLayer` adds roundings per
 * convolution and fully connected layer that the graph does not show (an
 * unfolded BatchNorm computed by another engine).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullyConnected } from "@mobileops/core";
 * import { networkReference } from "./_tolerance.ts";
 * const result = networkReference({
 *   name: "fc", inputShape: [1, 2], output: "fc",
 *   nodes: [{
 *     name: "fc", descriptor: fullyConnected({ inFeatures: 2, outFeatures: 1 }), inputs: ["input"],
 *     weights: { weights: new Float32Array([1, -1]) },
 *   }],
 * }, [3, 1]);
 * assert(result.values[0] === 2 && result.accumulation === 2 && result.bound[0] > 4 * 2 * 2 ** -24);
 * ```
 */
export function networkReference(
  graph: ModelGraph,
  input: ArrayLike<number>,
  extraPerLayer = 0,
): NetworkReference {
  const values = new Map<string, ReferenceTensor>([[GRAPH_INPUT, {
    shape: graph.inputShape,
    data: input,
  }]]);
  const lengths = new Map<string, number>([[GRAPH_INPUT, 0]]);
  let magnitude: ArrayLike<number> = Float64Array.from(input, Math.abs);
  for (const node of graph.nodes) {
    const result = reference(node.descriptor, node.weights, node.inputs.map((i) => values.get(i)!));
    values.set(node.name, { shape: result.shape, data: result.values });
    if (node.name === graph.output) magnitude = result.magnitude;
    const layer = node.descriptor.op === "conv2d" || node.descriptor.op === "fullyConnected";
    lengths.set(
      node.name,
      result.accumulation + (layer ? extraPerLayer : 0) +
        Math.max(...node.inputs.map((i) => lengths.get(i)!)),
    );
  }
  const accumulation = lengths.get(graph.output)!;
  return {
    values: values.get(graph.output)!.data as Float64Array,
    bound: Float64Array.from(
      magnitude,
      (m) => TOLERANCE_FACTOR * gamma(accumulation) * m + TOLERANCE_FLOOR,
    ),
    accumulation,
  };
}

/**
 * Largest `|actual − expected| / bound` (∞ for a length mismatch or NaN).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { worstRatio } from "./_tolerance.ts";
 * assert(worstRatio([1, 2], [1, 2.5], [1, 1]) === 0.5);
 * ```
 */
export function worstRatio(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  bound: ArrayLike<number>,
): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const ratio = Math.abs(actual[i] - expected[i]) / bound[i];
    worst = Math.max(worst, Number.isNaN(ratio) ? Infinity : ratio);
  }
  return worst;
}
