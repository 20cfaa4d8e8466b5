/**
 * `createWasmBackend`: the WebAssembly SIMD backend. Tensors and packed
 * weights live in one linear memory; `prepare` packs weights into the
 * kernel's register-blocked order and picks a kernel family; the first `run`
 * on a given input shape generates a module specialised to that shape (all
 * sizes, strides, paddings and tile counts baked in as constants) and caches
 * it on the kernel.
 *
 * @module
 */

import {
  type Activation,
  type BackendImpl,
  BackendUnavailableError,
  type ConvWeights,
  defineBackend,
  type FullyConnectedWeights,
  InvalidArgumentError,
  type OpDescriptor,
  type OpGeometry,
  type OpWeights,
  shapeSize,
} from "@mobileops/core";
import type { Backend } from "@mobileops/core";
import { type MemoryImport, relaxedSimdSupported, simdSupported } from "./assembler.ts";
import { LinearMemory } from "./memory.ts";
import { controlBytes, type KernelEntry } from "./control.ts";
import { WorkerPool } from "./threads.ts";
import { generateConv, packConvWeights } from "./kernels/f32-conv-wasmsimd.ts";
import { generateDepthwiseConv, packDepthwiseWeights } from "./kernels/f32-dwconv-wasmsimd.ts";
import { DEFAULT_GEMM_TILE, generateGemm, packGemmWeights } from "./kernels/f32-gemm-wasmsimd.ts";
import { generatePool } from "./kernels/f32-pool-wasmsimd.ts";
import { generateAdd } from "./kernels/f32-add-wasmsimd.ts";
import { generateConcat } from "./kernels/f32-concat-wasmsimd.ts";
import { generateChannelShuffle } from "./kernels/f32-channel-shuffle-wasm.ts";
import { globalAvgPoolJs, softmaxJs } from "./kernels/f32-reductions-js.ts";
import type { WindowGeometry } from "./kernels/window.ts";

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** Threads per kernel, the calling thread included. Default `navigator.hardwareConcurrency`. */
  readonly threads?: number;
  /** Use `f32x4.relaxed_madd`. Default: when `WebAssembly.validate` accepts it. */
  readonly relaxedSimd?: boolean;
  /** Most bytes the linear memory may grow to. Default 2 GiB. */
  readonly maximumMemoryBytes?: number;
}

/** One generated module, for one input shape. */
interface WasmVariant {
  readonly kind: "wasm";
  readonly id: number;
  readonly run: KernelEntry;
  /** Rows or pixels the work splits over, and the split granularity. */
  readonly units: number;
  readonly grain: number;
  /** Multiply-adds or values touched, to decide whether threads pay. */
  readonly work: number;
  /** Turns the inputs' offsets into the entry's first two arguments (default: the first two). */
  readonly bind?: (inputs: readonly number[]) => [number, number];
}

/** A variant computed by plain JavaScript over the heap (float offsets). */
interface JsVariant {
  readonly kind: "js";
  run(heap: Float32Array, inputs: readonly number[], output: number): void;
}

type Variant = WasmVariant | JsVariant;

interface WasmKernel {
  readonly variants: Map<string, Variant>;
  /** Memory blocks the kernel owns: packed weights, pad rows, concat tables. */
  readonly blocks: number[];
  build(geometry: OpGeometry): Variant;
}

/** Work (multiply-adds or values) below which splitting across threads costs more than it saves. */
const THREAD_MIN_WORK = 200_000;
const DEFAULT_MAXIMUM_BYTES = 2 ** 31;
/** Input bytes up to which a GEMM splits by output panels (all pixels' rows stay in L2). */
const PANEL_SPLIT_BYTES = 256 * 1024;

function windowGeometry(
  geometry: OpGeometry,
  kernel: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number],
  outStride: number,
): WindowGeometry {
  const [, h, w, c] = geometry.inputShapes[0];
  const [, oh, ow] = geometry.outputShape;
  return {
    height: h,
    width: w,
    inStride: c,
    outHeight: oh,
    outWidth: ow,
    outStride,
    kernel,
    stride,
    dilation,
    padTop: geometry.padding[0],
    padLeft: geometry.padding[2],
  };
}

class WasmBackendImpl implements BackendImpl<number, WasmKernel> {
  readonly name = "wasm";
  readonly capabilities;
  readonly #memory: LinearMemory;
  readonly #pool: WorkerPool | undefined;
  readonly #fused: boolean;
  readonly #threads: number;
  readonly #memoryImport: MemoryImport;
  #nextId = 0;

  constructor(memory: LinearMemory, pool: WorkerPool | undefined, fused: boolean) {
    this.#memory = memory;
    this.#pool = pool;
    this.#fused = fused;
    this.#threads = 1 + (pool?.workers ?? 0);
    this.#memoryImport = {
      initialPages: 1,
      maximumPages: memory.maximumPages,
      shared: memory.shared,
    };
    this.capabilities = {
      device: "cpu",
      simd: true,
      relaxedSimd: fused,
      threads: this.#threads,
      asynchronous: false,
    } as const;
  }

  allocate(size: number): number {
    return this.#memory.allocate(4 * size);
  }

  write(storage: number, data: Float32Array): void {
    this.#memory.f32().set(data, storage / 4);
  }

  read(storage: number, size: number): Promise<Float32Array> {
    return Promise.resolve(this.#memory.f32().slice(storage / 4, storage / 4 + size));
  }

  release(storage: number): void {
    this.#memory.free(storage);
  }

  #place(data: Float32Array, blocks: number[]): number {
    const offset = this.#memory.allocate(4 * data.length);
    blocks.push(offset);
    this.#memory.f32().set(data, offset / 4);
    return offset;
  }

  #padRow(floats: number, fill: number, blocks: number[]): number {
    const offset = this.#memory.allocate(4 * floats);
    blocks.push(offset);
    if (fill !== 0) this.#memory.f32().fill(fill, offset / 4, offset / 4 + floats);
    return offset;
  }

  #compile(
    bytes: Uint8Array,
    units: number,
    grain: number,
    work: number,
  ): WasmVariant {
    const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    const instance = new WebAssembly.Instance(module, { env: { memory: this.#memory.memory } });
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

  #kernel(build: (geometry: OpGeometry, blocks: number[]) => Variant, blocks: number[] = []) {
    return {
      variants: new Map(),
      blocks,
      build: (geometry: OpGeometry) => build(geometry, blocks),
    };
  }

  prepare(descriptor: OpDescriptor, weights: OpWeights): WasmKernel {
    const fused = this.#fused;
    const memory = this.#memoryImport;
    switch (descriptor.op) {
      case "conv2d": {
        const { filter, bias } = weights as ConvWeights;
        const d = descriptor;
        const blocks: number[] = [];
        const zeroPadding = Array.isArray(d.padding) ? d.padding.every((side) => side === 0) : true;
        if (
          d.kernel[0] === 1 && d.kernel[1] === 1 && d.stride[0] === 1 && d.stride[1] === 1 &&
          zeroPadding
        ) {
          return this.#gemmKernel(
            filter,
            bias,
            d.groups,
            d.inChannels / d.groups,
            d.outChannels / d.groups,
            d.activation,
          );
        }
        if (d.groups === d.inChannels && d.outChannels === d.inChannels && d.groups > 1) {
          const packed = this.#place(
            packDepthwiseWeights(filter, bias, d.inChannels, d.kernel),
            blocks,
          );
          return this.#kernel((geometry, blocks) => {
            const g = windowGeometry(geometry, d.kernel, d.stride, d.dilation, d.outChannels);
            const zeroRow = this.#padRow(g.width * g.inStride, 0, blocks);
            const bytes = generateDepthwiseConv({
              geometry: g,
              channels: d.inChannels,
              activation: d.activation,
              weights: packed,
              zeroRow,
              fused,
              memory,
            });
            const rows = geometry.outputShape[0] * g.outHeight;
            return this.#compile(
              bytes,
              rows,
              1,
              shapeSize(geometry.outputShape) * d.kernel[0] * d.kernel[1],
            );
          }, blocks);
        }
        const grouping = {
          groups: d.groups,
          inPerGroup: d.inChannels / d.groups,
          outPerGroup: d.outChannels / d.groups,
          kernel: d.kernel,
        };
        const packed = this.#place(packConvWeights(filter, bias, grouping), blocks);
        return this.#kernel((geometry, blocks) => {
          const g = windowGeometry(geometry, d.kernel, d.stride, d.dilation, d.outChannels);
          const zeroRow = this.#padRow(g.width * g.inStride, 0, blocks);
          const bytes = generateConv({
            geometry: g,
            grouping,
            activation: d.activation,
            weights: packed,
            zeroRow,
            fused,
            memory,
          });
          const rows = geometry.outputShape[0] * g.outHeight;
          const work = shapeSize(geometry.outputShape) * d.kernel[0] * d.kernel[1] *
            grouping.inPerGroup;
          return this.#compile(bytes, rows, 1, work);
        }, blocks);
      }
      case "fullyConnected": {
        const { weights: matrix, bias } = weights as FullyConnectedWeights;
        return this.#gemmKernel(
          matrix,
          bias,
          1,
          descriptor.inFeatures,
          descriptor.outFeatures,
          descriptor.activation,
        );
      }
      case "avgPool2d":
      case "maxPool2d": {
        const d = descriptor;
        const mode = d.op === "maxPool2d"
          ? "max"
          : d.countIncludePad
          ? "averageIncludingPad"
          : "average";
        return this.#kernel((geometry, blocks) => {
          const channels = geometry.inputShapes[0][3];
          const g = windowGeometry(geometry, d.kernel, d.stride, [1, 1], channels);
          const padRow = this.#padRow(
            g.width * channels,
            mode === "max" ? -Infinity : 0,
            blocks,
          );
          const bytes = generatePool({ geometry: g, channels, mode, padRow, memory });
          const rows = geometry.outputShape[0] * g.outHeight;
          return this.#compile(bytes, rows, 1, shapeSize(geometry.outputShape) * 4);
        });
      }
      case "channelShuffle": {
        const groups = descriptor.groups;
        return this.#kernel((geometry) => {
          const shape = geometry.inputShapes[0];
          const channels = shape[3];
          const pixels = shapeSize(shape) / channels;
          const bytes = generateChannelShuffle({ channels, groups, memory });
          return this.#compile(bytes, pixels, 1, pixels * channels);
        });
      }
      case "add": {
        const activation = descriptor.activation;
        return this.#kernel((geometry) => {
          const size = shapeSize(geometry.outputShape);
          const bytes = generateAdd({ size, activation, memory });
          return this.#compile(bytes, Math.ceil(size / 4), 1, size);
        });
      }
      case "concat": {
        const activation = descriptor.activation;
        return this.#kernel((geometry, blocks) => {
          const channels = geometry.inputShapes.map((shape) => shape[3]);
          const pixels = shapeSize(geometry.outputShape) / geometry.outputShape[3];
          const bytes = generateConcat({ channels, activation, memory });
          // The inputs' offsets go in a table the kernel reads: any number of inputs.
          const table = this.#memory.allocate(4 * channels.length);
          blocks.push(table);
          const variant = this.#compile(bytes, pixels, 1, shapeSize(geometry.outputShape));
          return {
            ...variant,
            bind: (inputs: readonly number[]): [number, number] => {
              new Int32Array(this.#memory.memory.buffer, table, inputs.length).set(inputs);
              return [table, 0];
            },
          };
        });
      }
      case "globalAvgPool":
        return this.#kernel((geometry) => {
          const [n, h, w, c] = geometry.inputShapes[0];
          return {
            kind: "js",
            run: (heap, [input], output) => globalAvgPoolJs(heap, input, output, n, h * w, c),
          };
        });
      case "softmax":
        return this.#kernel((geometry) => {
          const shape = geometry.inputShapes[0];
          const length = shape[shape.length - 1];
          const rows = shapeSize(shape) / length;
          return {
            kind: "js",
            run: (heap, [input], output) => softmaxJs(heap, input, output, rows, length),
          };
        });
    }
  }

  #gemmKernel(
    weights: Float32Array,
    bias: Float32Array | undefined,
    groups: number,
    k: number,
    n: number,
    activation: Activation,
  ): WasmKernel {
    const tile = DEFAULT_GEMM_TILE;
    const blocks: number[] = [];
    const packShape = { groups, k, n, inStride: groups * k, outStride: groups * n };
    const packed = this.#place(packGemmWeights(weights, bias, packShape, tile.nr), blocks);
    return this.#kernel((geometry) => {
      const pixels = shapeSize(geometry.outputShape) / (groups * n);
      const panels = Math.ceil(n / (4 * tile.nr));
      // Few pixels, many weights: split by output panels, so each thread streams its weights once.
      const panelSplit = groups === 1 && panels > 1 && pixels * groups * k * 4 <= PANEL_SPLIT_BYTES
        ? { pixels }
        : undefined;
      const bytes = generateGemm({
        shape: packShape,
        tile,
        activation,
        weights: packed,
        fused: this.#fused,
        memory: this.#memoryImport,
        panelSplit,
      });
      const work = pixels * groups * k * n;
      return panelSplit === undefined
        ? this.#compile(bytes, pixels, tile.mr, work)
        : this.#compile(bytes, panels, 1, work);
    }, blocks);
  }

  run(kernel: WasmKernel, inputs: readonly number[], output: number, geometry: OpGeometry): void {
    const key = geometry.inputShapes.map((shape) => shape.join("x")).join(",");
    let variant = kernel.variants.get(key);
    if (variant === undefined) {
      variant = kernel.build(geometry);
      kernel.variants.set(key, variant);
    }
    if (variant.kind === "js") {
      variant.run(this.#memory.f32(), inputs.map((offset) => offset / 4), output / 4);
      return;
    }
    const [in0, in1] = variant.bind?.(inputs) ?? [inputs[0], inputs[1] ?? 0];
    const pool = this.#pool;
    if (pool === undefined || variant.work < THREAD_MIN_WORK) {
      variant.run(in0, in1, output, 0, variant.units);
      return;
    }
    const run = variant.run;
    pool.run(
      variant.id,
      [in0, in1, output],
      variant.units,
      variant.grain,
      (start, end) => run(in0, in1, output, start, end),
    );
  }

  releaseKernel(kernel: WasmKernel): void {
    for (const block of kernel.blocks) this.#memory.free(block);
    const ids: number[] = [];
    for (const variant of kernel.variants.values()) {
      if (variant.kind === "wasm") ids.push(variant.id);
    }
    this.#pool?.forget(ids);
    kernel.variants.clear();
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  memoryDetail(): Record<string, number> {
    return this.#memory.stats();
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
