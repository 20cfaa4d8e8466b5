/**
 * `@mobileops/onnx`: loads ONNX files — MobileNet v1, ShuffleNet v1 and
 * other networks of the operators core has — into a `ModelGraph` of core
 * operators that any backend runs. BatchNorm is folded, activations fused,
 * the Reshape → Transpose → Reshape of a channel shuffle becomes core's
 * `channelShuffle`, zero Pads fold into the next convolution or average
 * pool, no-ops vanish, and NCHW becomes NHWC. Anything else is refused at
 * load time, every unsupported node in one error. docs/onnx.md lists every
 * operator and attribute.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadOnnx } from "@mobileops/onnx";
 * import { createBackend } from "@mobileops/registry";
 * import onnxProto from "npm:onnx-proto@8.0.1";
 * // x: [1, 2, 2, 2] NCHW → GlobalAveragePool → Flatten → Gemm (2 → 1, weights 1 and 2)
 * const bytes = onnxProto.onnx.ModelProto.encode({
 *   irVersion: 8,
 *   opsetImport: [{ domain: "", version: 13 }],
 *   graph: {
 *     node: [
 *       { opType: "GlobalAveragePool", input: ["x"], output: ["p"] },
 *       { opType: "Flatten", input: ["p"], output: ["f"] },
 *       { opType: "Gemm", input: ["f", "w"], output: ["y"], attribute: [{ name: "transB", type: 2, i: 1 }] },
 *     ],
 *     input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [1, 2, 2, 2].map((d) => ({ dimValue: d })) } } } }],
 *     initializer: [{ name: "w", dims: [1, 2], dataType: 1, floatData: [1, 2] }],
 *     output: [{ name: "y" }],
 *   },
 * }).finish();
 * const model = loadOnnx(bytes);
 * using backend = await createBackend("js");
 * using compiled = await model.compile(backend);
 * const nchw = new Float32Array([1, 1, 1, 1, 3, 3, 3, 3]); // channel 0 all 1, channel 1 all 3
 * using x = backend.upload(model.toGraphInput(nchw), model.input.graphShape);
 * assert((await compiled.run(x).download())[0] === 1 * 1 + 2 * 3);
 * ```
 *
 * @module
 */

export { OnnxError, OnnxUnsupportedError, type UnsupportedNode } from "./errors.ts";
export { nchwToNhwc, nhwcToNchw } from "./layout.ts";
export {
  loadOnnx,
  type LoadOnnxOptions,
  OnnxModel,
  type OnnxValueInfo,
  OPSET_RANGE,
} from "./load.ts";
export { decodeOnnxTensor, type NamedOnnxTensor, type OnnxTensor } from "./proto.ts";
export { SUPPORTED_OPERATORS } from "./lower.ts";
