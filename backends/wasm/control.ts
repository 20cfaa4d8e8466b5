/**
 * The control block through which the main thread hands work to kernel
 * threads (int32 words in the shared linear memory), the chunk-claiming
 * protocol every thread follows, and the messages that carry compiled
 * kernels to workers.
 *
 * A job is a kernel, its three pointers and `units` rows or pixels cut into
 * chunks. Threads take chunks by compare-exchange on one `claim` word
 * (`total << 16 | next`) until none is left, so a thread that is late or
 * descheduled simply takes fewer; the main thread waits only until every
 * unit is done. A successful claim holds the job open (it cannot complete
 * without that chunk), so the job's fields read after claiming are always
 * the claimed job's.
 *
 * @module
 */

/** Every generated kernel's entry: `run(input0, input1, output, start, end)`. */
export type KernelEntry = (
  in0: number,
  in1: number,
  out: number,
  start: number,
  end: number,
) => void;

/** Words of the control block. */
export const CONTROL = {
  /** Bumped for each job; idle workers wait on it. */
  sequence: 0,
  /** `total << 16 | next` chunks of the current job. */
  claim: 1,
  /** Units of the current job done so far; the main thread waits on it. */
  completed: 2,
  failed: 3,
  stop: 4,
  kernel: 5,
  units: 6,
  chunk: 7,
  /** Three words: input0, input1, output. */
  pointers: 8,
  /** Worker `i`'s state word is at `workers + 16·i` (a cache line each). */
  workers: 16,
} as const;

/** Int32 words per worker state (a cache line, so workers do not share one). */
export const WORKER_INTS = 16;

/** Worker states: running or waiting for work; exited after idling. */
export const ACTIVE = 0;
export const RETIRED = 1;

/** Most chunks one job may have (`next` is 16 bits). */
export const MAX_CHUNKS = 0xffff;

/**
 * What the main thread posts on a worker's kernel port; the worker reads its
 * port synchronously (`receiveMessageOnPort`) before running work.
 */
export type KernelMessage =
  | { readonly id: number; readonly module: WebAssembly.Module }
  | { readonly forget: readonly number[] };

/**
 * Bytes of a control block for `workers` workers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { controlBytes } from "./control.ts";
 * assert(controlBytes(1) === 4 * (16 + 16));
 * ```
 */
export function controlBytes(workers: number): number {
  return 4 * (CONTROL.workers + workers * WORKER_INTS);
}

/**
 * Takes chunks of the current job and runs them with `run(kernel, start,
 * end)` until none is left; `control` is the block's int32 index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONTROL, controlBytes, takeChunks } from "./control.ts";
 * const ints = new Int32Array(new SharedArrayBuffer(controlBytes(0)));
 * Atomics.store(ints, CONTROL.units, 10);
 * Atomics.store(ints, CONTROL.chunk, 4);
 * Atomics.store(ints, CONTROL.claim, 3 << 16);
 * const ranges: number[][] = [];
 * takeChunks(ints, 0, (_kernel, start, end) => ranges.push([start, end]));
 * assert(JSON.stringify(ranges) === "[[0,4],[4,8],[8,10]]");
 * assert(Atomics.load(ints, CONTROL.completed) === 10);
 * ```
 */
export function takeChunks(
  ints: Int32Array,
  control: number,
  run: (kernel: number, start: number, end: number) => void,
): void {
  const claim = control + CONTROL.claim;
  for (;;) {
    const word = Atomics.load(ints, claim);
    if ((word & 0xffff) >= word >>> 16) return;
    if (Atomics.compareExchange(ints, claim, word, word + 1) !== word) continue;
    const units = ints[control + CONTROL.units];
    const chunk = ints[control + CONTROL.chunk];
    const start = (word & 0xffff) * chunk;
    const end = Math.min(units, start + chunk);
    try {
      run(ints[control + CONTROL.kernel], start, end);
    } catch (error) {
      Atomics.store(ints, control + CONTROL.failed, 1);
      console.error(error);
    }
    Atomics.add(ints, control + CONTROL.completed, end - start);
    Atomics.notify(ints, control + CONTROL.completed);
  }
}

/** How long a waiting thread spins before it sleeps in `Atomics.wait`. */
const SPIN_MS = 0.2;

/**
 * Spins while `ints[index] === value`, for at most {@link SPIN_MS}: a model's
 * layers follow each other within microseconds, and a futex wake-up costs
 * tens of them, as much as a small layer's share of work.
 *
 * @example
 * ```ts
 * import { spinWhile } from "./control.ts";
 * const ints = new Int32Array(new SharedArrayBuffer(4));
 * spinWhile(ints, 0, 0); // returns after the spin budget: nothing changes the word
 * ```
 */
export function spinWhile(ints: Int32Array, index: number, value: number): void {
  const deadline = performance.now() + SPIN_MS;
  for (let i = 1;; i++) {
    if (Atomics.load(ints, index) !== value) return;
    if (i % 64 === 0 && performance.now() > deadline) return;
  }
}
