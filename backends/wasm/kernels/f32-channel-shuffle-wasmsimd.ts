/**
 * Channel shuffle as a blocked copy. Per pixel the shuffle is the transpose
 * of a `g × (C/g)` matrix: output channel `j·g + i` takes input channel
 * `i·(C/g) + j`. For each block of 4 consecutive `j` it loads one `v128`
 * from each of the `g` groups and writes the block's `4·g` contiguous
 * outputs as `g` vectors, each assembled from its (at most 4) source
 * vectors with `i8x16.shuffle`s; the `(C/g) mod 4` columns left over are
 * copied one float at a time. Every offset is a constant. It is a separate
 * copy, not folded into a neighbouring layer: the next one in ShuffleNet is
 * a depthwise convolution, which wants contiguous channel vectors, and
 * folding it into the previous GEMM's stores measured 2–3 % slower than
 * GEMM + this copy at g=3 and 4 % faster at g=8 (docs/backends.md).
 *
 * That per-pixel code is straight-line up to {@link MAX_UNROLLED_SHUFFLE_CHANNELS}
 * channels (ShuffleNet's widest layer has 1 536). Past it, the blocks of 4
 * columns become a loop (up to {@link MAX_SHUFFLE_VECTOR_GROUPS} groups,
 * whose `g` vectors stay in locals), and with more groups than that every
 * value is copied by two nested loops; either way the module's size no
 * longer grows with the channel or group count.
 *
 * @module
 */

import { type DescriptorOf, type KernelVariant, shapeSize } from "@mobileops/core";
import { assembleModule, type FunctionBuilder, type MemoryImport } from "../assembler.ts";
import { shapeKernel, type WasmContext, type WasmKernel } from "../kernel.ts";
import { addTo, END, IN0, kernelFunction, OUT, START } from "./emit.ts";

/** What {@link generateChannelShuffle} bakes into the module. */
export interface ChannelShuffleSpec {
  /** Floats per pixel, in and out (C); a multiple of `groups`. */
  readonly channels: number;
  /** Groups g: output channel `j·g + i` takes input channel `i·(C/g) + j`. */
  readonly groups: number;
  /** Declares the `env.memory` import (pages, shared) that the module is instantiated with. */
  readonly memory: MemoryImport;
}

/** Where an output lane comes from: source vector (group) and lane in it. */
interface LaneSource {
  readonly group: number;
  readonly lane: number;
}

/** Channels up to which a pixel's shuffle is straight-line code. */
export const MAX_UNROLLED_SHUFFLE_CHANNELS = 2048;
/** Groups up to which blocks of 4 columns are shuffled as vectors (one local per group). */
export const MAX_SHUFFLE_VECTOR_GROUPS = 16;

/**
 * Emits the shuffle module; `run(in, _, out, start, end)` shuffles pixels `[start, end)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateChannelShuffle } from "./f32-channel-shuffle-wasmsimd.ts";
 * const bytes = generateChannelShuffle({
 *   channels: 12, groups: 3, memory: { initialPages: 1, shared: false },
 * });
 * assert(WebAssembly.validate(bytes));
 * ```
 */
export function generateChannelShuffle(spec: ChannelShuffleSpec): Uint8Array<ArrayBuffer> {
  const { channels, groups } = spec;
  const perGroup = channels / groups;
  const blocks = Math.floor(perGroup / 4);
  const vectorGroups = groups <= MAX_SHUFFLE_VECTOR_GROUPS;
  const f = kernelFunction();
  const input = f.local("i32");
  const out = f.local("i32");
  const pixel = f.local("i32");
  f.localGet(START).localGet(END).i32GeU().if().return().end();
  f.localGet(IN0).localGet(START).i32Const(4 * channels).i32Mul().i32Add().localSet(input);
  f.localGet(OUT).localGet(START).i32Const(4 * channels).i32Mul().i32Add().localSet(out);
  f.localGet(START).localSet(pixel);
  f.loop();
  if (!vectorGroups && (blocks > 0 || channels > MAX_UNROLLED_SHUFFLE_CHANNELS)) {
    emitScalarShuffle(f, groups, perGroup, input, out);
  } else {
    const rows = blocks > 0 ? Array.from({ length: groups }, () => f.local("v128")) : [];
    /** The 4·g outputs of column block `block` from the g vectors at `from`, stored at `to`. */
    const shuffleBlock = (from: number, to: number, inOffset: number, outOffset: number) => {
      for (let i = 0; i < groups; i++) {
        f.localGet(from).v128Load(inOffset + 4 * i * perGroup).localSet(rows[i]);
      }
      for (let vector = 0; vector < groups; vector++) {
        const sources = Array.from({ length: 4 }, (_, lane): LaneSource => {
          const element = 4 * vector + lane;
          return { group: element % groups, lane: Math.floor(element / groups) };
        });
        f.localGet(to);
        emitGather(f, rows, sources);
        f.v128Store(outOffset + 16 * vector);
      }
    };
    if (channels <= MAX_UNROLLED_SHUFFLE_CHANNELS) {
      for (let block = 0; block < blocks; block++) {
        shuffleBlock(input, out, 16 * block, 16 * block * groups);
      }
    } else {
      const from = f.local("i32");
      const to = f.local("i32");
      const left = f.local("i32");
      f.localGet(input).localSet(from);
      f.localGet(out).localSet(to);
      f.i32Const(blocks).localSet(left);
      f.loop();
      shuffleBlock(from, to, 0, 0);
      addTo(f, from, 16);
      addTo(f, to, 16 * groups);
      f.localGet(left).i32Const(1).i32Sub().localTee(left).brIf(0);
      f.end();
    }
    for (let j = 4 * blocks; j < perGroup; j++) {
      for (let i = 0; i < groups; i++) {
        f.localGet(out).localGet(input).f32Load(4 * (i * perGroup + j)).f32Store(
          4 * (j * groups + i),
        );
      }
    }
  }
  addTo(f, input, 4 * channels);
  addTo(f, out, 4 * channels);
  f.localGet(pixel).i32Const(1).i32Add().localTee(pixel).localGet(END).i32LtU().brIf(0);
  f.end();
  return assembleModule([f], spec.memory);
}

/**
 * One pixel's shuffle as two nested loops, group by group: input channel
 * `i·(C/g) + j` to output channel `j·g + i`. Bits are copied as i32, so any
 * NaN payload survives.
 */
function emitScalarShuffle(
  f: FunctionBuilder,
  groups: number,
  perGroup: number,
  input: number,
  out: number,
) {
  const from = f.local("i32");
  const to = f.local("i32");
  const group = f.local("i32");
  const left = f.local("i32");
  f.localGet(input).localSet(from);
  f.localGet(out).localSet(to);
  f.i32Const(groups).localSet(group);
  f.loop();
  f.i32Const(perGroup).localSet(left);
  f.loop();
  f.localGet(to).localGet(from).i32Load().i32Store();
  addTo(f, from, 4);
  addTo(f, to, 4 * groups);
  f.localGet(left).i32Const(1).i32Sub().localTee(left).brIf(0);
  f.end();
  // Back to output channel `i + 1` of the pixel: `to` ran C/g steps of g floats past channel i.
  f.localGet(to).i32Const(4 * groups * perGroup - 4).i32Sub().localSet(to);
  f.localGet(group).i32Const(1).i32Sub().localTee(group).brIf(0);
  f.end();
}

/**
 * Pushes a v128 whose lane `r` is lane `sources[r].lane` of `rows[sources[r].group]`:
 * the first two source vectors meet in one shuffle, each further one is merged
 * into that result by another (so 1–3 shuffles).
 */
function emitGather(f: FunctionBuilder, rows: number[], sources: readonly LaneSource[]): void {
  const groups = [...new Set(sources.map((source) => source.group))];
  const pick = (lanes: readonly number[]) =>
    f.i8x16Shuffle(lanes.flatMap((lane) => [0, 1, 2, 3].map((byte) => 4 * lane + byte)));
  const [first, second = first] = groups;
  // Lanes 0–3 name the left operand's lanes, 4–7 the right one's; a lane from neither is 0.
  f.localGet(rows[first]).localGet(rows[second]);
  pick(sources.map(({ group, lane }) => group === first ? lane : group === second ? 4 + lane : 0));
  for (const group of groups.slice(2)) {
    f.localGet(rows[group]);
    pick(sources.map((source, r) => source.group === group ? 4 + source.lane : r));
  }
}

/**
 * The `f32-channel-shuffle-wasmsimd` variant: every channel shuffle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelShuffle } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32ChannelShuffleWasmsimd } from "./f32-channel-shuffle-wasmsimd.ts";
 * assert(f32ChannelShuffleWasmsimd.matches(channelShuffle({ groups: 3 }), {} as WasmContext));
 * ```
 */
export const f32ChannelShuffleWasmsimd: KernelVariant<
  DescriptorOf<"channelShuffle">,
  WasmKernel,
  WasmContext
> = {
  name: "f32-channel-shuffle-wasmsimd",
  matches: () => true,
  prepare: ({ groups }, _weights, context) =>
    shapeKernel((geometry) => {
      const shape = geometry.inputShapes[0];
      const channels = shape[3];
      const pixels = shapeSize(shape) / channels;
      const bytes = generateChannelShuffle({ channels, groups, memory: context.memoryImport });
      return context.compile(bytes, pixels, 1, pixels * channels);
    }),
};
