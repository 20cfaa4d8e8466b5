/**
 * `@mobileops/registry`: every backend of the project by name, and
 * {@link createBackend}, which returns the first of a preference list that
 * starts here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d } from "@mobileops/core";
 * import { createBackend } from "@mobileops/registry";
 * using backend = await createBackend(["wasm", "js"]);
 * const kernel = await backend.prepare(
 *   depthwiseConv2d({ channels: 1, kernel: 3, padding: "same" }),
 *   { filter: new Float32Array(9).fill(1) },
 * );
 * using y = backend.run(kernel, [backend.upload(new Float32Array(9).fill(1), [1, 3, 3, 1])]);
 * assert.equal((await y.download())[4], 9);
 * ```
 *
 * @module
 */

export {
  BACKEND_NAMES,
  type BackendConfiguration,
  type BackendFailure,
  type BackendName,
  type BackendOptionsByName,
  backendUnavailable,
  createBackend,
  type CreateBackendOptions,
  createConfiguredBackend,
  NoBackendError,
} from "./registry.ts";
