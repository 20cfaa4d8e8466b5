/**
 * Kernel threads over one shared `WebAssembly.Memory`.
 *
 * `run` is synchronous in the core API, and this backend keeps it so. For a
 * job the main thread writes the kernel id, its pointers and the chunking
 * into the control block (see `control.ts`), bumps the job sequence and
 * `Atomics.notify`s the workers, then takes chunks itself like any worker;
 * when no chunk is left it waits (spinning 0.2 ms, then `Atomics.wait`) until
 * every unit is done. A worker that is slow to wake, descheduled or retired
 * just takes fewer chunks, so the main thread never waits for a worker that
 * has not started. No message crosses an event loop per job. A kernel reaches
 * the workers once, when compiled: its `WebAssembly.Module` is posted on each
 * worker's port, which the worker reads synchronously; V8 shares the compiled
 * code (and its later optimized tier) between threads, so a worker neither
 * recompiles nor stays in the baseline tier longer than the main thread.
 *
 * @module
 */

import {
  ACTIVE,
  CONTROL,
  type KernelMessage,
  MAX_CHUNKS,
  RETIRED,
  spinWhile,
  takeChunks,
  WORKER_INTS,
} from "./control.ts";

/** Chunks per thread: enough to even out a late start, few enough to cost nothing. */
const CHUNKS_PER_THREAD = 4;

/**
 * Workers sharing the backend's memory; the calling thread works too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { controlBytes } from "./control.ts";
 * import { WorkerPool } from "./threads.ts";
 * const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true } as WebAssembly.MemoryDescriptor);
 * const pool = await WorkerPool.create(1, memory, 64);
 * assert(pool.workers === 1 && controlBytes(1) < 1024);
 * pool.terminate();
 * ```
 */
export class WorkerPool {
  readonly #threads: KernelThread[];
  readonly #memory: WebAssembly.Memory;
  /** Int32 index of the control block. */
  readonly #control: number;
  readonly #idleExitMs: number;
  /** Kernels the workers may be asked to run, to hand to a worker that replaces a retired one. */
  readonly #kernels = new Map<number, WebAssembly.Module>();

  private constructor(
    threads: KernelThread[],
    memory: WebAssembly.Memory,
    control: number,
    idleExitMs: number,
  ) {
    this.#threads = threads;
    this.#memory = memory;
    this.#control = control;
    this.#idleExitMs = idleExitMs;
  }

  /**
   * Starts `count` workers over `memory`; `control` is the byte offset of
   * `controlBytes(count)` zeroed bytes reserved for the pool. A worker idle
   * for `idleExitMs` exits (default 2 s).
   */
  static async create(
    count: number,
    memory: WebAssembly.Memory,
    control: number,
    idleExitMs = 2000,
  ): Promise<WorkerPool> {
    const threads: KernelThread[] = [];
    try {
      await Promise.all(Array.from({ length: count }, (_, index) => {
        const thread = startThread(memory, control / 4, index, idleExitMs, new Map());
        threads.push(thread);
        return new Promise<void>((resolve, reject) => {
          thread.worker.onmessage = () => resolve();
          thread.worker.onerror = (event) => {
            event.preventDefault();
            reject(new Error(`kernel worker failed to start: ${event.message}`));
          };
        });
      }));
    } catch (error) {
      for (const thread of threads) stopThread(thread);
      throw error;
    }
    return new WorkerPool(threads, memory, control / 4, idleExitMs);
  }

  /** Number of worker threads (besides the calling thread). */
  get workers(): number {
    return this.#threads.length;
  }

  /** Hands a compiled kernel to every worker, under `id`. */
  share(id: number, module: WebAssembly.Module): void {
    this.#kernels.set(id, module);
    for (const thread of this.#threads) thread.kernels.postMessage({ id, module });
  }

  /** Lets the workers drop kernels that will not run again. */
  forget(ids: readonly number[]): void {
    const shared = ids.filter((id) => this.#kernels.delete(id));
    if (shared.length === 0) return;
    for (const thread of this.#threads) thread.kernels.postMessage({ forget: shared });
  }

  /**
   * Runs the shared kernel `id` over `[0, units)` in chunks whose bounds are
   * multiples of `grain`, on the workers and, through `runHere`, on this
   * thread; returns when all units are done.
   */
  run(
    id: number,
    pointers: readonly [number, number, number],
    units: number,
    grain: number,
    runHere: (start: number, end: number) => void,
  ): void {
    const ints = new Int32Array(this.#memory.buffer);
    const control = this.#control;
    this.#replaceRetired(ints);
    const perChunk = Math.ceil(units / ((this.#threads.length + 1) * CHUNKS_PER_THREAD));
    const chunk = Math.max(
      grain,
      Math.ceil(perChunk / grain) * grain,
      Math.ceil(units / MAX_CHUNKS),
    );
    ints[control + CONTROL.kernel] = id;
    ints[control + CONTROL.units] = units;
    ints[control + CONTROL.chunk] = chunk;
    ints.set(pointers, control + CONTROL.pointers);
    Atomics.store(ints, control + CONTROL.completed, 0);
    Atomics.store(ints, control + CONTROL.failed, 0);
    Atomics.store(ints, control + CONTROL.claim, Math.ceil(units / chunk) << 16);
    Atomics.add(ints, control + CONTROL.sequence, 1);
    Atomics.notify(ints, control + CONTROL.sequence);
    takeChunks(ints, control, (_kernel, start, end) => runHere(start, end));
    for (;;) {
      const done = Atomics.load(ints, control + CONTROL.completed);
      if (done >= units) break;
      spinWhile(ints, control + CONTROL.completed, done);
      if (Atomics.load(ints, control + CONTROL.completed) === done) {
        Atomics.wait(ints, control + CONTROL.completed, done);
      }
    }
    if (Atomics.load(ints, control + CONTROL.failed) !== 0) {
      throw new Error("a wasm kernel thread failed (its error is logged above)");
    }
  }

  /** Starts a new worker in place of each one that retired after idling; it joins when ready. */
  #replaceRetired(ints: Int32Array): void {
    this.#threads.forEach((thread, index) => {
      const state = this.#control + CONTROL.workers + index * WORKER_INTS;
      if (Atomics.load(ints, state) !== RETIRED) return;
      stopThread(thread);
      Atomics.store(ints, state, ACTIVE);
      this.#threads[index] = startThread(
        this.#memory,
        this.#control,
        index,
        this.#idleExitMs,
        this.#kernels,
      );
    });
  }

  /** Stops and terminates the workers. */
  terminate(): void {
    const ints = new Int32Array(this.#memory.buffer);
    Atomics.store(ints, this.#control + CONTROL.stop, 1);
    Atomics.add(ints, this.#control + CONTROL.sequence, 1);
    Atomics.notify(ints, this.#control + CONTROL.sequence);
    for (const thread of this.#threads) stopThread(thread);
    this.#kernels.clear();
  }
}

/** A worker and the port its kernels travel on. */
interface KernelThread {
  readonly worker: Worker;
  readonly kernels: MessagePort;
}

function startThread(
  memory: WebAssembly.Memory,
  control: number,
  index: number,
  idleExitMs: number,
  kernels: ReadonlyMap<number, WebAssembly.Module>,
): KernelThread {
  const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
  const channel = new MessageChannel();
  worker.postMessage(
    { memory, control, index, idleExitMs, kernels: channel.port2 },
    [channel.port2],
  );
  for (const [id, module] of kernels) {
    channel.port1.postMessage({ id, module } satisfies KernelMessage);
  }
  return { worker, kernels: channel.port1 };
}

function stopThread(thread: KernelThread): void {
  thread.worker.terminate();
  thread.kernels.close();
}
