/**
 * Emission helpers shared by the kernel generators: the kernel entry
 * signature, multiply-accumulate (relaxed FMA or mul + add), the fused
 * activation epilogue (ReLU, ReLU6 and general clamps, bounds baked in) and
 * stores of partial vectors.
 *
 * @module
 */

import { type Activation, activationBounds } from "@mobileops/core";
import { FunctionBuilder } from "../assembler.ts";

/** Every generated kernel exports `run(input0, input1, output, start, end)`; pointers are bytes. */
export const KERNEL_PARAMS = ["i32", "i32", "i32", "i32", "i32"] as const;
/** Parameter indices of the kernel entry. */
export const IN0 = 0, IN1 = 1, OUT = 2, START = 3, END = 4;

/**
 * The kernel entry, named `run`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernelFunction } from "./emit.ts";
 * assert(kernelFunction().params.length === 5);
 * ```
 */
export function kernelFunction(): FunctionBuilder {
  return new FunctionBuilder("run", KERNEL_PARAMS);
}

/** What every SIMD generator is told about the arithmetic. */
export interface ArithmeticOptions {
  /** Use `f32x4.relaxed_madd`; otherwise `f32x4.mul` then `f32x4.add`. */
  readonly fused: boolean;
}

/**
 * `acc ← a·b + acc`, where `pushA` and `pushB` each push one v128.
 * Both forms compute every output with the same instruction sequence,
 * whatever the tile or thread that computes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionBuilder } from "../assembler.ts";
 * import { multiplyAccumulate } from "./emit.ts";
 * const f = new FunctionBuilder("madd", ["v128", "v128", "v128"], ["v128"]);
 * multiplyAccumulate(f, false, 2, () => f.localGet(0), () => f.localGet(1));
 * assert(f.localGet(2).body.length > 0);
 * ```
 */
export function multiplyAccumulate(
  f: FunctionBuilder,
  fused: boolean,
  acc: number,
  pushA: () => void,
  pushB: () => void,
): void {
  if (fused) {
    pushA();
    pushB();
    f.localGet(acc).f32x4RelaxedMadd().localSet(acc);
  } else {
    f.localGet(acc);
    pushA();
    pushB();
    f.f32x4Mul().f32x4Add().localSet(acc);
  }
}

/**
 * The activation's bounds as the float32 constants the module compares with,
 * `[lower, upper]`. Rounding to float32 changes no result: for a float32 `x`,
 * clamping to the rounded bounds gives the float32 rounding of clamping to the
 * exact ones. A lower bound that rounds to −∞ (an upper one that rounds to
 * +∞) clamps nothing and is skipped; one that rounds to the other infinity
 * still clamps.
 */
function float32Bounds(activation: Activation): readonly [lower: number, upper: number] {
  const [min, max] = activationBounds(activation);
  return [Math.fround(min), Math.fround(max)];
}

/** Locals holding the activation's bounds, set once at function entry. */
export interface ActivationLocals {
  readonly activation: Activation;
  /** The float32 bounds; a side at its infinity (−∞ below, +∞ above) emits nothing. */
  readonly min: number;
  readonly max: number;
  /** v128 locals holding `min` and `max` in every lane, set only for a side that clamps. */
  readonly lower: number;
  readonly upper: number;
}

/**
 * Declares and sets the locals {@link applyActivation} needs: the bounds as
 * `v128.const`s, baked into the module. ReLU and ReLU6 get the code they
 * always had (a zero and a six local).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionBuilder } from "../assembler.ts";
 * import { activationLocals } from "./emit.ts";
 * const bounds = activationLocals(new FunctionBuilder("f", []), { min: -1, max: Infinity });
 * assert(bounds.min === -1 && bounds.max === Infinity && bounds.lower !== bounds.upper);
 * ```
 */
export function activationLocals(f: FunctionBuilder, activation: Activation): ActivationLocals {
  const [min, max] = float32Bounds(activation);
  const lower = f.local("v128");
  const upper = f.local("v128");
  if (min !== -Infinity) f.f32x4Const([min, min, min, min]).localSet(lower);
  if (max !== Infinity) f.f32x4Const([max, max, max, max]).localSet(upper);
  return { activation, min, max, lower, upper };
}

/**
 * Applies the fused activation to the v128 local `value`, in place:
 * `pmin(pmax(x, lower), upper)`, each side only where it clamps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assembleModule, FunctionBuilder } from "../assembler.ts";
 * import { activationLocals, applyActivation } from "./emit.ts";
 * const f = new FunctionBuilder("relu6", ["v128"], ["v128"]);
 * applyActivation(f, activationLocals(f, "relu6"), 0);
 * assert(WebAssembly.validate(assembleModule([f.localGet(0)])));
 * ```
 */
export function applyActivation(f: FunctionBuilder, bounds: ActivationLocals, value: number) {
  const clampsBelow = bounds.min !== -Infinity;
  const clampsAbove = bounds.max !== Infinity;
  if (!clampsBelow && !clampsAbove) return;
  // pmax(x, lo) = x < lo ? lo : x and pmin(x, hi) = hi < x ? hi : x, one maxps / minps each.
  // With x first, a NaN x fails both comparisons and passes through (IEEE, as the reference),
  // and ±∞ clamps like any number. The other operand order would turn NaN into lo (or hi).
  f.localGet(value);
  if (clampsBelow) f.localGet(bounds.lower).f32x4Pmax();
  if (clampsAbove) f.localGet(bounds.upper).f32x4Pmin();
  f.localSet(value);
}

/**
 * Applies the fused activation to the f32 local `value`, in place, with the
 * IEEE `f32.max` / `f32.min` (NaN stays NaN) — for the scalar tails of loops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assembleModule, FunctionBuilder } from "../assembler.ts";
 * import { applyScalarActivation } from "./emit.ts";
 * const f = new FunctionBuilder("clamp", ["f32"], ["f32"]);
 * applyScalarActivation(f, { min: -1, max: 2 }, 0);
 * const module = new WebAssembly.Module(assembleModule([f.localGet(0)]));
 * const clamp = new WebAssembly.Instance(module).exports.clamp as (x: number) => number;
 * assert(clamp(7) === 2 && clamp(-Infinity) === -1 && Number.isNaN(clamp(NaN)));
 * ```
 */
export function applyScalarActivation(f: FunctionBuilder, activation: Activation, value: number) {
  const [min, max] = float32Bounds(activation);
  if (min === -Infinity && max === Infinity) return;
  f.localGet(value);
  if (min !== -Infinity) f.f32Const(min).f32Max();
  if (max !== Infinity) f.f32Const(max).f32Min();
  f.localSet(value);
}

/**
 * Stores the first `lanes` lanes of the v128 local `value` at `pointer + offset`,
 * lane `l` at `offset + l·laneStride` bytes: one `v128.store` for 4 adjacent
 * lanes, lane stores otherwise (never past the tensor).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assembleModule, FunctionBuilder } from "../assembler.ts";
 * import { storeLanes } from "./emit.ts";
 * const f = new FunctionBuilder("store3", ["i32", "v128"]);
 * storeLanes(f, 0, 16, 1, 3);
 * assert(WebAssembly.validate(assembleModule([f], { initialPages: 1, shared: false })));
 * ```
 */
export function storeLanes(
  f: FunctionBuilder,
  pointer: number,
  offset: number,
  value: number,
  lanes: number,
  laneStride = 4,
): void {
  if (lanes === 4 && laneStride === 4) {
    f.localGet(pointer).localGet(value).v128Store(offset);
    return;
  }
  for (let lane = 0; lane < lanes; lane++) {
    f.localGet(pointer).localGet(value).v128Store32Lane(lane, offset + laneStride * lane);
  }
}

/**
 * `local ← local + delta` (nothing for 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionBuilder } from "../assembler.ts";
 * import { addTo } from "./emit.ts";
 * const f = new FunctionBuilder("f", ["i32"]);
 * addTo(f, 0, 0);
 * assert(f.body.length === 0);
 * ```
 */
export function addTo(f: FunctionBuilder, local: number, delta: number): void {
  if (delta === 0) return;
  f.localGet(local).i32Const(delta).i32Add().localSet(local);
}
