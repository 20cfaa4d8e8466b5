/**
 * Kernel threads over one shared `WebAssembly.Memory`.
 *
 * `run` is synchronous in the core API, and this backend keeps it so. For a
 * job the main thread writes the kernel id, its pointers and the chunking
 * into the control block (see `control.ts`), bumps the job sequence and
 * `Atomics.notify`s the workers, then takes chunks itself like any worker;
 * when no chunk is left it waits (spinning 0.2 ms, then `Atomics.wait`) until
 * every unit is done — spinning only on a browser's main thread, where
 * `Atomics.wait` throws. A worker that is slow to wake, descheduled or retired
 * just takes fewer chunks, so the main thread never waits for a worker that
 * has not started. No message crosses an event loop per job. A kernel reaches
 * the workers once, when compiled: its `WebAssembly.Module` is posted on each
 * worker's port, which the worker reads synchronously; V8 shares the compiled
 * code (and its later optimized tier) between threads, so a worker neither
 * recompiles nor stays in the baseline tier longer than the main thread.
 *
 * Workers start from the bundled source in `worker_source.ts`, never from a
 * file: a Blob URL module worker where the runtime has Web Workers (Deno,
 * browsers), `node:worker_threads` with `eval` on Node.js. So the backend
 * needs no read permission, and works from a published package or a bundle.
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
import type { Setup } from "./worker.ts";
import { WORKER_SOURCE } from "./worker_source.ts";

/**
 * Whether this thread may block in `Atomics.wait`: a browser's main thread may
 * not (it throws, whatever the value), workers and server runtimes may.
 */
const mayWait = (() => {
  try {
    // The value differs, so where waiting is allowed this returns at once.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

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
  readonly #blocking: boolean;
  /** Kernels the workers may be asked to run, to hand to a worker that replaces a retired one. */
  readonly #kernels = new Map<number, WebAssembly.Module>();

  private constructor(
    threads: KernelThread[],
    memory: WebAssembly.Memory,
    control: number,
    idleExitMs: number,
    blocking: boolean,
  ) {
    this.#threads = threads;
    this.#memory = memory;
    this.#control = control;
    this.#idleExitMs = idleExitMs;
    this.#blocking = blocking;
  }

  /**
   * Starts `count` workers over `memory`; `control` is the byte offset of
   * `controlBytes(count)` zeroed bytes reserved for the pool. A worker idle
   * for `idleExitMs` exits (default 2 s). `blocking: false` makes workers
   * receive kernels on their event loop, as they must in a browser; the
   * default reads them synchronously where the runtime can.
   *
   * @throws {Error} A worker failed to start (e.g. a Content-Security-Policy
   *   without `worker-src blob:`).
   */
  static async create(
    count: number,
    memory: WebAssembly.Memory,
    control: number,
    idleExitMs = 2000,
    blocking = receiveMessageOnPort !== undefined,
  ): Promise<WorkerPool> {
    const threads: KernelThread[] = [];
    try {
      await Promise.all(Array.from({ length: count }, (_, index) => {
        const thread = startThread(
          { memory, control: control / 4, index, idleExitMs, blocking },
          new Map(),
        );
        threads.push(thread);
        return thread.ready;
      }));
    } catch (error) {
      for (const thread of threads) stopThread(thread);
      throw error;
    }
    return new WorkerPool(threads, memory, control / 4, idleExitMs, blocking);
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
      if (mayWait && Atomics.load(ints, control + CONTROL.completed) === done) {
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
      const setup = {
        memory: this.#memory,
        control: this.#control,
        index,
        idleExitMs: this.#idleExitMs,
        blocking: this.#blocking,
      };
      this.#threads[index] = startThread(setup, this.#kernels);
      // Until it is ready (or if it never is) this thread does its chunks: nothing waits for it.
      this.#threads[index].ready.catch(() => {});
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

/** What a worker runs on, whichever API started it. */
interface KernelWorker {
  postMessage(message: unknown, transfer: Transferable[]): void;
  terminate(): void;
}

/** A worker, the port its kernels travel on, and when it is ready. */
interface KernelThread {
  readonly worker: KernelWorker;
  readonly kernels: MessagePort;
  /** Settles when the worker has its setup; rejects if it failed to start. */
  readonly ready: Promise<void>;
}

/** The parts of `node:worker_threads` the pool uses. */
interface NodeThreads {
  readonly Worker: new (source: string, options: { eval: true }) => {
    once(event: "message", listener: () => void): void;
    once(event: "error", listener: (error: Error) => void): void;
    postMessage(message: unknown, transfer: readonly unknown[]): void;
    terminate(): Promise<number>;
    unref(): void;
  };
  receiveMessageOnPort(port: MessagePort): unknown;
}

/**
 * A Node.js built-in module where the runtime has one (Node.js ≥ 20.16,
 * Deno), without an `import` that would break a browser bundle.
 */
function nodeBuiltin<T>(id: string): T | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  return process?.getBuiltinModule?.(id) as T | undefined;
}

const nodeThreads = nodeBuiltin<NodeThreads>("node:worker_threads");
const receiveMessageOnPort = nodeThreads?.receiveMessageOnPort;
/** Whether to start Web Workers (Deno, browsers) rather than `node:worker_threads` ones. */
const webWorkers = typeof Worker === "function";

/**
 * Why kernel threads cannot run here, or `undefined` when they can.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { threadsUnavailable } from "./threads.ts";
 * assert.equal(threadsUnavailable(), undefined); // Deno has SharedArrayBuffer and Workers
 * ```
 */
export function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer !== "function") {
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
    return isolated === false
      ? "SharedArrayBuffer is unavailable: the page is not cross-origin isolated (serve it with " +
        "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)"
      : "SharedArrayBuffer is unavailable in this runtime";
  }
  if (!webWorkers && nodeThreads === undefined) {
    return "this runtime has neither Web Workers nor node:worker_threads";
  }
  return undefined;
}

/**
 * Logical processors available to this process: `navigator.hardwareConcurrency`,
 * or on Node.js before 21 (no `navigator`) `os.availableParallelism()`; 1
 * where neither is known.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { availableParallelism } from "./threads.ts";
 * assert(Number.isInteger(availableParallelism()) && availableParallelism() >= 1);
 * ```
 */
export function availableParallelism(): number {
  const navigator = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const os = nodeBuiltin<{ availableParallelism?(): number }>("node:os");
  return navigator?.hardwareConcurrency ?? os?.availableParallelism?.() ?? 1;
}

/** The Blob URL of the worker module, made once per realm and kept: replacements reuse it. */
let workerUrl: string | undefined;

function startThread(
  setup: Omit<Setup, "kernels">,
  kernels: ReadonlyMap<number, WebAssembly.Module>,
): KernelThread {
  const channel = new MessageChannel();
  let worker: KernelWorker;
  let ready: Promise<void>;
  if (webWorkers) {
    workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    const web = new Worker(workerUrl, { type: "module" });
    ready = new Promise((resolve, reject) => {
      web.onmessage = () => resolve();
      web.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`kernel worker failed to start: ${event.message}`));
      };
    });
    worker = web;
  } else if (nodeThreads !== undefined) {
    const node = new nodeThreads.Worker(WORKER_SOURCE, { eval: true });
    ready = new Promise((resolve, reject) => {
      node.once("message", () => {
        // Once ready, an idle worker must not keep the process alive; it retires on its own too.
        node.unref();
        resolve();
      });
      node.once("error", (error) => {
        reject(new Error(`kernel worker failed to start: ${error.message}`));
      });
    });
    worker = {
      postMessage: (message, transfer) => node.postMessage(message, transfer),
      terminate: () => void node.terminate(),
    };
  } else {
    throw new Error(threadsUnavailable());
  }
  worker.postMessage({ ...setup, kernels: channel.port2 } satisfies Setup, [channel.port2]);
  for (const [id, module] of kernels) {
    channel.port1.postMessage({ id, module } satisfies KernelMessage);
  }
  return { worker, kernels: channel.port1, ready };
}

function stopThread(thread: KernelThread): void {
  thread.worker.terminate();
  thread.kernels.close();
}
