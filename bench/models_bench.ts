/**
 * Full-network benchmarks: one `deno bench` group per network, one bench
 * per backend of {@link BENCH_BACKENDS} (the first, js, is the baseline).
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
import { BENCH_BACKENDS } from "./bench_util.ts";

const MODELS: readonly Model[] = [
  mobilenetV1({ alpha: 1, resolution: 224 }),
  shufflenetV1({ groups: 3, scale: 1, resolution: 224 }),
  mobilenetV1({ alpha: 0.25, resolution: 128 }),
  shufflenetV1({ groups: 8, scale: 0.5, resolution: 224 }),
];

const backends = await Promise.all(BENCH_BACKENDS.map(async (entry) => ({
  entry,
  backend: await entry.create(),
})));

for (const model of MODELS) {
  const data = randomFloat32(seededRandom(1), model.inputShape.reduce((a, b) => a * b));
  for (const [index, { entry, backend }] of backends.entries()) {
    const compiled = await model.compile(backend);
    const input = backend.upload(data, model.inputShape);
    Deno.bench({
      group: model.name,
      name: entry.name,
      baseline: index === 0,
      // The js backend takes ~0.5 s per MobileNet 1.0-224 inference: a fixed count keeps the run short.
      n: 10,
      warmup: 2,
      fn: async () => {
        compiled.run(input);
        await backend.sync();
      },
    });
  }
}
