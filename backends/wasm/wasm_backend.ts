/**
 * `createWasmBackend`: the WebAssembly SIMD backend. Tensors and packed
 * weights live in one linear memory; `prepare` runs the first matching
 * variant of `variants.ts`, which packs the weights into its kernel's
 * register-blocked order; the first `run` on a given input shape generates a
 * module specialised to that shape (all sizes, strides, paddings and tile
 * counts baked in as constants) and caches it on the kernel, for the last few
 * shapes run ({@link MAX_CACHED_SHAPES}).
 *
 * @module
 */

import {
  type BackendImpl,
  BackendUnavailableError,
  defineBackend,
  InvalidArgumentError,
  type OpGeometry,
  validateOptions,
} from "@mobileops/core";
import type { Backend } from "@mobileops/core";
import { type MemoryImport, relaxedSimdSupported, simdSupported } from "./assembler.ts";
import { LinearMemory } from "./memory.ts";
import { controlBytes, type KernelEntry } from "./control.ts";
import { availableParallelism, threadsUnavailable, WorkerPool } from "./threads.ts";
import {
  type CachedShape,
  MAX_CACHED_SHAPES,
  type WasmCode,
  type WasmContext,
  type WasmKernel,
} from "./kernel.ts";
import { WASM_VARIANTS } from "./variants.ts";

/** Options of {@link createWasmBackend}; every one may be left out. */
export interface WasmBackendOptions {
  /**
   * Threads per kernel, the calling thread included: an integer from 1 to 256.
   * Default `navigator.hardwareConcurrency` (on Node.js 20, `os.availableParallelism()`;
   * at most 256). Where threads cannot run — no `SharedArrayBuffer` (a page
   * that is not cross-origin isolated), no Workers, or workers that fail to
   * start (a Content-Security-Policy without `worker-src blob:`) — the backend
   * runs on the calling thread alone, also when threads were asked for
   * explicitly: the results are the same, only slower. Then
   * `capabilities.threads` is 1 and `capabilities.threadsUnavailable` says why.
   */
  readonly threads?: number;
  /** Use `f32x4.relaxed_madd` (a boolean). Default: when `WebAssembly.validate` accepts it. */
  readonly relaxedSimd?: boolean;
  /**
   * Most bytes the linear memory may grow to: a number above 0 and at most
   * 4 GiB (2³², a 32-bit memory's limit); rounded down to 64 KiB pages, at
   * least one. Default 2 GiB.
   */
  readonly maximumMemoryBytes?: number;
}

const OPTION_KEYS = ["threads", "relaxedSimd", "maximumMemoryBytes"];
/** Work (multiply-adds or values) below which splitting across threads costs more than it saves. */
const THREAD_MIN_WORK = 200_000;
const DEFAULT_MAXIMUM_BYTES = 2 ** 31;
const MAXIMUM_BYTES = 2 ** 32;
/** Most threads: each Worker costs a V8 isolate, and no CPU this targets has more cores. */
const MAX_THREADS = 256;

class WasmBackendImpl implements BackendImpl<number, WasmKernel, WasmContext>, WasmContext {
  readonly name = "wasm";
  readonly capabilities;
  readonly variants = WASM_VARIANTS;
  readonly context: WasmContext = this;
  readonly memory: LinearMemory;
  readonly memoryImport: MemoryImport;
  readonly fused: boolean;
  readonly #pool: WorkerPool | undefined;
  #nextId = 0;
  /** Modules and their bytes cached by the live kernels, for `memoryStats().detail`. */
  #cachedModules = 0;
  #cachedModuleBytes = 0;

  constructor(
    memory: LinearMemory,
    pool: WorkerPool | undefined,
    fused: boolean,
    threadsUnavailable: string | undefined,
  ) {
    this.memory = memory;
    this.#pool = pool;
    this.fused = fused;
    this.memoryImport = {
      initialPages: 1,
      maximumPages: memory.maximumPages,
      shared: memory.shared,
    };
    this.capabilities = {
      device: "cpu",
      simd: true,
      relaxedSimd: fused,
      threads: 1 + (pool?.workers ?? 0),
      asynchronous: false,
      // Why `threads` is 1 although more were asked for (or the default would be more).
      ...(threadsUnavailable !== undefined && { threadsUnavailable }),
    } as const;
  }

  allocate(size: number): number {
    return this.memory.allocate(4 * size);
  }

  write(storage: number, data: Float32Array): void {
    this.memory.f32().set(data, storage / 4);
  }

  read(storage: number, size: number): Promise<Float32Array> {
    return Promise.resolve(this.memory.f32().slice(storage / 4, storage / 4 + size));
  }

  release(storage: number): void {
    this.memory.free(storage);
  }

  place(data: Float32Array, blocks: number[]): number {
    const offset = this.memory.allocate(4 * data.length);
    blocks.push(offset);
    this.memory.f32().set(data, offset / 4);
    return offset;
  }

  padRow(floats: number, fill: number, blocks: number[]): number {
    const offset = this.memory.allocate(4 * floats);
    blocks.push(offset);
    if (fill !== 0) this.memory.f32().fill(fill, offset / 4, offset / 4 + floats);
    return offset;
  }

  compile(bytes: Uint8Array, units: number, grain: number, work: number): WasmCode {
    const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory.memory } });
    const id = this.#nextId++;
    if (this.#pool !== undefined && work >= THREAD_MIN_WORK) this.#pool.share(id, module);
    return {
      kind: "wasm",
      id,
      run: instance.exports.run as KernelEntry,
      units,
      grain,
      work,
      bytes: bytes.length,
    };
  }

  /** The code of `geometry`'s input shapes, built on a miss; keeps the last few shapes run. */
  #code(kernel: WasmKernel, geometry: OpGeometry) {
    const key = geometry.inputShapes.map((shape) => shape.join("x")).join(",");
    const cached = kernel.shapes.get(key);
    if (cached !== undefined) {
      // Map order is insertion order: re-inserting marks the shape most recently run.
      kernel.shapes.delete(key);
      kernel.shapes.set(key, cached);
      return cached.code;
    }
    const blocks: number[] = [];
    let code;
    try {
      code = kernel.build(geometry, blocks);
    } catch (error) {
      for (const block of blocks) this.memory.free(block);
      throw error;
    }
    kernel.shapes.set(key, { code, blocks });
    if (code.kind === "wasm") {
      this.#cachedModules++;
      this.#cachedModuleBytes += code.bytes;
    }
    for (const [oldest, shape] of kernel.shapes) {
      if (kernel.shapes.size <= MAX_CACHED_SHAPES) break;
      kernel.shapes.delete(oldest);
      this.#forget([shape]);
    }
    return code;
  }

  /** Frees cached shapes' blocks and lets the workers drop their modules. */
  #forget(shapes: Iterable<CachedShape>): void {
    const ids: number[] = [];
    for (const { code, blocks } of shapes) {
      for (const block of blocks) this.memory.free(block);
      if (code.kind !== "wasm") continue;
      ids.push(code.id);
      this.#cachedModules--;
      this.#cachedModuleBytes -= code.bytes;
    }
    this.#pool?.forget(ids);
  }

  run(kernel: WasmKernel, inputs: readonly number[], output: number, geometry: OpGeometry): void {
    const code = this.#code(kernel, geometry);
    if (code.kind === "js") {
      code.run(this.memory.f32(), inputs.map((offset) => offset / 4), output / 4);
      return;
    }
    const [in0, in1] = code.bind?.(inputs) ?? [inputs[0], inputs[1] ?? 0];
    const pool = this.#pool;
    if (pool === undefined || code.work < THREAD_MIN_WORK) {
      code.run(in0, in1, output, 0, code.units);
      return;
    }
    const run = code.run;
    pool.run(
      code.id,
      [in0, in1, output],
      code.units,
      code.grain,
      (start, end) => run(in0, in1, output, start, end),
    );
  }

  releaseKernel(kernel: WasmKernel): void {
    for (const block of kernel.blocks) this.memory.free(block);
    this.#forget(kernel.shapes.values());
    kernel.shapes.clear();
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  memoryDetail(): Record<string, number> {
    return {
      ...this.memory.stats(),
      cachedModules: this.#cachedModules,
      cachedModuleBytes: this.#cachedModuleBytes,
    };
  }

  dispose(): void {
    this.#pool?.terminate();
  }
}

/**
 * Creates the WebAssembly SIMD backend. With `threads: 1` no Worker is
 * started. It needs no permission and reads no file: workers start from
 * source bundled into the package.
 *
 * @param options Optional; see {@link WasmBackendOptions} for each option's range.
 * @throws {InvalidArgumentError} `options` is not an object (`null`, an array,
 *   a number…), has a key that is not an option, or an option is out of its
 *   range or of the wrong type; the error names the field (`options.threads`).
 * @throws {BackendUnavailableError} The engine has no SIMD128, or no relaxed
 *   SIMD when `relaxedSimd: true`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createWasmBackend } from "@mobileops/backend-wasm";
 * import { pointwiseConv2d } from "@mobileops/core";
 * using backend = await createWasmBackend({ threads: 1 });
 * const kernel = await backend.prepare(
 *   pointwiseConv2d({ inChannels: 2, outChannels: 1, bias: true }),
 *   { filter: new Float32Array([1, 2]), bias: new Float32Array([0.5]) },
 * );
 * const y = backend.run(kernel, [backend.upload([3, 4], [1, 1, 1, 2])]);
 * assert((await y.download())[0] === 11.5);
 * ```
 */
export async function createWasmBackend(options?: WasmBackendOptions): Promise<Backend> {
  const { threads, relaxedSimd, maximumMemoryBytes } = validateOptions<WasmBackendOptions>(
    "options",
    options,
    OPTION_KEYS,
  );
  if (
    threads !== undefined &&
    (typeof threads !== "number" || !Number.isInteger(threads) || threads < 1 ||
      threads > MAX_THREADS)
  ) {
    throw new InvalidArgumentError(
      "options.threads",
      threads,
      `must be an integer from 1 to ${MAX_THREADS}`,
    );
  }
  if (relaxedSimd !== undefined && typeof relaxedSimd !== "boolean") {
    throw new InvalidArgumentError("options.relaxedSimd", relaxedSimd, "must be a boolean");
  }
  if (
    maximumMemoryBytes !== undefined &&
    (typeof maximumMemoryBytes !== "number" || !(maximumMemoryBytes > 0) ||
      maximumMemoryBytes > MAXIMUM_BYTES)
  ) {
    throw new InvalidArgumentError(
      "options.maximumMemoryBytes",
      maximumMemoryBytes,
      `must be a number of bytes above 0 and at most ${MAXIMUM_BYTES} (4 GiB)`,
    );
  }
  if (!simdSupported()) {
    throw new BackendUnavailableError("wasm", "this engine does not support WebAssembly SIMD128");
  }
  const fused = relaxedSimd ?? relaxedSimdSupported();
  if (fused && !relaxedSimdSupported()) {
    throw new BackendUnavailableError("wasm", "this engine does not support relaxed SIMD");
  }
  const wanted = threads ?? Math.min(MAX_THREADS, Math.max(1, availableParallelism()));
  let unavailable = wanted > 1 ? threadsUnavailable() : undefined;
  const threadCount = unavailable === undefined ? wanted : 1;
  const maximumBytes = maximumMemoryBytes ?? DEFAULT_MAXIMUM_BYTES;
  const memory = new LinearMemory({
    shared: threadCount > 1,
    maximumBytes,
    owner: "wasm",
  });
  let pool: WorkerPool | undefined;
  if (threadCount > 1) {
    const control = memory.allocate(controlBytes(threadCount - 1));
    try {
      pool = await WorkerPool.create(threadCount - 1, memory.memory, control);
    } catch (error) {
      // The shared memory stays shared; kernels run on this thread alone, with the same results.
      unavailable = (error as Error).message;
    }
  }
  return defineBackend(new WasmBackendImpl(memory, pool, fused, unavailable));
}
