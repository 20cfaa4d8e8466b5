/**
 * What a prepared kernel of the wasm backend is, and what its variants get
 * from the backend. A kernel holds its packed weights in the linear memory
 * and generates code lazily: every input shape gets its own module, with all
 * sizes baked in, on the first `run` with that shape, and keeps it.
 *
 * @module
 */

import type { OpGeometry } from "@mobileops/core";
import type { MemoryImport } from "./assembler.ts";
import type { KernelEntry } from "./control.ts";
import type { LinearMemory } from "./memory.ts";

/** A module generated for one input shape. */
export interface WasmCode {
  readonly kind: "wasm";
  /** The module's id in the worker pool. */
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

/** Code for one input shape computed by plain JavaScript over the heap (float offsets). */
export interface JsCode {
  readonly kind: "js";
  run(heap: Float32Array, inputs: readonly number[], output: number): void;
}

/** The code a kernel runs for one input shape. */
export type ShapeCode = WasmCode | JsCode;

/** A prepared operator of the wasm backend. */
export interface WasmKernel {
  /** Code per input shape, keyed by the input shapes; built on a shape's first run. */
  readonly shapes: Map<string, ShapeCode>;
  /** Memory blocks the kernel owns: packed weights, pad rows, concat tables. */
  readonly blocks: number[];
  build(geometry: OpGeometry): ShapeCode;
}

/** What the backend gives every kernel variant. */
export interface WasmContext {
  /** The one linear memory tensors, weights and scratch live in. */
  readonly memory: LinearMemory;
  /** The `env.memory` import every generated module declares. */
  readonly memoryImport: MemoryImport;
  /** Whether generators emit `f32x4.relaxed_madd` (else `f32x4.mul` then `f32x4.add`). */
  readonly fused: boolean;
  /** Copies `data` into a new block owned by the kernel of `blocks`; returns its byte offset. */
  place(data: Float32Array, blocks: number[]): number;
  /** A new block of `floats` values set to `fill`, owned by the kernel of `blocks`. */
  padRow(floats: number, fill: number, blocks: number[]): number;
  /**
   * Compiles and instantiates `bytes` over the memory and, when `work` is
   * enough to split across threads, shares the module with the worker pool.
   */
  compile(bytes: Uint8Array, units: number, grain: number, work: number): WasmCode;
}

/**
 * A kernel whose code for each input shape comes from `build`, which may add
 * blocks (pad rows, tables) to `blocks`; they are freed with the kernel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeKernel } from "./kernel.ts";
 * const kernel = shapeKernel(() => ({ kind: "js", run: () => {} }), [64]);
 * assert(kernel.shapes.size === 0 && kernel.blocks[0] === 64);
 * ```
 */
export function shapeKernel(
  build: (geometry: OpGeometry, blocks: number[]) => ShapeCode,
  blocks: number[] = [],
): WasmKernel {
  return {
    shapes: new Map(),
    blocks,
    build: (geometry) => build(geometry, blocks),
  };
}
