/**
 * The pooling generator shared by the max and average pooling variants,
 * f32x4 over blocks of 4 channels, on the shared window walker. Out-of-image
 * rows read a pad row of −∞ (max) or zeros (average); out-of-image columns
 * are skipped at generation time. Average pooling without `countIncludePad`
 * divides by the valid rows (counted per output row) times the valid columns
 * (a constant per column). In ceil mode the last output row or column may
 * hang past the bottom/right padding: those cells are out of the image, so
 * the walkers already treat them as padding (max never picks them, the
 * in-image count skips them), and with `countIncludePad` the divisor counts
 * only the window's cells inside the padded input — per output row (a local
 * set at each row, or per pixel in the looped walker) and per column (a
 * constant) — and stays the constant kh·kw where no window hangs over.
 * Large windows (more than
 * `MAX_UNROLLED_TAPS` taps, many border columns, very wide rows) take the
 * looped walker, which clips each window to the image instead.
 *
 * Max pooling is NaN-sticky as IEEE `maximum` is (NaN if any value of the
 * window is NaN), but not with `f32x4.max`, which V8 lowers to about eight
 * instructions to get NaN and ±0 right: `f32x4.pmax(acc, x)` (one `maxps`)
 * keeps a NaN already in `acc` and drops one in `x`, so the NaN lanes of
 * every further `x` are collected in a mask (`f32x4.ne(x, x)`, `v128.or`)
 * that is or-ed into the result, making those lanes NaN (all-ones is a NaN).
 * Three instructions per tap instead of eight: a chain of 9 taps ran 4.4×
 * faster, ShuffleNet's 3×3 pool 2–4× (docs/backends.md).
 *
 * @module
 */

import { type DescriptorOf, shapeSize } from "@mobileops/core";
import { assembleModule, type MemoryImport } from "../assembler.ts";
import { shapeKernel, type WasmContext, type WasmKernel } from "../kernel.ts";
import type { FunctionBuilder } from "../assembler.ts";
import { kernelFunction, storeLanes } from "./emit.ts";
import {
  type BlockRun,
  emitWindowLoops,
  emitWindowWalk,
  unrolledTaps,
  type WindowGeometry,
  windowGeometry,
} from "./window.ts";

/** `average` divides by the in-image taps only, `averageIncludingPad` by all kh·kw. */
export type PoolMode = "max" | "average" | "averageIncludingPad";

/** What {@link generatePool} bakes into the module. */
export interface PoolSpec {
  /**
   * Window and tensor sizes, `dilation` [1, 1] (else `RangeError`); the
   * backend sets `inStride` = `outStride` = `channels`.
   */
  readonly geometry: WindowGeometry;
  /**
   * Padding rows below and columns right of the image. A ceil-mode window may
   * hang past them; `averageIncludingPad` divides by its cells inside the
   * padded input only.
   */
  readonly padBottom: number;
  readonly padRight: number;
  /** Channels per pixel, in blocks of 4; the 1–3 left over store only their lanes. */
  readonly channels: number;
  /** How the taps combine. */
  readonly mode: PoolMode;
  /**
   * Byte offset of a pad row (−∞ for max, 0 for average) of `width × channels`
   * floats, read for out-of-image rows by the unrolled walker: required when
   * {@link poolNeedsPadRow} is true (else `RangeError`), ignored otherwise.
   */
  readonly padRow?: number;
  /** Declares the `env.memory` import (pages, shared) that the module is instantiated with. */
  readonly memory: MemoryImport;
}

/**
 * Emits a pooling module; `run(in, _, out, start, end)` computes output rows
 * `[start, end)` of batch × height.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generatePool } from "./pool.ts";
 * const bytes = generatePool({
 *   geometry: {
 *     height: 4, width: 4, inStride: 3, outHeight: 2, outWidth: 2, outStride: 3,
 *     kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padTop: 0, padLeft: 0,
 *   },
 *   padBottom: 0, padRight: 0, channels: 3, mode: "max", padRow: 1024,
 *   memory: { initialPages: 1, shared: false },
 * });
 * assert(WebAssembly.validate(bytes));
 * ```
 */
export function generatePool(spec: PoolSpec): Uint8Array<ArrayBuffer> {
  const { geometry, channels, mode } = spec;
  const [kh, kw] = geometry.kernel;
  const [sh, sw] = geometry.stride;
  if (geometry.dilation[0] !== 1 || geometry.dilation[1] !== 1) {
    throw new RangeError(`a pool has no dilation, got [${geometry.dilation.join(", ")}]`);
  }
  // End of the padded input, in input rows and columns: a window starting at `top` counts
  // min(kh, paddedBottom − top) rows towards averageIncludingPad's divisor. That is kh for every
  // window but a ceil-mode last row (column) hanging past the padding, so only then does the
  // divisor vary by row (column).
  const paddedBottom = geometry.height + spec.padBottom;
  const paddedRight = geometry.width + spec.padRight;
  const includingPad = mode === "averageIncludingPad";
  const rowsOverhang = includingPad &&
    (geometry.outHeight - 1) * sh - geometry.padTop + kh > paddedBottom;
  const columnsOverhang = includingPad &&
    (geometry.outWidth - 1) * sw - geometry.padLeft + kw > paddedRight;
  const f = kernelFunction();
  const acc = f.local("v128");
  const value = f.local("v128");
  const nan = f.local("v128");
  /** Rows the divisor counts: in the image (average), in the padded input (averageIncludingPad). */
  const divisorRows = f.local("f32");
  let span: number | undefined;
  /**
   * Pushes a window's cells inside the padded input on one axis: `k`, or where
   * the axis `overhangs`, min(k, r) for the i32 `r` (≥ 1) that `pushRemaining` pushes.
   */
  const pushInside = (k: number, overhangs: boolean, pushRemaining: () => void) => {
    if (!overhangs) {
      f.i32Const(k);
      return;
    }
    span ??= f.local("i32");
    pushRemaining();
    f.localTee(span).i32Const(k).localGet(span).i32Const(k).i32LtS().select();
  };
  const full = Math.floor(channels / 4);
  const runs: BlockRun<number>[] = [
    {
      count: full,
      inStart: 0,
      inStep: 16,
      outStart: 0,
      outStep: 16,
      weightStart: 0,
      weightStep: 0,
      variant: 4,
    },
    {
      count: channels % 4 === 0 ? 0 : 1,
      inStart: 16 * full,
      inStep: 0,
      outStart: 16 * full,
      outStep: 0,
      weightStart: 0,
      weightStep: 0,
      variant: channels % 4,
    },
  ];
  /** Folds the v128 on the stack into `acc`; `first` sets it instead. */
  const combine = (f: FunctionBuilder, first: boolean, nanStarted: boolean) => {
    if (first) {
      f.localSet(acc);
      return;
    }
    f.localSet(value);
    if (mode !== "max") {
      f.localGet(acc).localGet(value).f32x4Add().localSet(acc);
      return;
    }
    f.localGet(acc).localGet(value).f32x4Pmax().localSet(acc);
    f.localGet(value).localGet(value).f32x4Ne();
    if (nanStarted) f.localGet(nan).v128Or();
    f.localSet(nan);
  };

  if (!poolNeedsPadRow(geometry)) {
    emitWindowLoops(f, geometry, 0, runs, {
      block(f, lanes, access) {
        f.f32x4Const(mode === "max" ? [-Infinity, -Infinity, -Infinity, -Infinity] : [0, 0, 0, 0])
          .localSet(acc);
        if (mode === "max") f.f32x4Const([0, 0, 0, 0]).localSet(nan);
        access.forEachTap(0, 0, (input) => {
          f.localGet(input).v128Load();
          combine(f, false, true);
        });
        if (mode === "max") f.localGet(acc).localGet(nan).v128Or().localSet(acc);
        if (mode === "average") {
          f.localGet(acc).localGet(access.rows).localGet(access.columns).i32Mul()
            .f32ConvertI32U().f32x4Splat().f32x4Div().localSet(acc);
        } else if (rowsOverhang || columnsOverhang) {
          f.localGet(acc);
          pushInside(
            kh,
            rowsOverhang,
            () => f.i32Const(paddedBottom).localGet(access.top).i32Sub(),
          );
          pushInside(
            kw,
            columnsOverhang,
            () => f.i32Const(paddedRight).localGet(access.left).i32Sub(),
          );
          f.i32Mul().f32ConvertI32U().f32x4Splat().f32x4Div().localSet(acc);
        } else if (includingPad) {
          f.localGet(acc).f32Const(kh * kw).f32x4Splat().f32x4Div().localSet(acc);
        }
        storeLanes(f, access.output, 0, acc, lanes);
      },
    });
    return assembleModule([f], spec.memory);
  }

  if (spec.padRow === undefined) throw new RangeError("an unrolled pool needs spec.padRow");
  emitWindowWalk(f, geometry, spec.padRow, 0, runs, {
    beginRow(f, pushRowValid, outY) {
      if (rowsOverhang) {
        pushInside(
          kh,
          true,
          () =>
            f.i32Const(paddedBottom + geometry.padTop).localGet(outY).i32Const(sh).i32Mul()
              .i32Sub(),
        );
        f.f32ConvertI32U().localSet(divisorRows);
      }
      if (mode !== "average") return;
      f.i32Const(0);
      for (let ky = 0; ky < kh; ky++) {
        pushRowValid(ky);
        f.i32Add();
      }
      f.f32ConvertI32U().localSet(divisorRows);
    },
    pixel(f, lanes, access) {
      let taps = 0;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          if (!access.valid(ky, kx)) continue;
          f.localGet(access.tapBase(ky)).v128Load(access.tapOffset(ky, kx));
          combine(f, taps === 0, taps > 1);
          taps++;
        }
      }
      if (taps === 0) f.f32x4Const([-Infinity, -Infinity, -Infinity, -Infinity]).localSet(acc);
      if (mode === "max" && taps > 1) f.localGet(acc).localGet(nan).v128Or().localSet(acc);
      // Interior windows lie inside the image's columns, so inside the padded input's.
      const paddedColumns = access.column === undefined
        ? kw
        : Math.min(kw, paddedRight - (access.column * sw - geometry.padLeft));
      if (mode === "average") {
        f.localGet(acc).localGet(divisorRows).f32Const(access.validColumns).f32Mul().f32x4Splat()
          .f32x4Div().localSet(acc);
      } else if (rowsOverhang) {
        f.localGet(acc).localGet(divisorRows).f32Const(paddedColumns).f32Mul().f32x4Splat()
          .f32x4Div().localSet(acc);
      } else if (includingPad) {
        f.localGet(acc).f32Const(kh * paddedColumns).f32x4Splat().f32x4Div().localSet(acc);
      }
      storeLanes(f, access.outBase, access.outOffset, acc, lanes);
    },
  });
  return assembleModule([f], spec.memory);
}

/**
 * Whether {@link generatePool} takes the unrolled walker for `geometry`, which
 * reads a pad row; otherwise it walks with runtime loops and needs none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { poolNeedsPadRow } from "./pool.ts";
 * const g = {
 *   height: 4, width: 4, inStride: 3, outHeight: 2, outWidth: 2, outStride: 3,
 *   kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padTop: 0, padLeft: 0,
 * } as const;
 * assert(poolNeedsPadRow(g) && !poolNeedsPadRow({ ...g, kernel: [1, 4096] }));
 * ```
 */
export function poolNeedsPadRow(geometry: WindowGeometry): boolean {
  return unrolledTaps(geometry, 1) !== Infinity;
}

/**
 * The kernel of a max or average pool: per input shape a {@link generatePool}
 * module and its pad row (−∞ for max, zeros for average).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxPool2d } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { preparePool } from "./pool.ts";
 * const kernel = preparePool(maxPool2d({ kernel: 3, stride: 2 }), "max", {} as WasmContext);
 * assert(kernel.blocks.length === 0 && kernel.shapes.size === 0);
 * ```
 */
export function preparePool(
  d: DescriptorOf<"avgPool2d"> | DescriptorOf<"maxPool2d">,
  mode: PoolMode,
  context: WasmContext,
): WasmKernel {
  return shapeKernel((geometry, blocks) => {
    const channels = geometry.inputShapes[0][3];
    const g = windowGeometry(geometry, d.kernel, d.stride, [1, 1], channels);
    const padRow = poolNeedsPadRow(g)
      ? context.padRow(g.width * channels, mode === "max" ? -Infinity : 0, blocks)
      : undefined;
    const bytes = generatePool({
      geometry: g,
      padBottom: geometry.padding[1],
      padRight: geometry.padding[3],
      channels,
      mode,
      padRow,
      memory: context.memoryImport,
    });
    const rows = geometry.outputShape[0] * g.outHeight;
    return context.compile(bytes, rows, 1, shapeSize(geometry.outputShape) * 4);
  });
}
