/**
 * The GEMM generator and weight packer shared by the 1×1 convolution
 * (pointwise and group pointwise) and fully connected variants, and the
 * kernel both prepare: one register-blocked GEMM over NHWC,
 * `out[p][g·N + n] = bias[n] + Σₖ in[p][g·K + k] · w[g][k][n]`.
 *
 * The micro-kernel computes a tile of `mr` pixels × `nr` vectors (4 output
 * channels each) with its `mr·nr` accumulators in registers over all of K:
 * per k, `nr` weight loads, `mr` input splats and `mr·nr` multiply-adds.
 * Weights are packed at prepare into panels `[bias][k][nr·4 lanes]`, read
 * front to back. Pixels are walked in chunks so a chunk's rows of the input
 * stay in L2 while every weight panel (a few KiB, L1) passes over it.
 *
 * @module
 */

import { type Activation, shapeSize } from "@mobileops/core";
import { assembleModule, type MemoryImport } from "../assembler.ts";
import { shapeKernel, type WasmContext, type WasmKernel } from "../kernel.ts";
import {
  activationLocals,
  applyActivation,
  type ArithmeticOptions,
  END,
  IN0,
  kernelFunction,
  multiplyAccumulate,
  OUT,
  START,
  storeLanes,
} from "./emit.ts";
import { type OutputPanel, packOutputPanels } from "./pack.ts";

/** A GEMM's sizes, in elements. */
export interface GemmShape {
  /** Independent k × n GEMMs: group g reads channels from `g·k`, writes from `g·n` (unshuffled). */
  readonly groups: number;
  /** Reduction length per group (input channels per group). */
  readonly k: number;
  /** Outputs per group. */
  readonly n: number;
  /** Floats per input pixel (row of A). */
  readonly inStride: number;
  /** Floats per output pixel. */
  readonly outStride: number;
}

/** Register tile: `mr` pixels × `nr` vectors of 4 outputs. */
export interface GemmTile {
  /** Pixels (rows of A) per tile; leftover pixels (fewer than `mr`) form one shorter tile. */
  readonly mr: number;
  /** Vectors of 4 outputs per tile: the panel width, which the weights must be packed with. */
  readonly nr: number;
}

/** The default tile: 6 pixels × 8 outputs, 12 accumulators (of x64's 16 vector registers). */
export const DEFAULT_GEMM_TILE: GemmTile = { mr: 6, nr: 2 };

function panels(n: number, nr: number): OutputPanel[] {
  const result: OutputPanel[] = [];
  for (let o = 0; o < n; o += 4 * nr) {
    const lanes = Math.min(4 * nr, n - o);
    const vectors = Math.ceil(lanes / 4);
    result.push({ vectors, valid: lanes });
  }
  return result;
}

/**
 * Packs `[groups·n][k]` weights (an OHWI 1×1 filter, or a fully connected
 * `[out][in]` matrix) and bias into panels of `nr·4` outputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packGemmWeights } from "./gemm.ts";
 * const w = new Float32Array([1, 2, 3, 4, 5, 6]); // 3 outputs × 2 inputs
 * const packed = packGemmWeights(w, undefined, { groups: 1, k: 2, n: 3, inStride: 2, outStride: 3 }, 1);
 * assert(packed.join() === "0,0,0,0,1,3,5,0,2,4,6,0");
 * ```
 */
export function packGemmWeights(
  weights: Float32Array,
  bias: Float32Array | undefined,
  shape: GemmShape,
  nr: number,
): Float32Array {
  return packOutputPanels(weights, bias, shape.groups, shape.k, panels(shape.n, nr));
}

/** What {@link generateGemm} bakes into the module. */
export interface GemmSpec extends ArithmeticOptions {
  /** Sizes and pixel strides; must be the shape the weights were packed for. */
  readonly shape: GemmShape;
  /** Register tile; its `nr` must be the one the weights were packed with. */
  readonly tile: GemmTile;
  /** Fused into the stores: each value clamped to the activation's bounds (NaN stays NaN). */
  readonly activation: Activation;
  /** Byte offset of the {@link packGemmWeights} output in linear memory. */
  readonly weights: number;
  /** Declares the `env.memory` import (pages, shared) that the module is instantiated with. */
  readonly memory: MemoryImport;
  /**
   * Split the work by output panels instead of pixels: `run`'s range is then
   * panels (`groups` must be 1) and every call covers all `pixels` pixels.
   * For few pixels and many weights (7×7 layers, fully connected), so that
   * each thread streams only its share of the weights, once.
   */
  readonly panelSplit?: { readonly pixels: number };
  /**
   * Store the outputs channel-shuffled with `groups` groups (output `g·n + j`
   * lands at channel `j·groups + g`), i.e. a following `channelShuffle` folded
   * into this layer's stores, as lane stores. Not used by the backend, which
   * keeps the shuffle a separate blocked copy: `tune_kernels.ts` measures the
   * two against each other (docs/backends.md has the numbers).
   */
  readonly shuffledOutput?: boolean;
}

/** Reduction steps unrolled per loop trip. */
const K_UNROLL = 4;
/** Target bytes of input rows walked per chunk (kept in L2). */
const CHUNK_BYTES = 96 * 1024;
/** Input bytes up to which a GEMM splits by output panels (all pixels' rows stay in L2). */
const PANEL_SPLIT_BYTES = 256 * 1024;

/**
 * Emits the GEMM module; `run(in, _, out, start, end)` computes pixels
 * `[start, end)` (with `panelSplit`: output panels `[start, end)`). Every output gets the same instruction sequence whatever
 * tile it falls in, so any split of the pixels gives bit-identical results.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_GEMM_TILE, generateGemm } from "./gemm.ts";
 * const bytes = generateGemm({
 *   shape: { groups: 1, k: 16, n: 24, inStride: 16, outStride: 24 },
 *   tile: DEFAULT_GEMM_TILE, activation: "relu", weights: 64, fused: false,
 *   memory: { initialPages: 1, shared: false },
 * });
 * assert(WebAssembly.validate(bytes));
 * ```
 */
export function generateGemm(spec: GemmSpec): Uint8Array<ArrayBuffer> {
  const { shape, tile } = spec;
  const shuffled = spec.shuffledOutput === true;
  if (shuffled && (spec.panelSplit !== undefined || shape.outStride !== shape.groups * shape.n)) {
    throw new RangeError("shuffledOutput needs a pixel split and outStride = groups·n");
  }
  /** Bytes between an output and the next one of its group. */
  const outputStep = shuffled ? 4 * shape.groups : 4;
  const f = kernelFunction();
  const bounds = activationLocals(f, spec.activation);
  const acc = Array.from({ length: tile.mr * tile.nr }, () => f.local("v128"));
  const w = Array.from({ length: tile.nr }, () => f.local("v128"));
  const a = f.local("v128");
  const pixel = f.local("i32");
  const chunkStart = f.local("i32");
  const chunkEnd = f.local("i32");
  const tilesEnd = f.local("i32");
  const groupIn = f.local("i32");
  const groupOut = f.local("i32");
  const panelWeights = f.local("i32");
  const panelOut = f.local("i32");
  const tileIn = f.local("i32");
  const tileOut = f.local("i32");
  const weightPointer = f.local("i32");
  const inputPointer = f.local("i32");
  const counter = f.local("i32");
  const groups = f.local("i32");
  const panelCounter = f.local("i32");
  const inPixel = 4 * shape.inStride;
  const outPixel = 4 * shape.outStride;
  const groupPanels = panels(shape.n, tile.nr);
  const fullPanels = groupPanels.filter((p) => p.valid === 4 * tile.nr).length;
  const tail = groupPanels[fullPanels];
  const chunkPixels = Math.max(tile.mr, Math.floor(CHUNK_BYTES / (inPixel * tile.mr)) * tile.mr);

  /** Accumulator of pixel `i`, vector `j`. */
  const accumulator = (panel: OutputPanel, i: number, j: number) => acc[i * panel.vectors + j];

  const reductionStep = (m: number, panel: OutputPanel, kk: number) => {
    for (let j = 0; j < panel.vectors; j++) {
      f.localGet(weightPointer).v128Load(16 * panel.vectors * (1 + kk) + 16 * j).localSet(w[j]);
    }
    for (let i = 0; i < m; i++) {
      f.localGet(inputPointer).v128Load32Splat(i * inPixel + 4 * kk).localSet(a);
      for (let j = 0; j < panel.vectors; j++) {
        multiplyAccumulate(
          f,
          spec.fused,
          accumulator(panel, i, j),
          () => f.localGet(a),
          () => f.localGet(w[j]),
        );
      }
    }
  };

  /** One `m`-pixel tile of one panel: bias, all of K, epilogue, store. */
  const emitMicroKernel = (m: number, panel: OutputPanel) => {
    f.localGet(panelWeights).localSet(weightPointer);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < panel.vectors; j++) {
        f.localGet(weightPointer).v128Load(16 * j).localSet(accumulator(panel, i, j));
      }
    }
    f.localGet(tileIn).localSet(inputPointer);
    const trips = Math.floor(shape.k / K_UNROLL);
    if (trips > 0) {
      f.i32Const(trips).localSet(counter);
      f.loop();
      for (let kk = 0; kk < K_UNROLL; kk++) reductionStep(m, panel, kk);
      f.localGet(inputPointer).i32Const(4 * K_UNROLL).i32Add().localSet(inputPointer);
      f.localGet(weightPointer).i32Const(16 * panel.vectors * K_UNROLL).i32Add()
        .localSet(weightPointer);
      f.localGet(counter).i32Const(1).i32Sub().localTee(counter).brIf(0);
      f.end();
    }
    for (let kk = 0; kk < shape.k % K_UNROLL; kk++) reductionStep(m, panel, kk);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < panel.vectors; j++) {
        const value = accumulator(panel, i, j);
        applyActivation(f, bounds, value);
        storeLanes(
          f,
          tileOut,
          i * outPixel + 4 * outputStep * j,
          value,
          Math.max(0, Math.min(4, panel.valid - 4 * j)),
          outputStep,
        );
      }
    }
  };

  /**
   * One panel over the tiles of `[chunkStart, chunkEnd)`, `m` pixels per tile.
   * A narrower tail panel takes taller tiles while the chunk allows, so it
   * still has about `mr·nr` independent accumulator chains (fewer would leave
   * the FMA units waiting on latency).
   */
  const emitPanelOverChunk = (m: number, panel: OutputPanel) => {
    const tall = m === tile.mr && panel.vectors < tile.nr
      ? Math.floor(tile.nr / panel.vectors) * m
      : m;
    f.localGet(groupIn).localSet(tileIn);
    f.localGet(panelOut).localSet(tileOut);
    f.localGet(chunkStart).localSet(pixel);
    const emitTiles = (height: number) => {
      emitMicroKernel(height, panel);
      f.localGet(tileIn).i32Const(height * inPixel).i32Add().localSet(tileIn);
      f.localGet(tileOut).i32Const(height * outPixel).i32Add().localSet(tileOut);
      f.localGet(pixel).i32Const(height).i32Add().localSet(pixel);
    };
    // while (chunkEnd − pixel ≥ tall) a tall tile; then m-pixel tiles for the rest.
    f.block().loop();
    f.localGet(chunkEnd).localGet(pixel).i32Sub().i32Const(tall).i32LtU().brIf(1);
    emitTiles(tall);
    f.br(0);
    f.end().end();
    if (tall !== m) {
      f.block().loop();
      f.localGet(pixel).localGet(chunkEnd).i32GeU().brIf(1);
      emitTiles(m);
      f.br(0);
      f.end().end();
    }
    f.localGet(panelWeights).i32Const(16 * panel.vectors * (1 + shape.k)).i32Add()
      .localSet(panelWeights);
    f.localGet(panelOut).i32Const(4 * outputStep * panel.vectors).i32Add().localSet(panelOut);
  };

  /** Every group and panel over the chunk. */
  const emitChunk = (m: number) => {
    f.localGet(IN0).localGet(chunkStart).i32Const(inPixel).i32Mul().i32Add().localSet(groupIn);
    f.localGet(OUT).localGet(chunkStart).i32Const(outPixel).i32Mul().i32Add().localSet(groupOut);
    f.i32Const(spec.weights).localSet(panelWeights);
    f.i32Const(shape.groups).localSet(groups);
    f.loop();
    f.localGet(groupOut).localSet(panelOut);
    if (fullPanels > 0) {
      f.i32Const(fullPanels).localSet(panelCounter);
      f.loop();
      emitPanelOverChunk(m, { vectors: tile.nr, valid: 4 * tile.nr });
      f.localGet(panelCounter).i32Const(1).i32Sub().localTee(panelCounter).brIf(0);
      f.end();
    }
    if (tail !== undefined) emitPanelOverChunk(m, tail);
    f.localGet(groupIn).i32Const(4 * shape.k).i32Add().localSet(groupIn);
    f.localGet(groupOut).i32Const(shuffled ? 4 : 4 * shape.n).i32Add().localSet(groupOut);
    f.localGet(groups).i32Const(1).i32Sub().localTee(groups).brIf(0);
    f.end();
  };

  if (spec.panelSplit !== undefined) {
    emitPanelSplit(spec.panelSplit.pixels);
    return assembleModule([f], spec.memory);
  }

  // Whole tiles, a chunk at a time: chunkEnd = min(start + chunk, last whole-tile end).
  f.localGet(START).localSet(chunkStart);
  f.localGet(END).localGet(END).localGet(START).i32Sub().i32Const(tile.mr).i32RemU().i32Sub()
    .localSet(tilesEnd);
  f.block().loop();
  f.localGet(chunkStart).localGet(tilesEnd).i32GeU().brIf(1);
  f.localGet(chunkStart).i32Const(chunkPixels).i32Add().localTee(chunkEnd)
    .localGet(tilesEnd).localGet(chunkEnd).localGet(tilesEnd).i32LtU().select().localSet(chunkEnd);
  emitChunk(tile.mr);
  f.localGet(chunkEnd).localSet(chunkStart);
  f.br(0);
  f.end().end();

  // The leftover pixels (fewer than mr) of the range, as one tile.
  for (let m = tile.mr - 1; m >= 1; m--) {
    f.localGet(END).localGet(tilesEnd).i32Sub().i32Const(m).i32Eq().if();
    f.localGet(tilesEnd).localSet(chunkStart);
    f.localGet(END).localSet(chunkEnd);
    emitChunk(m);
    f.end();
  }

  /** Panels `[start, end)` (full panels, then the tail) over all `pixels` pixels each. */
  function emitPanelSplit(pixels: number) {
    const whole = pixels - pixels % tile.mr;
    const fullBytes = 16 * tile.nr * (1 + shape.k);
    /** OutputPanel number `panelCounter` over every pixel. */
    const emitPanel = (panel: OutputPanel) => {
      const place = () => {
        f.i32Const(spec.weights).localGet(panelCounter).i32Const(fullBytes).i32Mul().i32Add()
          .localSet(panelWeights);
        f.localGet(OUT).localGet(panelCounter).i32Const(16 * tile.nr).i32Mul().i32Add()
          .localSet(panelOut);
        f.localGet(IN0).localSet(groupIn);
      };
      if (whole > 0) {
        place();
        f.i32Const(0).localSet(chunkStart);
        f.i32Const(whole).localSet(chunkEnd);
        emitPanelOverChunk(tile.mr, panel);
      }
      if (pixels > whole) {
        place();
        f.localGet(groupIn).i32Const(whole * inPixel).i32Add().localSet(groupIn);
        f.localGet(panelOut).i32Const(whole * outPixel).i32Add().localSet(panelOut);
        f.i32Const(whole).localSet(chunkStart);
        f.i32Const(pixels).localSet(chunkEnd);
        emitPanelOverChunk(pixels - whole, panel);
      }
    };
    f.localGet(START).localSet(panelCounter);
    f.block().loop();
    f.localGet(panelCounter).localGet(END).i32GeU().brIf(1);
    f.localGet(panelCounter).i32Const(fullPanels).i32GeU().brIf(1);
    emitPanel({ vectors: tile.nr, valid: 4 * tile.nr });
    f.localGet(panelCounter).i32Const(1).i32Add().localSet(panelCounter);
    f.br(0);
    f.end().end();
    if (tail !== undefined) {
      f.localGet(panelCounter).i32Const(fullPanels).i32Eq()
        .localGet(END).i32Const(fullPanels).i32GtU().i32And().if();
      emitPanel(tail);
      f.end();
    }
  }
  return assembleModule([f], spec.memory);
}

/**
 * Packs `weights` (`[groups·n][k]`) and `bias` into the memory and returns
 * the kernel that generates a {@link DEFAULT_GEMM_TILE} GEMM per input shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { WasmContext } from "../kernel.ts";
 * import { prepareGemm } from "./gemm.ts";
 * // The weights are placed once; code is generated on the first run of each input shape.
 * const placed: Float32Array[] = [];
 * const context = {
 *   place: (data: Float32Array) => {
 *     placed.push(data);
 *     return 64;
 *   },
 * } as unknown as WasmContext;
 * const kernel = prepareGemm(context, new Float32Array(6), undefined, 1, 2, 3, "none");
 * assert(placed.length === 1 && kernel.shapes.size === 0);
 * ```
 */
export function prepareGemm(
  context: WasmContext,
  weights: Float32Array,
  bias: Float32Array | undefined,
  groups: number,
  k: number,
  n: number,
  activation: Activation,
): WasmKernel {
  const tile = DEFAULT_GEMM_TILE;
  const blocks: number[] = [];
  const packShape = { groups, k, n, inStride: groups * k, outStride: groups * n };
  const packed = context.place(packGemmWeights(weights, bias, packShape, tile.nr), blocks);
  return shapeKernel((geometry) => {
    const pixels = shapeSize(geometry.outputShape) / (groups * n);
    const panelCount = Math.ceil(n / (4 * tile.nr));
    // Few pixels, many weights: split by output panels, so each thread streams its weights once.
    const panelSplit =
      groups === 1 && panelCount > 1 && pixels * groups * k * 4 <= PANEL_SPLIT_BYTES
        ? { pixels }
        : undefined;
    const bytes = generateGemm({
      shape: packShape,
      tile,
      activation,
      weights: packed,
      fused: context.fused,
      memory: context.memoryImport,
      panelSplit,
    });
    const work = pixels * groups * k * n;
    return panelSplit === undefined
      ? context.compile(bytes, pixels, tile.mr, work)
      : context.compile(bytes, panelCount, 1, work);
  }, blocks);
}
