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

import type { PlanningLimits } from "../kernel.ts";

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
 * WGSL of a workgroup of `size` invocations, one unit (output or row) per
 * workgroup: `fn reduce_sum(lid, v)` and `fn reduce_max(lid, v)` combine
 * every invocation's `v` and give each invocation the result (the maximum
 * is NaN-sticky by a bit test); the entry point calls the body's
 * `fn group(u: u32, lid: u32)` for unit `p.base + workgroup index`, the
 * whole workgroup returning together past `p.end` (so the barriers stay in
 * uniform control flow).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reductionWgsl } from "./reduce.ts";
 * assert.match(reductionWgsl(64), /var<workgroup> partial: array<f32, 64>;/);
 * assert.doesNotMatch(reductionWgsl(1), /var<workgroup>/);
 * ```
 */
export function reductionWgsl(size: number): string {
  const combine = (name: string, pick: string) =>
    size === 1 ? `fn ${name}(lid: u32, v: f32) -> f32 { return v; }` : `
fn ${name}(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var stride = ${2 ** Math.ceil(Math.log2(size)) / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride && lid + stride < ${size}u) {
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
  return `${size === 1 ? "" : `var<workgroup> partial: array<f32, ${size}>;`}
${combine("reduce_sum", "a + b")}
${combine("reduce_max", "select(a, b, b > a || is_nan(b))")}
@compute @workgroup_size(${size})
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
