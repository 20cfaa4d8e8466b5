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
 * That straight-line code grows with the kernel's taps and the number of
 * border columns, and each module owns a pad row as wide as an input row, so
 * it is only emitted while all three are small (see {@link unrolledTaps});
 * past that, {@link emitWindowLoops} walks every
 * output pixel and every in-image tap with runtime loops whose bounds are
 * clipped to the image, and the module's size no longer depends on the
 * kernel, stride, dilation, padding or image size.
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

/**
 * A run of channel blocks walked by one loop, repeated `groups` times (an
 * outer loop, e.g. over convolution groups); offsets in bytes.
 */
export interface BlockRun<V> {
  /** Channel blocks in the run (trips of its loop); a run of 0 emits nothing. */
  readonly count: number;
  /** Repetitions of the whole run (default 1). */
  readonly groups?: number;
  /** Bytes added to the input, output and weight offsets from one repetition to the next. */
  readonly groupInStep?: number;
  readonly groupOutStep?: number;
  readonly groupWeightStep?: number;
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
  /**
   * The output column, for a pixel of the straight-line code of the columns
   * crossing the left or right edge; undefined in the interior loop, whose
   * windows lie inside the image's columns.
   */
  readonly column?: number;
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
  /**
   * At each output row; `pushRowValid(ky)` pushes an i32 (1 if input row `ky`
   * is inside), `outY` is the i32 local holding the output row within its image.
   */
  beginRow?(f: FunctionBuilder, pushRowValid: (ky: number) => void, outY: number): void;
  /** One output pixel of one block. */
  pixel(f: FunctionBuilder, variant: V, access: PixelAccess): void;
}

/** Output columns whose window crosses the left or right edge, and the interior between. */
interface ColumnSplit {
  /** First output column whose window lies wholly inside the image's columns. */
  readonly firstInterior: number;
  /** One past the last such column (equal to `firstInterior` when there is none). */
  readonly interiorEnd: number;
}

function columnSplit(g: WindowGeometry): ColumnSplit {
  const [, kw] = g.kernel;
  const [, sw] = g.stride;
  const [, dw] = g.dilation;
  const firstInterior = Math.min(Math.ceil(g.padLeft / sw), g.outWidth);
  const lastInterior = Math.min(
    Math.floor((g.width - 1 - (kw - 1) * dw + g.padLeft) / sw) + 1,
    g.outWidth,
  );
  return { firstInterior, interiorEnd: Math.max(firstInterior, lastInterior) };
}

/** Border columns up to which {@link emitWindowWalk} gives each its own straight-line code. */
export const MAX_BORDER_COLUMNS = 16;
/** Kernel taps (rows × columns) up to which {@link emitWindowWalk} unrolls them. */
export const MAX_UNROLLED_TAPS = 64;
/**
 * Bytes of one input row up to which {@link emitWindowWalk} is used: each
 * module of it owns a pad row that large (a few KiB for the networks' layers).
 */
export const MAX_PAD_ROW_BYTES = 2 ** 20;

/**
 * Taps {@link emitWindowWalk} would emit as straight-line code per block run
 * — those of every border column plus `unroll` (and a remainder's) interior
 * pixels — or `Infinity` when the kernel has more than
 * {@link MAX_UNROLLED_TAPS} taps, more than {@link MAX_BORDER_COLUMNS}
 * output columns cross an edge, or an input row (the pad row's size) has
 * more than {@link MAX_PAD_ROW_BYTES}. A generator multiplies it by its code
 * per tap to decide between the unrolled walker and {@link emitWindowLoops}.
 * Computed in time bounded by those limits, whatever the sizes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unrolledTaps } from "./window.ts";
 * const base = {
 *   height: 9, width: 9, inStride: 4, outHeight: 9, outWidth: 9, outStride: 4,
 *   kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padTop: 1, padLeft: 1,
 * } as const;
 * // Two border columns of 2 valid columns × 3 rows, then 4 + 3 interior pixels of 9 taps.
 * assert(unrolledTaps(base, 4) === 2 * 6 + 7 * 9);
 * assert(unrolledTaps({ ...base, padLeft: 4096, outWidth: 8200 }, 4) === Infinity);
 * ```
 */
export function unrolledTaps(g: WindowGeometry, unroll: number): number {
  const [kh, kw] = g.kernel;
  if (kh * kw > MAX_UNROLLED_TAPS || 4 * g.width * g.inStride > MAX_PAD_ROW_BYTES) return Infinity;
  const { firstInterior, interiorEnd } = columnSplit(g);
  const border = firstInterior + g.outWidth - interiorEnd;
  if (border > MAX_BORDER_COLUMNS) return Infinity;
  let taps = 0;
  const countColumn = (ox: number) => {
    for (let kx = 0; kx < kw; kx++) {
      const ix = ox * g.stride[1] - g.padLeft + kx * g.dilation[1];
      if (ix >= 0 && ix < g.width) taps += kh;
    }
  };
  for (let ox = 0; ox < firstInterior; ox++) countColumn(ox);
  for (let ox = interiorEnd; ox < g.outWidth; ox++) countColumn(ox);
  const interior = interiorEnd - firstInterior;
  const unrolled = Math.min(interior, unroll) + (interior >= unroll ? interior % unroll : 0);
  return taps + unrolled * kh * kw;
}

/**
 * Emits the walker into `f` (a kernel entry; `start`/`end` are output rows over
 * batch × height). `padRow` is the byte offset of a scratch row of at least
 * `width × inStride` floats (+ 16 bytes) that out-of-image rows read. Its
 * code grows with {@link unrolledTaps}: generators take it only while that
 * is small, and {@link emitWindowLoops} otherwise.
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
  const groupIn = f.local("i32");
  const groupOut = f.local("i32");
  const groupWeights = f.local("i32");
  const groupsLeft = f.local("i32");
  const rowPointers = Array.from({ length: kh }, () => f.local("i32"));
  const rowValid = Array.from({ length: kh }, () => f.local("i32"));
  const blockBases = Array.from({ length: kh }, () => f.local("i32"));
  const running = Array.from({ length: kh }, () => f.local("i32"));

  const { firstInterior, interiorEnd } = columnSplit(g);
  const leftColumns = Array.from({ length: firstInterior }, (_, ox) => ox);
  const rightColumns = Array.from({ length: g.outWidth - interiorEnd }, (_, i) => interiorEnd + i);

  f.localGet(START).localSet(row);
  f.block().loop();
  f.localGet(row).localGet(END).i32GeU().brIf(1);
  f.localGet(row).i32Const(g.outHeight).i32DivU().localSet(batch);
  f.localGet(row).localGet(batch).i32Const(g.outHeight).i32Mul().i32Sub().localSet(oy);
  for (let ky = 0; ky < kh; ky++) {
    f.localGet(oy).i32Const(sh).i32Mul().i32Const(ky * dh - g.padTop).i32Add().localSet(iy);
    f.localGet(iy).i32Const(g.height).i32LtU().localSet(rowValid[ky]);
    // in0 + ((batch·H + iy)·W)·pixelBytes, or the pad row (the product wraps harmlessly when
    // iy is outside the image: select discards it).
    f.localGet(IN0)
      .localGet(batch).i32Const(g.height).i32Mul().localGet(iy).i32Add()
      .i32Const(g.width * inPixel).i32Mul().i32Add()
      .i32Const(padRow)
      .localGet(rowValid[ky]).select().localSet(rowPointers[ky]);
  }
  strategy.beginRow?.(f, (ky) => f.localGet(rowValid[ky]), oy);
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
      column: ox,
      pixels: 1,
      pixelInStep: sw * inPixel,
      pixelOutStep: outPixel,
      outBase,
      outOffset: ox * outPixel,
      weights: weightPointer,
    });
  };

  const emitBlocks = (run: BlockRun<V>) => {
    f.localGet(groupIn).localSet(inOffset);
    f.localGet(groupOut).localSet(outOffset);
    f.localGet(groupWeights).localSet(weightPointer);
    f.i32Const(run.count).localSet(blocks);
    f.loop();
    for (let ky = 0; ky < kh; ky++) {
      f.localGet(rowPointers[ky]).localGet(inOffset).i32Add().localSet(blockBases[ky]);
    }
    f.localGet(outRow).localGet(outOffset).i32Add().localSet(outBase);
    for (const ox of leftColumns) pixelAt(run.variant, ox);
    if (interiorEnd > firstInterior) {
      const startColumn = firstInterior * sw - g.padLeft;
      for (let ky = 0; ky < kh; ky++) {
        f.localGet(blockBases[ky]).i32Const(startColumn * inPixel).i32Add().localSet(running[ky]);
      }
      f.localGet(outBase).i32Const(firstInterior * outPixel).i32Add().localSet(outRunning);
      const unroll = strategy.unroll ?? 1;
      const interior = interiorEnd - firstInterior;
      // `advance`: more interior pixels follow, so the pointers move on (a step past the last
      // pixel could leave 32 bits on a huge stride, and nothing would read it).
      const interiorPixels = (pixels: number, advance: boolean) => {
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
        if (!advance) return;
        for (let ky = 0; ky < kh; ky++) addTo(f, running[ky], pixels * sw * inPixel);
        addTo(f, outRunning, pixels * outPixel);
      };
      if (interior >= unroll) {
        f.i32Const(Math.floor(interior / unroll)).localSet(columns);
        f.loop();
        interiorPixels(unroll, interior > unroll);
        f.localGet(columns).i32Const(1).i32Sub().localTee(columns).brIf(0);
        f.end();
      }
      if (interior % unroll > 0) interiorPixels(interior % unroll, false);
    }
    for (const ox of rightColumns) pixelAt(run.variant, ox);
    addTo(f, inOffset, run.inStep);
    addTo(f, outOffset, run.outStep);
    addTo(f, weightPointer, run.weightStep);
    f.localGet(blocks).i32Const(1).i32Sub().localTee(blocks).brIf(0);
    f.end();
  };

  for (const run of runs) {
    if (run.count === 0) continue;
    f.i32Const(run.inStart).localSet(groupIn);
    f.i32Const(run.outStart).localSet(groupOut);
    f.i32Const(weights + run.weightStart).localSet(groupWeights);
    const groups = run.groups ?? 1;
    if (groups === 1) {
      emitBlocks(run);
      continue;
    }
    f.i32Const(groups).localSet(groupsLeft);
    f.loop();
    emitBlocks(run);
    addTo(f, groupIn, run.groupInStep ?? 0);
    addTo(f, groupOut, run.groupOutStep ?? 0);
    addTo(f, groupWeights, run.groupWeightStep ?? 0);
    f.localGet(groupsLeft).i32Const(1).i32Sub().localTee(groupsLeft).brIf(0);
    f.end();
  }
  addTo(f, row, 1);
  f.br(0);
  f.end().end();
}

/** Where one output pixel's block reads and writes, in {@link emitWindowLoops}. */
export interface LoopAccess {
  /** i32 local: the block's input bytes at the window's first in-image tap. */
  readonly input: number;
  /** i32 local: the block's output bytes. */
  readonly output: number;
  /** i32 local: the block's weights (its run's `weightStart`, stepped per block and group). */
  readonly weights: number;
  /** i32 locals: in-image kernel rows and columns of the window (0 for a window in padding). */
  readonly rows: number;
  readonly columns: number;
  /** i32 locals: the window's first input row and column (negative in the leading padding). */
  readonly top: number;
  readonly left: number;
  /**
   * Emits `body` once, inside loops over the window's in-image taps (row by
   * row, left to right); nothing runs for a window with none. `body` gets an
   * i32 local pointing at the tap's input (`input` moved to the tap) and one
   * pointing at the tap's weights: `weights + weightOffset + tap·tapWeightBytes`
   * for tap `ky·kw + kx`.
   */
  forEachTap(
    weightOffset: number,
    tapWeightBytes: number,
    body: (input: number, weights: number) => void,
  ): void;
}

/** What an operator does for one output pixel and one channel block in {@link emitWindowLoops}. */
export interface LoopStrategy<V> {
  block(f: FunctionBuilder, variant: V, access: LoopAccess): void;
}

/**
 * Emits a window walker made of runtime loops only: over output rows
 * (`start`/`end` of batch × height, as {@link emitWindowWalk}), output
 * columns, the block runs, and the window's taps, whose ranges are clipped
 * to the image for every pixel (two divisions per row and per pixel). Its
 * code has a fixed size whatever the kernel, stride, dilation, padding and
 * image size; it reads no pad row.
 *
 * All offsets stay within 32 bits: a tap's pointer is only formed for an
 * in-image tap, and the byte steps between kernel rows (`dh·W·C·4`) and
 * columns (`dw·C·4`) are only emitted when a second row (column) can be in
 * the image, which bounds them by the input's size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assembleModule } from "../assembler.ts";
 * import { kernelFunction } from "./emit.ts";
 * import { emitWindowLoops } from "./window.ts";
 * // A 1×4096 "pool" that stores the window's last in-image value (one channel block).
 * const f = kernelFunction();
 * const geometry = {
 *   height: 4, width: 4, inStride: 4, outHeight: 4, outWidth: 4, outStride: 4,
 *   kernel: [1, 4096], stride: [1, 1], dilation: [1, 1], padTop: 0, padLeft: 2048,
 * } as const;
 * const run = { count: 1, inStart: 0, inStep: 0, outStart: 0, outStep: 0, weightStart: 0, weightStep: 0, variant: null };
 * emitWindowLoops(f, geometry, 0, [run], {
 *   block: (f, _variant, access) =>
 *     access.forEachTap(0, 0, (input) => {
 *       f.localGet(access.output).localGet(input).v128Load().v128Store();
 *     }),
 * });
 * assert(WebAssembly.validate(assembleModule([f], { initialPages: 1, shared: false })));
 * ```
 */
export function emitWindowLoops<V>(
  f: FunctionBuilder,
  g: WindowGeometry,
  weights: number,
  runs: readonly BlockRun<V>[],
  strategy: LoopStrategy<V>,
): void {
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  const inPixel = g.inStride * 4;
  const outPixel = g.outStride * 4;
  const rowBytes = g.width * inPixel;
  const row = f.local("i32");
  const batch = f.local("i32");
  const iy = f.local("i32");
  const ix = f.local("i32");
  const ox = f.local("i32");
  const kyStart = f.local("i32");
  const kxStart = f.local("i32");
  const rows = f.local("i32");
  const columns = f.local("i32");
  const rowInput = f.local("i32");
  const pixelInput = f.local("i32");
  const pixelOutput = f.local("i32");
  const firstTap = f.local("i32");
  const input = f.local("i32");
  const output = f.local("i32");
  const weightPointer = f.local("i32");
  const blocks = f.local("i32");
  const groupIn = f.local("i32");
  const groupOut = f.local("i32");
  const groupWeights = f.local("i32");
  const groupsLeft = f.local("i32");
  const tapRowInput = f.local("i32");
  const tapRowWeights = f.local("i32");
  const tapInput = f.local("i32");
  const tapWeights = f.local("i32");
  const rowsLeft = f.local("i32");
  const columnsLeft = f.local("i32");

  /**
   * For window start `first` (local, may be negative) on an axis of `size` with kernel `k` and
   * dilation `d`: sets `start` to the first in-image tap and `count` to the in-image taps (≥ 0).
   */
  const clip = (
    first: number,
    size: number,
    k: number,
    d: number,
    start: number,
    count: number,
  ) => {
    // start = first < 0 ? ceil(−first / d) : 0 (both sides non-negative, so unsigned division).
    f.i32Const(d - 1).localGet(first).i32Sub().i32Const(d).i32DivU()
      .i32Const(0)
      .localGet(first).i32Const(0).i32LtS().select().localSet(start);
    // end = size − 1 − first < 0 ? 0 : min(k, (size − 1 − first) / d + 1); count = max(end − start, 0).
    f.i32Const(size - 1).localGet(first).i32Sub().localSet(count);
    f.localGet(count).i32Const(d).i32DivU().i32Const(1).i32Add().localTee(count)
      .i32Const(k).localGet(count).i32Const(k).i32LtU().select()
      .i32Const(0)
      .i32Const(size - 1).localGet(first).i32Sub().i32Const(0).i32GeS().select()
      .localGet(start).i32Sub().localTee(count)
      .i32Const(0)
      .localGet(count).i32Const(0).i32GtS().select().localSet(count);
  };

  const forEachTap = (
    weightOffset: number,
    tapWeightBytes: number,
    body: (input: number, weights: number) => void,
  ) => {
    // A second in-image row (column) exists only when the dilation is below the height (width);
    // otherwise the step is never taken, and leaving it 0 keeps it within 32 bits.
    const rowStep = kh > 1 && dh < g.height ? dh * rowBytes : 0;
    const columnStep = kw > 1 && dw < g.width ? dw * inPixel : 0;
    f.localGet(rows).localGet(columns).i32Mul().if();
    f.localGet(input).localSet(tapRowInput);
    f.localGet(weightPointer).i32Const(weightOffset).i32Add()
      .localGet(firstTap).i32Const(tapWeightBytes).i32Mul().i32Add().localSet(tapRowWeights);
    f.localGet(rows).localSet(rowsLeft);
    f.loop();
    f.localGet(tapRowInput).localSet(tapInput);
    f.localGet(tapRowWeights).localSet(tapWeights);
    f.localGet(columns).localSet(columnsLeft);
    f.loop();
    body(tapInput, tapWeights);
    addTo(f, tapInput, columnStep);
    addTo(f, tapWeights, tapWeightBytes);
    f.localGet(columnsLeft).i32Const(1).i32Sub().localTee(columnsLeft).brIf(0);
    f.end();
    addTo(f, tapRowInput, rowStep);
    addTo(f, tapRowWeights, kw * tapWeightBytes);
    f.localGet(rowsLeft).i32Const(1).i32Sub().localTee(rowsLeft).brIf(0);
    f.end();
    f.end();
  };

  const emitBlocks = (run: BlockRun<V>) => {
    f.localGet(groupIn).localSet(input);
    f.localGet(groupOut).localSet(output);
    f.localGet(groupWeights).localSet(weightPointer);
    f.i32Const(run.count).localSet(blocks);
    f.loop();
    strategy.block(f, run.variant, {
      input,
      output,
      weights: weightPointer,
      rows,
      columns,
      top: iy,
      left: ix,
      forEachTap,
    });
    addTo(f, input, run.inStep);
    addTo(f, output, run.outStep);
    addTo(f, weightPointer, run.weightStep);
    f.localGet(blocks).i32Const(1).i32Sub().localTee(blocks).brIf(0);
    f.end();
  };

  f.localGet(START).localSet(row);
  f.block().loop();
  f.localGet(row).localGet(END).i32GeU().brIf(1);
  f.localGet(row).i32Const(g.outHeight).i32DivU().localSet(batch);
  // iy = oy·sh − padTop, the window's first input row.
  f.localGet(row).localGet(batch).i32Const(g.outHeight).i32Mul().i32Sub()
    .i32Const(sh).i32Mul().i32Const(g.padTop).i32Sub().localSet(iy);
  clip(iy, g.height, kh, dh, kyStart, rows);
  // The input row of the first in-image tap (only read when rows > 0, where it is in the image).
  f.localGet(IN0)
    .localGet(batch).i32Const(g.height).i32Mul()
    .localGet(iy).i32Add().localGet(kyStart).i32Const(dh).i32Mul().i32Add()
    .i32Const(rowBytes).i32Mul().i32Add().localSet(rowInput);
  f.localGet(OUT).localGet(row).i32Const(g.outWidth * outPixel).i32Mul().i32Add()
    .localSet(pixelOutput);
  f.i32Const(-g.padLeft).localSet(ix);
  f.i32Const(g.outWidth).localSet(ox);
  f.loop();
  clip(ix, g.width, kw, dw, kxStart, columns);
  f.localGet(rowInput)
    .localGet(ix).localGet(kxStart).i32Const(dw).i32Mul().i32Add().i32Const(inPixel).i32Mul()
    .i32Add().localSet(pixelInput);
  f.localGet(kyStart).i32Const(kw).i32Mul().localGet(kxStart).i32Add().localSet(firstTap);
  for (const run of runs) {
    if (run.count === 0) continue;
    f.localGet(pixelInput).i32Const(run.inStart).i32Add().localSet(groupIn);
    f.localGet(pixelOutput).i32Const(run.outStart).i32Add().localSet(groupOut);
    f.i32Const(weights + run.weightStart).localSet(groupWeights);
    const groups = run.groups ?? 1;
    if (groups === 1) {
      emitBlocks(run);
      continue;
    }
    f.i32Const(groups).localSet(groupsLeft);
    f.loop();
    emitBlocks(run);
    addTo(f, groupIn, run.groupInStep ?? 0);
    addTo(f, groupOut, run.groupOutStep ?? 0);
    addTo(f, groupWeights, run.groupWeightStep ?? 0);
    f.localGet(groupsLeft).i32Const(1).i32Sub().localTee(groupsLeft).brIf(0);
    f.end();
  }
  addTo(f, pixelOutput, outPixel);
  addTo(f, ix, sw);
  f.localGet(ox).i32Const(1).i32Sub().localTee(ox).brIf(0);
  f.end();
  addTo(f, row, 1);
  f.br(0);
  f.end().end();
}
