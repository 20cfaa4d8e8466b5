/**
 * Depthwise convolution (channel multiplier 1, any kernel, stride, dilation
 * and padding), f32x4 over blocks of 4 channels. For each group of adjacent
 * output pixels the channel blocks are the inner loop: a block's taps and
 * bias are loaded (from L1) into registers, each input column is loaded once
 * for every pixel whose window holds it, and the pixels are independent
 * multiply-add chains. Channel-inner keeps the loads walking memory in
 * order; the opposite order (taps held across a row, one block at a time)
 * steps its loads by a whole pixel (2 KiB at 512 channels), which crowds a
 * few L1 sets and ran 1.4–1.7× slower. Kernels with more than
 * `MAX_UNROLLED_TAPS` taps, rows with many border columns (huge padding or
 * dilation) or very wide rows take the looped walker instead: its code does
 * not grow with the kernel or the image, and it reads no pad row.
 *
 * @module
 */

import { type Activation, type DescriptorOf, type KernelVariant, shapeSize } from "@mobileops/core";
import { assembleModule, type MemoryImport } from "../assembler.ts";
import { shapeKernel, type WasmContext, type WasmKernel } from "../kernel.ts";
import {
  activationLocals,
  addTo,
  applyActivation,
  type ArithmeticOptions,
  kernelFunction,
  multiplyAccumulate,
  storeLanes,
} from "./emit.ts";
import {
  type BlockRun,
  emitWindowLoops,
  emitWindowWalk,
  type PixelAccess,
  unrolledTaps,
  type WindowGeometry,
  windowGeometry,
} from "./window.ts";

/**
 * Interior output pixels per loop trip by default: they share input loads
 * and are independent multiply-add chains. 6 when a row has room for it, else
 * 4 (a 14-wide row has only 12 interior pixels). Measured with `tune_kernels.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultDepthwiseUnroll } from "./f32-dwconv-wasmsimd.ts";
 * assert(defaultDepthwiseUnroll(112) === 6 && defaultDepthwiseUnroll(14) === 4);
 * ```
 */
export function defaultDepthwiseUnroll(outWidth: number): number {
  return outWidth >= 24 ? 6 : 4;
}

/** Packed layout per block of 4 channels: `[bias ×4][ky][kx][4 lanes]`. */
function blockFloats(kernel: readonly [number, number]): number {
  return 4 * (1 + kernel[0] * kernel[1]);
}

/**
 * Packs an OHWI depthwise filter `[C][kh][kw][1]` and bias into 4-channel
 * blocks; missing lanes of the last block are zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packDepthwiseWeights } from "./f32-dwconv-wasmsimd.ts";
 * const packed = packDepthwiseWeights(new Float32Array([1, 2]), undefined, 2, [1, 1]);
 * assert(packed.join() === "0,0,0,0,1,2,0,0");
 * ```
 */
export function packDepthwiseWeights(
  filter: Float32Array,
  bias: Float32Array | undefined,
  channels: number,
  kernel: readonly [number, number],
): Float32Array {
  const taps = kernel[0] * kernel[1];
  const perBlock = blockFloats(kernel);
  const packed = new Float32Array(Math.ceil(channels / 4) * perBlock);
  for (let c = 0; c < channels; c++) {
    const block = Math.floor(c / 4) * perBlock;
    const lane = c % 4;
    packed[block + lane] = bias?.[c] ?? 0;
    for (let t = 0; t < taps; t++) packed[block + 4 * (1 + t) + lane] = filter[c * taps + t];
  }
  return packed;
}

/** What {@link generateDepthwiseConv} bakes into the module. */
export interface DepthwiseSpec extends ArithmeticOptions {
  /** Window and tensor sizes; its `kernel` must be the one the weights were packed with. */
  readonly geometry: WindowGeometry;
  /** Channels in and out (multiplier 1), in blocks of 4; a 1–3 channel tail stores only those. */
  readonly channels: number;
  /** Fused into the stores: each value clamped to the activation's bounds (NaN stays NaN). */
  readonly activation: Activation;
  /** Byte offset of the packed weights. */
  readonly weights: number;
  /**
   * Byte offset of a zero row of `width × channels` floats, read for
   * out-of-image rows by the unrolled walker: required when
   * {@link depthwiseUnrolled} is true (else `RangeError`), ignored otherwise.
   */
  readonly zeroRow?: number;
  /** Declares the `env.memory` import (pages, shared) that the module is instantiated with. */
  readonly memory: MemoryImport;
  /** Interior output pixels per loop trip; default {@link defaultDepthwiseUnroll}. */
  readonly unroll?: number;
}

/**
 * Emits the module of a depthwise convolution; its `run(in, _, out, start, end)`
 * computes output rows `[start, end)` of batch × height.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateDepthwiseConv } from "./f32-dwconv-wasmsimd.ts";
 * const geometry = {
 *   height: 4, width: 4, inStride: 8, outHeight: 4, outWidth: 4, outStride: 8,
 *   kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padTop: 1, padLeft: 1,
 * } as const;
 * const bytes = generateDepthwiseConv({
 *   geometry, channels: 8, activation: "relu6", weights: 64, zeroRow: 1024, fused: false,
 *   memory: { initialPages: 1, shared: false },
 * });
 * assert(WebAssembly.validate(bytes));
 * ```
 */
export function generateDepthwiseConv(spec: DepthwiseSpec): Uint8Array<ArrayBuffer> {
  const { geometry, channels } = spec;
  const [kh, kw] = geometry.kernel;
  const [, sw] = geometry.stride;
  const [, dw] = geometry.dilation;
  const f = kernelFunction();
  const bounds = activationLocals(f, spec.activation);
  const bias = f.local("v128");
  const value = f.local("v128");
  const blockBytes = 4 * blockFloats(geometry.kernel);
  const full = Math.floor(channels / 4);
  const unroll = spec.unroll ?? defaultDepthwiseUnroll(geometry.outWidth);

  if (!depthwiseUnrolled(geometry, unroll)) {
    const acc = f.local("v128");
    const runs: BlockRun<number>[] = [
      {
        count: full,
        inStart: 0,
        inStep: 16,
        outStart: 0,
        outStep: 16,
        weightStart: 0,
        weightStep: blockBytes,
        variant: 4,
      },
      {
        count: channels % 4 === 0 ? 0 : 1,
        inStart: 16 * full,
        inStep: 0,
        outStart: 16 * full,
        outStep: 0,
        weightStart: blockBytes * full,
        weightStep: 0,
        variant: channels % 4,
      },
    ];
    emitWindowLoops(f, geometry, spec.weights, runs, {
      block(f, lanes, access) {
        f.f32x4Const([0, 0, 0, 0]).localSet(acc);
        access.forEachTap(16, 16, (input, weights) => {
          multiplyAccumulate(
            f,
            spec.fused,
            acc,
            () => f.localGet(input).v128Load(),
            () => f.localGet(weights).v128Load(),
          );
        });
        f.localGet(access.weights).v128Load().localGet(acc).f32x4Add().localSet(value);
        applyActivation(f, bounds, value);
        storeLanes(f, access.output, 0, value, lanes);
      },
    });
    return assembleModule([f], spec.memory);
  }

  if (spec.zeroRow === undefined) throw new RangeError("unrolled depthwise needs spec.zeroRow");
  const taps = Array.from({ length: kh * kw }, () => f.local("v128"));
  const acc = Array.from({ length: unroll }, () => f.local("v128"));
  const rowPointers = Array.from({ length: kh }, () => f.local("i32"));
  const weightPointer = f.local("i32");
  const outPointer = f.local("i32");
  const blocks = f.local("i32");

  /** The pixels of `access`, for the channel block at the row, weight and output pointers. */
  const block = (lanes: number, access: PixelAccess) => {
    f.localGet(weightPointer).v128Load().localSet(bias);
    taps.forEach((tap, t) => f.localGet(weightPointer).v128Load(16 * (1 + t)).localSet(tap));
    // Input column (relative to the first pixel's window) → the pixels and taps that read it.
    const users = new Map<number, [number, number][]>();
    for (let u = 0; u < access.pixels; u++) {
      for (let kx = 0; kx < kw; kx++) {
        if (!access.valid(0, kx)) continue;
        const column = u * sw + kx * dw;
        users.set(column, [...users.get(column) ?? [], [u, kx]]);
      }
    }
    const columns = [...users.keys()].sort((a, b) => a - b);
    const started = new Set<number>();
    for (let ky = 0; ky < kh; ky++) {
      for (const column of columns) {
        const readers = users.get(column)!;
        const [firstUser, firstKx] = readers[0];
        const offset = access.tapOffset(ky, firstKx) + firstUser * access.pixelInStep;
        f.localGet(rowPointers[ky]).v128Load(offset).localSet(value);
        for (const [u, kx] of readers) {
          if (!started.has(u)) {
            started.add(u);
            f.localGet(value).localGet(taps[ky * kw + kx]).f32x4Mul().localSet(acc[u]);
            continue;
          }
          multiplyAccumulate(
            f,
            spec.fused,
            acc[u],
            () => f.localGet(value),
            () => f.localGet(taps[ky * kw + kx]),
          );
        }
      }
    }
    for (let u = 0; u < access.pixels; u++) {
      f.localGet(bias);
      if (started.has(u)) f.localGet(acc[u]).f32x4Add();
      f.localSet(value);
      applyActivation(f, bounds, value);
      storeLanes(f, outPointer, access.outOffset + u * access.pixelOutStep, value, lanes);
    }
  };

  const everyChannel: BlockRun<null>[] = [{
    count: 1,
    inStart: 0,
    inStep: 0,
    outStart: 0,
    outStep: 0,
    weightStart: 0,
    weightStep: 0,
    variant: null,
  }];
  emitWindowWalk(f, geometry, spec.zeroRow, spec.weights, everyChannel, {
    unroll,
    pixel(f, _variant, access) {
      rowPointers.forEach((pointer, ky) => f.localGet(access.tapBase(ky)).localSet(pointer));
      f.i32Const(spec.weights).localSet(weightPointer);
      f.localGet(access.outBase).localSet(outPointer);
      if (full > 0) {
        f.i32Const(full).localSet(blocks);
        f.loop();
        block(4, access);
        for (const pointer of rowPointers) addTo(f, pointer, 16);
        addTo(f, weightPointer, blockBytes);
        addTo(f, outPointer, 16);
        f.localGet(blocks).i32Const(1).i32Sub().localTee(blocks).brIf(0);
        f.end();
      }
      if (channels % 4 !== 0) block(channels % 4, access);
    },
  });
  return assembleModule([f], spec.memory);
}

/**
 * Whether {@link generateDepthwiseConv} unrolls the taps of `geometry` (and
 * so needs a zero row) with `unroll` interior pixels per loop trip; false
 * past `MAX_UNROLLED_TAPS` taps, `MAX_BORDER_COLUMNS` border columns or an
 * input row of `MAX_PAD_ROW_BYTES` (window.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseUnrolled } from "./f32-dwconv-wasmsimd.ts";
 * const g = {
 *   height: 8, width: 8, inStride: 4, outHeight: 8, outWidth: 8, outStride: 4,
 *   kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padTop: 1, padLeft: 1,
 * } as const;
 * assert(depthwiseUnrolled(g, 4));
 * assert(!depthwiseUnrolled({ ...g, dilation: [4096, 4096], padLeft: 4096, width: 10000, outWidth: 10000 }, 4));
 * ```
 */
export function depthwiseUnrolled(geometry: WindowGeometry, unroll: number): boolean {
  return unrolledTaps(geometry, unroll) !== Infinity;
}

/**
 * The `f32-dwconv-wasmsimd` variant of conv2d: depthwise with channel
 * multiplier 1 (groups = input channels = output channels, more than one),
 * any kernel, stride, dilation and padding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conv2d, depthwiseConv2d } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32DwconvWasmsimd } from "./f32-dwconv-wasmsimd.ts";
 * const context = {} as WasmContext;
 * assert(f32DwconvWasmsimd.matches(depthwiseConv2d({ channels: 8, kernel: 5 }), context));
 * const multiplier2 = conv2d({ inChannels: 4, outChannels: 8, kernel: 3, groups: 4 });
 * assert(!f32DwconvWasmsimd.matches(multiplier2, context));
 * ```
 */
export const f32DwconvWasmsimd: KernelVariant<DescriptorOf<"conv2d">, WasmKernel, WasmContext> = {
  name: "f32-dwconv-wasmsimd",
  matches: (d) => d.groups === d.inChannels && d.outChannels === d.inChannels && d.groups > 1,
  prepare: (d, { filter, bias }, context) => {
    const blocks: number[] = [];
    const packed = context.place(
      packDepthwiseWeights(filter, bias, d.inChannels, d.kernel),
      blocks,
    );
    return shapeKernel((geometry, blocks) => {
      const g = windowGeometry(geometry, d.kernel, d.stride, d.dilation, d.outChannels);
      const zeroRow = depthwiseUnrolled(g, defaultDepthwiseUnroll(g.outWidth))
        ? context.padRow(g.width * g.inStride, 0, blocks)
        : undefined;
      const bytes = generateDepthwiseConv({
        geometry: g,
        channels: d.inChannels,
        activation: d.activation,
        weights: packed,
        zeroRow,
        fused: context.fused,
        memory: context.memoryImport,
      });
      const rows = geometry.outputShape[0] * g.outHeight;
      return context.compile(
        bytes,
        rows,
        1,
        shapeSize(geometry.outputShape) * d.kernel[0] * d.kernel[1],
      );
    }, blocks);
  },
};
