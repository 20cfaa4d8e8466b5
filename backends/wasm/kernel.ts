/**
 * What a prepared kernel of the wasm backend is, and what its variants get
 * from the backend. A kernel holds its packed weights in the linear memory
 * and generates code lazily: every input shape gets its own module, with all
 * sizes baked in, on the first `run` with that shape. The backend keeps the
 * modules of the few shapes run last ({@link MAX_CACHED_SHAPES}) and frees
 * the others, with the pad rows and tables they own.
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
  /** Size of the generated module in bytes. */
  readonly bytes: number;
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

/** Input shapes per kernel whose code the backend keeps; the least recently run goes first. */
export const MAX_CACHED_SHAPES = 4;

/** A shape's code and the memory blocks (pad rows, tables) that only it uses. */
export interface CachedShape {
  readonly code: ShapeCode;
  readonly blocks: readonly number[];
}

/** A prepared operator of the wasm backend. */
export interface WasmKernel {
  /**
   * Code per input shape, keyed by the input shapes, least recently run
   * first; built on a shape's first run, at most {@link MAX_CACHED_SHAPES}.
   */
  readonly shapes: Map<string, CachedShape>;
  /** Memory blocks the kernel owns for its lifetime: packed weights. */
  readonly blocks: number[];
  /** Generates the code of one input shape; blocks it allocates for it go in `blocks`. */
  build(geometry: OpGeometry, blocks: number[]): ShapeCode;
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
 * blocks (pad rows, tables) for that shape to its second argument; they are
 * freed when the shape's code is. `blocks` (packed weights) live as long as
 * the kernel.
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
  return { shapes: new Map(), blocks, build };
}
