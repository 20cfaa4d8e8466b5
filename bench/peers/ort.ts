/**
 * ONNX Runtime Web 1.30 (its WebAssembly execution provider) in this Deno
 * process. Under Deno the package resolves to its Node build, which loads
 * `ort-wasm-simd-threaded.wasm` from the package directory and runs its
 * thread pool on `node:worker_threads`, so `numThreads` works as set. Its
 * glue swaps the global `Worker` for `worker_threads`' while it starts that
 * pool; {@link OrtModel.create} puts the web `Worker` back afterwards.
 *
 * @module
 */

import * as ort from "npm:onnxruntime-web@1.30.0";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";

let initializedThreads: number | undefined;

function configure(threads: number): void {
  if (initializedThreads === undefined) {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve("onnxruntime-web"));
    ort.env.wasm.wasmPaths = pathToFileURL(`${dist}/`).href;
    ort.env.wasm.numThreads = threads;
    ort.env.logLevel = "error";
    initializedThreads = threads;
  } else if (initializedThreads !== threads) {
    throw new Error(
      `ONNX Runtime is already initialized with ${initializedThreads} thread(s) in this ` +
        `process; it cannot switch to ${threads}`,
    );
  }
}

/** One ONNX model loaded into an ONNX Runtime Web session (wasm execution provider). */
export class OrtModel {
  readonly #session: ort.InferenceSession;
  readonly #inputDims: readonly number[];
  /** Threads of ONNX Runtime's pool, as configured for this process. */
  readonly threads: number;

  private constructor(
    session: ort.InferenceSession,
    inputDims: readonly number[],
    threads: number,
  ) {
    this.#session = session;
    this.#inputDims = inputDims;
    this.threads = threads;
  }

  /**
   * Creates a session for `model` (serialized ONNX) whose single input has
   * `inputDims`. The first call in a process fixes the thread count; a later
   * call with another count throws.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { globalAvgPool } from "@mobileops/core";
   * import { modelGraphToOnnx } from "./to_onnx.ts";
   * import { OrtModel } from "./ort.ts";
   * const onnx = modelGraphToOnnx({
   *   name: "pool",
   *   inputShape: [1, 2, 2, 1],
   *   nodes: [{ name: "pool", descriptor: globalAvgPool(), inputs: ["input"] }],
   *   output: "pool",
   * });
   * const model = await OrtModel.create(onnx, [1, 1, 2, 2], { threads: 1 });
   * assert((await model.run(new Float32Array([1, 2, 3, 6])))[0] === 3);
   * await model.release();
   * ```
   */
  static async create(
    model: Uint8Array,
    inputDims: readonly number[],
    options: { threads: number },
  ): Promise<OrtModel> {
    configure(options.threads);
    // ONNX Runtime's Emscripten glue (Node mode) replaces the global Worker
    // with worker_threads' for its pthreads, which start during the first
    // create; other code in the process (our wasm backend) needs the web Worker.
    const Worker = globalThis.Worker;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model, {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
      });
    } finally {
      globalThis.Worker = Worker;
    }
    return new OrtModel(session, inputDims, options.threads);
  }

  /** Runs the model on `input` (in ONNX layout) and returns its single output's data. */
  async run(input: Float32Array): Promise<Float32Array> {
    const feed = new ort.Tensor("float32", input, this.#inputDims);
    const results = await this.#session.run({ [this.#session.inputNames[0]]: feed });
    const output = results[this.#session.outputNames[0]];
    const data = output.data as Float32Array;
    output.dispose();
    return data;
  }

  /** Frees the session. */
  release(): Promise<void> {
    return this.#session.release();
  }
}
