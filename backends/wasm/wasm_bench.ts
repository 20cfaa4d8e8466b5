/**
 * Full-network latency of the wasm backend: MobileNet v1 1.0-224 and
 * ShuffleNet v1 1× g=3 224, batch 1, relaxed FMA and mul + add, 1 and 2
 * threads. Per-operator GFLOP/s come from `bench/ops_report.ts` (the wasm
 * backends are in its list).
 *
 *     deno bench --allow-read --allow-env backends/wasm/wasm_bench.ts
 *
 * @module
 */

import { randomFloat32, seededRandom } from "@mobileops/conformance";
import { mobilenetV1, shufflenetV1 } from "@mobileops/models";
import { createBackend } from "@mobileops/registry";
import type { WasmBackendOptions } from "./mod.ts";

const CONFIGS: readonly [string, WasmBackendOptions][] = [
  ["wasm", { threads: 1 }],
  ["wasm-nofma", { threads: 1, relaxedSimd: false }],
  ["wasm-2threads", { threads: 2 }],
];
/** Runs before timing starts: V8 tiers a module up to its optimizing compiler after a few calls. */
const WARM_UP_RUNS = 10;

for (
  const build of [
    () => mobilenetV1({ alpha: 1, resolution: 224 }),
    () => shufflenetV1({ groups: 3, scale: 1, resolution: 224 }),
  ]
) {
  for (const [index, [name, options]] of CONFIGS.entries()) {
    const model = build();
    const backend = await createBackend("wasm", { wasm: options });
    const compiled = await model.compile(backend);
    const size = model.inputShape.reduce((a, b) => a * b);
    const input = backend.upload(randomFloat32(seededRandom(1), size), model.inputShape);
    for (let i = 0; i < WARM_UP_RUNS; i++) compiled.run(input);
    Deno.bench({
      group: model.name,
      name,
      baseline: index === 0,
      fn: () => {
        compiled.run(input);
      },
    });
  }
}
