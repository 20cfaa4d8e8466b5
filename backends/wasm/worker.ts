/**
 * A kernel thread. After setup it never returns to its event loop: it spins
 * briefly, then sleeps in `Atomics.wait`, on the job sequence word of the
 * shared control block; on each job it takes the kernels the main thread
 * posted on its port (compiled `WebAssembly.Module`s, which V8 shares
 * between threads together with their optimized code), then takes chunks of
 * the job until none is left. After a while without a job it retires
 * (exits), so a process that never disposes its backend still ends; the
 * main thread starts a new worker when it next has work.
 *
 * @module
 */

import { receiveMessageOnPort } from "node:worker_threads";
import {
  ACTIVE,
  CONTROL,
  type KernelEntry,
  type KernelMessage,
  RETIRED,
  spinWhile,
  takeChunks,
  WORKER_INTS,
} from "./control.ts";

interface Setup {
  readonly memory: WebAssembly.Memory;
  /** Int32 index of the control block. */
  readonly control: number;
  /** This worker's index. */
  readonly index: number;
  /** Idle time after which the worker exits. */
  readonly idleExitMs: number;
  /** Where kernels arrive. */
  readonly kernels: MessagePort;
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<Setup>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

scope.onmessage = ({ data: setup }) => {
  scope.onmessage = null;
  scope.postMessage("ready");
  serve(setup);
  setup.kernels.close();
  scope.close();
};

function serve({ memory, control, index, idleExitMs, kernels: port }: Setup): void {
  const ints = new Int32Array(memory.buffer);
  const sequence = control + CONTROL.sequence;
  const state = control + CONTROL.workers + index * WORKER_INTS;
  const kernels = new Map<number, KernelEntry>();
  const receiveKernels = () => {
    for (;;) {
      const received = receiveMessageOnPort(port as never);
      if (received === undefined) return;
      const message = received.message as KernelMessage;
      if ("forget" in message) {
        for (const id of message.forget) kernels.delete(id);
      } else {
        const instance = new WebAssembly.Instance(message.module, { env: { memory } });
        kernels.set(message.id, instance.exports.run as KernelEntry);
      }
    }
  };
  const pointers = control + CONTROL.pointers;
  const run = (id: number, start: number, end: number) => {
    if (!kernels.has(id)) receiveKernels();
    const entry = kernels.get(id);
    if (entry === undefined) throw new Error(`kernel ${id} never reached this worker`);
    entry(ints[pointers], ints[pointers + 1], ints[pointers + 2], start, end);
  };
  let seen = Atomics.load(ints, sequence);
  for (;;) {
    if (Atomics.load(ints, control + CONTROL.stop) !== 0) return;
    receiveKernels();
    takeChunks(ints, control, run);
    spinWhile(ints, sequence, seen);
    if (Atomics.wait(ints, sequence, seen, idleExitMs) === "timed-out") {
      // Retire; the main thread notices the state and starts a new worker when needed.
      if (Atomics.compareExchange(ints, state, ACTIVE, RETIRED) === ACTIVE) return;
    }
    seen = Atomics.load(ints, sequence);
  }
}
