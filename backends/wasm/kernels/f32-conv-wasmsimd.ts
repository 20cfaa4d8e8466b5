/**
 * Direct convolution for every shape the specialised kernels do not take:
 * dense (the 3×3 stem), grouped with any kernel, depthwise with a channel
 * multiplier, strided or padded 1×1. Each output pixel keeps up to 32 output
 * channels of its group in v128 accumulators; every input value is splatted
 * once and multiplied into all of them. Taps and up to 8 input channels are
 * unrolled while the straight-line code stays under
 * {@link MAX_UNROLLED_MULTIPLY_ADDS}; larger kernels (or many border
 * columns) take the looped walker, whose code does not grow with them.
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
import { packOutputPanels } from "./pack.ts";
import {
  type BlockRun,
  emitWindowLoops,
  emitWindowWalk,
  unrolledTaps,
  type WindowGeometry,
  windowGeometry,
} from "./window.ts";

/** Output vectors (4 channels each) per block. */
const BLOCK_VECTORS = 8;
/** Input channels per group up to which the channel loop is unrolled. */
const UNROLL_CHANNELS = 8;
/**
 * Multiply-adds of straight-line code per block run up to which the taps are
 * unrolled (the MobileNet stem needs about 500).
 */
export const MAX_UNROLLED_MULTIPLY_ADDS = 8192;

interface Block {
  readonly vectors: number;
  /** Lanes stored by the last vector. */
  readonly lastLanes: number;
}

function groupBlocks(outPerGroup: number): Block[] {
  const blocks: Block[] = [];
  for (let o = 0; o < outPerGroup; o += 4 * BLOCK_VECTORS) {
    const lanes = Math.min(4 * BLOCK_VECTORS, outPerGroup - o);
    const vectors = Math.ceil(lanes / 4);
    blocks.push({ vectors, lastLanes: lanes - 4 * (vectors - 1) });
  }
  return blocks;
}

/** The grouping a direct convolution is generated for. */
export interface ConvGrouping {
  /** Channel groups: group g reads channels from `g·inPerGroup`, writes from `g·outPerGroup`. */
  readonly groups: number;
  /** Input channels per group, summed over at every tap. */
  readonly inPerGroup: number;
  /** Output channels per group, packed and computed in blocks of up to 32. */
  readonly outPerGroup: number;
  /** Filter taps `[rows, columns]`; must equal the geometry's `kernel`. */
  readonly kernel: readonly [number, number];
}

/**
 * Packs an OHWI filter and bias per group and per block of up to 32 output
 * channels: `[bias lanes][ky][kx][ci][lanes]`, lanes padded to a multiple of 4.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packConvWeights } from "./f32-conv-wasmsimd.ts";
 * // 2 output channels, 1×1 kernel, 1 input channel.
 * const packed = packConvWeights(new Float32Array([3, 5]), new Float32Array([1, 2]), {
 *   groups: 1, inPerGroup: 1, outPerGroup: 2, kernel: [1, 1],
 * });
 * assert(packed.join() === "1,2,0,0,3,5,0,0");
 * ```
 */
export function packConvWeights(
  filter: Float32Array,
  bias: Float32Array | undefined,
  grouping: ConvGrouping,
): Float32Array {
  const { groups, inPerGroup, outPerGroup, kernel } = grouping;
  // OHWI flattens each output channel's taps × input channels into one reduction row.
  const panels = groupBlocks(outPerGroup).map((block) => ({
    vectors: block.vectors,
    valid: 4 * (block.vectors - 1) + block.lastLanes,
  }));
  return packOutputPanels(filter, bias, groups, kernel[0] * kernel[1] * inPerGroup, panels);
}

/** What {@link generateConv} bakes into the module. */
export interface ConvSpec extends ArithmeticOptions {
  /** Window and tensor sizes; `inStride`/`outStride` hold every group's channels. */
  readonly geometry: WindowGeometry;
  /** How channels split into groups; the weights must be packed with the same one. */
  readonly grouping: ConvGrouping;
  /** Fused into the stores: each value clamped to the activation's bounds (NaN stays NaN). */
  readonly activation: Activation;
  /** Byte offset of the {@link packConvWeights} output in linear memory. */
  readonly weights: number;
  /**
   * Byte offset of a zero row of `width × inStride` floats, read for
   * out-of-image rows by the unrolled walker: required when
   * {@link convUnrolled} is true (else `RangeError`), ignored otherwise.
   */
  readonly zeroRow?: number;
  /** Declares the `env.memory` import (pages, shared) that the module is instantiated with. */
  readonly memory: MemoryImport;
}

/**
 * Emits the module of a direct convolution; `run(in, _, out, start, end)`
 * computes output rows `[start, end)` of batch × height.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateConv } from "./f32-conv-wasmsimd.ts";
 * const bytes = generateConv({
 *   geometry: {
 *     height: 8, width: 8, inStride: 3, outHeight: 4, outWidth: 4, outStride: 32,
 *     kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padTop: 0, padLeft: 0,
 *   },
 *   grouping: { groups: 1, inPerGroup: 3, outPerGroup: 32, kernel: [3, 3] },
 *   activation: "relu", weights: 64, zeroRow: 8192, fused: true,
 *   memory: { initialPages: 1, shared: false },
 * });
 * assert(bytes.length > 0);
 * ```
 */
export function generateConv(spec: ConvSpec): Uint8Array<ArrayBuffer> {
  const { geometry, grouping } = spec;
  const [kh, kw] = grouping.kernel;
  const taps = kh * kw;
  const ci = grouping.inPerGroup;
  const f = kernelFunction();
  const bounds = activationLocals(f, spec.activation);
  const acc = Array.from({ length: BLOCK_VECTORS }, () => f.local("v128"));
  const splat = f.local("v128");
  const input = f.local("i32");
  const weight = f.local("i32");
  const channels = f.local("i32");

  const runs: BlockRun<Block>[] = [];
  const blocks = groupBlocks(grouping.outPerGroup);
  const blockWeightBytes = (block: Block) => 16 * block.vectors * (1 + taps * ci);
  const groupWeightBytes = blocks.reduce((sum, block) => sum + blockWeightBytes(block), 0);
  if (blocks.length === 1) {
    // One block per group: walk all groups with one loop.
    runs.push({
      count: grouping.groups,
      inStart: 0,
      inStep: 4 * ci,
      outStart: 0,
      outStep: 4 * grouping.outPerGroup,
      weightStart: 0,
      weightStep: blockWeightBytes(blocks[0]),
      variant: blocks[0],
    });
  } else {
    // Per group: the full blocks in one loop, then the narrower last block, if any.
    const last = blocks[blocks.length - 1];
    const lastIsFull = last.vectors === BLOCK_VECTORS && last.lastLanes === 4;
    const fullBlocks = lastIsFull ? blocks.length : blocks.length - 1;
    const groupSteps = {
      groups: grouping.groups,
      groupInStep: 4 * ci,
      groupOutStep: 4 * grouping.outPerGroup,
      groupWeightStep: groupWeightBytes,
    };
    runs.push({
      count: fullBlocks,
      inStart: 0,
      inStep: 0,
      outStart: 0,
      outStep: 4 * 4 * BLOCK_VECTORS,
      weightStart: 0,
      weightStep: blockWeightBytes(blocks[0]),
      variant: blocks[0],
      ...groupSteps,
    });
    if (!lastIsFull) {
      runs.push({
        count: 1,
        inStart: 0,
        inStep: 0,
        outStart: 4 * 4 * BLOCK_VECTORS * fullBlocks,
        outStep: 0,
        weightStart: blockWeightBytes(blocks[0]) * fullBlocks,
        weightStep: 0,
        variant: last,
        ...groupSteps,
      });
    }
  }

  /**
   * `acc[j] += input[c] · weights[c][j]` over the `ci` input channels of one tap, at byte
   * `inputAt` from the local `inputPointer` and `weightAt` from the local `weightPointer`.
   */
  const channelSteps = (
    block: Block,
    inputPointer: number,
    inputAt: number,
    weightPointer: number,
    weightAt: number,
  ) => {
    const vectorBytes = 16 * block.vectors;
    const step = (inputOffset: number, weightOffset: number, inputLocal: number, w: number) => {
      f.localGet(inputLocal).v128Load32Splat(inputOffset).localSet(splat);
      for (let j = 0; j < block.vectors; j++) {
        multiplyAccumulate(
          f,
          spec.fused,
          acc[j],
          () => f.localGet(splat),
          () => f.localGet(w).v128Load(weightOffset + 16 * j),
        );
      }
    };
    if (ci <= UNROLL_CHANNELS) {
      for (let c = 0; c < ci; c++) {
        step(inputAt + 4 * c, weightAt + vectorBytes * c, inputPointer, weightPointer);
      }
      return;
    }
    f.localGet(inputPointer).localSet(input);
    addTo(f, input, inputAt);
    f.localGet(weightPointer).localSet(weight);
    addTo(f, weight, weightAt);
    f.i32Const(ci).localSet(channels);
    f.loop();
    step(0, 0, input, weight);
    addTo(f, input, 4);
    addTo(f, weight, vectorBytes);
    f.localGet(channels).i32Const(1).i32Sub().localTee(channels).brIf(0);
    f.end();
  };

  const epilogue = (block: Block, out: number, outOffset: number) => {
    for (let j = 0; j < block.vectors; j++) {
      applyActivation(f, bounds, acc[j]);
      storeLanes(
        f,
        out,
        outOffset + 16 * j,
        acc[j],
        j === block.vectors - 1 ? block.lastLanes : 4,
      );
    }
  };

  if (!convUnrolled(geometry, grouping)) {
    emitWindowLoops(f, geometry, spec.weights, runs, {
      block(f, block, access) {
        const vectorBytes = 16 * block.vectors;
        for (let j = 0; j < block.vectors; j++) {
          f.localGet(access.weights).v128Load(16 * j).localSet(acc[j]);
        }
        access.forEachTap(vectorBytes, vectorBytes * ci, (tapInput, tapWeights) => {
          channelSteps(block, tapInput, 0, tapWeights, 0);
        });
        epilogue(block, access.output, 0);
      },
    });
    return assembleModule([f], spec.memory);
  }

  if (spec.zeroRow === undefined) throw new RangeError("an unrolled conv needs spec.zeroRow");
  emitWindowWalk(f, geometry, spec.zeroRow, spec.weights, runs, {
    pixel(f, block, access) {
      const vectorBytes = 16 * block.vectors;
      for (let j = 0; j < block.vectors; j++) {
        f.localGet(access.weights).v128Load(16 * j).localSet(acc[j]);
      }
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          if (!access.valid(ky, kx)) continue;
          const tapWeights = vectorBytes * (1 + (ky * kw + kx) * ci);
          channelSteps(
            block,
            access.tapBase(ky),
            access.tapOffset(ky, kx),
            access.weights,
            tapWeights,
          );
        }
      }
      epilogue(block, access.outBase, access.outOffset);
    },
  });
  return assembleModule([f], spec.memory);
}

/**
 * Whether {@link generateConv} unrolls the taps of `geometry` (and so needs a
 * zero row): while the straight-line multiply-adds per block run stay within
 * {@link MAX_UNROLLED_MULTIPLY_ADDS}, the kernel has at most
 * `MAX_UNROLLED_TAPS` taps, at most `MAX_BORDER_COLUMNS` columns cross an
 * edge and an input row fits `MAX_PAD_ROW_BYTES` (window.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convUnrolled } from "./f32-conv-wasmsimd.ts";
 * const g = {
 *   height: 96, width: 96, inStride: 3, outHeight: 48, outWidth: 48, outStride: 32,
 *   kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padTop: 0, padLeft: 0,
 * } as const;
 * assert(convUnrolled(g, { groups: 1, inPerGroup: 3, outPerGroup: 32, kernel: [3, 3] }));
 * const wide = { ...g, kernel: [64, 64], outHeight: 33, outWidth: 33 } as const;
 * assert(!convUnrolled(wide, { groups: 1, inPerGroup: 3, outPerGroup: 32, kernel: [64, 64] }));
 * ```
 */
export function convUnrolled(geometry: WindowGeometry, grouping: ConvGrouping): boolean {
  const vectors = Math.min(BLOCK_VECTORS, Math.ceil(grouping.outPerGroup / 4));
  const perTap = (grouping.inPerGroup <= UNROLL_CHANNELS ? grouping.inPerGroup : 1) * vectors;
  return unrolledTaps(geometry, 1) * perTap <= MAX_UNROLLED_MULTIPLY_ADDS;
}

/**
 * The `f32-conv-wasmsimd` variant of conv2d: every convolution, the last
 * entry of the table, so in practice those the 1×1 GEMM and depthwise
 * variants before it do not take.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseConv2d } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32ConvWasmsimd } from "./f32-conv-wasmsimd.ts";
 * const stem = denseConv2d({ inChannels: 3, outChannels: 32, kernel: 3, stride: 2 });
 * assert(f32ConvWasmsimd.matches(stem, {} as WasmContext));
 * ```
 */
export const f32ConvWasmsimd: KernelVariant<DescriptorOf<"conv2d">, WasmKernel, WasmContext> = {
  name: "f32-conv-wasmsimd",
  matches: () => true,
  prepare: (d, { filter, bias }, context) => {
    const blocks: number[] = [];
    const grouping = {
      groups: d.groups,
      inPerGroup: d.inChannels / d.groups,
      outPerGroup: d.outChannels / d.groups,
      kernel: d.kernel,
    };
    const packed = context.place(packConvWeights(filter, bias, grouping), blocks);
    return shapeKernel((geometry, blocks) => {
      const g = windowGeometry(geometry, d.kernel, d.stride, d.dilation, d.outChannels);
      const zeroRow = convUnrolled(g, grouping)
        ? context.padRow(g.width * g.inStride, 0, blocks)
        : undefined;
      const bytes = generateConv({
        geometry: g,
        grouping,
        activation: d.activation,
        weights: packed,
        zeroRow,
        fused: context.fused,
        memory: context.memoryImport,
      });
      const rows = geometry.outputShape[0] * g.outHeight;
      const work = shapeSize(geometry.outputShape) * d.kernel[0] * d.kernel[1] *
        grouping.inPerGroup;
      return context.compile(bytes, rows, 1, work);
    }, blocks);
  },
};
