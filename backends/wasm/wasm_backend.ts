/**
 * `createWasmBackend`: the WebAssembly SIMD backend. Tensors and packed
 * weights live in one linear memory; `prepare` runs the first matching
 * variant of `variants.ts`, which packs the weights into its kernel's
 * register-blocked order; the first `run` on a given input shape generates a
 * module specialised to that shape (all sizes, strides, paddings and tile
 * counts baked in as constants) and caches it on the kernel.
 *
 * @module
 */

import {
  type BackendImpl,
  BackendUnavailableError,
  defineBackend,
  InvalidArgumentError,
  type OpGeometry,
} from "@mobileops/core";
import type { Backend } from "@mobileops/core";
import { type MemoryImport, relaxedSimdSupported, simdSupported } from "./assembler.ts";
import { LinearMemory } from "./memory.ts";
import { controlBytes, type KernelEntry } from "./control.ts";
import { WorkerPool } from "./threads.ts";
import type { WasmCode, WasmContext, WasmKernel } from "./kernel.ts";
import { WASM_VARIANTS } from "./variants.ts";

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** Threads per kernel, the calling thread included. Default `navigator.hardwareConcurrency`. */
  readonly threads?: number;
  /** Use `f32x4.relaxed_madd`. Default: when `WebAssembly.validate` accepts it. */
  readonly relaxedSimd?: boolean;
  /** Most bytes the linear memory may grow to. Default 2 GiB. */
  readonly maximumMemoryBytes?: number;
}

/** Work (multiply-adds or values) below which splitting across threads costs more than it saves. */
const THREAD_MIN_WORK = 200_000;
const DEFAULT_MAXIMUM_BYTES = 2 ** 31;

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

  constructor(memory: LinearMemory, pool: WorkerPool | undefined, fused: boolean) {
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
    };
  }

  run(kernel: WasmKernel, inputs: readonly number[], output: number, geometry: OpGeometry): void {
    const key = geometry.inputShapes.map((shape) => shape.join("x")).join(",");
    let code = kernel.shapes.get(key);
    if (code === undefined) {
      code = kernel.build(geometry);
      kernel.shapes.set(key, code);
    }
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
    const ids: number[] = [];
    for (const code of kernel.shapes.values()) {
      if (code.kind === "wasm") ids.push(code.id);
    }
    this.#pool?.forget(ids);
    kernel.shapes.clear();
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  memoryDetail(): Record<string, number> {
    return this.memory.stats();
  }

  dispose(): void {
    this.#pool?.terminate();
  }
}

/**
 * Creates the WebAssembly SIMD backend. Throws {@link BackendUnavailableError}
 * where the engine has no SIMD128 (or no relaxed SIMD when `relaxedSimd: true`),
 * and {@link InvalidArgumentError} for a bad option. With `threads: 1` no
 * Worker is started.
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
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<Backend> {
  if (!simdSupported()) {
    throw new BackendUnavailableError("wasm", "this engine does not support WebAssembly SIMD128");
  }
  const fused = options.relaxedSimd ?? relaxedSimdSupported();
  if (fused && !relaxedSimdSupported()) {
    throw new BackendUnavailableError("wasm", "this engine does not support relaxed SIMD");
  }
  const threads = options.threads ?? Math.max(1, navigator.hardwareConcurrency ?? 1);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new InvalidArgumentError("options.threads", threads, "must be a positive integer");
  }
  const maximumBytes = options.maximumMemoryBytes ?? DEFAULT_MAXIMUM_BYTES;
  if (!(maximumBytes > 0)) {
    throw new InvalidArgumentError(
      "options.maximumMemoryBytes",
      maximumBytes,
      "must be a positive number",
    );
  }
  const memory = new LinearMemory({
    shared: threads > 1,
    maximumBytes,
    owner: "wasm",
  });
  let pool: WorkerPool | undefined;
  if (threads > 1) {
    const control = memory.allocate(controlBytes(threads - 1));
    pool = await WorkerPool.create(threads - 1, memory.memory, control);
  }
  return defineBackend(new WasmBackendImpl(memory, pool, fused));
}
