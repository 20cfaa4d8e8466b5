/**
 * A backend whose kernels are the float64 reference (results rounded to
 * float32), for testing the suite itself; `compute` swaps in a deliberately
 * wrong computation to show the suite catches it.
 *
 * @module
 */

import {
  type Backend,
  defineBackend,
  OP_NAMES,
  type OpDescriptor,
  type OpGeometry,
  type OpWeights,
  type VariantTables,
} from "@mobileops/core";
import { reference, type ReferenceTensor } from "./reference.ts";

/** Computes an operator's outputs from validated inputs; `output` holds what `run` was given. */
export type Compute = (
  descriptor: OpDescriptor,
  weights: OpWeights,
  inputs: readonly ReferenceTensor[],
  geometry: OpGeometry,
  output: Float32Array,
) => ArrayLike<number>;

/** A prepared operator of the reference backend: the call itself. */
interface ReferenceKernel {
  readonly descriptor: OpDescriptor;
  readonly weights: OpWeights;
}

/**
 * A backend named `name` running `compute` (the reference by default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createReferenceBackend } from "./_reference_backend.ts";
 * import { add } from "@mobileops/core";
 * using backend = createReferenceBackend();
 * const kernel = await backend.prepare(add());
 * const one = backend.upload([1], [1]);
 * assert((await backend.run(kernel, [one, one]).download())[0] === 2);
 * ```
 */
export function createReferenceBackend(
  name = "reference",
  compute: Compute = (descriptor, weights, inputs) => reference(descriptor, weights, inputs).values,
): Backend {
  const variants = Object.fromEntries(OP_NAMES.map((op) => [op, [{
    name: `f32-${op}-reference`,
    matches: () => true,
    prepare: (descriptor: OpDescriptor, weights: OpWeights) => ({ descriptor, weights }),
  }]])) as unknown as VariantTables<ReferenceKernel>;
  return defineBackend<Float32Array, ReferenceKernel, undefined>({
    name,
    capabilities: {
      device: "cpu",
      simd: false,
      relaxedSimd: false,
      threads: 1,
      asynchronous: false,
    },
    allocate: (size) => new Float32Array(size),
    write: (storage, data) => storage.set(data),
    read: (storage) => Promise.resolve(storage.slice()),
    release: () => {},
    variants,
    context: undefined,
    run: (kernel, inputs, output, geometry) => {
      const tensors = inputs.map((data, i) => ({ shape: geometry.inputShapes[i], data }));
      output.set(compute(kernel.descriptor, kernel.weights, tensors, geometry, output.slice()));
    },
    releaseKernel: () => {},
    sync: () => Promise.resolve(),
    dispose: () => {},
  });
}
