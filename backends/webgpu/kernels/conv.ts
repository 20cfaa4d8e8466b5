/**
 * What the convolution variants share: their uniform fields and values,
 * their weight buffers (the OHWI filter as given, and the bias — zeros when
 * the descriptor has none, since adding an exact 0 changes no sum), the
 * step over output elements with its spans, the WGSL that decodes an
 * output element and clips a window to the image, and what a depthwise
 * kernel offers to read through a folded channel shuffle, and the
 * generator of unrolled WGSL the register-blocked programs use.
 *
 * @module
 */

import type { Conv2dDescriptor, ConvWeights, OpGeometry } from "@mobileops/core";
import type { GpuTensor } from "../buffers.ts";
import type {
  Program,
  ProgramSpec,
  Step,
  UniformField,
  WebGpuContext,
  WebGpuKernel,
} from "../kernel.ts";
import { channelSpan, windowSpan } from "./spans.ts";
import {
  activationFields,
  activationKind,
  activationValues,
  activationWgsl,
  elementMain,
} from "./wgsl.ts";

/**
 * Reads of every convolution program: input, filter (`weight`: `filter` is
 * reserved in WGSL), bias.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONV_READS } from "./conv.ts";
 * assert.deepEqual(CONV_READS, ["x", "weight", "bias"]);
 * ```
 */
export const CONV_READS: readonly string[] = ["x", "weight", "bias"];

/**
 * Uniform fields of the convolution programs: input and output sizes, the
 * window (kernel, stride, dilation, top/left padding), channels per group
 * in and out, then the activation's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convFields } from "./conv.ts";
 * assert.equal(convFields("relu").length, 16);
 * ```
 */
export function convFields(activation: Conv2dDescriptor["activation"]): readonly UniformField[] {
  return [
    ...(["h", "w", "c", "oh", "ow", "oc", "kh", "kw", "sh", "sw", "dh", "dw"] as const).map(
      (name): UniformField => [name, "u32"],
    ),
    ["top", "i32"],
    ["left", "i32"],
    ["cg", "u32"],
    ["og", "u32"],
    ...activationFields(activation),
  ];
}

/**
 * The filter and bias buffers of a convolution.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pointwiseConv2d } from "@mobileops/core";
 * import type { GpuTensor } from "../buffers.ts";
 * import type { WebGpuContext } from "../kernel.ts";
 * import { convWeights } from "./conv.ts";
 * const made: Float32Array[] = [];
 * const context = { weights: (data: Float32Array) => (made.push(data), {} as GpuTensor) };
 * const conv = pointwiseConv2d({ inChannels: 2, outChannels: 3 });
 * convWeights(context as unknown as WebGpuContext, conv, { filter: new Float32Array(6) });
 * assert.deepEqual(made.map((data) => data.length), [6, 3]); // no bias given: three zeros
 * ```
 */
export function convWeights(
  context: WebGpuContext,
  descriptor: Conv2dDescriptor,
  weights: ConvWeights,
): GpuTensor[] {
  const filter = context.weights(weights.filter);
  return [filter, context.weights(weights.bias ?? new Float32Array(descriptor.outChannels))];
}

/**
 * The one step of a convolution program: a unit per output element, its
 * input span the window rows of its output rows, its filter and bias spans
 * its output channels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d, inferGeometry } from "@mobileops/core";
 * import type { Program } from "../kernel.ts";
 * import { convStep } from "./conv.ts";
 * const d = depthwiseConv2d({ channels: 4, kernel: 3, padding: "same" });
 * const step = convStep({} as Program, d, inferGeometry(d, [[1, 5, 5, 4]]));
 * assert.equal(step.units, 100);
 * assert.deepEqual(step.span(1, 20, 40), [0, 60]); // output row 1 reads input rows 0–2
 * ```
 */
export function convStep(
  program: Program,
  descriptor: Conv2dDescriptor,
  geometry: OpGeometry,
): Step {
  const [, h, w, c] = geometry.inputShapes[0];
  const [n, oh, ow, oc] = geometry.outputShape;
  const [top, , left] = geometry.padding;
  const { kernel: [kh, kw], stride: [sh, sw], dilation: [dh, dw], groups } = descriptor;
  const perChannel = kh * kw * (c / groups);
  const rows = { h, w, c, oh, ow, oc, sh, top, extent: (kh - 1) * dh + 1 };
  return {
    program,
    units: n * oh * ow * oc,
    values: [
      ...[h, w, c, oh, ow, oc, kh, kw, sh, sw, dh, dw, top, left, c / groups, oc / groups],
      ...activationValues(descriptor.activation),
    ],
    reads: [{ input: 0 }, { weight: 0 }, { weight: 1 }],
    span: (binding, start, end) =>
      binding === 0
        ? [start, end]
        : binding === 1
        ? windowSpan(rows, start, end)
        : channelSpan(start, end, oc, binding === 2 ? perChannel : 1),
  };
}

/**
 * The program of a convolution computing one output per invocation (the
 * plain variants): the convolution's bindings ({@link CONV_READS}) and
 * uniforms ({@link convFields}, then `extraFields`), the activation's `act`,
 * `unit` — the WGSL of `fn unit(u: u32)` and its helpers — and the
 * element-wise entry point over `workgroupSize` invocations. Keyed by the
 * activation's kind plus `keySuffix`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perOutputConvSpec } from "./conv.ts";
 * const spec = perOutputConvSpec("f32-toy-wgsl", "relu", 64, "fn unit(u: u32) {}");
 * assert.equal(spec.key, "relu");
 * assert.equal(spec.unitsPerWorkgroup, 64);
 * assert.match(spec.body, /fn act\(/);
 * ```
 */
export function perOutputConvSpec(
  variant: string,
  activation: Conv2dDescriptor["activation"],
  workgroupSize: number,
  unit: string,
  keySuffix = "",
  extraFields: readonly UniformField[] = [],
): ProgramSpec {
  return {
    variant,
    key: `${activationKind(activation)}${keySuffix}`,
    reads: CONV_READS,
    fields: [...convFields(activation), ...extraFields],
    workgroupSize,
    unitsPerWorkgroup: workgroupSize,
    body: `${activationWgsl(activation)}
${unit}
${elementMain(workgroupSize)}`,
  };
}

/**
 * WGSL: `first_tap(start, d)`, the first tap `k` of a window starting at
 * `start` (dilation `d`) that lies in the image, and `end_tap(start, d, k,
 * size)`, one past its last; both in unsigned arithmetic that never forms
 * the coordinate of a tap outside the image. A window wholly in the padding
 * gets `end_tap ≤ first_tap`: no tap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WINDOW_WGSL } from "./conv.ts";
 * assert.match(WINDOW_WGSL, /fn first_tap\(start: i32, d: u32\) -> u32/);
 * ```
 */
export const WINDOW_WGSL = `
fn first_tap(start: i32, d: u32) -> u32 {
  if (start >= 0) { return 0u; }
  return (u32(-start) + d - 1u) / d;
}
fn end_tap(start: i32, d: u32, k: u32, size: u32) -> u32 {
  if (start >= i32(size)) { return 0u; }
  return min(k, (u32(i32(size) - start) + d - 1u) / d);
}`;

/**
 * WGSL that decodes output element `u` (NHWC) into `o`, `ox`, `oy`, `n`
 * and the window's first input row and column `y0`, `x0` (negative in the
 * top or left padding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DECODE_WGSL } from "./conv.ts";
 * assert.match(DECODE_WGSL, /let y0 = i32\(oy \* p\.sh\) - p\.top;/);
 * ```
 */
export const DECODE_WGSL = `
  let o = u % p.oc;
  let pixel = u / p.oc;
  let ox = pixel % p.ow;
  let row = pixel / p.ow;
  let oy = row % p.oh;
  let n = row / p.oh;
  let y0 = i32(oy * p.sh) - p.top;
  let x0 = i32(ox * p.sw) - p.left;`;

/**
 * A depthwise kernel that can read its input through a channel shuffle:
 * `planShuffled` plans a call whose input binding holds the shuffle's
 * source, input channel `c` being read from source channel
 * `(c mod groups)·(C / groups) + ⌊c / groups⌋` — what
 * `channelShuffle({ groups })` would have stored at channel `c`. The
 * backend uses it to fold a pending shuffle into its reader.
 */
export interface ShuffledReadKernel extends WebGpuKernel {
  /** The steps of one call reading through a shuffle of `groups` groups (geometry as unshuffled). */
  planShuffled(geometry: OpGeometry, groups: number): readonly Step[];
}

/**
 * Whether `kernel` can read its input through a channel shuffle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readsShuffled, type ShuffledReadKernel } from "./conv.ts";
 * const plain = { weights: [], plan: () => [] };
 * const folding: ShuffledReadKernel = { ...plain, planShuffled: () => [] };
 * assert(!readsShuffled(plain));
 * assert(readsShuffled(folding));
 * ```
 */
export function readsShuffled(kernel: WebGpuKernel): kernel is ShuffledReadKernel {
  return typeof (kernel as Partial<ShuffledReadKernel>).planShuffled === "function";
}

/**
 * Whether the backend behind `context` folds channel shuffles into their
 * readers (its `foldChannelShuffle` option), so that the depthwise variants
 * compile their shuffled-read programs in `prepare` (`run` never compiles).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { WebGpuContext } from "../kernel.ts";
 * import { foldsChannelShuffle } from "./conv.ts";
 * assert(foldsChannelShuffle({ foldChannelShuffle: true } as unknown as WebGpuContext));
 * assert(!foldsChannelShuffle({} as WebGpuContext));
 * ```
 */
export function foldsChannelShuffle(context: WebGpuContext): boolean {
  return (context as { foldChannelShuffle?: unknown }).foldChannelShuffle === true;
}

/**
 * WGSL: `shuffled(c)`, the source channel that a channel shuffle of
 * `p.sg` groups over `p.c` channels stores at channel `c`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SHUFFLED_CHANNEL_WGSL } from "./conv.ts";
 * assert.match(SHUFFLED_CHANNEL_WGSL, /\(c % p\.sg\) \* \(p\.c \/ p\.sg\) \+ c \/ p\.sg/);
 * ```
 */
export const SHUFFLED_CHANNEL_WGSL = `
fn shuffled(c: u32) -> u32 { return (c % p.sg) * (p.c / p.sg) + c / p.sg; }`;

/**
 * WGSL statements `line(0) … line(count − 1)`, one per line at `indent`:
 * a loop unrolled when the program is generated, so that what it indexes
 * (columns, taps, accumulators) can be named registers instead of arrays.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unrolled } from "./conv.ts";
 * assert.equal(unrolled(3, "  ", (i) => `var acc${i} = bias;`), "var acc0 = bias;\n  var acc1 = bias;\n  var acc2 = bias;");
 * ```
 */
export function unrolled(count: number, indent: string, line: (i: number) => string): string {
  return Array.from({ length: count }, (_, i) => line(i)).join(`\n${indent}`);
}
