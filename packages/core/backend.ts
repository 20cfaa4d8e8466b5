/**
 * The backend interface, and {@link defineBackend}, which wraps a backend's
 * raw implementation with the validation every backend shares. A backend
 * author writes a {@link BackendImpl} (storage, kernel variants, run) and never
 * checks a shape, a weight length or an owner: the wrapper has done it, the
 * same way for every backend.
 *
 * @module
 */

import { descriptorKey, type OpDescriptor, validateDescriptor } from "./descriptors.ts";
import { BackendMismatchError, DisposedError, InvalidArgumentError, ShapeError } from "./errors.ts";
import {
  inferGeometry,
  type OpGeometry,
  type Shape,
  shapeSize,
  validateShape,
} from "./geometry.ts";
import { mintTensor, Tensor, type TensorOwner, tensorState } from "./tensor.ts";
import { chooseVariant, variantNames, type VariantTables } from "./variants.ts";
import { validateWeights, type WeightsFor } from "./weights.ts";

/** What a backend can do here. */
export interface BackendCapabilities {
  /** Where tensors live. */
  readonly device: "cpu" | "gpu";
  /** Whether kernels use SIMD (WebAssembly SIMD128, GPU lanes). */
  readonly simd: boolean;
  /** Whether kernels use relaxed-SIMD fused multiply-add. */
  readonly relaxedSimd: boolean;
  /** Threads a kernel may use. */
  readonly threads: number;
  /**
   * Why `threads` is 1 although more were asked for or the default would be
   * more: no `SharedArrayBuffer` (e.g. a page that is not cross-origin
   * isolated), no Worker API, or workers that failed to start. Absent
   * otherwise.
   */
  readonly threadsUnavailable?: string;
  /**
   * A GPU backend's adapter as the runtime names it (e.g. `"llvmpipe (LLVM
   * 15.0.6, 256 bits)"`); absent on CPU backends or where the runtime says
   * nothing.
   */
  readonly adapter?: string;
  /**
   * Whether that adapter is a software implementation running on the CPU
   * (WebGPU's `GPUAdapterInfo.isFallbackAdapter`, or a driver known to be one:
   * llvmpipe / lavapipe, SwiftShader): its timings say nothing about a GPU.
   */
  readonly softwareAdapter?: boolean;
  /** Whether `run` only enqueues work, so results are ready after `sync()` or `download()`. */
  readonly asynchronous: boolean;
}

/** Memory held by a backend. */
export interface MemoryStats {
  /** Live (not yet disposed) tensors. */
  readonly tensors: number;
  /** Live (not yet disposed) prepared kernels. */
  readonly kernels: number;
  /** Bytes held by live tensors' data. */
  readonly tensorBytes: number;
  /** The most tensor bytes held at once. */
  readonly peakTensorBytes: number;
  /** Backend-specific figures (e.g. linear memory size), when it reports any. */
  readonly detail?: Readonly<Record<string, number>>;
}

/**
 * A backend's raw implementation. `S` is its tensor storage, `K` its prepared
 * kernel, `C` the state its kernel variants share. Every argument it receives
 * has been validated by {@link defineBackend}.
 */
export interface BackendImpl<S, K, C = undefined> {
  /** Backend name, exposed as {@link Backend.name} and used in error messages. */
  readonly name: string;
  /** Exposed unchanged as {@link Backend.capabilities}. */
  readonly capabilities: BackendCapabilities;
  /** Storage for `size` float32 values, zero-filled. */
  allocate(size: number): S;
  /** Copies `data` (exactly the storage's size) in. */
  write(storage: S, data: Float32Array): void;
  /** Copies `size` values out, after pending work. */
  read(storage: S, size: number): Promise<Float32Array>;
  /** Frees a tensor's storage; called once per tensor, on dispose or backend dispose. */
  release(storage: S): void;
  /**
   * The kernels per operator, tried in order: `prepare` runs the first whose
   * `matches` accepts the validated descriptor, and names it on the kernel.
   */
  readonly variants: VariantTables<K, C>;
  /** Passed to every variant's `matches` and `prepare` (memory, device, caches). */
  readonly context: C;
  /** Computes (or enqueues) the operator; `output` never aliases an input. */
  run(kernel: K, inputs: readonly S[], output: S, geometry: OpGeometry): void;
  /** Frees a prepared kernel; called once per kernel, on dispose or backend dispose. */
  releaseKernel(kernel: K): void;
  /** Resolves when all enqueued work has finished. */
  sync(): Promise<void>;
  /** Backend-specific memory figures. */
  memoryDetail?(): Record<string, number>;
  /**
   * A device-side clock (e.g. GPU timestamps) for {@link Backend.time};
   * without one, core times each `run` on the CPU clock.
   */
  readonly timer?: RunTimer;
  /** Frees the backend itself; called once, after every tensor and kernel is released. */
  dispose(): void;
}

/**
 * A backend's own clock for {@link Backend.time}: GPU timestamps around each
 * run's work, where the device has them.
 */
export interface RunTimer {
  /** Starts timing: every `run` from now until `stop` gets one duration. */
  start(): void;
  /**
   * Ends timing; resolves, once the timed work has finished, to one duration
   * in milliseconds per `run` since `start`, in call order (0 for a run that
   * did no work on the device).
   */
  stop(): Promise<readonly number[]>;
}

/** One `run` measured by {@link Backend.time}. */
export interface RunTiming {
  /** The kernel's variant, e.g. `"f32-dwconv-3x3-js"`. */
  readonly variant: string;
  /** The kernel's descriptor key ({@link descriptorKey}). */
  readonly key: string;
  /** Duration in milliseconds, on {@link RunTimings.clock}. */
  readonly ms: number;
}

/** What {@link Backend.time} measured. */
export interface RunTimings {
  /**
   * Which clock: `"device"` is the backend's own (GPU timestamps: the work
   * itself); `"cpu"` is the wall time of each `run` of a synchronous backend
   * (the work itself); `"enqueue"` is the wall time of each `run` of an
   * asynchronous backend without a device clock: the time to record the
   * work, not to do it.
   */
  readonly clock: "device" | "cpu" | "enqueue";
  /** One entry per `run` made by the timed work, in call order. */
  readonly runs: readonly RunTiming[];
}

/** A prepared operator: descriptor plus weights packed for one backend. */
export interface Kernel<D extends OpDescriptor = OpDescriptor> {
  /** The validated, frozen canonical form of the descriptor given to `prepare`. */
  readonly descriptor: D;
  /** {@link descriptorKey} of the descriptor. */
  readonly key: string;
  /** Name of the backend that prepared it. */
  readonly backend: string;
  /** Name of the kernel variant that runs it, e.g. `"f32-dwconv-3x3-js"`. */
  readonly variant: string;
  /** Whether {@link Kernel.dispose} (or its backend's dispose) has run; running it then throws. */
  readonly disposed: boolean;
  /** Frees the packed weights. Idempotent. */
  dispose(): void;
  /** Lets `using k = …` dispose the kernel at scope end. */
  [Symbol.dispose](): void;
}

/** A backend, as users see it. Create one with its package's factory. */
export interface Backend extends Disposable {
  /** Backend name, as reported by {@link Tensor.backend} and {@link Kernel.backend}. */
  readonly name: string;
  /** What this backend can do here: device, SIMD, threads, whether `run` is asynchronous. */
  readonly capabilities: BackendCapabilities;
  /** Every kernel variant this backend can choose from, operator by operator in table order. */
  readonly variants: readonly string[];
  /** Whether {@link Backend.dispose} has been called; uploads, runs and reads then fail. */
  readonly disposed: boolean;
  /** Copies `data` into a new tensor of `shape`. */
  upload(data: Float32Array | readonly number[], shape: Shape): Tensor;
  /** A new zero-filled tensor, e.g. a reusable output buffer. */
  zeros(shape: Shape): Tensor;
  /** Reads a tensor back (after pending work). */
  download(tensor: Tensor): Promise<Float32Array>;
  /** Validates the descriptor and weights, and packs the weights once. */
  prepare<D extends OpDescriptor>(descriptor: D, weights?: WeightsFor<D>): Promise<Kernel<D>>;
  /**
   * Runs a kernel. Returns `output` when given (it must have the output shape
   * and belong to this backend), else a new tensor. On asynchronous backends
   * the work is enqueued; `download` and `sync` wait for it.
   */
  run(kernel: Kernel, inputs: readonly Tensor[], output?: Tensor): Tensor;
  /** Resolves when every enqueued run has finished. */
  sync(): Promise<void>;
  /**
   * Calls `work` (which makes `run` calls on this backend) and resolves,
   * once that work has finished, to the duration of each of its runs (see
   * {@link RunTimings.clock} for what each clock measures). A run that
   * throws is not timed.
   *
   * @throws {InvalidArgumentError} `work` is not a function (field `work`), or
   *   another `time` of this backend has not resolved yet (field `time`).
   * @throws {DisposedError} The backend was disposed.
   */
  time(work: () => void): Promise<RunTimings>;
  /** A snapshot of the tensors and kernels this backend holds now, and its peak tensor bytes. */
  memoryStats(): MemoryStats;
  /** Frees every tensor and kernel this backend still holds. Idempotent. */
  dispose(): void;
}

class PreparedKernel<D extends OpDescriptor, K> implements Kernel<D> {
  readonly descriptor: D;
  readonly key: string;
  readonly variant: string;
  readonly owner: ValidatingBackend<unknown, K, unknown>;
  readonly inner: K;
  #disposed = false;

  constructor(
    owner: ValidatingBackend<unknown, K, unknown>,
    descriptor: D,
    variant: string,
    inner: K,
  ) {
    this.owner = owner;
    this.descriptor = descriptor;
    this.key = descriptorKey(descriptor);
    this.variant = variant;
    this.inner = inner;
  }

  get backend(): string {
    return this.owner.name;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.owner.releaseKernel(this);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

class ValidatingBackend<S, K, C> implements Backend, TensorOwner {
  readonly #impl: BackendImpl<S, K, C>;
  readonly variants: readonly string[];
  readonly #tensors = new Set<Tensor>();
  readonly #kernels = new Set<PreparedKernel<OpDescriptor, K>>();
  #tensorBytes = 0;
  #peakTensorBytes = 0;
  #disposed = false;
  /** The runs of the `time` in progress; the duration is filled in when the clock is the CPU's. */
  #timed: { variant: string; key: string; ms: number }[] | undefined;

  constructor(impl: BackendImpl<S, K, C>) {
    this.#impl = impl;
    this.variants = variantNames(impl.variants);
  }

  get name(): string {
    return this.#impl.name;
  }

  get capabilities(): BackendCapabilities {
    return this.#impl.capabilities;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  #alive(): void {
    if (this.#disposed) throw new DisposedError(`backend ${this.name}`);
  }

  #storage(field: string, tensor: Tensor): S {
    const state = tensor instanceof Tensor ? tensorState(tensor) : undefined;
    if (state === undefined) {
      throw new BackendMismatchError(field, tensor, "is not a Tensor");
    }
    if (state.owner !== this) {
      throw new BackendMismatchError(
        field,
        `tensor of backend ${state.owner.name}`,
        `belongs to another backend instance, not this ${this.name} backend`,
      );
    }
    if (state.disposed) throw new DisposedError(field);
    return state.storage as S;
  }

  #adopt(shape: Shape, storage: S): Tensor {
    const tensor = mintTensor(this, shape, storage);
    this.#tensors.add(tensor);
    this.#tensorBytes += 4 * tensor.size;
    this.#peakTensorBytes = Math.max(this.#peakTensorBytes, this.#tensorBytes);
    return tensor;
  }

  upload(data: Float32Array | readonly number[], shape: Shape): Tensor {
    this.#alive();
    validateShape("shape", shape);
    const size = shapeSize(shape);
    if (!(data instanceof Float32Array) && !Array.isArray(data)) {
      throw new ShapeError("data", data, "must be a Float32Array or an array of numbers");
    }
    if (Array.isArray(data)) {
      const index = data.findIndex((value) => typeof value !== "number");
      if (index >= 0) throw new ShapeError(`data[${index}]`, data[index], "must be a number");
    }
    if (data.length !== size) {
      throw new ShapeError(
        "data.length",
        data.length,
        `must equal the size of shape [${shape.join(", ")}] (${size})`,
      );
    }
    const storage = this.#impl.allocate(size);
    this.#impl.write(storage, data instanceof Float32Array ? data : Float32Array.from(data));
    return this.#adopt(shape, storage);
  }

  zeros(shape: Shape): Tensor {
    this.#alive();
    validateShape("shape", shape);
    return this.#adopt(shape, this.#impl.allocate(shapeSize(shape)));
  }

  download(tensor: Tensor): Promise<Float32Array> {
    try {
      this.#alive();
      return this.#impl.read(this.#storage("tensor", tensor), tensor.size);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  releaseTensor(tensor: Tensor): void {
    if (this.#disposed || !this.#tensors.delete(tensor)) return;
    this.#tensorBytes -= 4 * tensor.size;
    this.#impl.release(tensorState(tensor)!.storage as S);
  }

  async prepare<D extends OpDescriptor>(
    descriptor: D,
    weights?: WeightsFor<D>,
  ): Promise<Kernel<D>> {
    this.#alive();
    const canonical = validateDescriptor(descriptor) as D;
    validateWeights(canonical, weights);
    const variant = chooseVariant(this.#impl.variants, canonical, this.#impl.context);
    const inner = await variant.prepare(canonical, weights as never, this.#impl.context);
    this.#alive();
    const kernel = new PreparedKernel(
      this as ValidatingBackend<unknown, K, unknown>,
      canonical,
      variant.name,
      inner,
    );
    this.#kernels.add(kernel);
    return kernel;
  }

  releaseKernel(kernel: PreparedKernel<OpDescriptor, K>): void {
    if (this.#disposed || !this.#kernels.delete(kernel)) return;
    this.#impl.releaseKernel(kernel.inner);
  }

  run(kernel: Kernel, inputs: readonly Tensor[], output?: Tensor): Tensor {
    this.#alive();
    if (!(kernel instanceof PreparedKernel)) {
      throw new BackendMismatchError("kernel", kernel, "is not a kernel from backend.prepare");
    }
    if (kernel.owner !== (this as unknown)) {
      throw new BackendMismatchError(
        "kernel",
        `kernel of backend ${kernel.backend}`,
        `was prepared by another backend instance, not this ${this.name} backend`,
      );
    }
    if (kernel.disposed) throw new DisposedError("kernel");
    if (!Array.isArray(inputs)) {
      throw new ShapeError("inputs", inputs, "must be an array of tensors");
    }
    const storages = inputs.map((tensor, i) => this.#storage(`inputs[${i}]`, tensor));
    const geometry = inferGeometry(kernel.descriptor, inputs.map((tensor) => tensor.shape));
    let result = output;
    if (result === undefined) {
      result = this.#adopt(
        geometry.outputShape,
        this.#impl.allocate(shapeSize(geometry.outputShape)),
      );
    } else {
      this.#storage("output", result);
      const want = geometry.outputShape;
      if (result.shape.length !== want.length || result.shape.some((d, i) => d !== want[i])) {
        throw new ShapeError("output.shape", result.shape, `must be [${want.join(", ")}]`);
      }
      if (inputs.includes(result)) {
        throw new ShapeError("output", "an input tensor", "must not alias an input");
      }
    }
    const storage = tensorState(result)!.storage as S;
    // The clock is read only while timing: run is on every layer's hot path.
    const start = this.#timed === undefined ? 0 : performance.now();
    try {
      this.#impl.run(kernel.inner as K, storages, storage, geometry);
    } catch (error) {
      // An output made for this call alone would otherwise outlive the error that refused it.
      if (output === undefined) result.dispose();
      throw error;
    }
    this.#timed?.push({ variant: kernel.variant, key: kernel.key, ms: performance.now() - start });
    return result;
  }

  async time(work: () => void): Promise<RunTimings> {
    this.#alive();
    if (typeof work !== "function") {
      throw new InvalidArgumentError("work", work, "must be a function that makes runs");
    }
    if (this.#timed !== undefined) {
      throw new InvalidArgumentError(
        "time",
        "in progress",
        "must not be called again before the previous time() of this backend resolves",
      );
    }
    const timer = this.#impl.timer;
    const runs: { variant: string; key: string; ms: number }[] = [];
    this.#timed = runs;
    try {
      timer?.start();
      try {
        work();
      } catch (error) {
        // The runs made before the failure are still on the device: end the timing quietly.
        timer?.stop().catch(() => {});
        throw error;
      }
      if (timer !== undefined) {
        const durations = await timer.stop();
        runs.forEach((run, i) => (run.ms = durations[i] ?? 0));
      } else {
        await this.#impl.sync();
      }
    } finally {
      this.#timed = undefined;
    }
    const clock = timer !== undefined
      ? "device"
      : this.#impl.capabilities.asynchronous
      ? "enqueue"
      : "cpu";
    return { clock, runs };
  }

  sync(): Promise<void> {
    if (this.#disposed) return Promise.reject(new DisposedError(`backend ${this.name}`));
    return this.#impl.sync();
  }

  memoryStats(): MemoryStats {
    return {
      tensors: this.#tensors.size,
      kernels: this.#kernels.size,
      tensorBytes: this.#tensorBytes,
      peakTensorBytes: this.#peakTensorBytes,
      detail: this.#impl.memoryDetail?.(),
    };
  }

  dispose(): void {
    if (this.#disposed) return;
    for (const kernel of [...this.#kernels]) kernel.dispose();
    for (const tensor of [...this.#tensors]) tensor.dispose();
    this.#disposed = true;
    this.#impl.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Wraps a raw implementation into a {@link Backend} that validates every
 * call the same way for every backend: descriptors, weights, input shapes,
 * tensor ownership, disposal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   type BackendImpl,
 *   defineBackend,
 *   softmax,
 *   type SoftmaxDescriptor,
 *   type VariantTables,
 * } from "@mobileops/core";
 * // A toy backend storing plain arrays; only softmax has a kernel variant.
 * const softmaxToy = {
 *   name: "f32-softmax-toy",
 *   matches: (_: SoftmaxDescriptor) => true,
 *   prepare: () => null,
 * };
 * const variants = {
 *   conv2d: [], avgPool2d: [], maxPool2d: [], channelShuffle: [], add: [], concat: [],
 *   globalAvgPool: [], fullyConnected: [], softmax: [softmaxToy],
 * } satisfies VariantTables<null>;
 * const impl: BackendImpl<Float32Array, null> = {
 *   name: "toy",
 *   capabilities: { device: "cpu", simd: false, relaxedSimd: false, threads: 1, asynchronous: false },
 *   allocate: (size) => new Float32Array(size),
 *   write: (storage, data) => storage.set(data),
 *   read: (storage) => Promise.resolve(storage.slice()),
 *   release: () => {},
 *   variants,
 *   context: undefined,
 *   run: (_kernel, [x], y) => {
 *     const sum = x.reduce((s, v) => s + Math.exp(v), 0);
 *     x.forEach((v, i) => (y[i] = Math.exp(v) / sum));
 *   },
 *   releaseKernel: () => {},
 *   sync: () => Promise.resolve(),
 *   dispose: () => {},
 * };
 * using backend = defineBackend(impl);
 * const kernel = await backend.prepare(softmax());
 * assert(kernel.variant === "f32-softmax-toy");
 * const y = await backend.run(kernel, [backend.upload([0, 0], [1, 2])]).download();
 * assert(y[0] === 0.5);
 * ```
 */
export function defineBackend<S, K, C>(impl: BackendImpl<S, K, C>): Backend {
  return new ValidatingBackend(impl);
}
