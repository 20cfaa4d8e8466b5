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
import type { ProgramSpec, WebGpuKernelVariant } from "../kernel.ts";
import { channelSpan, rowSpan } from "./spans.ts";
import { reductionWgsl, reductionWorkgroupSize } from "./reduce.ts";
import { activationFields, activationKind, activationValues, activationWgsl } from "./wgsl.ts";

const NAME = "f32-fully-connected-wgsl";

function spec(activation: Activation, size: number): ProgramSpec {
  return {
    variant: NAME,
    key: activationKind(activation),
    reads: ["x", "weights", "bias"],
    fields: [["inputs", "u32"], ["outputs", "u32"], ...activationFields(activation)],
    workgroupSize: size,
    unitsPerWorkgroup: 1,
    body: `${activationWgsl(activation)}
fn group(u: u32, lid: u32) {
  let o = u % p.outputs;
  let xi = (u / p.outputs) * p.inputs;
  let wi = o * p.inputs;
  var acc = 0.0;
  for (var i = lid; i < p.inputs; i += ${size}u) {
    acc += load_x(xi + i) * load_weights(wi + i);
  }
  let total = reduce_sum(lid, acc);
  if (lid == 0u) { store_y(u, act(load_bias(o) + total)); }
}
${reductionWgsl(size)}`,
  };
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
    const program = await context.program(
      spec(descriptor.activation, reductionWorkgroupSize(context.limits)),
    );
    const { inFeatures, outFeatures } = descriptor;
    const bias = weights.bias ?? new Float32Array(outFeatures);
    return {
      weights: [context.weights(weights.weights), context.weights(bias)],
      plan: (geometry) => [{
        program,
        units: geometry.outputShape[0] * outFeatures,
        values: [inFeatures, outFeatures, ...activationValues(descriptor.activation)],
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
