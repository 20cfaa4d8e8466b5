/**
 * The sliding-window walker shared by depthwise and direct convolution and
 * the pools: it emits the loops over output rows, channel blocks and output
 * columns, and leaves what happens at one output pixel to a strategy.
 *
 * Borders cost no per-element branch. Rows: each output row computes one
 * pointer per kernel row, `select`ed to a scratch "pad row" (zeros, or −∞ for
 * max pooling) when that input row is outside the image, so every tap reads
 * memory. Columns: the few output columns whose window crosses the left or
 * right edge get their own straight-line code with only the valid taps
 * (shapes are constants, so this is known when generating); the interior
 * columns run one loop with every tap.
 *
 * @module
 */

import type { OpGeometry } from "@mobileops/core";
import type { FunctionBuilder } from "../assembler.ts";
import { addTo, END, IN0, OUT, START } from "./emit.ts";

/** A window operator's geometry, all sizes in elements. */
export interface WindowGeometry {
  /** Input rows (pixels) per image, before padding; rows outside read the pad row. */
  readonly height: number;
  /** Input columns (pixels) per row, before padding. */
  readonly width: number;
  /** Floats per input pixel. */
  readonly inStride: number;
  /** Output rows per image; `start`/`end` count rows of batch × `outHeight`. */
  readonly outHeight: number;
  /** Output columns (pixels) per row. */
  readonly outWidth: number;
  /** Floats per output pixel. */
  readonly outStride: number;
  /** Window taps `[rows, columns]`, before dilation. */
  readonly kernel: readonly [number, number];
  /** Input pixels between adjacent windows, `[rows, columns]`. */
  readonly stride: readonly [number, number];
  /** Input pixels between adjacent taps of a window, `[rows, columns]` (1 = dense). */
  readonly dilation: readonly [number, number];
  /** Padding rows above the image: output row 0's window starts at input row −`padTop`. */
  readonly padTop: number;
  /** Padding columns left of the image; out-of-image column taps are dropped when generating. */
  readonly padLeft: number;
}

/**
 * The window geometry of a convolution or pool call: core's geometry of an
 * NHWC input, with the window's taps, stride and dilation, writing
 * `outStride` floats per output pixel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d, inferGeometry } from "@mobileops/core";
 * import { windowGeometry } from "./window.ts";
 * const d = depthwiseConv2d({ channels: 8, kernel: 3, stride: 2, padding: "same" });
 * const g = windowGeometry(inferGeometry(d, [[1, 9, 9, 8]]), d.kernel, d.stride, d.dilation, 8);
 * assert(g.outHeight === 5 && g.padTop === 1 && g.inStride === 8);
 * ```
 */
export function windowGeometry(
  geometry: OpGeometry,
  kernel: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number],
  outStride: number,
): WindowGeometry {
  const [, h, w, c] = geometry.inputShapes[0];
  const [, oh, ow] = geometry.outputShape;
  return {
    height: h,
    width: w,
    inStride: c,
    outHeight: oh,
    outWidth: ow,
    outStride,
    kernel,
    stride,
    dilation,
    padTop: geometry.padding[0],
    padLeft: geometry.padding[2],
  };
}

/** A run of channel blocks walked by one loop; offsets in bytes. */
export interface BlockRun<V> {
  /** Channel blocks in the run (trips of its loop); a run of 0 emits nothing. */
  readonly count: number;
  /** First block's byte offset within each input pixel. */
  readonly inStart: number;
  /** Bytes added to the input offset after each block. */
  readonly inStep: number;
  /** First block's byte offset within each output pixel. */
  readonly outStart: number;
  /** Bytes added to the output offset after each block. */
  readonly outStep: number;
  /** First block's weights, in bytes from the walker's `weights` offset. */
  readonly weightStart: number;
  /** Bytes added to the weight pointer after each block (a block's packed weights). */
  readonly weightStep: number;
  /** What the strategy needs to know about these blocks (e.g. lanes). */
  readonly variant: V;
}

/** Where one output pixel reads and writes. */
export interface PixelAccess {
  /** Local holding the base pointer of kernel row `ky` for this pixel. */
  tapBase(ky: number): number;
  /** Constant byte offset of tap `(ky, kx)` from its base pointer. */
  tapOffset(ky: number, kx: number): number;
  /** Whether tap `(ky, kx)` lies inside the image's columns. */
  valid(ky: number, kx: number): boolean;
  /** Number of valid kernel columns. */
  readonly validColumns: number;
  /** Adjacent output pixels to compute (more than 1 only in the interior, up to `unroll`). */
  readonly pixels: number;
  /** Bytes between the inputs, and between the outputs, of adjacent output pixels. */
  readonly pixelInStep: number;
  readonly pixelOutStep: number;
  readonly outBase: number;
  readonly outOffset: number;
  /** Local holding the block's weight pointer. */
  readonly weights: number;
}

/** What an operator does inside the walker's loops. */
export interface WindowStrategy<V> {
  /** Interior pixels one `pixel` call may compute (default 1). */
  readonly unroll?: number;
  /** At each output row; `pushRowValid(ky)` pushes an i32 (1 if input row `ky` is inside). */
  beginRow?(f: FunctionBuilder, pushRowValid: (ky: number) => void): void;
  /** One output pixel of one block. */
  pixel(f: FunctionBuilder, variant: V, access: PixelAccess): void;
}

/**
 * Emits the walker into `f` (a kernel entry; `start`/`end` are output rows over
 * batch × height). `padRow` is the byte offset of a scratch row of at least
 * `width × inStride` floats (+ 16 bytes) that out-of-image rows read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assembleModule } from "../assembler.ts";
 * import { kernelFunction } from "./emit.ts";
 * import { emitWindowWalk } from "./window.ts";
 * // A 2×2 "pool" that stores each window's top-left value (one channel block).
 * const f = kernelFunction();
 * const geometry = {
 *   height: 4, width: 4, inStride: 4, outHeight: 2, outWidth: 2, outStride: 4,
 *   kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padTop: 0, padLeft: 0,
 * } as const;
 * const run = { count: 1, inStart: 0, inStep: 0, outStart: 0, outStep: 0, weightStart: 0, weightStep: 0, variant: null };
 * emitWindowWalk(f, geometry, 1024, 0, [run], {
 *   pixel: (f, _variant, access) => {
 *     f.localGet(access.outBase).localGet(access.tapBase(0)).v128Load(access.tapOffset(0, 0))
 *       .v128Store(access.outOffset);
 *   },
 * });
 * assert(WebAssembly.validate(assembleModule([f], { initialPages: 1, shared: false })));
 * ```
 */
export function emitWindowWalk<V>(
  f: FunctionBuilder,
  g: WindowGeometry,
  padRow: number,
  weights: number,
  runs: readonly BlockRun<V>[],
  strategy: WindowStrategy<V>,
): void {
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  const inPixel = g.inStride * 4;
  const outPixel = g.outStride * 4;
  const row = f.local("i32");
  const batch = f.local("i32");
  const oy = f.local("i32");
  const iy = f.local("i32");
  const outRow = f.local("i32");
  const inOffset = f.local("i32");
  const outOffset = f.local("i32");
  const weightPointer = f.local("i32");
  const blocks = f.local("i32");
  const columns = f.local("i32");
  const outBase = f.local("i32");
  const outRunning = f.local("i32");
  const rowPointers = Array.from({ length: kh }, () => f.local("i32"));
  const rowValid = Array.from({ length: kh }, () => f.local("i32"));
  const blockBases = Array.from({ length: kh }, () => f.local("i32"));
  const running = Array.from({ length: kh }, () => f.local("i32"));

  const firstInterior = Math.min(Math.ceil(g.padLeft / sw), g.outWidth);
  const lastInterior = Math.min(
    Math.floor((g.width - 1 - (kw - 1) * dw + g.padLeft) / sw) + 1,
    g.outWidth,
  );
  const interiorEnd = Math.max(firstInterior, lastInterior);
  const staticColumns: number[] = [];
  for (let ox = 0; ox < g.outWidth; ox++) {
    if (ox < firstInterior || ox >= interiorEnd) staticColumns.push(ox);
  }

  f.localGet(START).localSet(row);
  f.block().loop();
  f.localGet(row).localGet(END).i32GeU().brIf(1);
  f.localGet(row).i32Const(g.outHeight).i32DivU().localSet(batch);
  f.localGet(row).localGet(batch).i32Const(g.outHeight).i32Mul().i32Sub().localSet(oy);
  for (let ky = 0; ky < kh; ky++) {
    f.localGet(oy).i32Const(sh).i32Mul().i32Const(ky * dh - g.padTop).i32Add().localSet(iy);
    f.localGet(iy).i32Const(g.height).i32LtU().localSet(rowValid[ky]);
    // in0 + ((batch·H + iy)·W)·pixelBytes, or the pad row.
    f.localGet(IN0)
      .localGet(batch).i32Const(g.height).i32Mul().localGet(iy).i32Add()
      .i32Const(g.width * inPixel).i32Mul().i32Add()
      .i32Const(padRow)
      .localGet(rowValid[ky]).select().localSet(rowPointers[ky]);
  }
  strategy.beginRow?.(f, (ky) => f.localGet(rowValid[ky]));
  f.localGet(OUT).localGet(row).i32Const(g.outWidth * outPixel).i32Mul().i32Add()
    .localSet(outRow);

  const pixelAt = (variant: V, ox: number) => {
    const valid = (_ky: number, kx: number) => {
      const ix = ox * sw - g.padLeft + kx * dw;
      return ix >= 0 && ix < g.width;
    };
    let validColumns = 0;
    for (let kx = 0; kx < kw; kx++) if (valid(0, kx)) validColumns++;
    strategy.pixel(f, variant, {
      tapBase: (ky) => blockBases[ky],
      tapOffset: (_ky, kx) => (ox * sw - g.padLeft + kx * dw) * inPixel,
      valid,
      validColumns,
      pixels: 1,
      pixelInStep: sw * inPixel,
      pixelOutStep: outPixel,
      outBase,
      outOffset: ox * outPixel,
      weights: weightPointer,
    });
  };

  for (const run of runs) {
    if (run.count === 0) continue;
    f.i32Const(run.inStart).localSet(inOffset);
    f.i32Const(run.outStart).localSet(outOffset);
    f.i32Const(weights + run.weightStart).localSet(weightPointer);
    f.i32Const(run.count).localSet(blocks);
    f.loop();
    for (let ky = 0; ky < kh; ky++) {
      f.localGet(rowPointers[ky]).localGet(inOffset).i32Add().localSet(blockBases[ky]);
    }
    f.localGet(outRow).localGet(outOffset).i32Add().localSet(outBase);
    for (const ox of staticColumns.filter((ox) => ox < firstInterior)) pixelAt(run.variant, ox);
    if (interiorEnd > firstInterior) {
      const startColumn = firstInterior * sw - g.padLeft;
      for (let ky = 0; ky < kh; ky++) {
        f.localGet(blockBases[ky]).i32Const(startColumn * inPixel).i32Add().localSet(running[ky]);
      }
      f.localGet(outBase).i32Const(firstInterior * outPixel).i32Add().localSet(outRunning);
      const unroll = strategy.unroll ?? 1;
      const interior = interiorEnd - firstInterior;
      const interiorPixels = (pixels: number) => {
        strategy.pixel(f, run.variant, {
          tapBase: (ky) => running[ky],
          tapOffset: (_ky, kx) => kx * dw * inPixel,
          valid: () => true,
          validColumns: kw,
          pixels,
          pixelInStep: sw * inPixel,
          pixelOutStep: outPixel,
          outBase: outRunning,
          outOffset: 0,
          weights: weightPointer,
        });
        for (let ky = 0; ky < kh; ky++) addTo(f, running[ky], pixels * sw * inPixel);
        addTo(f, outRunning, pixels * outPixel);
      };
      if (interior >= unroll) {
        f.i32Const(Math.floor(interior / unroll)).localSet(columns);
        f.loop();
        interiorPixels(unroll);
        f.localGet(columns).i32Const(1).i32Sub().localTee(columns).brIf(0);
        f.end();
      }
      if (interior % unroll > 0) interiorPixels(interior % unroll);
    }
    for (const ox of staticColumns.filter((ox) => ox >= firstInterior)) pixelAt(run.variant, ox);
    addTo(f, inOffset, run.inStep);
    addTo(f, outOffset, run.outStep);
    addTo(f, weightPointer, run.weightStep);
    f.localGet(blocks).i32Const(1).i32Sub().localTee(blocks).brIf(0);
    f.end();
  }
  addTo(f, row, 1);
  f.br(0);
  f.end().end();
}
