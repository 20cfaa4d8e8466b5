/**
 * The two small reductions at a network's end, global average pooling and
 * softmax, in JavaScript over float offsets into the heap: they touch a few
 * thousand values once, and softmax needs `exp`, which WebAssembly lacks.
 *
 * @module
 */

/**
 * Mean over height and width of `[batch, pixels, channels]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPoolJs } from "@mobileops/backend-wasm";
 * const heap = new Float32Array([1, 10, 3, 30, 0, 0]);
 * globalAvgPoolJs(heap, 0, 4, 1, 2, 2);
 * assert(heap[4] === 2 && heap[5] === 20);
 * ```
 */
export function globalAvgPoolJs(
  heap: Float32Array,
  input: number,
  out: number,
  batch: number,
  pixels: number,
  channels: number,
): void {
  const sums = new Float64Array(channels);
  for (let n = 0; n < batch; n++) {
    sums.fill(0);
    for (let p = 0; p < pixels; p++) {
      const from = input + (n * pixels + p) * channels;
      for (let c = 0; c < channels; c++) sums[c] += heap[from + c];
    }
    for (let c = 0; c < channels; c++) heap[out + n * channels + c] = sums[c] / pixels;
  }
}

/**
 * Softmax over rows of `length` floats, max-subtracted for range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmaxJs } from "@mobileops/backend-wasm";
 * const heap = new Float32Array([0, 0, 0, 0]);
 * softmaxJs(heap, 0, 2, 1, 2);
 * assert(heap[2] === 0.5 && heap[3] === 0.5);
 * ```
 */
export function softmaxJs(
  heap: Float32Array,
  input: number,
  out: number,
  rows: number,
  length: number,
): void {
  for (let r = 0; r < rows; r++) {
    const from = input + r * length;
    const to = out + r * length;
    let max = -Infinity;
    for (let i = 0; i < length; i++) max = Math.max(max, heap[from + i]);
    let sum = 0;
    for (let i = 0; i < length; i++) sum += Math.exp(heap[from + i] - max);
    for (let i = 0; i < length; i++) heap[to + i] = Math.exp(heap[from + i] - max) / sum;
  }
}
