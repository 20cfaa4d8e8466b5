/// <reference types="@webgpu/types" />
/**
 * What a kernel of the WebGPU backend is, and what its variants get from the
 * backend. A variant describes compute programs as data ({@link ProgramSpec}:
 * WGSL body, uniform fields, storage bindings); the backend compiles each
 * program once per device and caches the pipeline by variant and baked-in
 * configuration, never per kernel. Sizes travel in a uniform buffer, so one
 * pipeline serves every shape of a layer kind. At run time a kernel only
 * plans: it turns the call's geometry into {@link Step}s (a program, its
 * uniform values, its inputs and weights, how many units of work); the
 * backend splits each step into dispatches that fit the device limits and
 * records them.
 *
 * @module
 */

import type { DescriptorOf, KernelVariant, OpGeometry, OpName } from "@mobileops/core";
import type { GpuTensor } from "./buffers.ts";

/**
 * The device limits the backend plans with: the device's own, or lower ones
 * given in the options (so that tests reach the split paths on small shapes).
 */
export interface PlanningLimits {
  /** Bytes one storage buffer binding may span; larger tensors are bound in windows. */
  readonly maxStorageBufferBindingSize: number;
  /** Workgroups per dimension of one dispatch; more work is split over dispatches. */
  readonly maxComputeWorkgroupsPerDimension: number;
  /** Invocations one workgroup may hold (capped by the device's `maxComputeWorkgroupSizeX` too). */
  readonly maxComputeInvocationsPerWorkgroup: number;
  /** Bytes of `var<workgroup>` memory one workgroup may use. */
  readonly maxComputeWorkgroupStorageSize: number;
  /** Bytes one buffer may hold: the largest tensor or weight array. */
  readonly maxBufferSize: number;
}

/** A scalar field of a program's uniform block: its WGSL name and type. */
export type UniformField = readonly [name: string, type: "u32" | "i32" | "f32"];

/**
 * A compute program as a variant describes it. The backend wraps `body` in
 * a header (see `kernels/wgsl.ts`) that declares the uniform block `p` — the
 * dispatch fields `base` and `end`, one element offset per storage binding,
 * then `fields` — and the storage bindings: `y`, the output, read-write,
 * then `reads`, read-only, each with its accessors (`load_<name>(i)`,
 * `store_y(i, v)`) taking element indices of the whole tensor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProgramSpec } from "./kernel.ts";
 * import { elementMain } from "./kernels/wgsl.ts";
 * // y = 2·x, one element per invocation.
 * const double: ProgramSpec = {
 *   variant: "f32-double-wgsl",
 *   key: "",
 *   reads: ["x"],
 *   fields: [],
 *   workgroupSize: 64,
 *   unitsPerWorkgroup: 64,
 *   body: `fn unit(u: u32) { store_y(u, 2.0 * load_x(u)); }\n${elementMain(64)}`,
 * };
 * assert.match(double.body, /@workgroup_size\(64\)/);
 * ```
 */
export interface ProgramSpec {
  /** The kernel variant the program belongs to, e.g. `"f32-add-wgsl"`. */
  readonly variant: string;
  /** What is baked into `body` beyond the variant (activation kind, tile sizes…): the cache key. */
  readonly key: string;
  /** Names of the read-only storage bindings, in binding order (inputs, then weights). */
  readonly reads: readonly string[];
  /**
   * Those of `reads` declared `array<vec4f>`, read four values at a time by
   * `load4_<name>(i)` (`i` a multiple of 4; binding windows start at
   * multiples of 64 values, so their offsets keep that), and `"y"` for an
   * output written the same way by `store4_y(i, v)`. Default: none.
   */
  readonly vec4?: readonly string[];
  /**
   * Values of the body's `override` declarations (kernel size, workgroup
   * size…), set when the pipeline is created so the compiler sees them as
   * constants. Part of the cache key: the backend adds them to `key`.
   * Default: none.
   */
  readonly constants?: Readonly<Record<string, number>>;
  /** The program's own uniform fields, after the dispatch fields and offsets. */
  readonly fields: readonly UniformField[];
  /** Invocations per workgroup (the `@workgroup_size` in `body`). */
  readonly workgroupSize: number;
  /**
   * Units of work one workgroup covers: `workgroupSize` when every invocation
   * takes one unit (`elementMain`), 1 when the whole workgroup shares a tile.
   */
  readonly unitsPerWorkgroup: number;
  /** WGSL after the header: helper functions and the `main` entry point. */
  readonly body: string;
}

/** A compiled {@link ProgramSpec}: the pipeline and layout the backend cached for it. */
export interface Program {
  /** What it was compiled from. */
  readonly spec: ProgramSpec;
  /** The compute pipeline, shared by every kernel that uses this spec. */
  readonly pipeline: GPUComputePipeline;
  /** Its bind group layout: uniform block (dynamic offset), output, reads. */
  readonly layout: GPUBindGroupLayout;
  /** Bytes of the uniform block. */
  readonly uniformBytes: number;
}

/** Where one read-only binding of a step comes from: a run input, or a kernel weight buffer. */
export type Source = { readonly input: number } | { readonly weight: number };

/** A half-open element range `[start, end)` of a tensor or weight buffer. */
export type Span = readonly [start: number, end: number];

/**
 * One program run over `units` units of work (elements, rows, tiles) of one
 * operator call. The backend may split the units over several dispatches:
 * for `maxComputeWorkgroupsPerDimension`, and, where a tensor is larger than
 * `maxStorageBufferBindingSize`, so that each dispatch binds only the window
 * of it that its units touch (`span`).
 */
export interface Step {
  /** The compiled program. */
  readonly program: Program;
  /** Units of work; the program sees `base ≤ unit < end` per dispatch. */
  readonly units: number;
  /** The program's `fields`, in order. */
  readonly values: readonly number[];
  /** The read-only bindings, in the order of the program's `reads`. */
  readonly reads: readonly Source[];
  /**
   * The elements of binding `binding` (0: the output, then `reads` in
   * order) that units `[start, end)` read or write: a superset is fine, a
   * missing element is a bug (the test suite runs with small binding limits
   * to catch it).
   */
  span(binding: number, start: number, end: number): Span;
}

/** A prepared operator of the WebGPU backend. */
export interface WebGpuKernel {
  /** Weight buffers the kernel owns (freed with it): filters, biases, matrices. */
  readonly weights: readonly GpuTensor[];
  /** The steps of one call, for the geometry core inferred (steps run in order). */
  plan(geometry: OpGeometry): readonly Step[];
}

/** What the backend gives every kernel variant. */
export interface WebGpuContext {
  /** The limits to plan with. */
  readonly limits: PlanningLimits;
  /** The compiled program of `spec`, from the backend-wide cache or compiled now. */
  program(spec: ProgramSpec): Promise<Program>;
  /** A new weight buffer holding `data`, owned by the kernel that lists it in `weights`. */
  weights(data: Float32Array): GpuTensor;
}

/**
 * One kernel variant of the WebGPU backend for operator `Op`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmax } from "@mobileops/core";
 * import type { WebGpuContext, WebGpuKernelVariant } from "./kernel.ts";
 * // A variant that would take only rank-2 softmax calls can still only see the descriptor.
 * const variant: WebGpuKernelVariant<"softmax"> = {
 *   name: "f32-softmax-toy-wgsl",
 *   matches: () => true,
 *   prepare: () => ({ weights: [], plan: () => [] }),
 * };
 * assert(variant.matches(softmax(), {} as WebGpuContext));
 * ```
 */
export type WebGpuKernelVariant<Op extends OpName> = KernelVariant<
  DescriptorOf<Op>,
  WebGpuKernel,
  WebGpuContext
>;
