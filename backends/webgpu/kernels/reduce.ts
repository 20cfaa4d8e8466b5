/**
 * Reductions shared by a workgroup: the programs whose outputs each sum (or
 * take the maximum of) a long run of values — global average pooling, fully
 * connected layers, softmax rows — give every output a workgroup, whose
 * invocations each take every `size`-th value and then combine their
 * partial results through workgroup memory in a tree.
 *
 * Besides spreading a long sum over a workgroup's lanes, this bounds the
 * loop iterations of one invocation: llvmpipe (the software Vulkan driver
 * CI runs) stops every loop of an invocation for good once its loops have
 * run 65,535 iterations in all, silently — a softmax row of 2¹⁶ values in
 * one invocation came back unwritten. With 64 invocations an output may
 * reduce about 4 million values there; real GPUs have no such cap.
 *
 * @module
 */

import type { PlanningLimits, ProgramSpec } from "../kernel.ts";

/**
 * Invocations per reducing workgroup: 64, or fewer where the planning
 * limits allow fewer invocations or less workgroup memory (4 bytes each);
 * 1 where there is none, and then the program uses no workgroup memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reductionWorkgroupSize } from "./reduce.ts";
 * const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384 };
 * assert.equal(reductionWorkgroupSize(limits), 64);
 * assert.equal(reductionWorkgroupSize({ ...limits, maxComputeWorkgroupStorageSize: 40 }), 10);
 * assert.equal(reductionWorkgroupSize({ ...limits, maxComputeWorkgroupStorageSize: 0 }), 1);
 * ```
 */
export function reductionWorkgroupSize(
  limits: Pick<
    PlanningLimits,
    "maxComputeInvocationsPerWorkgroup" | "maxComputeWorkgroupStorageSize"
  >,
): number {
  return Math.max(
    1,
    Math.min(
      64,
      limits.maxComputeInvocationsPerWorkgroup,
      Math.floor(limits.maxComputeWorkgroupStorageSize / 4),
    ),
  );
}

/**
 * WGSL of a workgroup of `WG` invocations (an `override` constant), one
 * unit (output or row) per workgroup: `fn reduce_sum(lid, v)` and
 * `fn reduce_max(lid, v)` combine every invocation's `v` and give each
 * invocation the result (the maximum is NaN-sticky by a bit test); the
 * entry point calls the body's `fn group(u: u32, lid: u32)` for unit
 * `p.base + workgroup index`, the whole workgroup returning together past
 * `p.end` (so the barriers stay in uniform control flow). A workgroup of
 * one has no workgroup memory.
 */
function reductionWgsl(size: number): string {
  const combine = (name: string, pick: string) =>
    size === 1 ? `fn ${name}(lid: u32, v: f32) -> f32 { return v; }` : `
fn ${name}(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  // The tree's first stride: half of WG rounded up to a power of two.
  for (var stride = 1u << (31u - countLeadingZeros(WG - 1u)); stride > 0u; stride >>= 1u) {
    if (lid < stride && lid + stride < WG) {
      let a = partial[lid];
      let b = partial[lid + stride];
      partial[lid] = ${pick};
    }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}`;
  return `override WG: u32;
${size === 1 ? "" : "var<workgroup> partial: array<f32, WG>;"}
${combine("reduce_sum", "a + b")}
${combine("reduce_max", "select(a, b, b > a || is_nan(b))")}
@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let u = p.base + wid.y * nwg.x + wid.x;
  if (u >= p.end) { return; }
  group(u, lid);
}`;
}

/** What {@link reductionSpec} builds a program from: a {@link ProgramSpec} but for the workgroup. */
export type ReductionProgram = Pick<ProgramSpec, "variant" | "key" | "reads" | "fields"> & {
  /** WGSL of `fn group(u: u32, lid: u32)` and its helpers; its strided loops step by `WG`. */
  readonly group: string;
};

/**
 * The {@link ProgramSpec} of a reducing program: one unit per workgroup of
 * {@link reductionWorkgroupSize} invocations, that size the `override`
 * constant `WG` (the workgroup size, the workgroup array's length and the
 * body's loop stride), and the reductions and entry point after `group`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reductionSpec } from "./reduce.ts";
 * const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384 };
 * const program = {
 *   variant: "f32-sum-wgsl",
 *   key: "",
 *   reads: ["x"],
 *   fields: [],
 *   group: "fn group(u: u32, lid: u32) { store_y(u, reduce_sum(lid, load_x(u))); }",
 * };
 * const spec = reductionSpec(limits, program);
 * assert.deepEqual([spec.workgroupSize, spec.unitsPerWorkgroup, spec.constants], [64, 1, { WG: 64 }]);
 * assert.match(spec.body, /var<workgroup> partial: array<f32, WG>;/);
 * const one = reductionSpec({ ...limits, maxComputeWorkgroupStorageSize: 0 }, program);
 * assert.doesNotMatch(one.body, /var<workgroup>/);
 * ```
 */
export function reductionSpec(
  limits: Pick<
    PlanningLimits,
    "maxComputeInvocationsPerWorkgroup" | "maxComputeWorkgroupStorageSize"
  >,
  program: ReductionProgram,
): ProgramSpec {
  const size = reductionWorkgroupSize(limits);
  return {
    variant: program.variant,
    key: program.key,
    reads: program.reads,
    fields: program.fields,
    constants: { WG: size },
    workgroupSize: size,
    unitsPerWorkgroup: 1,
    body: `${program.group}\n${reductionWgsl(size)}`,
  };
}
