/**
 * Full-network benchmarks: one `deno bench` group per network, one bench
 * per backend configuration of `BENCH_BACKENDS` (bench_util.ts) that can
 * run here (the first, js, is the baseline).
 * Each iteration is one compiled-model inference (planned buffers, no
 * allocation) waited for with `sync`. Weights are seeded random: speed does
 * not depend on their values.
 *
 *     deno bench --allow-read --allow-env bench/models_bench.ts
 *
 * @module
 */

import { randomFloat32, seededRandom } from "@mobileops/conformance";
import { mobilenetV1, type Model, shufflenetV1 } from "@mobileops/models";
import { startBenchBackends } from "./bench_util.ts";

const MODELS: readonly Model[] = [
  mobilenetV1({ alpha: 1, resolution: 224 }),
  shufflenetV1({ groups: 3, scale: 1, resolution: 224 }),
  mobilenetV1({ alpha: 0.25, resolution: 128 }),
  shufflenetV1({ groups: 8, scale: 0.5, resolution: 224 }),
];

const backends = await startBenchBackends();

/** Warm-up ends after this many runs, or sooner once it has taken {@link WARM_UP_MS}. */
const WARM_UP_RUNS = 10;
/**
 * V8 runs a new WebAssembly module in its baseline tier for its first few
 * calls, so a handful of warm-up runs would time the wrong code; the js
 * backend's MobileNet takes ~0.4 s a run, so the warm-up is also bounded in time.
 */
const WARM_UP_MS = 1000;
/** Timed runs per bench: about this long in all, at least {@link MIN_TIMED_RUNS}. */
const TIMED_MS = 1000;
const MIN_TIMED_RUNS = 10;

for (const model of MODELS) {
  const data = randomFloat32(seededRandom(1), model.inputShape.reduce((a, b) => a * b));
  for (const [index, { entry, backend }] of backends.entries()) {
    const compiled = await model.compile(backend);
    const input = backend.upload(data, model.inputShape);
    const inference = async () => {
      compiled.run(input);
      await backend.sync();
    };
    const warmUpStart = performance.now();
    let runMs = Infinity;
    for (let run = 0; run < WARM_UP_RUNS && performance.now() - warmUpStart < WARM_UP_MS; run++) {
      const start = performance.now();
      await inference();
      runMs = performance.now() - start;
    }
    Deno.bench({
      group: model.name,
      name: entry.label,
      baseline: index === 0,
      n: Math.max(MIN_TIMED_RUNS, Math.round(TIMED_MS / runMs)),
      warmup: 1,
      fn: inference,
    });
  }
}
