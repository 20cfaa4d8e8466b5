/**
 * The scalar JavaScript backend: tensors are plain `Float32Array`s, and each
 * operator runs the first kernel variant of {@link JS_VARIANTS} that
 * matches its descriptor.
 *
 * @module
 */

import { type Backend, type BackendImpl, defineBackend } from "@mobileops/core";
import type { JsKernel } from "./kernel.ts";
import { JS_VARIANTS } from "./variants.ts";

/**
 * Creates a scalar JavaScript backend: single-threaded, synchronous, no
 * SIMD; available everywhere JavaScript runs. Tensors are garbage-collected
 * `Float32Array`s, so `dispose` only marks them unusable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createJsBackend } from "./js_backend.ts";
 * import { add } from "@mobileops/core";
 * using backend = await createJsBackend();
 * const kernel = await backend.prepare(add({ activation: "relu" }));
 * assert.equal(kernel.variant, "f32-add-js");
 * const a = backend.upload([1, -4], [1, 1, 1, 2]);
 * const b = backend.upload([2, 3], [1, 1, 1, 2]);
 * assert((await backend.run(kernel, [a, b]).download()).join() === "3,0");
 * ```
 */
export function createJsBackend(): Promise<Backend> {
  const impl: BackendImpl<Float32Array, JsKernel, undefined> = {
    name: "js",
    capabilities: {
      device: "cpu",
      simd: false,
      relaxedSimd: false,
      threads: 1,
      asynchronous: false,
    },
    allocate: (size) => new Float32Array(size),
    write: (storage, data) => storage.set(data),
    read: (storage, size) => Promise.resolve(storage.slice(0, size)),
    release: () => {},
    variants: JS_VARIANTS,
    context: undefined,
    run: (kernel, inputs, output, geometry) => kernel.run(inputs, output, geometry),
    releaseKernel: () => {},
    sync: () => Promise.resolve(),
    dispose: () => {},
  };
  return Promise.resolve(defineBackend(impl));
}
