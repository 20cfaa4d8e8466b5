/**
 * Per-operator benchmarks: one `deno bench` group per entry of
 * {@link BENCH_OPS}, one bench per backend configuration of `BENCH_BACKENDS`
 * (bench_util.ts) that can run here (the first is the baseline).
 * `deno bench` prints time per call only; for GFLOP/s run
 * `deno run --allow-read --allow-env bench/ops_report.ts`.
 *
 *     deno bench --allow-read --allow-env bench/ops_bench.ts
 *
 * @module
 */

import { prepareBenchCall, startBenchBackends } from "./bench_util.ts";
import { BENCH_OPS } from "./shapes.ts";

const backends = await startBenchBackends();

for (const op of BENCH_OPS) {
  for (const [index, { entry, backend }] of backends.entries()) {
    const call = await prepareBenchCall(backend, op);
    Deno.bench({
      group: op.name,
      name: entry.label,
      baseline: index === 0,
      fn: () => call.step(),
    });
  }
}
