/**
 * Channel concatenation with the fused activation: per pixel, each input's
 * channels are copied as f32x4 vectors, the last 1–3 channels lane by lane.
 * Up to {@link MAX_UNROLLED_CONCAT_VECTORS} vectors per output pixel the copy
 * is straight-line code with constant offsets; past that (thousands of
 * channels or inputs) it is a loop over the inputs and their vectors, so the
 * module's size does not grow with the channel or input count.
 *
 * @module
 */

import { type Activation, type DescriptorOf, type KernelVariant, shapeSize } from "@mobileops/core";
import { assembleModule, type FunctionBuilder, type MemoryImport } from "../assembler.ts";
import { shapeKernel, type WasmContext, type WasmKernel } from "../kernel.ts";
import {
  type ActivationLocals,
  activationLocals,
  addTo,
  applyActivation,
  applyScalarActivation,
  END,
  IN0,
  kernelFunction,
  OUT,
  START,
  storeLanes,
} from "./emit.ts";

/** What {@link generateConcat} bakes into the module. */
export interface ConcatSpec {
  /** Channels of each input, in order. */
  readonly channels: readonly number[];
  /** Fused into the stores: each value clamped to the activation's bounds (NaN stays NaN). */
  readonly activation: Activation;
  /** Declares the `env.memory` import (pages, shared) that the module is instantiated with. */
  readonly memory: MemoryImport;
}

/** Vectors per output pixel up to which the copy is straight-line code. */
export const MAX_UNROLLED_CONCAT_VECTORS = 512;

/**
 * Emits the concat module; `run(table, _, out, start, end)` computes pixels
 * `[start, end)`, reading input `t`'s byte offset from the i32 at `table + 8t`
 * and (when looping) its channel count from the i32 at `table + 8t + 4`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateConcat } from "./f32-concat-wasmsimd.ts";
 * const bytes = generateConcat({
 *   channels: [3, 8], activation: "none", memory: { initialPages: 1, shared: false },
 * });
 * assert(WebAssembly.validate(bytes));
 * ```
 */
export function generateConcat(spec: ConcatSpec): Uint8Array<ArrayBuffer> {
  const f = kernelFunction();
  const bounds = activationLocals(f, spec.activation);
  const value = f.local("v128");
  const pixel = f.local("i32");
  const out = f.local("i32");
  const total = spec.channels.reduce((sum, c) => sum + c, 0);
  const vectors = spec.channels.reduce((sum, c) => sum + Math.ceil(c / 4), 0);
  f.localGet(START).localGet(END).i32GeU().if().return().end();
  f.localGet(OUT).localGet(START).i32Const(4 * total).i32Mul().i32Add().localSet(out);
  f.localGet(START).localSet(pixel);
  if (vectors > MAX_UNROLLED_CONCAT_VECTORS) {
    emitConcatLoops(f, bounds, spec.channels.length, value, pixel, out);
    return assembleModule([f], spec.memory);
  }
  const inputs = spec.channels.map(() => f.local("i32"));
  spec.channels.forEach((c, t) => {
    f.localGet(IN0).i32Load(8 * t).localGet(START).i32Const(4 * c).i32Mul().i32Add()
      .localSet(inputs[t]);
  });
  f.loop();
  let first = 0;
  spec.channels.forEach((c, t) => {
    for (let k = 0; k < c; k += 4) {
      f.localGet(inputs[t]).v128Load(4 * k).localSet(value);
      applyActivation(f, bounds, value);
      storeLanes(f, out, 4 * (first + k), value, Math.min(4, c - k));
    }
    addTo(f, inputs[t], 4 * c);
    first += c;
  });
  addTo(f, out, 4 * total);
  f.localGet(pixel).i32Const(1).i32Add().localTee(pixel).localGet(END).i32LtU().brIf(0);
  f.end();
  return assembleModule([f], spec.memory);
}

/**
 * Per pixel, a loop over the table's `inputs` entries, each copied as a loop
 * of whole vectors and then a loop of its 0–3 remaining floats.
 */
function emitConcatLoops(
  f: FunctionBuilder,
  bounds: ActivationLocals,
  inputs: number,
  value: number,
  pixel: number,
  out: number,
) {
  const entry = f.local("i32");
  const entriesLeft = f.local("i32");
  const channels = f.local("i32");
  const source = f.local("i32");
  const left = f.local("i32");
  const scalar = f.local("f32");
  f.loop();
  f.localGet(IN0).localSet(entry);
  f.i32Const(inputs).localSet(entriesLeft);
  f.loop();
  f.localGet(entry).i32Load(4).localSet(channels);
  f.localGet(entry).i32Load().localGet(pixel).localGet(channels).i32Mul().i32Const(4).i32Mul()
    .i32Add().localSet(source);
  f.localGet(channels).i32Const(2).i32ShrU().localTee(left).if().loop();
  f.localGet(source).v128Load().localSet(value);
  applyActivation(f, bounds, value);
  f.localGet(out).localGet(value).v128Store();
  addTo(f, source, 16);
  addTo(f, out, 16);
  f.localGet(left).i32Const(1).i32Sub().localTee(left).brIf(0);
  f.end().end();
  f.localGet(channels).i32Const(3).i32And().localTee(left).if().loop();
  f.localGet(source).f32Load().localSet(scalar);
  applyScalarActivation(f, bounds.activation, scalar);
  f.localGet(out).localGet(scalar).f32Store();
  addTo(f, source, 4);
  addTo(f, out, 4);
  f.localGet(left).i32Const(1).i32Sub().localTee(left).brIf(0);
  f.end().end();
  addTo(f, entry, 8);
  f.localGet(entriesLeft).i32Const(1).i32Sub().localTee(entriesLeft).brIf(0);
  f.end();
  f.localGet(pixel).i32Const(1).i32Add().localTee(pixel).localGet(END).i32LtU().brIf(0);
  f.end();
}

/**
 * The `f32-concat-wasmsimd` variant: every concat, of any number of inputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32ConcatWasmsimd } from "./f32-concat-wasmsimd.ts";
 * assert(f32ConcatWasmsimd.matches(concat({ activation: "relu" }), {} as WasmContext));
 * ```
 */
export const f32ConcatWasmsimd: KernelVariant<DescriptorOf<"concat">, WasmKernel, WasmContext> = {
  name: "f32-concat-wasmsimd",
  matches: () => true,
  prepare: ({ activation }, _weights, context) =>
    shapeKernel((geometry, blocks) => {
      const channels = geometry.inputShapes.map((shape) => shape[3]);
      const pixels = shapeSize(geometry.outputShape) / geometry.outputShape[3];
      const bytes = generateConcat({ channels, activation, memory: context.memoryImport });
      // The inputs' offsets (set at each run) and channel counts go in a table the kernel
      // reads: any number of inputs.
      const table = context.memory.allocate(8 * channels.length);
      blocks.push(table);
      const entries = () =>
        new Int32Array(context.memory.memory.buffer, table, 2 * channels.length);
      channels.forEach((c, t) => entries()[2 * t + 1] = c);
      const code = context.compile(bytes, pixels, 1, shapeSize(geometry.outputShape));
      return {
        ...code,
        bind: (inputs: readonly number[]): [number, number] => {
          const view = entries();
          inputs.forEach((offset, t) => view[2 * t] = offset);
          return [table, 0];
        },
      };
    }),
};
