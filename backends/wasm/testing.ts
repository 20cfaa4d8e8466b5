/**
 * Test support: runs one operator on a wasm backend and judges it against
 * the float64 reference of `@mobileops/conformance`.
 *
 * @module
 */

import type { Backend, OpDescriptor, OpWeights, Shape } from "@mobileops/core";
import { shapeSize } from "@mobileops/core";
import { randomFloat32, reference, seededRandom, withinTolerance } from "@mobileops/conformance";

/** The outcome of {@link checkAgainstReference}. */
export interface OpCheck {
  readonly ok: boolean;
  readonly detail: string;
  readonly output: Float32Array;
}

/**
 * Prepares `descriptor` with random weights (from `seed`), runs it on random
 * inputs of `shapes` and compares with the reference within its tolerance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createWasmBackend } from "@mobileops/backend-wasm";
 * import { checkAgainstReference } from "@mobileops/backend-wasm/testing";
 * import { add } from "@mobileops/core";
 * using backend = await createWasmBackend({ threads: 1 });
 * const check = await checkAgainstReference(backend, add(), undefined, [[1, 2, 2, 3], [1, 2, 2, 3]], 7);
 * assert(check.ok);
 * ```
 */
export async function checkAgainstReference(
  backend: Backend,
  descriptor: OpDescriptor,
  weights: OpWeights | "random",
  shapes: readonly Shape[],
  seed: number,
): Promise<OpCheck> {
  const random = seededRandom(seed);
  let resolved: OpWeights = weights === "random" ? undefined : weights;
  if (weights === "random" && descriptor.op === "conv2d") {
    const d = descriptor;
    const size = d.outChannels * d.kernel[0] * d.kernel[1] * (d.inChannels / d.groups);
    resolved = {
      filter: randomFloat32(random, size),
      bias: d.bias ? randomFloat32(random, d.outChannels) : undefined,
    };
  } else if (weights === "random" && descriptor.op === "fullyConnected") {
    const d = descriptor;
    resolved = {
      weights: randomFloat32(random, d.inFeatures * d.outFeatures),
      bias: d.bias ? randomFloat32(random, d.outFeatures) : undefined,
    };
  }
  const data = shapes.map((shape) => randomFloat32(random, shapeSize(shape), 2));
  using kernel = await backend.prepare(descriptor, resolved as never);
  const inputs = shapes.map((shape, i) => backend.upload(data[i], shape));
  try {
    using output = backend.run(kernel, inputs);
    const values = await output.download();
    const expected = reference(
      descriptor,
      resolved,
      shapes.map((shape, i) => ({ shape, data: data[i] })),
    );
    const comparison = withinTolerance(values, expected);
    return { ok: comparison.ok, detail: comparison.detail, output: values };
  } finally {
    for (const input of inputs) input.dispose();
  }
}
