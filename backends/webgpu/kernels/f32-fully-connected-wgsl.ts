/**
 * `f32-fully-connected-wgsl`: `y[n, o] = act(bias[o] + Σ_i x[n, i]·w[o, i])`
 * over the input read as `N` rows of `inFeatures`, one output per
 * workgroup: its invocations take every `size`-th product (neighbouring
 * invocations read neighbouring weights), the workgroup adds the partial
 * sums (`reduce.ts`), then the bias (zeros when the descriptor has none)
 * and the activation.
 *
 * @module
 */

import type { Activation } from "@mobileops/core";
import type { WebGpuKernelVariant } from "../kernel.ts";
import { channelSpan, rowSpan } from "./spans.ts";
import { reductionSpec } from "./reduce.ts";
import { activationFields, activationKind, activationValues, activationWgsl } from "./wgsl.ts";

const NAME = "f32-fully-connected-wgsl";

function group(activation: Activation): string {
  return `${activationWgsl(activation)}
fn group(u: u32, lid: u32) {
  let o = u % p.outputs;
  let xi = (u / p.outputs) * p.inputs;
  let wi = o * p.inputs;
  var acc = 0.0;
  for (var i = lid; i < p.inputs; i += WG) {
    acc += load_x(xi + i) * load_weights(wi + i);
  }
  let total = reduce_sum(lid, acc);
  if (lid == 0u) { store_y(u, act(load_bias(o) + total)); }
}`;
}

/**
 * The `f32-fully-connected-wgsl` variant: matches every fully connected layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullyConnected } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   const fc = fullyConnected({ inFeatures: 2, outFeatures: 2, bias: true });
 *   const kernel = await backend.prepare(fc, {
 *     weights: new Float32Array([1, 2, 3, 4]),
 *     bias: new Float32Array([0.5, -1]),
 *   });
 *   assert.equal(kernel.variant, "f32-fully-connected-wgsl");
 *   const y = backend.run(kernel, [backend.upload([1, 1], [1, 2])]);
 *   assert.deepEqual([...await y.download()], [3.5, 6]);
 * }
 * ```
 */
export const f32FullyConnectedWgsl: WebGpuKernelVariant<"fullyConnected"> = {
  name: NAME,
  matches: () => true,
  async prepare(descriptor, weights, context) {
    const { activation, inFeatures, outFeatures } = descriptor;
    const program = await context.program(reductionSpec(context.limits, {
      variant: NAME,
      key: activationKind(activation),
      reads: ["x", "weights", "bias"],
      fields: [["inputs", "u32"], ["outputs", "u32"], ...activationFields(activation)],
      group: group(activation),
    }));
    const bias = weights.bias ?? new Float32Array(outFeatures);
    return {
      weights: [context.weights(weights.weights), context.weights(bias)],
      plan: (geometry) => [{
        program,
        units: geometry.outputShape[0] * outFeatures,
        values: [inFeatures, outFeatures, ...activationValues(activation)],
        reads: [{ input: 0 }, { weight: 0 }, { weight: 1 }],
        span: (binding, start, end) => {
          if (binding === 0) return [start, end];
          if (binding === 1) {
            const [first, last] = rowSpan(start, end, outFeatures);
            return [first / outFeatures * inFeatures, last / outFeatures * inFeatures];
          }
          return channelSpan(start, end, outFeatures, binding === 2 ? inFeatures : 1);
        },
      }],
    };
  },
};
