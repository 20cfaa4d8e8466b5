/**
 * Element-wise add with the fused activation, f32x4 over the flat tensor.
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
  IN1,
  kernelFunction,
  OUT,
  START,
  storeLanes,
} from "./emit.ts";

/** What {@link generateAdd} bakes into the module. */
export interface AddSpec {
  /** Floats per tensor. */
  readonly size: number;
  /** Fused into the stores: each value clamped to the activation's bounds (NaN stays NaN). */
  readonly activation: Activation;
  /** Declares the `env.memory` import (pages, shared) that the module is instantiated with. */
  readonly memory: MemoryImport;
}

/**
 * Emits the add module; `run(a, b, out, start, end)` computes vectors
 * `[start, end)` of `ceil(size / 4)`; the last one stores only its valid lanes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateAdd } from "./f32-add-wasmsimd.ts";
 * const bytes = generateAdd({ size: 10, activation: "relu", memory: { initialPages: 1, shared: false } });
 * assert(WebAssembly.validate(bytes));
 * ```
 */
export function generateAdd(spec: AddSpec): Uint8Array<ArrayBuffer> {
  const f = kernelFunction();
  const bounds = activationLocals(f, spec.activation);
  const value = f.local("v128");
  const a = f.local("i32");
  const b = f.local("i32");
  const out = f.local("i32");
  const count = f.local("i32");
  const full = Math.floor(spec.size / 4);
  const tail = spec.size % 4;
  const at = (base: number, local: number) =>
    f.localGet(base).localGet(START).i32Const(16).i32Mul().i32Add().localSet(local);
  at(IN0, a);
  at(IN1, b);
  at(OUT, out);
  // count = min(end, full) − start full vectors.
  f.i32Const(full).localGet(END).localGet(END).i32Const(full).i32GtU().select()
    .localGet(START).i32Sub().localSet(count);
  f.localGet(count).i32Const(0).i32GtS().if().loop();
  f.localGet(a).v128Load().localGet(b).v128Load().f32x4Add().localSet(value);
  applyActivation(f, bounds, value);
  f.localGet(out).localGet(value).v128Store();
  addTo(f, a, 16);
  addTo(f, b, 16);
  addTo(f, out, 16);
  f.localGet(count).i32Const(1).i32Sub().localTee(count).brIf(0);
  f.end().end();
  if (tail > 0) {
    f.localGet(END).i32Const(full + 1).i32Eq().if();
    f.localGet(IN0).v128Load(16 * full).localGet(IN1).v128Load(16 * full).f32x4Add()
      .localSet(value);
    applyActivation(f, bounds, value);
    f.localGet(OUT).i32Const(16 * full).i32Add().localSet(out);
    storeLanes(f, out, 0, value, tail);
    f.end();
  }
  return assembleModule([f], spec.memory);
}

/**
 * The `f32-add-wasmsimd` variant: every add.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { add } from "@mobileops/core";
 * import type { WasmContext } from "../kernel.ts";
 * import { f32AddWasmsimd } from "./f32-add-wasmsimd.ts";
 * assert(f32AddWasmsimd.matches(add({ activation: "relu" }), {} as WasmContext));
 * ```
 */
export const f32AddWasmsimd: KernelVariant<DescriptorOf<"add">, WasmKernel, WasmContext> = {
  name: "f32-add-wasmsimd",
  matches: () => true,
  prepare: ({ activation }, _weights, context) =>
    shapeKernel((geometry) => {
      const size = shapeSize(geometry.outputShape);
      const bytes = generateAdd({ size, activation, memory: context.memoryImport });
      return context.compile(bytes, Math.ceil(size / 4), 1, size);
    }),
};
