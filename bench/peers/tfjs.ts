/**
 * TensorFlow.js 4.22 with its WebAssembly backend in this Deno process.
 *
 * Under Deno, tfjs-core sees `process.versions.node` and sets `IS_NODE`,
 * so tfjs-backend-wasm reports no multithread support and loads its
 * single-threaded SIMD build. For more than one thread, three things are
 * worked around (or undone), all in this module and only while the backend initializes:
 *
 * - the `WASM_HAS_MULTITHREAD_SUPPORT` flag is set to true, which selects the
 *   threaded SIMD build;
 * - Emscripten (in its Node mode) starts pthread workers with
 *   `worker_threads`, which needs a file path, but tfjs hands it a `blob:`
 *   URL of the worker script: `URL.createObjectURL` is patched to return a
 *   temporary file holding that script, prefixed with a shim that makes the
 *   worker's `location`/`self` writable (Deno defines them read-only) and
 *   maps its own `blob:` load of the main script to the package's file;
 * - Emscripten's Node mode replaces the global `Worker` with
 *   `worker_threads`' one; it is put back once the pool has started;
 * - tfjs sizes its pool as `min(requested, logical cores / 2)`, which is 1 on
 *   a 2-core machine: `os.cpus()` is patched to report twice the requested
 *   thread count, so the pool gets exactly the requested threads.
 *
 * @module
 */

import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import * as tfWasm from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import pthreadWorker from "npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js";
import os from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

let initialized: string | undefined;

async function initThreaded(threads: number): Promise<void> {
  const require = createRequire(import.meta.url);
  const wasmOut = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")), "../wasm-out");
  const mainScript = join(wasmOut, "tfjs-backend-wasm-threaded-simd.js");
  const workerFile = join(await Deno.makeTempDir({ prefix: "tfjs-wasm-" }), "pthread.cjs");
  const shim = `for (const key of ["location", "self"]) {
  Object.defineProperty(globalThis, key, { value: globalThis[key], writable: true, configurable: true });
}
URL.createObjectURL = () => ${JSON.stringify(mainScript)};
URL.revokeObjectURL = () => {};
`;
  // tfjs escapes the script's newlines the same way before making its blob.
  const script = (pthreadWorker as { wasmWorkerContents: string }).wasmWorkerContents;
  await Deno.writeTextFile(workerFile, shim + script.replace(/\n/g, "\\n"));

  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  const Worker = globalThis.Worker;
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  tfWasm.setThreadsCount(threads);
  URL.createObjectURL = () => workerFile;
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
  try {
    if (!await tf.setBackend("wasm")) throw new Error("tfjs-backend-wasm failed to initialize");
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
    // Emscripten's Node mode replaces the global Worker with worker_threads'
    // for its pthreads; its pool is already started, and other code in the
    // process (our wasm backend) needs the web Worker back.
    globalThis.Worker = Worker;
  }
}

/** Which tfjs-backend-wasm binary to load. */
export type TfjsWasmBuild = "simd" | "threaded-simd";

/**
 * The `--tfjs-build` option: `"simd"` or `"threaded-simd"`; when absent, the
 * single-threaded build for one thread and the threaded one for more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTfjsBuild } from "./tfjs.ts";
 * assert.equal(parseTfjsBuild(undefined, 2), "threaded-simd");
 * assert.throws(() => parseTfjsBuild("sse", 1), /--tfjs-build/);
 * ```
 */
export function parseTfjsBuild(option: string | undefined, threads: number): TfjsWasmBuild {
  if (option === undefined) return threads === 1 ? "simd" : "threaded-simd";
  if (option === "simd" || option === "threaded-simd") return option;
  throw new Error(`--tfjs-build must be "simd" or "threaded-simd", got "${option}"`);
}

/**
 * Initializes TF.js's wasm backend with `threads` threads (once per process)
 * and returns the `tf` namespace. `build` defaults to `"simd"` for one thread
 * (tfjs's own default path under Deno) and `"threaded-simd"` for more (see
 * the module notes); `"threaded-simd"` with one thread measures that binary
 * with a one-thread pool. Throws when the backend is already up with another
 * configuration, or when tfjs ends up with a different pool size than asked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initTfjsWasm } from "./tfjs.ts";
 * const tf = await initTfjsWasm(1);
 * assert(tf.getBackend() === "wasm");
 * assert(tf.relu(tf.tensor1d([-1, 2])).dataSync().join() === "0,2");
 * ```
 */
export async function initTfjsWasm(
  threads: number,
  build: TfjsWasmBuild = threads === 1 ? "simd" : "threaded-simd",
): Promise<typeof tf> {
  const configuration = `${build} with ${threads} thread(s)`;
  if (initialized !== undefined) {
    if (initialized !== configuration) {
      throw new Error(
        `tfjs-backend-wasm is already initialized (${initialized}) in this process; ` +
          `it cannot switch to ${configuration}`,
      );
    }
    return tf;
  }
  if (build === "simd") {
    if (threads !== 1) throw new Error(`the simd build is single-threaded, not ${threads} threads`);
    if (!await tf.setBackend("wasm")) throw new Error("tfjs-backend-wasm failed to initialize");
  } else {
    await initThreaded(threads);
  }
  const actual = tfWasm.getThreadsCount();
  if (actual !== threads) {
    throw new Error(`tfjs-backend-wasm runs ${actual} thread(s), not the ${threads} requested`);
  }
  initialized = configuration;
  return tf;
}
