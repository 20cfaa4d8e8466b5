/**
 * The backend's one linear memory and the allocator that hands out its
 * space: tensors, packed weights and kernel scratch are byte offsets into it.
 *
 * Blocks come from a first-fit free list kept sorted by offset; freeing
 * coalesces neighbours, so a model's activations, freed as soon as their last
 * reader has run, are reused by later layers (an arena planned by lifetimes).
 * When no block fits, the memory grows; when it cannot grow, the request
 * fails with core's {@link OutOfMemoryError} instead of a trap.
 *
 * @module
 */

import { OutOfMemoryError } from "@mobileops/core";

const PAGE_BYTES = 65536;
/** A 32-bit memory's limit: 4 GiB. */
const MAXIMUM_PAGES = 65536;
/** Blocks start on cache lines; SIMD loads are 16-byte aligned then. */
const ALIGNMENT = 64;
/**
 * Bytes past a block's end that a kernel may read (never write): a 4-lane
 * load of a channel tail that is not a multiple of 4 wide.
 */
const READ_SLACK = 16;

/** Options of {@link LinearMemory}. */
export interface LinearMemoryOptions {
  /** Share the memory with Worker threads. */
  readonly shared: boolean;
  /** Most bytes the memory may grow to (at most 4 GiB). */
  readonly maximumBytes: number;
  /** Backend name for error messages. */
  readonly owner: string;
}

/**
 * A `WebAssembly.Memory` with a first-fit, coalescing allocator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LinearMemory } from "./memory.ts";
 * const memory = new LinearMemory({ shared: false, maximumBytes: 1 << 24, owner: "demo" });
 * const a = memory.allocate(100);
 * memory.f32().fill(1, a / 4, a / 4 + 25);
 * memory.free(a);
 * assert(memory.allocate(100) === a && memory.f32()[a / 4] === 0);
 * ```
 */
export class LinearMemory {
  /** The memory every kernel imports as `env.memory`; Worker threads get the same one. */
  readonly memory: WebAssembly.Memory;
  /** Whether `memory` is shared (a `SharedArrayBuffer`), as Worker threads need. */
  readonly shared: boolean;
  /** Growth limit in 64 KiB pages: `maximumBytes` rounded down, clamped to 1–65536. */
  readonly maximumPages: number;
  readonly #owner: string;
  /** Free blocks `[offset, bytes]`, sorted by offset. */
  readonly #free: [number, number][] = [];
  readonly #sizes = new Map<number, number>();
  #end = ALIGNMENT;
  #inUse = 0;
  #peak = 0;
  #f32: Float32Array | undefined;

  /** Starts at one 64 KiB page; allocations grow it, up to `maximumPages`. */
  constructor(options: LinearMemoryOptions) {
    this.shared = options.shared;
    this.#owner = options.owner;
    this.maximumPages = Math.min(
      MAXIMUM_PAGES,
      Math.max(1, Math.floor(options.maximumBytes / PAGE_BYTES)),
    );
    this.memory = new WebAssembly.Memory({
      initial: 1,
      maximum: this.maximumPages,
      shared: options.shared,
    } as WebAssembly.MemoryDescriptor);
  }

  /** A float32 view of the whole memory, renewed after growth. */
  f32(): Float32Array {
    const buffer = this.memory.buffer;
    if (this.#f32 === undefined || this.#f32.buffer !== buffer) {
      this.#f32 = new Float32Array(buffer);
    }
    return this.#f32;
  }

  /** Reserves `bytes`, zero-filled; returns the byte offset. Throws {@link OutOfMemoryError}. */
  allocate(bytes: number): number {
    const size = Math.ceil((bytes + READ_SLACK) / ALIGNMENT) * ALIGNMENT;
    let offset = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const [start, length] = this.#free[i];
      if (length < size) continue;
      offset = start;
      if (length === size) this.#free.splice(i, 1);
      else this.#free[i] = [start + size, length - size];
      break;
    }
    if (offset < 0) {
      offset = this.#end;
      this.#ensure(offset + size, bytes);
      this.#end = offset + size;
    }
    this.f32().fill(0, offset / 4, (offset + size) / 4);
    this.#sizes.set(offset, size);
    this.#inUse += size;
    this.#peak = Math.max(this.#peak, this.#inUse);
    return offset;
  }

  /** Returns a block to the free list. */
  free(offset: number): void {
    const size = this.#sizes.get(offset);
    if (size === undefined) return;
    this.#sizes.delete(offset);
    this.#inUse -= size;
    let i = 0;
    while (i < this.#free.length && this.#free[i][0] < offset) i++;
    this.#free.splice(i, 0, [offset, size]);
    const next = this.#free[i + 1];
    if (next !== undefined && offset + size === next[0]) {
      this.#free[i][1] += next[1];
      this.#free.splice(i + 1, 1);
    }
    const previous = this.#free[i - 1];
    if (previous !== undefined && previous[0] + previous[1] === offset) {
      previous[1] += this.#free[i][1];
      this.#free.splice(i, 1);
    }
    const last = this.#free[this.#free.length - 1];
    if (last !== undefined && last[0] + last[1] === this.#end) {
      this.#end = last[0];
      this.#free.pop();
    }
  }

  #ensure(endBytes: number, requested: number): void {
    const pages = this.memory.buffer.byteLength / PAGE_BYTES;
    const wanted = Math.ceil(endBytes / PAGE_BYTES);
    if (wanted <= pages) return;
    // Grow geometrically so a model's allocations do not grow one page at a time.
    const target = Math.min(Math.max(wanted, Math.ceil(pages * 1.5)), this.maximumPages);
    if (wanted > this.maximumPages) {
      throw new OutOfMemoryError(
        this.#owner,
        requested,
        `linear memory would exceed its maximum of ${this.maximumPages * PAGE_BYTES} bytes`,
      );
    }
    try {
      this.memory.grow(target - pages);
    } catch (error) {
      throw new OutOfMemoryError(
        this.#owner,
        requested,
        `memory.grow to ${target} pages failed (${(error as Error).message})`,
      );
    }
  }

  /** Allocator figures for `memoryStats().detail`. */
  stats(): Record<string, number> {
    return {
      linearMemoryBytes: this.memory.buffer.byteLength,
      arenaBytesInUse: this.#inUse,
      arenaPeakBytes: this.#peak,
      arenaFreeBlocks: this.#free.length,
    };
  }
}
