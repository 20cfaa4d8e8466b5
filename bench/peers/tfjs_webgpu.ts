/**
 * TensorFlow.js 4.22 with its WebGPU backend in this Deno process.
 * `@tensorflow/tfjs-backend-webgpu` registers the `webgpu` backend when
 * `navigator.gpu` exists; its factory asks for a high-performance adapter
 * and a device with `timestamp-query` where the adapter has it, and with the
 * adapter's largest buffer, binding and workgroup limits (as our backend
 * does).
 *
 * @module
 */

import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";

/**
 * Makes a new TF.js WebGPU backend (its own device, no compiled pipelines,
 * no uploaded tensors) the current one, disposing the previous one, and
 * returns the `tf` namespace; `undefined` where TF.js has no WebGPU here
 * (no `navigator.gpu`, or its factory failed). TF.js keeps one instance per
 * backend name: it is removed and registered again with the same factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { freshTfjsWebGpu } from "./tfjs_webgpu.ts";
 * const tf = await freshTfjsWebGpu();
 * if (tf !== undefined) {
 *   assert.equal(tf.getBackend(), "webgpu");
 *   assert.deepEqual([...await tf.relu(tf.tensor1d([-1, 2])).data()], [0, 2]);
 * }
 * ```
 */
export async function freshTfjsWebGpu(): Promise<typeof tf | undefined> {
  const factory = tf.findBackendFactory("webgpu");
  if (factory === null) return undefined;
  if (tf.findBackend("webgpu") !== null) {
    tf.removeBackend("webgpu");
    tf.registerBackend("webgpu", factory);
  }
  return await tf.setBackend("webgpu") ? tf : undefined;
}
