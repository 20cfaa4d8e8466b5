/**
 * The one-output-per-invocation programs at ShuffleNet / MobileNet sizes:
 * add 28×28×240, concat 28×28×240 + 28×28×240, max pool 3×3 stride 2 on
 * 112×112×24, average pool 3×3 stride 2 on 56×56×240, each also at a
 * channel count that is not a multiple of 4 (the scalar path). An
 * iteration records {@link RUNS} runs into one output, then waits for the
 * GPU (`sync`), so Deno's ~11 ms read-back poll is shared by the runs
 * rather than measured once per run.
 *
 *     XDG_RUNTIME_DIR=/tmp deno bench --allow-read --allow-env backends/webgpu/kernels/simple_programs_bench.ts
 *
 * On lavapipe the numbers compare programs with each other; they say
 * nothing about a GPU.
 *
 * @module
 */

import { randomFloat32, seededRandom } from "@mobileops/conformance";
import { add, avgPool2d, concat, maxPool2d, type OpDescriptor, type Shape } from "@mobileops/core";
import { createWebGpuBackend } from "../mod.ts";
import { webgpuUnavailable } from "../testing.ts";

/** Runs recorded per timed iteration, before the one `sync`. */
const RUNS = 10;

const POOL = { kernel: 3, stride: 2, padding: [1, 1, 1, 1] } as const;
const nhwc = (h: number, w: number, c: number): Shape => [1, h, w, c];

const CASES: readonly [string, OpDescriptor, readonly Shape[]][] = [
  ["add 28×28×240", add(), [nhwc(28, 28, 240), nhwc(28, 28, 240)]],
  ["add 28×28×239", add(), [nhwc(28, 28, 239), nhwc(28, 28, 239)]],
  ["concat 28×28×(240+240)", concat(), [nhwc(28, 28, 240), nhwc(28, 28, 240)]],
  ["concat 28×28×(239+241)", concat(), [nhwc(28, 28, 239), nhwc(28, 28, 241)]],
  ["maxpool 3×3 s2 112×112×24", maxPool2d(POOL), [nhwc(112, 112, 24)]],
  ["maxpool 3×3 s2 112×112×23", maxPool2d(POOL), [nhwc(112, 112, 23)]],
  ["avgpool 3×3 s2 56×56×240", avgPool2d(POOL), [nhwc(56, 56, 240)]],
  ["avgpool 3×3 s2 56×56×239", avgPool2d(POOL), [nhwc(56, 56, 239)]],
];

if (await webgpuUnavailable() === undefined) {
  const backend = await createWebGpuBackend();
  const random = seededRandom(1);
  for (const [name, descriptor, shapes] of CASES) {
    const kernel = await backend.prepare(descriptor);
    const inputs = shapes.map((shape) =>
      backend.upload(randomFloat32(random, shape.reduce((a, b) => a * b)), shape)
    );
    const output = backend.run(kernel, inputs);
    await backend.sync();
    Deno.bench({
      group: name.split(" ")[0],
      name: `${name} ×${RUNS}`,
      async fn() {
        for (let i = 0; i < RUNS; i++) backend.run(kernel, inputs, output);
        await backend.sync();
      },
    });
  }
}
