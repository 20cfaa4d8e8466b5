/**
 * `@mobileops/backend-webgpu`: the WebGPU backend. Tensors live in GPU
 * buffers; `run` records compute passes into an open command encoder and
 * returns at once, and `download` submits and reads back, so a whole
 * network is recorded before the GPU is waited on. Kernels are WGSL
 * programs compiled once per device and shared by every layer of a kind;
 * NaN and ±∞ follow the same rules as on every other backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BackendUnavailableError, pointwiseConv2d } from "@mobileops/core";
 * import { createWebGpuBackend } from "@mobileops/backend-webgpu";
 * try {
 *   using backend = await createWebGpuBackend();
 *   const kernel = await backend.prepare(
 *     pointwiseConv2d({ inChannels: 2, outChannels: 1, bias: true }),
 *     { filter: new Float32Array([1, 2]), bias: new Float32Array([0.5]) },
 *   );
 *   const y = backend.run(kernel, [backend.upload([3, 4], [1, 1, 1, 2])]);
 *   assert((await y.download())[0] === 11.5);
 * } catch (error) {
 *   // No WebGPU adapter here: the factory says why.
 *   assert(error instanceof BackendUnavailableError, String(error));
 * }
 * ```
 *
 * @module
 */

export {
  createWebGpuBackend,
  type WebGpuBackendOptions,
  type WebGpuLimits,
} from "./webgpu_backend.ts";
