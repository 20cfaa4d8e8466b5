/**
 * What the operator benchmarks share: the backends they compare and the
 * setup of one timed call (inputs, weights and output allocated once).
 *
 * @module
 */

import { createJsBackend } from "@mobileops/backend-js";
import { createWasmBackend } from "@mobileops/backend-wasm";
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
import type { BenchOp } from "./shapes.ts";

/** A backend under benchmark: its label and its factory. */
export interface BenchBackend {
  readonly name: string;
  readonly create: () => Promise<Backend>;
}

/** The backends `ops_bench.ts` and `ops_report.ts` compare; adding one is one line. */
export const BENCH_BACKENDS: readonly BenchBackend[] = [
  { name: "js", create: createJsBackend },
  { name: "wasm", create: () => createWasmBackend({ threads: 1 }) },
  { name: "wasm-nofma", create: () => createWasmBackend({ threads: 1, relaxedSimd: false }) },
  { name: "wasm-2threads", create: () => createWasmBackend({ threads: 2 }) },
];

/**
 * Creates a benchmarked backend, or returns `undefined` (after saying why on
 * stderr) when it cannot run here, e.g. no WebAssembly SIMD, so that the
 * other backends are still measured.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createJsBackend } from "@mobileops/backend-js";
 * import { createBenchBackend } from "./bench_util.ts";
 * using backend = await createBenchBackend({ name: "js", create: createJsBackend });
 * assert.equal(backend?.name, "js");
 * ```
 */
export async function createBenchBackend(entry: BenchBackend): Promise<Backend | undefined> {
  try {
    return await entry.create();
  } catch (error) {
    if (!(error instanceof BackendUnavailableError)) throw error;
    console.error(`skipping backend ${entry.name}: ${error.message}`);
    return undefined;
  }
}

/** One prepared operator call, ready to be timed. */
export interface BenchCall extends Disposable {
  readonly op: BenchOp;
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
 * import { createJsBackend } from "@mobileops/backend-js";
 * import { channelShuffle } from "@mobileops/core";
 * import { prepareBenchCall } from "./bench_util.ts";
 * using backend = await createJsBackend();
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
