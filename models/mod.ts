/**
 * `@mobileops/models`: MobileNet v1 and ShuffleNet v1 as graphs of core
 * operators, their cost model, compilation onto any backend with planned
 * activation buffers, safetensors weights, and model-level conformance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mobilenetV1, summary } from "@mobileops/models";
 * const model = mobilenetV1({ alpha: 0.25, resolution: 128 });
 * assert(summary(model).totals.parameters > 400_000);
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./random.ts";
export * from "./graph.ts";
export * from "./model.ts";
export * from "./compile.ts";
export * from "./mobilenet_v1.ts";
export * from "./shufflenet_v1.ts";
export * from "./summary.ts";
export * from "./safetensors.ts";
export * from "./reference_executor.ts";
export * from "./conformance.ts";
export * from "./paper.ts";
export * from "./seed_comparison.ts";
export * from "./image.ts";
