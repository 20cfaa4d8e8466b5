/**
 * `@mobileops/core`: tensors, operator descriptors, shape inference and
 * validation, weights and BatchNorm folding, the cost model, and the backend
 * interface that every backend implements.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d, inferGeometry, opCost } from "@mobileops/core";
 * const dw = depthwiseConv2d({ channels: 64, kernel: 3, padding: "same", activation: "relu6" });
 * assert(inferGeometry(dw, [[1, 112, 112, 64]]).outputShape.join() === "1,112,112,64");
 * assert(opCost(dw, [[1, 112, 112, 64]]).multiplyAdds === 112 * 112 * 64 * 9);
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./limits.ts";
export * from "./descriptors.ts";
export {
  effectiveKernel,
  inferGeometry,
  type OpGeometry,
  type Pad4,
  resolvePadding,
  type Shape,
  shapeSize,
  validateShape,
} from "./geometry.ts";
export { Tensor, type TensorOwner } from "./tensor.ts";
export * from "./weights.ts";
export * from "./cost.ts";
export * from "./backend.ts";
export * from "./variants.ts";
