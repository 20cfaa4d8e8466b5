/**
 * The element spans that a range of units reads or writes, for the steps'
 * `span` (see `Step` in `kernel.ts`): the backend binds only that window of
 * a tensor larger than `maxStorageBufferBindingSize`. Units are output
 * elements (or rows) in row-major order; each function gives a superset of
 * what the units touch, as tight as one formula keeps it.
 *
 * @module
 */

import type { Span } from "../kernel.ts";

/**
 * Whole rows of `width` elements holding units `[start, end)` of a tensor
 * whose row `r` holds units `r·width … (r + 1)·width − 1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowSpan } from "./spans.ts";
 * assert.deepEqual(rowSpan(5, 9, 4), [4, 12]); // rows 1 and 2
 * ```
 */
export function rowSpan(start: number, end: number, width: number): Span {
  return [Math.floor(start / width) * width, (Math.floor((end - 1) / width) + 1) * width];
}

/**
 * The span of a per-channel array (`stride` elements per channel: a filter
 * row, a weight row, 1 for a bias) used by units `[start, end)`, unit `u`
 * being channel `u mod channels`: the channels from the first unit's to the
 * last's, or all of them when the units wrap around.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelSpan } from "./spans.ts";
 * assert.deepEqual(channelSpan(10, 12, 8, 9), [18, 36]); // channels 2 and 3
 * assert.deepEqual(channelSpan(6, 10, 8, 9), [0, 72]); // wraps: every channel
 * ```
 */
export function channelSpan(start: number, end: number, channels: number, stride: number): Span {
  const first = start % channels;
  const last = (end - 1) % channels;
  if (end - start >= channels || last < first) return [0, channels * stride];
  return [first * stride, (last + 1) * stride];
}

/** The sizes a sliding-window operator's spans depend on (NHWC, one axis of windows). */
export interface WindowRows {
  /** Input height, width and channels. */
  readonly h: number;
  readonly w: number;
  readonly c: number;
  /** Output height, width and channels. */
  readonly oh: number;
  readonly ow: number;
  readonly oc: number;
  /** Vertical stride, top padding, and the dilated kernel height. */
  readonly sh: number;
  readonly top: number;
  readonly extent: number;
}

/**
 * The input rows the output elements `[start, end)` of a convolution or
 * pool read (NHWC, output channel fastest): from the first unit's first
 * window row to the last unit's last, clipped to the image.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { windowSpan } from "./spans.ts";
 * // 3×3 "same" stride 1 on 4×4×1: output row 1 reads input rows 0–2.
 * const rows = { h: 4, w: 4, c: 1, oh: 4, ow: 4, oc: 1, sh: 1, top: 1, extent: 3 };
 * assert.deepEqual(windowSpan(rows, 4, 8), [0, 12]);
 * ```
 */
export function windowSpan(rows: WindowRows, start: number, end: number): Span {
  const { h, w, c, oh, ow, oc, sh, top, extent } = rows;
  const clip = (y: number) => Math.min(Math.max(y, 0), h);
  const first = Math.floor(start / (oc * ow));
  const last = Math.floor((end - 1) / (oc * ow));
  const from = Math.floor(first / oh) * h + Math.min(clip((first % oh) * sh - top), h - 1);
  const to = Math.floor(last / oh) * h + clip((last % oh) * sh - top + extent);
  return [from * w * c, to * w * c];
}
