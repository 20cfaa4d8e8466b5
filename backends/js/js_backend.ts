/**
 * The scalar JavaScript backend: tensors are plain `Float32Array`s, and each
 * operator is a kernel from `kernels/`, picked by op name from
 * {@link KERNELS} (TF.js style) and, for convolutions, by shape.
 *
 * @module
 */

import {
  type Backend,
  type BackendImpl,
  type Conv2dDescriptor,
  type ConvWeights,
  defineBackend,
  type FullyConnectedWeights,
  type OpDescriptor,
  type OpName,
  type OpWeights,
} from "@mobileops/core";
import type { JsKernel } from "./kernel.ts";
import { prepareAdd } from "./kernels/f32-add-js.ts";
import { prepareAvgPool2d } from "./kernels/f32-avgpool-js.ts";
import { prepareChannelShuffle } from "./kernels/f32-channel-shuffle-js.ts";
import { prepareConcat } from "./kernels/f32-concat-js.ts";
import { prepareGenericConv2d } from "./kernels/f32-conv2d-generic-js.ts";
import { isIm2rowConv2d, prepareIm2rowConv2d } from "./kernels/f32-conv2d-im2row-js.ts";
import { isPointwiseConv2d, preparePointwiseConv2d } from "./kernels/f32-conv2d-pointwise-js.ts";
import { isDwconv3x3, prepareDwconv3x3 } from "./kernels/f32-dwconv-3x3-js.ts";
import { prepareFullyConnected } from "./kernels/f32-fully-connected-js.ts";
import { prepareGlobalAvgPool } from "./kernels/f32-global-avgpool-js.ts";
import { prepareMaxPool2d } from "./kernels/f32-maxpool-js.ts";
import { prepareSoftmax } from "./kernels/f32-softmax-js.ts";

/** Prepares one operator's kernel from its validated descriptor and weights. */
type KernelFactory<D extends OpDescriptor> = (descriptor: D, weights: OpWeights) => JsKernel;

/**
 * Picks the convolution kernel: the register-blocked matrix product for 1×1
 * stride-1 layers, the unrolled 3×3 depthwise kernel, im2row + the same
 * matrix product for other ungrouped convolutions, the generic loop for the
 * rest (grouped or depthwise layers the specialised kernels do not cover).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conv2d, inferGeometry } from "@mobileops/core";
 * import { prepareConv2d } from "./js_backend.ts";
 * const d = conv2d({ inChannels: 1, outChannels: 1, kernel: 1 });
 * const output = new Float32Array(1);
 * prepareConv2d(d, { filter: new Float32Array([2]) })
 *   .run([new Float32Array([4])], output, inferGeometry(d, [[1, 1, 1, 1]]));
 * assert(output[0] === 8);
 * ```
 */
export function prepareConv2d(descriptor: Conv2dDescriptor, weights: ConvWeights): JsKernel {
  if (isPointwiseConv2d(descriptor)) return preparePointwiseConv2d(descriptor, weights);
  if (isDwconv3x3(descriptor)) return prepareDwconv3x3(descriptor, weights);
  if (isIm2rowConv2d(descriptor)) return prepareIm2rowConv2d(descriptor, weights);
  return prepareGenericConv2d(descriptor, weights);
}

/** Every operator's kernel factory, by op name. */
const KERNELS: { readonly [Op in OpName]: KernelFactory<Extract<OpDescriptor, { op: Op }>> } = {
  conv2d: (d, w) => prepareConv2d(d, w as ConvWeights),
  avgPool2d: (d) => prepareAvgPool2d(d),
  maxPool2d: (d) => prepareMaxPool2d(d),
  channelShuffle: (d) => prepareChannelShuffle(d),
  add: (d) => prepareAdd(d),
  concat: (d) => prepareConcat(d),
  globalAvgPool: () => prepareGlobalAvgPool(),
  fullyConnected: (d, w) => prepareFullyConnected(d, w as FullyConnectedWeights),
  softmax: () => prepareSoftmax(),
};

function prepare(descriptor: OpDescriptor, weights: OpWeights): JsKernel {
  const factory = KERNELS[descriptor.op] as KernelFactory<OpDescriptor>;
  return factory(descriptor, weights);
}

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
 * const a = backend.upload([1, -4], [1, 1, 1, 2]);
 * const b = backend.upload([2, 3], [1, 1, 1, 2]);
 * assert((await backend.run(kernel, [a, b]).download()).join() === "3,0");
 * ```
 */
export function createJsBackend(): Promise<Backend> {
  const impl: BackendImpl<Float32Array, JsKernel> = {
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
    prepare,
    run: (kernel, inputs, output, geometry) => kernel.run(inputs, output, geometry),
    releaseKernel: () => {},
    sync: () => Promise.resolve(),
    dispose: () => {},
  };
  return Promise.resolve(defineBackend(impl));
}
