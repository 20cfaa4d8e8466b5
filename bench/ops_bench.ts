/**
 * Per-operator benchmarks: one `deno bench` group per entry of
 * {@link BENCH_OPS}, one bench per backend of {@link BENCH_BACKENDS} that
 * can run here (the first is the baseline). `deno bench` prints time per
 * call only; for GFLOP/s run
 * `deno run --allow-read --allow-env bench/ops_report.ts`.
 *
 *     deno bench --allow-read --allow-env bench/ops_bench.ts
 *
 * @module
 */

import { BENCH_BACKENDS, createBenchBackend, prepareBenchCall } from "./bench_util.ts";
import { BENCH_OPS } from "./shapes.ts";

const backends = [];
for (const entry of BENCH_BACKENDS) {
  const backend = await createBenchBackend(entry);
  if (backend !== undefined) backends.push({ entry, backend });
}

for (const op of BENCH_OPS) {
  for (const [index, { entry, backend }] of backends.entries()) {
    const call = await prepareBenchCall(backend, op);
    Deno.bench({
      group: op.name,
      name: entry.name,
      baseline: index === 0,
      fn: () => call.step(),
    });
  }
}
