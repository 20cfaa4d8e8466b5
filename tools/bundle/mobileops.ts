/**
 * The single-file build's entry: every runtime package of the workspace —
 * operators and tensors (`@mobileops/core`), the backends by name
 * (`@mobileops/registry`, which loads js, wasm and webgpu), graphs
 * (`@mobileops/graph`), MobileNet v1 and ShuffleNet v1 (`@mobileops/models`),
 * the ONNX importer (`@mobileops/onnx`) and image preprocessing
 * (`@mobileops/image`). `deno task bundle` turns it into `dist/mobileops.js`,
 * one ES module with no imports, for a browser page, Node.js or Deno.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileGraph, createBackend, mobilenetV1 } from "./mobileops.ts";
 * using backend = await createBackend(["wasm", "js"]);
 * const model = mobilenetV1({ alpha: 0.25, resolution: 32 });
 * using compiled = await compileGraph(model.graph, backend);
 * using input = backend.upload(new Float32Array(32 * 32 * 3).fill(0.5), model.graph.inputShape);
 * assert.equal((await compiled.run(input).download()).length, 1000);
 * ```
 *
 * @module
 */

export * from "@mobileops/core";
export * from "@mobileops/registry";
export * from "@mobileops/graph";
export * from "@mobileops/models";
export * from "@mobileops/onnx";
export * from "@mobileops/image";
