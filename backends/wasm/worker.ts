/**
 * A kernel thread. After setup it spins briefly, then sleeps in
 * `Atomics.wait`, on the job sequence word of the shared control block; on
 * each job it takes the kernels the main thread posted on its port (compiled
 * `WebAssembly.Module`s, which V8 shares between threads together with their
 * optimized code), then takes chunks of the job until none is left. After a
 * while without a job it retires (exits), so a process that never disposes
 * its backend still ends; the main thread starts a new worker when it next
 * has work.
 *
 * Where the runtime has `receiveMessageOnPort` (Deno, Node.js) the worker
 * reads its port synchronously and never returns to its event loop. A browser
 * has no such call, so there kernels arrive on the event loop: the worker
 * yields to it when the job's kernel has not reached it yet. The main thread
 * posts a kernel before the first job that runs it, so one yield delivers it.
 *
 * This file is bundled into `worker_source.ts` (`deno run -A
 * tools/build_worker.ts`) and started from that string, so it imports nothing
 * but `control.ts` and reaches Node.js built-ins through
 * `process.getBuiltinModule`, never an `import`.
 *
 * @module
 */

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

/** What the main thread posts to start the worker. */
export interface Setup {
  readonly memory: WebAssembly.Memory;
  /** Int32 index of the control block. */
  readonly control: number;
  /** This worker's index. */
  readonly index: number;
  /** Idle time after which the worker exits. */
  readonly idleExitMs: number;
  /** Where kernels arrive. */
  readonly kernels: MessagePort;
  /** Read `kernels` synchronously; `false` when the runtime cannot, or to test the browser path. */
  readonly blocking: boolean;
}

/** The parts of `node:worker_threads` a kernel thread uses. */
interface NodeThreads {
  readonly parentPort: {
    once(event: "message", listener: (setup: Setup) => void): void;
    postMessage(message: unknown): void;
  } | null;
  receiveMessageOnPort(port: MessagePort): { message: unknown } | undefined;
}

const nodeThreads = (globalThis as {
  process?: { getBuiltinModule?(id: string): unknown };
}).process?.getBuiltinModule?.("node:worker_threads") as NodeThreads | undefined;

/** A Web Worker's scope (Deno, browsers); Node.js workers have `parentPort` instead. */
const scope = (globalThis as { self?: unknown }).self as {
  onmessage: ((event: MessageEvent<Setup>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
} | undefined;

if (scope !== undefined) {
  scope.onmessage = ({ data: setup }) => {
    scope.onmessage = null;
    scope.postMessage("ready");
    serve(setup).finally(() => {
      setup.kernels.close();
      scope.close();
    });
  };
} else {
  // The listener is gone after one message, so the thread exits once `serve` returns.
  nodeThreads?.parentPort?.once("message", (setup) => {
    nodeThreads.parentPort?.postMessage("ready");
    serve(setup).finally(() => setup.kernels.close());
  });
}

async function serve(setup: Setup): Promise<void> {
  const { memory, control, index, idleExitMs, kernels: port } = setup;
  const ints = new Int32Array(memory.buffer);
  const sequence = control + CONTROL.sequence;
  const state = control + CONTROL.workers + index * WORKER_INTS;
  const kernels = new Map<number, KernelEntry>();
  const accept = (message: KernelMessage) => {
    if ("forget" in message) {
      for (const id of message.forget) kernels.delete(id);
    } else {
      const instance = new WebAssembly.Instance(message.module, { env: { memory } });
      kernels.set(message.id, instance.exports.run as KernelEntry);
    }
  };
  const receive = nodeThreads?.receiveMessageOnPort;
  const blocking = setup.blocking && receive !== undefined;
  if (!blocking) port.onmessage = ({ data }) => accept(data);
  const receiveKernels = () => {
    if (!blocking) return;
    for (let received = receive(port); received !== undefined; received = receive(port)) {
      accept(received.message as KernelMessage);
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
    if (blocking) {
      takeChunks(ints, control, run);
    } else {
      await takeChunksYielding(ints, control, kernels, run);
    }
    spinWhile(ints, sequence, seen);
    if (Atomics.wait(ints, sequence, seen, idleExitMs) === "timed-out") {
      // Retire; the main thread notices the state and starts a new worker when needed.
      if (Atomics.compareExchange(ints, state, ACTIVE, RETIRED) === ACTIVE) return;
    }
    seen = Atomics.load(ints, sequence);
  }
}

/** Lets the event loop deliver the messages already queued (kernels, on the browser path). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * `takeChunks` for a worker whose kernels arrive on the event loop: it takes
 * no chunk of a job whose kernel it lacks until it has yielded for it. A
 * chunk claimed anyway (the job changed between the check and the claim)
 * waits for its kernel, which the main thread posted before that job began.
 */
async function takeChunksYielding(
  ints: Int32Array,
  control: number,
  kernels: ReadonlyMap<number, KernelEntry>,
  run: (kernel: number, start: number, end: number) => void,
): Promise<void> {
  const claim = control + CONTROL.claim;
  for (;;) {
    const word = Atomics.load(ints, claim);
    if ((word & 0xffff) >= word >>> 16) return;
    if (!kernels.has(Atomics.load(ints, control + CONTROL.kernel))) {
      await yieldToEventLoop();
      continue;
    }
    if (Atomics.compareExchange(ints, claim, word, word + 1) !== word) continue;
    const kernel = ints[control + CONTROL.kernel];
    while (!kernels.has(kernel)) await yieldToEventLoop();
    const chunk = ints[control + CONTROL.chunk];
    const start = (word & 0xffff) * chunk;
    const end = Math.min(ints[control + CONTROL.units], start + chunk);
    try {
      run(kernel, start, end);
    } catch (error) {
      Atomics.store(ints, control + CONTROL.failed, 1);
      console.error(error);
    }
    Atomics.add(ints, control + CONTROL.completed, end - start);
    Atomics.notify(ints, control + CONTROL.completed);
  }
}
