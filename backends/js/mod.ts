/**
 * `@mobileops/backend-js`: the scalar JavaScript backend. Plain TypeScript
 * over `Float32Array`s with weights packed at prepare time and specialised
 * kernels for the layers MobileNet and ShuffleNet spend their time in
 * (1×1 convolutions, 3×3 depthwise convolutions). The baseline every other
 * backend is compared against, and the one that runs anywhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createJsBackend } from "@mobileops/backend-js";
 * import { pointwiseConv2d } from "@mobileops/core";
 * using backend = await createJsBackend();
 * const kernel = await backend.prepare(
 *   pointwiseConv2d({ inChannels: 2, outChannels: 1, bias: true }),
 *   { filter: new Float32Array([1, 2]), bias: new Float32Array([0.5]) },
 * );
 * const y = backend.run(kernel, [backend.upload([3, 4], [1, 1, 1, 2])]);
 * assert((await y.download())[0] === 11.5);
 * ```
 *
 * @module
 */

export { createJsBackend } from "./js_backend.ts";
