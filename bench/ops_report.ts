/**
 * Times every operator of {@link BENCH_OPS} on every backend configuration
 * of {@link BENCH_BACKENDS} and prints a Markdown table: median and best time
 * per call, GFLOP/s (2 FLOPs per multiply-add, from core's `opCost`) and
 * GB/s (bytes of inputs, output and weights, once each).
 *
 *     deno run --allow-read --allow-env bench/ops_report.ts \
 *       [--runs 15] [--warmup 10] [--op pointwise] [--backend js]
 *
 * Each call is timed alone, after warm-up runs, with `sync()` inside the
 * timed region so asynchronous backends are charged for their work.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { BENCH_BACKENDS, createBenchBackend, prepareBenchCall } from "./bench_util.ts";
import { BENCH_OPS } from "./shapes.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "15" },
    warmup: { type: "string", default: "10" },
    op: { type: "string", default: "" },
    backend: { type: "string", default: "" },
  },
});
const runs = Number(args.runs);
const warmup = Number(args.warmup);
if (!(Number.isInteger(runs) && runs > 0 && Number.isInteger(warmup) && warmup >= 0)) {
  throw new RangeError("--runs must be a positive integer and --warmup a non-negative one");
}

const ops = BENCH_OPS.filter((op) => op.name.includes(args.op));
const entries = BENCH_BACKENDS.filter((entry) => entry.label.includes(args.backend));

console.log(
  `deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${navigator.hardwareConcurrency} CPUs; ` +
    `${runs} runs after ${warmup} warm-up, median (best) per call`,
);
console.log();
console.log("| op | MMAC | backend | ms | best ms | GFLOP/s | GB/s |");
console.log("| --- | ---: | --- | ---: | ---: | ---: | ---: |");
for (const entry of entries) {
  using backend = await createBenchBackend(entry);
  if (backend === undefined) continue;
  for (const op of ops) {
    using call = await prepareBenchCall(backend, op);
    for (let i = 0; i < warmup; i++) await call.step();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await call.step();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(runs / 2)];
    const { multiplyAdds, bytesMoved } = call.cost;
    const gflops = multiplyAdds > 0 ? (2 * multiplyAdds / (ms * 1e6)).toFixed(2) : "-";
    console.log(
      `| ${op.name} | ${(multiplyAdds / 1e6).toFixed(1)} | ${entry.label} | ${ms.toFixed(3)} | ` +
        `${times[0].toFixed(3)} | ${gflops} | ${(bytesMoved / (ms * 1e6)).toFixed(2)} |`,
    );
  }
}
