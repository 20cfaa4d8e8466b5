/**
 * What the operator benchmarks share: the backends they compare and the
 * setup of one timed call (inputs, weights and output allocated once).
 *
 * @module
 */

import { randomFloat32, seededRandom } from "@mobileops/conformance";
import {
  type Backend,
  BackendUnavailableError,
  convFilterSize,
  type Kernel,
  type OpCost,
  opCost,
  type OpWeights,
  shapeSize,
  type Tensor,
} from "@mobileops/core";
import {
  type BackendConfiguration,
  createConfiguredBackend,
  NoBackendError,
} from "@mobileops/registry";
import type { BenchOp } from "./shapes.ts";

/** The backend configurations the benchmarks compare; adding one is one line. */
export const BENCH_BACKENDS: readonly BackendConfiguration[] = [
  { label: "js", backend: "js", options: {} },
  { label: "wasm", backend: "wasm", options: { threads: 1 } },
  { label: "wasm-nofma", backend: "wasm", options: { threads: 1, relaxedSimd: false } },
  { label: "wasm-2threads", backend: "wasm", options: { threads: 2 } },
];

/**
 * Creates a benchmarked configuration through the registry, or returns
 * `undefined` (after saying why on stderr) when it cannot run here, e.g. no
 * WebAssembly SIMD, so that the other configurations are still measured.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBenchBackend } from "./bench_util.ts";
 * using backend = await createBenchBackend({ label: "js", backend: "js", options: {} });
 * assert.equal(backend?.name, "js");
 * ```
 */
export async function createBenchBackend(
  entry: BackendConfiguration,
): Promise<Backend | undefined> {
  try {
    return await createConfiguredBackend(entry);
  } catch (error) {
    if (!(error instanceof BackendUnavailableError)) throw error;
    // One backend was asked for: its own reason says more than the registry's summary.
    const reason = error instanceof NoBackendError ? error.failures[0].reason : error.message;
    console.error(`skipping backend ${entry.label}: ${reason}`);
    return undefined;
  }
}

/** A configuration of {@link BENCH_BACKENDS} that started, with its backend. */
export interface StartedBenchBackend {
  /** The configuration. */
  readonly entry: BackendConfiguration;
  /** Its backend, created through the registry. */
  readonly backend: Backend;
}

/**
 * Creates every configuration of `entries` that can run here, in order,
 * skipping (and naming on stderr) those that cannot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startBenchBackends } from "./bench_util.ts";
 * const [started] = await startBenchBackends([{ label: "js", backend: "js", options: {} }]);
 * assert.equal(started.backend.name, "js");
 * started.backend.dispose();
 * ```
 */
export async function startBenchBackends(
  entries: readonly BackendConfiguration[] = BENCH_BACKENDS,
): Promise<StartedBenchBackend[]> {
  const started: StartedBenchBackend[] = [];
  for (const entry of entries) {
    const backend = await createBenchBackend(entry);
    if (backend !== undefined) started.push({ entry, backend });
  }
  return started;
}

/** One prepared operator call, ready to be timed. */
export interface BenchCall extends Disposable {
  /** The benchmarked operator call. */
  readonly op: BenchOp;
  /** Its multiply-adds, bytes moved and output shape, from core's `opCost`. */
  readonly cost: OpCost;
  /** Runs the operator into its preallocated output and waits for it to finish. */
  step(): Promise<void>;
}

function benchWeights(op: BenchOp, random: () => number): OpWeights {
  const d = op.descriptor;
  if (d.op === "conv2d") {
    const filter = randomFloat32(random, convFilterSize(d));
    return { filter, bias: d.bias ? randomFloat32(random, d.outChannels) : undefined };
  }
  if (d.op === "fullyConnected") {
    const weights = randomFloat32(random, d.inFeatures * d.outFeatures);
    return { weights, bias: d.bias ? randomFloat32(random, d.outFeatures) : undefined };
  }
  return undefined;
}

/**
 * Uploads seeded random inputs, prepares the kernel with seeded random
 * weights and allocates the output once, so that a timed {@link BenchCall.step}
 * is the operator alone (plus `sync` on asynchronous backends).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelShuffle } from "@mobileops/core";
 * import { createBackend } from "@mobileops/registry";
 * import { prepareBenchCall } from "./bench_util.ts";
 * using backend = await createBackend("js");
 * const op = { name: "tiny", descriptor: channelShuffle({ groups: 2 }), inputShapes: [[1, 2, 2, 4]] };
 * using call = await prepareBenchCall(backend, op);
 * await call.step();
 * assert.equal(call.cost.multiplyAdds, 0);
 * ```
 */
export async function prepareBenchCall(
  backend: Backend,
  op: BenchOp,
  seed = 1,
): Promise<BenchCall> {
  const random = seededRandom(seed);
  const cost = opCost(op.descriptor, op.inputShapes);
  const inputs: Tensor[] = op.inputShapes.map((shape) =>
    backend.upload(randomFloat32(random, shapeSize(shape)), shape)
  );
  const kernel: Kernel = await backend.prepare(
    op.descriptor,
    benchWeights(op, random) as never,
  );
  const output = backend.zeros(cost.outputShape);
  return {
    op,
    cost,
    step: () => {
      backend.run(kernel, inputs, output);
      return backend.sync();
    },
    [Symbol.dispose]: () => {
      kernel.dispose();
      output.dispose();
      for (const input of inputs) input.dispose();
    },
  };
}
