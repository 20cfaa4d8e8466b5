/**
 * Channel shuffle as a blocked copy: per pixel, output channel `j·g + i`
 * takes input channel `i·(C/g) + j`, straight-line code with every offset a
 * constant. It is a separate copy, not folded into a neighbouring layer: the
 * next one in ShuffleNet is a depthwise convolution, which wants contiguous
 * channel vectors, and folding it into the previous GEMM's stores measured
 * only 1–6 % faster than GEMM + copy (docs/backends.md).
 *
 * @module
 */

import { assembleModule, type MemoryImport } from "../assembler.ts";
import { addTo, END, IN0, kernelFunction, OUT, START } from "./emit.ts";

/** What {@link generateChannelShuffle} bakes into the module. */
export interface ChannelShuffleSpec {
  readonly channels: number;
  readonly groups: number;
  readonly memory: MemoryImport;
}

/**
 * Emits the shuffle module; `run(in, _, out, start, end)` shuffles pixels `[start, end)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateChannelShuffle } from "@mobileops/backend-wasm";
 * const bytes = generateChannelShuffle({
 *   channels: 12, groups: 3, memory: { initialPages: 1, shared: false },
 * });
 * assert(WebAssembly.validate(bytes));
 * ```
 */
export function generateChannelShuffle(spec: ChannelShuffleSpec): Uint8Array<ArrayBuffer> {
  const { channels, groups } = spec;
  const perGroup = channels / groups;
  const f = kernelFunction();
  const input = f.local("i32");
  const out = f.local("i32");
  const pixel = f.local("i32");
  f.localGet(START).localGet(END).i32GeU().if().return().end();
  f.localGet(IN0).localGet(START).i32Const(4 * channels).i32Mul().i32Add().localSet(input);
  f.localGet(OUT).localGet(START).i32Const(4 * channels).i32Mul().i32Add().localSet(out);
  f.localGet(START).localSet(pixel);
  f.loop();
  for (let j = 0; j < perGroup; j++) {
    for (let i = 0; i < groups; i++) {
      f.localGet(out).localGet(input).f32Load(4 * (i * perGroup + j)).f32Store(
        4 * (j * groups + i),
      );
    }
  }
  addTo(f, input, 4 * channels);
  addTo(f, out, 4 * channels);
  f.localGet(pixel).i32Const(1).i32Add().localTee(pixel).localGet(END).i32LtU().brIf(0);
  f.end();
  return assembleModule([f], spec.memory);
}
