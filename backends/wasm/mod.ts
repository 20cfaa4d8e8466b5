/**
 * `@mobileops/backend-wasm`: the WebAssembly SIMD backend. Kernels are
 * WebAssembly emitted at run time by a typed assembler in TypeScript, one
 * module per layer and input shape with every size baked in; f32x4
 * throughout, relaxed-SIMD FMA where the engine has it; tensors and weights
 * in one linear memory; optional Worker threads over that memory shared.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createWasmBackend } from "@mobileops/backend-wasm";
 * import { depthwiseConv2d } from "@mobileops/core";
 * using backend = await createWasmBackend({ threads: 1 });
 * const kernel = await backend.prepare(
 *   depthwiseConv2d({ channels: 2, kernel: 3, padding: "same", bias: true }),
 *   { filter: new Float32Array(18).fill(1), bias: new Float32Array([0, 1]) },
 * );
 * const x = backend.upload(new Float32Array(2 * 3 * 3).fill(1), [1, 3, 3, 2]);
 * const y = await backend.run(kernel, [x]).download();
 * assert(y[8] === 9 && y[9] === 10 && y[0] === 4);
 * ```
 *
 * @module
 */

export { createWasmBackend, type WasmBackendOptions } from "./wasm_backend.ts";
