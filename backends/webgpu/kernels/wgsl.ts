/**
 * WGSL shared by every program: the header the backend puts before a
 * program's body (uniform block, storage bindings, accessors), the entry
 * point of one-unit-per-invocation programs, their two lane widths (one
 * `f32` or a `vec4f` per unit) and the builder of such a program at both,
 * and the fused activation.
 *
 * Non-finite values: WGSL's `min`, `max` and `clamp` do not promise to
 * propagate NaN, and a compiler may turn a compare-and-select into them, or
 * fold `v != v` to `false` (lavapipe does both kinds of thing: `v != v` is
 * false for NaN there, and `v * 0.0` folds to `0.0` even for ±∞). So NaN
 * is detected from the bits (`is_nan`, per lane `is_nan4`), which no float
 * optimisation can touch, and every clamp keeps NaN by selecting on that
 * test.
 *
 * @module
 */

import { type Activation, activationBounds } from "@mobileops/core";
import type { Program, ProgramSpec, UniformField, WebGpuContext } from "../kernel.ts";

/** The dispatch fields every uniform block starts with: the units this dispatch covers. */
const DISPATCH_FIELDS: readonly UniformField[] = [["base", "u32"], ["end", "u32"]];

/**
 * Every uniform field of `spec`, in block order: `base`, `end`, one element
 * offset per storage binding (`o_y`, then `o_<read>`), then `spec.fields`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uniformFields } from "./wgsl.ts";
 * const fields = uniformFields({ reads: ["a", "b"], fields: [["n", "u32"]] });
 * assert.deepEqual(fields.map(([name]) => name), ["base", "end", "o_y", "o_a", "o_b", "n"]);
 * ```
 */
export function uniformFields(
  spec: Pick<ProgramSpec, "reads" | "fields">,
): readonly UniformField[] {
  return [
    ...DISPATCH_FIELDS,
    ["o_y", "u32"],
    ...spec.reads.map((name): UniformField => [`o_${name}`, "u32"]),
    ...spec.fields,
  ];
}

/**
 * Bytes of the uniform block of `spec`: 4 per field, rounded up to 16 (a
 * uniform binding's size must be a multiple of 16).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uniformBytes } from "./wgsl.ts";
 * assert.equal(uniformBytes({ reads: ["x"], fields: [["lo", "f32"]] }), 32); // 5 fields
 * ```
 */
export function uniformBytes(spec: Pick<ProgramSpec, "reads" | "fields">): number {
  return Math.ceil((4 * uniformFields(spec).length) / 16) * 16;
}

/**
 * The complete WGSL of a program: the header, then the body. The header
 * declares `struct Params` and `var<uniform> p` (binding 0), the output `y`
 * (binding 1) and each read (bindings 2…), each `array<f32>` or, for those
 * in `spec.vec4`, `array<vec4f>`, the accessors that subtract a binding's
 * window offset (so bodies index whole tensors), `is_nan` and its per-lane
 * `is_nan4`, and `nan_value()` and `neg_inf()` (WGSL has no literal for
 * either).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { programSource } from "./wgsl.ts";
 * const code = programSource({ reads: ["x"], fields: [], body: "" });
 * assert.match(code, /@group\(0\) @binding\(2\) var<storage, read> x: array<f32>;/);
 * assert.match(code, /fn load_x\(i: u32\) -> f32 \{ return x\[i - p\.o_x\]; \}/);
 * const wide = programSource({ reads: ["x"], vec4: ["x", "y"], fields: [], body: "" });
 * assert.match(wide, /fn load4_x\(i: u32\) -> vec4f \{ return x\[\(i - p\.o_x\) \/ 4u\]; \}/);
 * assert.match(wide, /fn store4_y\(i: u32, v: vec4f\) \{ y\[\(i - p\.o_y\) \/ 4u\] = v; \}/);
 * ```
 */
export function programSource(
  spec: Pick<ProgramSpec, "reads" | "vec4" | "fields" | "body">,
): string {
  const fields = uniformFields(spec).map(([name, type]) => `  ${name}: ${type},`).join("\n");
  const output = spec.vec4?.includes("y")
    ? `@group(0) @binding(1) var<storage, read_write> y: array<vec4f>;
fn store4_y(i: u32, v: vec4f) { y[(i - p.o_y) / 4u] = v; }`
    : `@group(0) @binding(1) var<storage, read_write> y: array<f32>;
fn store_y(i: u32, v: f32) { y[i - p.o_y] = v; }`;
  const reads = spec.reads.map((name, i) =>
    spec.vec4?.includes(name)
      ? `@group(0) @binding(${i + 2}) var<storage, read> ${name}: array<vec4f>;\n` +
        `fn load4_${name}(i: u32) -> vec4f { return ${name}[(i - p.o_${name}) / 4u]; }`
      : `@group(0) @binding(${i + 2}) var<storage, read> ${name}: array<f32>;\n` +
        `fn load_${name}(i: u32) -> f32 { return ${name}[i - p.o_${name}]; }`
  ).join("\n");
  return `struct Params {
${fields}
}
@group(0) @binding(0) var<uniform> p: Params;
${output}
${reads}
fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn is_nan4(v: vec4f) -> vec4<bool> { return (bitcast<vec4u>(v) & vec4u(0x7fffffffu)) > vec4u(0x7f800000u); }
fn nan_value() -> f32 { let bits = 0x7fc00000u; return bitcast<f32>(bits); }
fn neg_inf() -> f32 { let bits = 0xff800000u; return bitcast<f32>(bits); }
${spec.body}`;
}

/**
 * The entry point of a program whose invocations each take one unit: unit
 * `p.base + (workgroup index) · size + local index`, skipped past `p.end`.
 * Workgroups are laid out in two dimensions, so one dispatch can cover up
 * to `maxComputeWorkgroupsPerDimension²` of them. The body defines
 * `fn unit(u: u32)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { elementMain } from "./wgsl.ts";
 * const main = elementMain(64);
 * assert.match(main, /let u = p\.base \+ \(wid\.y \* nwg\.x \+ wid\.x\) \* 64u \+ lid;/);
 * ```
 */
export function elementMain(workgroupSize: number): string {
  return `@compute @workgroup_size(${workgroupSize})
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let u = p.base + (wid.y * nwg.x + wid.x) * ${workgroupSize}u + lid;
  if (u < p.end) { unit(u); }
}`;
}

/**
 * Invocations per workgroup of the one-unit-per-invocation programs: 64
 * (a multiple of every GPU's SIMD width), or the planning limit if lower.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { elementWorkgroupSize } from "./wgsl.ts";
 * assert.equal(elementWorkgroupSize({ maxComputeInvocationsPerWorkgroup: 256 }), 64);
 * assert.equal(elementWorkgroupSize({ maxComputeInvocationsPerWorkgroup: 8 }), 8);
 * ```
 */
export function elementWorkgroupSize(
  limits: { maxComputeInvocationsPerWorkgroup: number },
): number {
  return Math.min(64, limits.maxComputeInvocationsPerWorkgroup);
}

/** How an activation is baked into a program: its kind (the bounds of a clamp are uniforms). */
export type ActivationKind = "none" | "relu" | "relu6" | "clamp";

/**
 * The kind of `activation`, part of a program's cache key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clamp } from "@mobileops/core";
 * import { activationKind } from "./wgsl.ts";
 * assert.equal(activationKind("relu6"), "relu6");
 * assert.equal(activationKind(clamp(-1, 1)), "clamp");
 * ```
 */
export function activationKind(activation: Activation): ActivationKind {
  return typeof activation === "string" ? activation : "clamp";
}

/**
 * The uniform fields an activation needs: the bounds of a general clamp
 * (`lo`, `hi`); none for the named ones, whose bounds are WGSL constants.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clamp } from "@mobileops/core";
 * import { activationFields } from "./wgsl.ts";
 * assert.deepEqual(activationFields("relu"), []);
 * assert.deepEqual(activationFields(clamp(-1, 1)).map(([name]) => name), ["lo", "hi"]);
 * ```
 */
export function activationFields(activation: Activation): readonly UniformField[] {
  return activationKind(activation) === "clamp" ? [["lo", "f32"], ["hi", "f32"]] : [];
}

/**
 * The values of {@link activationFields}. A uniform `f32` holds each bound
 * as its float32 rounding (±∞ included), which is what docs/operators.md
 * asks of a clamp.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clamp } from "@mobileops/core";
 * import { activationValues } from "./wgsl.ts";
 * assert.deepEqual(activationValues(clamp(-Infinity, 0.5)), [-Infinity, 0.5]);
 * assert.deepEqual(activationValues("relu6"), []);
 * ```
 */
export function activationValues(activation: Activation): readonly number[] {
  return activationKind(activation) === "clamp" ? activationBounds(activation) : [];
}

/**
 * `fn act(v: f32) -> f32` (or, for {@link VEC4}, `fn act4(v: vec4f) ->
 * vec4f`), the fused activation: `min(max(v, lo), hi)` written as two
 * selects (`lo` and `hi` are WGSL constants for ReLU and ReLU6, uniforms
 * for a general clamp), and NaN given back as NaN by a bit test, lane by
 * lane, whatever the compiler made of the selects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activationWgsl, VEC4 } from "./wgsl.ts";
 * assert.equal(activationWgsl("none"), "fn act(v: f32) -> f32 { return v; }");
 * assert.match(activationWgsl("relu6"), /select\(select\(v, 0\.0, v < 0\.0\), 6\.0, v > 6\.0\)/);
 * assert.match(activationWgsl("relu", VEC4), /select\(v, vec4f\(0\.0\), v < vec4f\(0\.0\)\)/);
 * assert.match(activationWgsl("relu", VEC4), /is_nan4\(v\)/);
 * ```
 */
export function activationWgsl(activation: Activation, lanes: Lanes = SCALAR): string {
  const { type, suffix } = lanes;
  const kind = activationKind(activation);
  if (kind === "none") return `fn act${suffix}(v: ${type}) -> ${type} { return v; }`;
  // Comparisons take no scalar beside a vector: the bounds are splatted.
  const [lo, hi] = (kind === "clamp" ? ["p.lo", "p.hi"] : ["0.0", "6.0"]).map((bound) =>
    lanes.count === 1 ? bound : `vec4f(${bound})`
  );
  const clamped = kind === "relu"
    ? `select(v, ${lo}, v < ${lo})`
    : `select(select(v, ${lo}, v < ${lo}), ${hi}, v > ${hi})`;
  return `fn act${suffix}(v: ${type}) -> ${type} { return select(${clamped}, v, is_nan${suffix}(v)); }`;
}

/**
 * How many values one unit of a one-unit-per-invocation program takes, and
 * the WGSL names for that width: one `f32` ({@link SCALAR}) or four
 * adjacent values as a `vec4f` ({@link VEC4}), read by `load<suffix>_x`,
 * written by `store<suffix>_y`, tested by `is_nan<suffix>` and clamped by
 * `act<suffix>`, one lane at a time.
 */
export interface Lanes {
  /** Values per unit. */
  readonly count: 1 | 4;
  /** Their WGSL type. */
  readonly type: "f32" | "vec4f";
  /** The WGSL type of a test per lane. */
  readonly bool: "bool" | "vec4<bool>";
  /** The suffix of the header's accessors and tests of this width. */
  readonly suffix: "" | "4";
}

/**
 * One `f32` per unit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCALAR } from "./wgsl.ts";
 * assert.equal(`load${SCALAR.suffix}_x`, "load_x");
 * ```
 */
export const SCALAR: Lanes = { count: 1, type: "f32", bool: "bool", suffix: "" };

/**
 * Four adjacent values per unit, as one `vec4f`: for tensors whose sizes
 * and offsets the program touches are multiples of 4.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VEC4 } from "./wgsl.ts";
 * assert.equal(`store${VEC4.suffix}_y`, "store4_y");
 * ```
 */
export const VEC4: Lanes = { count: 4, type: "vec4f", bool: "vec4<bool>", suffix: "4" };

/** What {@link elementPrograms} builds a program from. */
export interface ElementProgram {
  /** The kernel variant. */
  readonly variant: string;
  /** Fused into the store: `act` / `act4` in `unit`. */
  readonly activation: Activation;
  /** The read-only bindings, all of the program's lane width. */
  readonly reads: readonly string[];
  /** Uniform fields before the activation's bounds. */
  readonly fields: readonly UniformField[];
  /**
   * The statements of `fn unit(u: u32)` at a lane width, given `e`, the
   * element index of the unit's first value (`u · lanes.count`).
   */
  unit(lanes: Lanes): string;
}

/**
 * The {@link SCALAR} and {@link VEC4} programs of a one-unit-per-invocation
 * variant with a fused activation, compiled (or taken from the cache, keyed
 * by activation kind and width): the variant picks one per step by shape,
 * the vec4 one where every size and offset it touches is a multiple of 4.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Program, ProgramSpec, WebGpuContext } from "../kernel.ts";
 * import { elementPrograms, VEC4 } from "./wgsl.ts";
 * const context = {
 *   limits: { maxComputeInvocationsPerWorkgroup: 256 },
 *   program: (spec: ProgramSpec) => Promise.resolve({ spec } as Program),
 * } as WebGpuContext;
 * const [scalar, vec4] = await elementPrograms(context, {
 *   variant: "f32-negate-wgsl",
 *   activation: "relu",
 *   reads: ["x"],
 *   fields: [],
 *   unit: (lanes) => `store${lanes.suffix}_y(e, act${lanes.suffix}(-load${lanes.suffix}_x(e)));`,
 * });
 * assert.deepEqual([scalar.spec.key, vec4.spec.key], ["relu", "relu|vec4"]);
 * assert.deepEqual(vec4.spec.vec4, ["x", "y"]);
 * assert.match(vec4.spec.body, /let e = u \* 4u;\n  store4_y\(e, act4\(-load4_x\(e\)\)\);/);
 * ```
 */
export function elementPrograms(
  context: WebGpuContext,
  program: ElementProgram,
): Promise<[scalar: Program, vec4: Program]> {
  const workgroupSize = elementWorkgroupSize(context.limits);
  const kind = activationKind(program.activation);
  const spec = (lanes: Lanes): ProgramSpec => ({
    variant: program.variant,
    key: lanes.count === 1 ? kind : `${kind}|vec4`,
    reads: program.reads,
    ...(lanes.count === 1 ? {} : { vec4: [...program.reads, "y"] }),
    fields: [...program.fields, ...activationFields(program.activation)],
    workgroupSize,
    unitsPerWorkgroup: workgroupSize,
    body: `${activationWgsl(program.activation, lanes)}
fn unit(u: u32) {
  let e = u * ${lanes.count}u;
  ${program.unit(lanes)}
}
${elementMain(workgroupSize)}`,
  });
  return Promise.all([context.program(spec(SCALAR)), context.program(spec(VEC4))]);
}
