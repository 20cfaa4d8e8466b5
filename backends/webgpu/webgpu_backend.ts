/// <reference types="@webgpu/types" />
/**
 * `createWebGpuBackend`: tensors live in `GPUBuffer`s; `run` records compute
 * passes into an open command encoder and returns at once; the encoder is
 * submitted by `download` / `sync`, and every {@link DISPATCHES_PER_SUBMIT}
 * dispatches so the GPU starts on a long network while the rest is still
 * being recorded.
 *
 * Everything a run needs is made once and cached: the pipeline of each
 * program backend-wide (by variant and baked-in configuration, see
 * `kernel.ts`), and per kernel the uniform buffer and bind groups of each
 * input shapes + buffers combination it has run on (the last 16), so a
 * network run again records dispatches and nothing else.
 *
 * GPU errors are asynchronous: every device call that can fail runs inside
 * `validation` and `out-of-memory` error scopes, whose results are checked
 * at the next call that waits (`download`, `sync`, `prepare`) and raised as
 * core's typed errors there. A lost device makes the next call throw
 * `BackendUnavailableError`; a new backend gets a new device.
 *
 * @module
 */

import {
  type Backend,
  type BackendCapabilities,
  type BackendImpl,
  BackendUnavailableError,
  defineBackend,
  DisposedError,
  InvalidArgumentError,
  type OpGeometry,
  OutOfMemoryError,
  UnsupportedError,
  validateOptions,
} from "@mobileops/core";
import { BufferPool, type GpuTensor, type PooledBuffer } from "./buffers.ts";
import type {
  PlanningLimits,
  Program,
  ProgramSpec,
  Span,
  Step,
  WebGpuContext,
  WebGpuKernel,
} from "./kernel.ts";
import { readsShuffled } from "./kernels/conv.ts";
import { type ChannelShuffleKernel, isChannelShuffle } from "./kernels/f32-channel-shuffle-wgsl.ts";
import { programSource, uniformBytes, uniformFields } from "./kernels/wgsl.ts";
import { GpuRunTimer } from "./timer.ts";
import { WEBGPU_VARIANTS } from "./variants.ts";

/** Limits the backend plans with, each overridable downwards (for tests of the split paths). */
export interface WebGpuLimits {
  /**
   * Bytes one storage binding may span: a multiple of 4, at least 4. Larger
   * tensors are bound in windows, one dispatch per window.
   */
  readonly maxStorageBufferBindingSize?: number;
  /** Workgroups per dispatch dimension, at least 1; larger work is split over dispatches. */
  readonly maxComputeWorkgroupsPerDimension?: number;
  /** Invocations per workgroup, at least 1: caps every program's workgroup size. */
  readonly maxComputeInvocationsPerWorkgroup?: number;
  /** Bytes of workgroup memory, at least 0: variants that need more are not chosen. */
  readonly maxComputeWorkgroupStorageSize?: number;
  /** Bytes of one buffer: a multiple of 4, at least 4. Larger tensors raise `OutOfMemoryError`. */
  readonly maxBufferSize?: number;
}

/** Options of {@link createWebGpuBackend}; every one may be left out. */
export interface WebGpuBackendOptions {
  /** Passed to `navigator.gpu.requestAdapter`. Default: the browser's choice. */
  readonly powerPreference?: "low-power" | "high-performance";
  /**
   * Lower limits than the device's to plan with (each at most the device's
   * own: `InvalidArgumentError` otherwise). Default: the device's.
   */
  readonly limits?: WebGpuLimits;
  /**
   * Whether a channel shuffle read by a depthwise convolution is folded
   * into that convolution's reads instead of being copied (see
   * docs/backends.md, "Channel shuffle: explicit or folded"). Default:
   * {@link FOLD_CHANNEL_SHUFFLE}.
   */
  readonly foldChannelShuffle?: boolean;
}

const OPTION_KEYS = ["powerPreference", "limits", "foldChannelShuffle"];

/**
 * The default of `foldChannelShuffle`, chosen by measuring ShuffleNet v1
 * (docs/backends.md, "Channel shuffle: explicit or folded").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FOLD_CHANNEL_SHUFFLE } from "./webgpu_backend.ts";
 * assert.equal(typeof FOLD_CHANNEL_SHUFFLE, "boolean");
 * ```
 */
export const FOLD_CHANNEL_SHUFFLE = true;
const LIMIT_KEYS: readonly (keyof PlanningLimits)[] = [
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupsPerDimension",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupStorageSize",
  "maxBufferSize",
];
/** The smallest value each limit override may take, and whether it must be a multiple of 4. */
const LIMIT_FLOORS: Readonly<Record<keyof PlanningLimits, readonly [number, boolean]>> = {
  maxStorageBufferBindingSize: [4, true],
  maxComputeWorkgroupsPerDimension: [1, false],
  maxComputeInvocationsPerWorkgroup: [1, false],
  maxComputeWorkgroupStorageSize: [0, false],
  maxBufferSize: [4, true],
};

/**
 * Dispatches recorded before the open encoder is submitted without being
 * asked to: enough that submission overhead stays small (MobileNet v1 is
 * ~30 dispatches, ShuffleNet v1 ~60), few enough that the GPU starts early.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DISPATCHES_PER_SUBMIT } from "./webgpu_backend.ts";
 * assert.equal(DISPATCHES_PER_SUBMIT, 32);
 * ```
 */
export const DISPATCHES_PER_SUBMIT = 32;
/** Input shapes + buffers combinations per kernel whose bind groups and uniforms are kept. */
const BOUND_RUNS_PER_KERNEL = 16;
/** Bytes of released buffers each pool keeps for reuse; past it they are destroyed. */
const POOLED_BYTES = 256 * 2 ** 20;

const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
const UNIFORM_USAGE = 0x40 | 0x08; // UNIFORM | COPY_DST
const STAGING_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST
const MAP_READ = 0x01;

/** One dispatch of a bound run. */
interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly group: GPUBindGroup;
  /** Dynamic offset of its uniform slot. */
  readonly offset: number;
  readonly x: number;
  readonly y: number;
}

/** A kernel's run on one input shapes + buffers combination, ready to record. */
interface BoundRun {
  /** The kernel variant, for error messages. */
  readonly variant: string;
  readonly dispatches: readonly Dispatch[];
  /** The uniform buffer holding every dispatch's slot. */
  readonly uniforms: PooledBuffer;
  /** Buffers its dispatches use, marked at every recording. */
  readonly uses: readonly PooledBuffer[];
}

/**
 * A channel shuffle that recorded nothing (folding): its output's buffer
 * holds no values yet (or, detached, its source's values unshuffled).
 * Readers that can permute their reads bind `source` instead; anything else
 * materializes it (records the explicit shuffle) first.
 */
interface ShuffleView {
  /** The shuffle's input. */
  readonly source: GpuTensor;
  /** The shuffle's kernel and geometry: what materializing records. */
  readonly kernel: ChannelShuffleKernel;
  readonly geometry: OpGeometry;
}

/** A storage binding of a step: the tensor or weight buffer, and the name errors give it. */
interface StepBinding {
  readonly tensor: GpuTensor;
  readonly field: string;
}

/** What a guarded GPU call names in its typed error; `bytes`: what it allocated, if anything. */
interface Check {
  readonly field: string;
  readonly value: unknown;
  readonly bytes: number;
}

class WebGpuBackendImpl
  implements BackendImpl<GpuTensor, WebGpuKernel, WebGpuContext>, WebGpuContext {
  readonly name = "webgpu";
  readonly capabilities: BackendCapabilities;
  readonly variants = WEBGPU_VARIANTS;
  readonly context: WebGpuContext = this;
  readonly limits: PlanningLimits;
  /** Whether channel shuffles are folded into their depthwise readers (read by those variants). */
  readonly foldChannelShuffle: boolean;
  /** Pending shuffle views, by the shuffle's output storage. */
  readonly #views = new Map<GpuTensor, ShuffleView>();
  readonly #device: GPUDevice;
  /** Binding offsets must be multiples of this many float32 values. */
  readonly #offsetAlignment: number;
  readonly #tensors: BufferPool;
  readonly #uniforms: BufferPool;
  readonly #staging: BufferPool;
  readonly #programs = new Map<string, Promise<Program>>();
  readonly #bound = new Map<WebGpuKernel, Map<string, BoundRun>>();
  #encoder: GPUCommandEncoder | undefined;
  /** Serial of the open (or next) command encoder. */
  #serial = 0;
  #sinceSubmit = 0;
  /** What the open encoder recorded, for the message of an error raised at its submission. */
  #recorded = new Set<string>();
  #submits = 0;
  #dispatches = 0;
  readonly #checks = new Set<Promise<void>>();
  #error: Error | undefined;
  #lost: GPUDeviceLostInfo | undefined;
  readonly #lostPromise: Promise<GPUDeviceLostInfo>;
  #disposed = false;
  /** GPU timestamps per run; only where the device has `timestamp-query`. */
  declare readonly timer?: GpuRunTimer;

  constructor(
    device: GPUDevice,
    limits: PlanningLimits,
    foldChannelShuffle: boolean,
    adapter: AdapterDescription,
  ) {
    this.capabilities = {
      device: "gpu",
      simd: true,
      relaxedSimd: false,
      threads: 1,
      asynchronous: true,
      ...adapter,
    };
    this.#device = device;
    this.limits = limits;
    this.foldChannelShuffle = foldChannelShuffle;
    this.#offsetAlignment = device.limits.minStorageBufferOffsetAlignment / 4;
    const ids = { next: 0 };
    this.#tensors = new BufferPool(device, STORAGE_USAGE, "mobileops tensor", POOLED_BYTES, ids);
    this.#uniforms = new BufferPool(device, UNIFORM_USAGE, "mobileops uniforms", POOLED_BYTES, ids);
    this.#staging = new BufferPool(device, STAGING_USAGE, "mobileops staging", POOLED_BYTES, ids);
    this.#lostPromise = device.lost.then((info) => {
      if (!this.#disposed) this.#lost = info;
      return info;
    });
    if (device.features.has("timestamp-query")) {
      this.timer = new GpuRunTimer(device, {
        usable: () => this.#usable(),
        encoder: () => this.#openEncoder(),
        submit: () => this.#submit(),
        lost: this.#lostPromise,
      });
    }
  }

  /** Throws the typed error of a lost device. */
  #usable(): void {
    if (this.#lost !== undefined) {
      throw new BackendUnavailableError(
        this.name,
        `the GPU device was lost (${this.#lost.reason || "unknown reason"}: ` +
          `${this.#lost.message}); create a new backend`,
      );
    }
  }

  /**
   * Runs `call` inside validation and out-of-memory error scopes; a GPU
   * error it causes is raised, as a typed error naming `check.field`, by the
   * next call that waits ({@link #raise}).
   */
  #guard<T>(check: Check, call: () => T): T {
    const device = this.#device;
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    try {
      return call();
    } finally {
      const validation = device.popErrorScope();
      const memory = device.popErrorScope();
      const settled = Promise.all([validation, memory]).then(([invalid, oom]) => {
        if (oom !== null) {
          this.#error ??= new OutOfMemoryError(this.name, check.bytes, oom.message);
        } else if (invalid !== null) {
          this.#error ??= new UnsupportedError(
            check.field,
            check.value,
            `the GPU rejected it: ${invalid.message}`,
          );
        }
      }, () => {/* a lost device rejects pending scopes; #usable reports the loss */});
      this.#checks.add(settled);
      settled.finally(() => this.#checks.delete(settled));
    }
  }

  /** Waits for every pending error scope and throws the first GPU error they caught. */
  async #raise(): Promise<void> {
    await Promise.all(this.#checks);
    this.#usable();
    const error = this.#error;
    if (error !== undefined) {
      this.#error = undefined;
      throw error;
    }
  }

  #openEncoder(): GPUCommandEncoder {
    this.#encoder ??= this.#device.createCommandEncoder();
    return this.#encoder;
  }

  /** Submits the open encoder, if it recorded anything; its released buffers become free. */
  #submit(): void {
    const encoder = this.#encoder;
    if (encoder === undefined) return;
    this.#encoder = undefined;
    const recorded = [...this.#recorded].join(", ");
    this.#guard(
      { field: "kernel", value: recorded, bytes: 0 },
      () => this.#device.queue.submit([encoder.finish()]),
    );
    this.#recorded.clear();
    this.#serial++;
    this.#sinceSubmit = 0;
    this.#submits++;
    this.#tensors.submitted();
    this.#uniforms.submitted();
  }

  #use(pooled: PooledBuffer): void {
    pooled.lastUse = this.#serial;
  }

  /** Clears a reused buffer before its first read, when nothing has written it yet. */
  #fresh(tensor: GpuTensor, encoder: GPUCommandEncoder): void {
    if (!tensor.stale) return;
    encoder.clearBuffer(tensor.pooled.buffer, 0, 4 * tensor.size);
    tensor.stale = false;
  }

  allocate(size: number): GpuTensor {
    this.#usable();
    const bytes = 4 * size;
    if (bytes > this.limits.maxBufferSize) {
      throw new OutOfMemoryError(
        this.name,
        bytes,
        `one buffer may hold at most ${this.limits.maxBufferSize} bytes (maxBufferSize)`,
      );
    }
    const { pooled, reused } = this.#guard(
      { field: "size", value: size, bytes },
      () => this.#tensors.acquire(bytes, this.limits.maxBufferSize),
    );
    return { pooled, size, stale: reused };
  }

  write(storage: GpuTensor, data: Float32Array): void {
    this.#usable();
    this.#guard(
      { field: "data", value: data, bytes: 0 },
      // Core hands over plain Float32Arrays; WebGPU's types also admit shared ones.
      () =>
        this.#device.queue.writeBuffer(storage.pooled.buffer, 0, data as Float32Array<ArrayBuffer>),
    );
    storage.stale = false;
  }

  async read(storage: GpuTensor, size: number): Promise<Float32Array> {
    this.#usable();
    if (this.#views.has(storage)) this.#materialize(storage);
    const bytes = 4 * size;
    const staging = this.#guard(
      { field: "tensor", value: `${size} values`, bytes },
      () => this.#staging.acquire(bytes).pooled,
    );
    const encoder = this.#openEncoder();
    this.#fresh(storage, encoder);
    encoder.copyBufferToBuffer(storage.pooled.buffer, 0, staging.buffer, 0, bytes);
    this.#use(storage.pooled);
    this.#recorded.add("download");
    this.#submit();
    const mapped = staging.buffer.mapAsync(MAP_READ, 0, bytes);
    // Losing the race to a lost device (or dispose) leaves the map to reject unobserved.
    mapped.catch(() => {});
    try {
      await Promise.race([mapped, this.#lostPromise]);
    } catch (error) {
      if (this.#disposed) throw new DisposedError(`backend ${this.name}`);
      this.#usable();
      throw error;
    }
    if (this.#disposed) throw new DisposedError(`backend ${this.name}`);
    this.#usable();
    const values = new Float32Array(staging.buffer.getMappedRange(0, bytes).slice(0));
    staging.buffer.unmap();
    this.#staging.release(staging, this.#serial);
    await this.#raise();
    return values;
  }

  release(storage: GpuTensor): void {
    if (this.#disposed) return;
    // A released view needs nothing; a released source is copied into its views first, before
    // its buffer can be handed out again.
    this.#views.delete(storage);
    for (const [view, { source }] of this.#views) if (source === storage) this.#detach(view);
    this.#tensors.release(storage.pooled, this.#serial);
  }

  weights(data: Float32Array): GpuTensor {
    const tensor = this.allocate(data.length);
    this.write(tensor, data);
    return tensor;
  }

  program(spec: ProgramSpec): Promise<Program> {
    this.#usable();
    const key = `${spec.variant}|${spec.key}|${spec.workgroupSize}|${
      JSON.stringify(spec.constants ?? {})
    }`;
    let program = this.#programs.get(key);
    if (program === undefined) {
      program = this.#compile(spec);
      this.#programs.set(key, program);
      // A program that failed to compile is not kept: the error is raised to this caller only.
      program.catch(() => this.#programs.delete(key));
    }
    return program;
  }

  async #compile(spec: ProgramSpec): Promise<Program> {
    const device = this.#device;
    const bytes = uniformBytes(spec);
    const entries: GPUBindGroupLayoutEntry[] = [
      {
        binding: 0,
        visibility: 0x4, // COMPUTE
        buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: bytes },
      },
      { binding: 1, visibility: 0x4, buffer: { type: "storage" } },
      ...spec.reads.map((_, i): GPUBindGroupLayoutEntry => ({
        binding: i + 2,
        visibility: 0x4,
        buffer: { type: "read-only-storage" },
      })),
    ];
    device.pushErrorScope("validation");
    let compiled: [GPUBindGroupLayout, GPUComputePipeline] | undefined;
    let failure: unknown;
    try {
      const layout = device.createBindGroupLayout({ label: spec.variant, entries });
      const module = device.createShaderModule({ label: spec.variant, code: programSource(spec) });
      compiled = [
        layout,
        await device.createComputePipelineAsync({
          label: spec.variant,
          layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
          compute: { module, entryPoint: "main", constants: spec.constants },
        }),
      ];
    } catch (error) {
      failure = error;
    }
    const error = await device.popErrorScope();
    if (error !== null || compiled === undefined) {
      throw new UnsupportedError(
        "variant",
        spec.variant,
        `the GPU rejected its program (${spec.key || "no options"}): ` +
          `${error?.message ?? (failure instanceof Error ? failure.message : failure)}`,
      );
    }
    const [layout, pipeline] = compiled;
    return { spec, pipeline, layout, uniformBytes: bytes };
  }

  run(kernel: WebGpuKernel, inputs: readonly GpuTensor[], output: GpuTensor, geometry: OpGeometry) {
    this.#usable();
    const reads = this.#resolveViews(kernel, inputs, output, geometry);
    if (reads === undefined) {
      // A folded shuffle records nothing: timed, it is a run without work.
      this.timer?.timestampWrites(0);
      return;
    }
    const bound = this.#boundRun(kernel, reads.inputs, output, geometry, reads.groups);
    this.#record(bound, reads.inputs, output, this.timer?.timestampWrites(bound.dispatches.length));
  }

  /**
   * Channel shuffle folding, before a run records anything. Views whose
   * source `output` overwrites are detached from it and a view `output`
   * overwrites is dropped; a shuffle (when folding) becomes a view of its
   * input and records nothing (`undefined`); a view read by a kernel that
   * can permute its reads is bound as its source with the shuffle's groups;
   * any other view input is materialized.
   */
  #resolveViews(
    kernel: WebGpuKernel,
    inputs: readonly GpuTensor[],
    output: GpuTensor,
    geometry: OpGeometry,
  ): { inputs: readonly GpuTensor[]; groups: number } | undefined {
    this.#views.delete(output);
    for (const [view, { source }] of this.#views) if (source === output) this.#detach(view);
    if (this.foldChannelShuffle && isChannelShuffle(kernel)) {
      if (this.#views.has(inputs[0])) this.#materialize(inputs[0]);
      this.#views.set(output, { source: inputs[0], kernel, geometry });
      return undefined;
    }
    const view = this.#views.get(inputs[0]);
    if (view !== undefined && inputs.length === 1 && readsShuffled(kernel)) {
      return { inputs: [view.source], groups: view.kernel.shuffleGroups };
    }
    for (const input of inputs) if (this.#views.has(input)) this.#materialize(input);
    return { inputs, groups: 0 };
  }

  /**
   * The source of pending view `storage` is about to change: copies the
   * source's values into the view's own (unused) buffer — a buffer copy, no
   * dispatch — and the view reads through itself from then on.
   */
  #detach(storage: GpuTensor): void {
    const view = this.#views.get(storage)!;
    this.#copy(view.source, storage);
    this.#views.set(storage, { ...view, source: storage });
  }

  /** Records a copy of `from`'s values into `to`'s buffer. */
  #copy(from: GpuTensor, to: GpuTensor): void {
    this.#guard({ field: "tensor", value: "channel shuffle", bytes: 0 }, () => {
      const encoder = this.#openEncoder();
      this.#fresh(from, encoder);
      encoder.copyBufferToBuffer(from.pooled.buffer, 0, to.pooled.buffer, 0, 4 * to.size);
    });
    this.#use(from.pooled);
    this.#use(to.pooled);
    to.stale = false;
  }

  /**
   * Records the explicit shuffle of a pending view into its own buffer; a
   * detached view (holding its source's values itself) is shuffled from a
   * scratch copy.
   */
  #materialize(storage: GpuTensor): void {
    const { source, kernel, geometry } = this.#views.get(storage)!;
    this.#views.delete(storage);
    const from = source === storage ? this.allocate(storage.size) : source;
    if (from !== source) this.#copy(storage, from);
    this.#record(this.#boundRun(kernel, [from], storage, geometry, 0), [from], storage);
    if (from !== source) this.release(from);
  }

  /** Records a bound run as one compute pass; submits every {@link DISPATCHES_PER_SUBMIT}. */
  #record(
    bound: BoundRun,
    inputs: readonly GpuTensor[],
    output: GpuTensor,
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void {
    this.#guard({ field: "kernel", value: bound.variant, bytes: 0 }, () => {
      const encoder = this.#openEncoder();
      for (const input of inputs) this.#fresh(input, encoder);
      output.stale = false;
      const pass = encoder.beginComputePass({ timestampWrites });
      for (const dispatch of bound.dispatches) {
        pass.setPipeline(dispatch.pipeline);
        pass.setBindGroup(0, dispatch.group, [dispatch.offset]);
        pass.dispatchWorkgroups(dispatch.x, dispatch.y);
      }
      pass.end();
    });
    for (const pooled of bound.uses) this.#use(pooled);
    this.#recorded.add(bound.variant);
    this.#dispatches += bound.dispatches.length;
    this.#sinceSubmit += bound.dispatches.length;
    if (this.#sinceSubmit >= DISPATCHES_PER_SUBMIT) this.#submit();
  }

  /**
   * The cached bound run of this kernel, shapes and buffers, made on a miss;
   * `shuffle` > 0: reading input 0 through a shuffle of that many groups.
   */
  #boundRun(
    kernel: WebGpuKernel,
    inputs: readonly GpuTensor[],
    output: GpuTensor,
    geometry: OpGeometry,
    shuffle: number,
  ): BoundRun {
    const shapes = geometry.inputShapes.map((shape) => shape.join("x")).join(",");
    const key = `${shapes}|${output.pooled.id},${inputs.map((t) => t.pooled.id).join(",")}|` +
      shuffle;
    let runs = this.#bound.get(kernel);
    if (runs === undefined) {
      runs = new Map();
      this.#bound.set(kernel, runs);
    }
    const cached = runs.get(key);
    if (cached !== undefined) {
      // Map order is insertion order: re-inserting marks it the most recently run.
      runs.delete(key);
      runs.set(key, cached);
      return cached;
    }
    const bound = this.#bind(kernel, inputs, output, geometry, shuffle);
    runs.set(key, bound);
    for (const [oldest, run] of runs) {
      if (runs.size <= BOUND_RUNS_PER_KERNEL) break;
      runs.delete(oldest);
      this.#uniforms.release(run.uniforms, this.#serial);
    }
    return bound;
  }

  /** Plans the call, splits its steps into dispatches, writes their uniforms, makes bind groups. */
  #bind(
    kernel: WebGpuKernel,
    inputs: readonly GpuTensor[],
    output: GpuTensor,
    geometry: OpGeometry,
    shuffle: number,
  ): BoundRun {
    const steps = shuffle > 0 && readsShuffled(kernel)
      ? kernel.planShuffled(geometry, shuffle)
      : kernel.plan(geometry);
    const alignment = this.#device.limits.minUniformBufferOffsetAlignment;
    const planned = steps.map((step) => {
      const bindings: StepBinding[] = [
        { tensor: output, field: "output" },
        ...step.reads.map((source): StepBinding =>
          "input" in source
            ? { tensor: inputs[source.input], field: `inputs[${source.input}]` }
            : { tensor: kernel.weights[source.weight], field: "kernel" }
        ),
      ];
      return { step, bindings, chunks: this.#chunks(step, bindings) };
    });
    const slotBytes = Math.ceil(
      Math.max(16, ...steps.map((step) => step.program.uniformBytes)) / alignment,
    ) * alignment;
    const slots = planned.reduce((sum, { chunks }) => sum + chunks.length, 0);
    const data = new DataView(new ArrayBuffer(Math.max(1, slots) * slotBytes));
    const uniforms = this.#guard(
      { field: "kernel", value: "uniforms", bytes: data.byteLength },
      () => this.#uniforms.acquire(data.byteLength).pooled,
    );
    const dispatches: Dispatch[] = [];
    const uses = new Set<PooledBuffer>([uniforms, output.pooled]);
    const variant = steps[0]?.program.spec.variant ?? "";
    this.#guard({ field: "kernel", value: variant, bytes: 0 }, () => {
      let slot = 0;
      for (const { step, bindings, chunks } of planned) {
        const program = step.program;
        const fields = uniformFields(program.spec);
        const unitsPerWorkgroup = program.spec.unitsPerWorkgroup;
        for (const binding of bindings) uses.add(binding.tensor.pooled);
        for (const chunk of chunks) {
          const offset = slot++ * slotBytes;
          const values = [chunk.start, chunk.end, ...chunk.windows.map(([s]) => s), ...step.values];
          fields.forEach(([, type], i) => {
            const at = offset + 4 * i;
            if (type === "f32") data.setFloat32(at, values[i], true);
            else if (type === "i32") data.setInt32(at, values[i], true);
            else data.setUint32(at, values[i], true);
          });
          const group = this.#device.createBindGroup({
            layout: program.layout,
            entries: [
              { binding: 0, resource: { buffer: uniforms.buffer, size: program.uniformBytes } },
              ...bindings.map(({ tensor }, i): GPUBindGroupEntry => {
                const [start, end] = chunk.windows[i];
                return {
                  binding: i + 1,
                  resource: {
                    buffer: tensor.pooled.buffer,
                    offset: 4 * start,
                    size: 4 * (end - start),
                  },
                };
              }),
            ],
          });
          const workgroups = Math.ceil((chunk.end - chunk.start) / unitsPerWorkgroup);
          const x = Math.min(workgroups, this.limits.maxComputeWorkgroupsPerDimension);
          dispatches.push({
            pipeline: program.pipeline,
            group,
            offset,
            x,
            y: Math.ceil(workgroups / x),
          });
        }
      }
      this.#device.queue.writeBuffer(uniforms.buffer, 0, data);
    });
    for (const weight of kernel.weights) uses.add(weight.pooled);
    return { variant, dispatches, uniforms, uses: [...uses] };
  }

  /**
   * Splits a step's units into dispatch-sized chunks: at most
   * `maxComputeWorkgroupsPerDimension²` workgroups each, and, for a binding
   * larger than `maxStorageBufferBindingSize`, units whose span of it (its
   * start aligned down to `minStorageBufferOffsetAlignment`) fits the limit.
   * Each chunk holds as many units as fit, found by bisection (a span only
   * grows with its units).
   */
  #chunks(step: Step, bindings: readonly StepBinding[]) {
    const limits = this.limits;
    const perDispatch = limits.maxComputeWorkgroupsPerDimension ** 2 *
      step.program.spec.unitsPerWorkgroup;
    const maxElements = Math.floor(limits.maxStorageBufferBindingSize / 4);
    const whole = bindings.map(({ tensor }) => tensor.size <= maxElements);
    const windows = (start: number, end: number): Span[] =>
      bindings.map(({ tensor }, i) => {
        if (whole[i]) return [0, tensor.size];
        const [first, last] = step.span(i, start, end);
        const aligned = Math.floor(first / this.#offsetAlignment) * this.#offsetAlignment;
        // A binding is never empty (nor shorter than a vec4), even where the units read none of it.
        return [aligned, Math.min(tensor.size, Math.max(last, aligned + 4))];
      });
    const fits = (spans: readonly Span[]) => spans.every(([s, e]) => e - s <= maxElements);
    const chunks: { start: number; end: number; windows: readonly Span[] }[] = [];
    for (let start = 0; start < step.units;) {
      let end = Math.min(step.units, start + perDispatch);
      if (!fits(windows(start, end))) {
        const one = windows(start, start + 1);
        const i = one.findIndex(([s, e]) => e - s > maxElements);
        if (i >= 0) {
          throw new UnsupportedError(
            bindings[i].field,
            `${bindings[i].tensor.size} values`,
            `one unit of ${step.program.spec.variant} needs ${4 * (one[i][1] - one[i][0])} ` +
              `bytes of it bound at once, more than maxStorageBufferBindingSize ` +
              `(${limits.maxStorageBufferBindingSize})`,
          );
        }
        let low = start + 1;
        while (low < end - 1) {
          const middle = Math.floor((low + end) / 2);
          if (fits(windows(start, middle))) low = middle;
          else end = middle;
        }
        end = fits(windows(start, end)) ? end : low;
      }
      chunks.push({ start, end, windows: windows(start, end) });
      start = end;
    }
    return chunks;
  }

  releaseKernel(kernel: WebGpuKernel): void {
    if (this.#disposed) return;
    // A pending view needs its shuffle's pipeline and bound runs to be materialized later.
    for (const [view, pending] of this.#views) {
      if (pending.kernel === kernel) this.#materialize(view);
    }
    for (const weight of kernel.weights) this.release(weight);
    for (const run of this.#bound.get(kernel)?.values() ?? []) {
      this.#uniforms.release(run.uniforms, this.#serial);
    }
    this.#bound.delete(kernel);
  }

  async sync(): Promise<void> {
    this.#usable();
    this.#submit();
    await Promise.race([this.#device.queue.onSubmittedWorkDone(), this.#lostPromise]);
    await this.#raise();
  }

  memoryDetail(): Record<string, number> {
    const pools = [this.#tensors.stats(), this.#uniforms.stats(), this.#staging.stats()];
    return {
      buffers: pools.reduce((sum, pool) => sum + pool.buffers, 0),
      bufferBytes: pools.reduce((sum, pool) => sum + pool.bytes, 0),
      pooledBuffers: pools.reduce((sum, pool) => sum + pool.pooled, 0),
      pooledBytes: pools.reduce((sum, pool) => sum + pool.pooledBytes, 0),
      pipelines: this.#programs.size,
      dispatches: this.#dispatches,
      submits: this.#submits,
    };
  }

  dispose(): void {
    this.#disposed = true;
    this.timer?.dispose();
    this.#encoder = undefined;
    this.#bound.clear();
    this.#tensors.destroy();
    this.#uniforms.destroy();
    this.#staging.destroy();
    this.#programs.clear();
    this.#device.destroy();
  }
}

function validateLimits(value: unknown): Partial<PlanningLimits> {
  const limits = validateOptions<Partial<PlanningLimits>>("options.limits", value, LIMIT_KEYS);
  for (const key of LIMIT_KEYS) {
    const limit = limits[key];
    if (limit === undefined) continue;
    const [floor, multipleOf4] = LIMIT_FLOORS[key];
    if (
      typeof limit !== "number" || !Number.isInteger(limit) || limit < floor ||
      (multipleOf4 && limit % 4 !== 0)
    ) {
      throw new InvalidArgumentError(
        `options.limits.${key}`,
        limit,
        `must be an integer of at least ${floor}${multipleOf4 ? ", a multiple of 4" : ""}`,
      );
    }
  }
  return limits;
}

/** What the capabilities say of the adapter. */
interface AdapterDescription {
  readonly adapter?: string;
  readonly softwareAdapter: boolean;
}

/** Drivers that implement WebGPU / Vulkan on the CPU, by the names they give. */
const SOFTWARE_DRIVERS = /llvmpipe|lavapipe|swiftshader|software/i;

/**
 * The adapter's name from `GPUAdapterInfo` (description, else vendor and
 * architecture), and whether it is a software adapter: WebGPU's
 * `isFallbackAdapter` (on `info`, or on the adapter in older runtimes) or a
 * name that says so.
 */
function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = (adapter as { info?: Partial<GPUAdapterInfo> }).info ?? {};
  const name = info.description ||
    [info.vendor, info.architecture, info.device].filter((part) => part).join(" ");
  const fallback = info.isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return {
    ...(name ? { adapter: name } : {}),
    softwareAdapter: fallback || SOFTWARE_DRIVERS.test(name ?? ""),
  };
}

/**
 * Creates the WebGPU backend: asks `navigator.gpu` for an adapter and a
 * device of its own (with the adapter's largest buffer, binding, workgroup
 * and storage limits), which `dispose()` destroys with every buffer.
 *
 * @param options Optional; see {@link WebGpuBackendOptions}.
 * @throws {InvalidArgumentError} `options` is not an object, has a key that
 *   is not an option, `powerPreference` is not one of its two values, or a
 *   limit is not an integer in its range or is above the device's own; the
 *   error names the field (`options.limits.maxBufferSize`).
 * @throws {BackendUnavailableError} No `navigator.gpu`, no adapter, or the
 *   adapter refused a device; the message says which.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { add, BackendUnavailableError } from "@mobileops/core";
 * import { createWebGpuBackend } from "./webgpu_backend.ts";
 * // Where no adapter exists the factory says why, and the example stops there.
 * const backend = await createWebGpuBackend().catch((error) => {
 *   assert(error instanceof BackendUnavailableError);
 *   return undefined;
 * });
 * if (backend !== undefined) {
 *   using _ = backend;
 *   const kernel = await backend.prepare(add({ activation: "relu" }));
 *   const a = backend.upload([1, -4], [2]);
 *   const b = backend.upload([2, 3], [2]);
 *   assert.deepEqual([...await backend.run(kernel, [a, b]).download()], [3, 0]);
 * }
 * ```
 */
export async function createWebGpuBackend(options?: WebGpuBackendOptions): Promise<Backend> {
  const { powerPreference, limits, foldChannelShuffle } = validateOptions<WebGpuBackendOptions>(
    "options",
    options,
    OPTION_KEYS,
  );
  if (foldChannelShuffle !== undefined && typeof foldChannelShuffle !== "boolean") {
    throw new InvalidArgumentError(
      "options.foldChannelShuffle",
      foldChannelShuffle,
      "must be a boolean",
    );
  }
  if (
    powerPreference !== undefined && powerPreference !== "low-power" &&
    powerPreference !== "high-performance"
  ) {
    throw new InvalidArgumentError(
      "options.powerPreference",
      powerPreference,
      'must be "low-power" or "high-performance"',
    );
  }
  const overrides = validateLimits(limits);
  const gpu: GPU | undefined = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (gpu === undefined) {
    throw new BackendUnavailableError("webgpu", "this runtime has no navigator.gpu (no WebGPU)");
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : undefined);
  } catch (error) {
    throw new BackendUnavailableError("webgpu", `navigator.gpu.requestAdapter failed: ${error}`);
  }
  if (adapter === null) {
    throw new BackendUnavailableError(
      "webgpu",
      "navigator.gpu.requestAdapter() found no adapter (no GPU or no driver; on Linux, " +
        "Mesa's Vulkan drivers give a software one)",
    );
  }
  // Timestamps give the backend a GPU clock for `time`; an adapter stub without `features` gets none.
  const features: GPUFeatureName[] = adapter.features?.has("timestamp-query")
    ? ["timestamp-query"]
    : [];
  const wanted = {
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
    maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
  };
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits: wanted, requiredFeatures: features });
  } catch (error) {
    throw new BackendUnavailableError("webgpu", `the adapter refused a device: ${error}`);
  }
  const own: PlanningLimits = {
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    maxComputeInvocationsPerWorkgroup: Math.min(
      device.limits.maxComputeInvocationsPerWorkgroup,
      device.limits.maxComputeWorkgroupSizeX,
    ),
    maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
    maxBufferSize: device.limits.maxBufferSize,
  };
  for (const key of LIMIT_KEYS) {
    const limit = overrides[key];
    if (limit !== undefined && limit > own[key]) {
      device.destroy();
      throw new InvalidArgumentError(
        `options.limits.${key}`,
        limit,
        `must be at most the device's own ${own[key]} (limits can only be lowered)`,
      );
    }
  }
  return defineBackend(
    new WebGpuBackendImpl(
      device,
      { ...own, ...overrides },
      foldChannelShuffle ?? FOLD_CHANNEL_SHUFFLE,
      describeAdapter(adapter),
    ),
  );
}
