/// <reference types="@webgpu/types" />
/**
 * GPU buffers by size class, reused instead of created per tensor: creating
 * and destroying a `GPUBuffer` per layer and run costs driver calls and
 * zero-fills, and a network allocates the same few sizes every run.
 *
 * The one rule a pool on a GPU queue must keep: a buffer released while
 * commands that use it are still only recorded (in the open command encoder,
 * not yet submitted) must not be handed out again before they are
 * submitted. Otherwise a `queue.writeBuffer` into its next tensor — which
 * the queue runs before the next submission's commands — would overwrite the
 * values those earlier commands were recorded to read. Every buffer carries
 * the serial of the last encoder that used it; released during that
 * encoder's life it waits in `pending` until {@link BufferPool.submitted}.
 *
 * @module
 */

/** One `GPUBuffer` of a pool. */
export interface PooledBuffer {
  /** The buffer itself. */
  readonly buffer: GPUBuffer;
  /** Its size in bytes: the size class it was created for. */
  readonly bytes: number;
  /** Unique in its backend: bind groups are cached by the buffers they bind. */
  readonly id: number;
  /** Serial of the last command encoder that recorded a use of it. */
  lastUse: number;
}

/** A tensor's (or weight array's) storage: `size` float32 values at the start of a buffer. */
export interface GpuTensor {
  /** The buffer holding it. */
  readonly pooled: PooledBuffer;
  /** Values held. */
  readonly size: number;
  /**
   * Whether the buffer still holds a previous tensor's values: a reused
   * buffer is cleared lazily, by the first command that reads it before
   * anything has written it (a write or a kernel's output overwrites it all).
   */
  stale: boolean;
}

/** Smallest size class: small tensors (biases, logits) share 256-byte buffers. */
const MIN_CLASS = 256;
/** Size classes per power of two above 4 KiB: a buffer is at most 25 % larger than asked. */
const STEPS_PER_OCTAVE = 4;

/**
 * The size class of a request of `bytes`: a power of two up to 4 KiB, then
 * steps of a quarter of a power of two; never above `maxBufferSize` (a
 * request that only fits exactly gets its exact size, rounded to 4 bytes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeClass } from "./buffers.ts";
 * assert.equal(sizeClass(4, 1 << 30), 256);
 * assert.equal(sizeClass(3000, 1 << 30), 4096);
 * assert.equal(sizeClass(4097, 1 << 30), 5120);
 * assert.equal(sizeClass(1000, 1024), 1024);
 * assert.equal(sizeClass(1000, 1003), 1000);
 * ```
 */
export function sizeClass(bytes: number, maxBufferSize: number): number {
  let size = MIN_CLASS;
  if (bytes > MIN_CLASS) {
    const octave = 2 ** Math.floor(Math.log2(bytes - 1));
    const step = octave < 4096 ? 2 * octave : octave / STEPS_PER_OCTAVE;
    size = Math.ceil(bytes / step) * step;
  }
  return size <= maxBufferSize ? size : Math.ceil(bytes / 4) * 4;
}

/** Counts of a pool's buffers, for `memoryStats().detail`. */
export interface PoolStats {
  /** Buffers created and not yet destroyed: in use, pending or free. */
  readonly buffers: number;
  /** Their bytes. */
  readonly bytes: number;
  /** Of those, buffers waiting for reuse (free, or pending a submission). */
  readonly pooled: number;
  /** Their bytes. */
  readonly pooledBytes: number;
}

/**
 * The buffers of one usage (storage, uniform or staging) of one device.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferPool } from "./buffers.ts";
 * // Runs where WebGPU has an adapter, and does nothing elsewhere.
 * const device = await (await navigator.gpu?.requestAdapter())?.requestDevice();
 * if (device !== undefined) {
 *   const pool = new BufferPool(device, GPUBufferUsage.STORAGE, "example", 1 << 20, { next: 0 });
 *   const a = pool.acquire(1000); // a new buffer of the 1024-byte class
 *   pool.release(a.pooled, 0); // serial 0 recorded no use of it: free at once
 *   assert.equal(pool.acquire(900).pooled, a.pooled);
 *   pool.destroy();
 *   assert.equal(pool.stats().buffers, 0);
 *   device.destroy();
 * }
 * ```
 */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #usage: GPUBufferUsageFlags;
  readonly #label: string;
  readonly #maxPooledBytes: number;
  readonly #ids: { next: number };
  readonly #free = new Map<number, PooledBuffer[]>();
  #pending: PooledBuffer[] = [];
  readonly #all = new Set<PooledBuffer>();
  #bytes = 0;
  #pooled = 0;
  #pooledBytes = 0;

  /**
   * A pool of buffers with `usage`, labelled `label` (for GPU error messages),
   * keeping at most `maxPooledBytes` of released buffers; `ids` is shared by
   * a backend's pools so that buffer ids are unique across them.
   */
  constructor(
    device: GPUDevice,
    usage: GPUBufferUsageFlags,
    label: string,
    maxPooledBytes: number,
    ids: { next: number },
  ) {
    this.#device = device;
    this.#usage = usage;
    this.#label = label;
    this.#maxPooledBytes = maxPooledBytes;
    this.#ids = ids;
  }

  /**
   * A buffer of at least `bytes` (its size class, at most `maxBufferSize`),
   * free for reuse or new; `reused` says whether it may hold old values (a
   * new buffer is zero-filled by WebGPU).
   */
  acquire(bytes: number, maxBufferSize = Infinity): { pooled: PooledBuffer; reused: boolean } {
    const size = sizeClass(bytes, maxBufferSize);
    const list = this.#free.get(size);
    const pooled = list?.pop();
    if (pooled !== undefined) {
      this.#pooled--;
      this.#pooledBytes -= size;
      return { pooled, reused: true };
    }
    const buffer = this.#device.createBuffer({ size, usage: this.#usage, label: this.#label });
    const created: PooledBuffer = { buffer, bytes: size, id: this.#ids.next++, lastUse: -1 };
    this.#all.add(created);
    this.#bytes += size;
    return { pooled: created, reused: false };
  }

  /**
   * Gives `pooled` back. When the encoder still open (`openSerial`) recorded
   * a use of it, it waits for that encoder's submission; otherwise it is free
   * at once (or destroyed, past the pool's byte budget).
   */
  release(pooled: PooledBuffer, openSerial: number): void {
    this.#pooled++;
    this.#pooledBytes += pooled.bytes;
    if (pooled.lastUse === openSerial) this.#pending.push(pooled);
    else this.#keep(pooled);
  }

  /** The open encoder was submitted: the buffers released during its life are free now. */
  submitted(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const pooled of pending) this.#keep(pooled);
  }

  #keep(pooled: PooledBuffer): void {
    if (this.#pooledBytes > this.#maxPooledBytes) {
      this.#pooled--;
      this.#pooledBytes -= pooled.bytes;
      this.#destroy(pooled);
      return;
    }
    const list = this.#free.get(pooled.bytes);
    if (list === undefined) this.#free.set(pooled.bytes, [pooled]);
    else list.push(pooled);
  }

  #destroy(pooled: PooledBuffer): void {
    this.#all.delete(pooled);
    this.#bytes -= pooled.bytes;
    pooled.buffer.destroy();
  }

  /** Destroys every buffer of the pool, in use or not. */
  destroy(): void {
    for (const pooled of [...this.#all]) this.#destroy(pooled);
    this.#free.clear();
    this.#pending = [];
    this.#pooled = 0;
    this.#pooledBytes = 0;
  }

  /** How many buffers and bytes the pool holds. */
  stats(): PoolStats {
    return {
      buffers: this.#all.size,
      bytes: this.#bytes,
      pooled: this.#pooled,
      pooledBytes: this.#pooledBytes,
    };
  }
}
