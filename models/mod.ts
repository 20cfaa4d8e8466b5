/**
 * `@mobileops/models`: MobileNet v1 and ShuffleNet v1 as graphs of core
 * operators (`ModelGraph` from `@mobileops/graph`), their cost model next to
 * the papers' figures, and safetensors weights. `model.compile(backend)`
 * runs one on any backend; `@mobileops/models/testing` holds a backend to
 * the float64 reference network by network.
 *
 * Every entry point validates its arguments: a bad builder option, an
 * unknown option key or an argument of the wrong type throws
 * {@link ModelOptionError}, a bad weights file or parameter set
 * {@link SafetensorsError}, each naming the field and the value. The
 * builders' defaults and maxima (`MAX_ALPHA`, `MAX_RESOLUTION`,
 * `MAX_CLASSES`) are in docs/models.md.
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
export * from "./model.ts";
export * from "./mobilenet_v1.ts";
export * from "./shufflenet_v1.ts";
export * from "./summary.ts";
export * from "./safetensors.ts";
export * from "./paper.ts";
export * from "./factorization.ts";
export { MAX_ALPHA, MAX_CLASSES, MAX_RESOLUTION } from "./options.ts";
