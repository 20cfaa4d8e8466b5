/**
 * Channel concatenation with the fused activation: per pixel, each input's
 * channels are copied as f32x4 vectors, the last 1–3 channels lane by lane.
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
  /** Fused into the stores: `relu` is max(0, x), `relu6` clamps to [0, 6]. */
  readonly activation: Activation;
  /** Declares the `env.memory` import (pages, shared) that the module is instantiated with. */
  readonly memory: MemoryImport;
}

/**
 * Emits the concat module; `run(table, _, out, start, end)` computes pixels
 * `[start, end)`, reading input `t`'s byte offset from the i32 at `table + 4t`.
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
  const inputs = spec.channels.map(() => f.local("i32"));
  const out = f.local("i32");
  const total = spec.channels.reduce((sum, c) => sum + c, 0);
  f.localGet(START).localGet(END).i32GeU().if().return().end();
  spec.channels.forEach((c, t) => {
    f.localGet(IN0).i32Load(4 * t).localGet(START).i32Const(4 * c).i32Mul().i32Add()
      .localSet(inputs[t]);
  });
  f.localGet(OUT).localGet(START).i32Const(4 * total).i32Mul().i32Add().localSet(out);
  f.localGet(START).localSet(pixel);
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
      // The inputs' offsets go in a table the kernel reads: any number of inputs.
      const table = context.memory.allocate(4 * channels.length);
      blocks.push(table);
      const code = context.compile(bytes, pixels, 1, shapeSize(geometry.outputShape));
      return {
        ...code,
        bind: (inputs: readonly number[]): [number, number] => {
          new Int32Array(context.memory.memory.buffer, table, inputs.length).set(inputs);
          return [table, 0];
        },
      };
    }),
};
