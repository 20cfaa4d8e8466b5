/**
 * The pooling generator shared by the max and average pooling variants,
 * f32x4 over blocks of 4 channels, on the shared window walker. Out-of-image rows read a pad row of −∞ (max) or zeros
 * (average); out-of-image columns are skipped at generation time. Average
 * pooling without `countIncludePad` divides by the valid rows (counted per
 * output row) times the valid columns (a constant per column).
 *
 * @module
 */

import { type DescriptorOf, shapeSize } from "@mobileops/core";
import { assembleModule, type MemoryImport } from "../assembler.ts";
import { shapeKernel, type WasmContext, type WasmKernel } from "../kernel.ts";
import { kernelFunction, storeLanes } from "./emit.ts";
import { type BlockRun, emitWindowWalk, type WindowGeometry, windowGeometry } from "./window.ts";

/** `average` divides by the in-image taps only, `averageIncludingPad` by all kh·kw. */
export type PoolMode = "max" | "average" | "averageIncludingPad";

/** What {@link generatePool} bakes into the module. */
export interface PoolSpec {
  /** Window and tensor sizes; the backend sets `inStride` = `outStride` = `channels`. */
  readonly geometry: WindowGeometry;
  /** Channels per pixel, in blocks of 4; the 1–3 left over store only their lanes. */
  readonly channels: number;
  /** How the taps combine. */
  readonly mode: PoolMode;
  /** Byte offset of a pad row (−∞ for max, 0 for average) of `width × channels` floats. */
  readonly padRow: number;
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
 *   channels: 3, mode: "max", padRow: 1024, memory: { initialPages: 1, shared: false },
 * });
 * assert(WebAssembly.validate(bytes));
 * ```
 */
export function generatePool(spec: PoolSpec): Uint8Array<ArrayBuffer> {
  const { geometry, channels, mode } = spec;
  const [kh, kw] = geometry.kernel;
  const f = kernelFunction();
  const acc = f.local("v128");
  const validRows = f.local("f32");
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
  emitWindowWalk(f, geometry, spec.padRow, 0, runs, {
    beginRow(f, pushRowValid) {
      if (mode !== "average") return;
      f.i32Const(0);
      for (let ky = 0; ky < kh; ky++) {
        pushRowValid(ky);
        f.i32Add();
      }
      f.f32ConvertI32U().localSet(validRows);
    },
    pixel(f, lanes, access) {
      let first = true;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          if (!access.valid(ky, kx)) continue;
          f.localGet(access.tapBase(ky)).v128Load(access.tapOffset(ky, kx));
          if (!first) {
            if (mode === "max") f.f32x4Max();
            else f.f32x4Add();
          }
          first = false;
        }
      }
      if (first) f.f32x4Const([-Infinity, -Infinity, -Infinity, -Infinity]);
      if (mode === "average") {
        f.localGet(validRows).f32Const(access.validColumns).f32Mul().f32x4Splat().f32x4Div();
      } else if (mode === "averageIncludingPad") {
        f.f32Const(kh * kw).f32x4Splat().f32x4Div();
      }
      f.localSet(acc);
      storeLanes(f, access.outBase, access.outOffset, acc, lanes);
    },
  });
  return assembleModule([f], spec.memory);
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
    const padRow = context.padRow(g.width * channels, mode === "max" ? -Infinity : 0, blocks);
    const bytes = generatePool({
      geometry: g,
      channels,
      mode,
      padRow,
      memory: context.memoryImport,
    });
    const rows = geometry.outputShape[0] * g.outHeight;
    return context.compile(bytes, rows, 1, shapeSize(geometry.outputShape) * 4);
  });
}
