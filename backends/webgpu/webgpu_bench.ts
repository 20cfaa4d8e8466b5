// Benchmarks of the WebGPU backend's own choices (lavapipe numbers say nothing about a GPU):
//
// - the MobileNet v1 1.0-224 stem (224×224×3 → 112×112×32, 3×3 stride 2) on its dedicated
//   kernel f32-conv-3x3s2-wgsl against the generic f32-conv-wgsl, 10 runs then one sync per
//   iteration (the ~11 ms poll of a sync is shared by the 10);
// - ShuffleNet v1 1× g=3 at 224, compiled, one warm inference + sync per iteration, with and
//   without folding channel shuffles into the depthwise readers (`foldChannelShuffle`);
// - `deno run … webgpu_bench.ts depthwise|pointwise [rounds]`: MobileNet v1 1.0-224's 13
//   depthwise (3×3) or 13 pointwise layers (relu6), each layer's median GPU-timestamp time
//   (`backend.time`) over the rounds (default 30; one run of every layer per round) and its
//   GFLOP/s.
//
// `XDG_RUNTIME_DIR=/tmp deno bench --allow-read --allow-env backends/webgpu/webgpu_bench.ts`;
// `deno run` on this file prints the median of 30 warm iterations of each, interleaved; its
// arguments: a substring of the names to run (default all) and the iterations (default 30).
import { randomFloat32, seededRandom } from "@mobileops/conformance";
import {
  type Backend,
  conv2d,
  type Conv2dDescriptor,
  type KernelVariant,
  opCost,
  type Tensor,
} from "@mobileops/core";
import { inferGraphShapes } from "@mobileops/graph";
import { mobilenetV1, shufflenetV1 } from "@mobileops/models";
import { f32Conv3x3s2Wgsl } from "./kernels/f32-conv-3x3s2-wgsl.ts";
import { createWebGpuBackend } from "./mod.ts";
import { webgpuUnavailable } from "./testing.ts";
import { WEBGPU_VARIANTS } from "./variants.ts";

const STEM_RUNS = 10;
const STEM = conv2d({
  inChannels: 3,
  outChannels: 32,
  kernel: 3,
  stride: 2,
  padding: [1, 1, 1, 1],
  bias: true,
  activation: "relu6",
});

/**
 * Prepares the stem with or without its dedicated variant. Without: the
 * variant leaves the conv2d table for the one `prepare`, so the same layer
 * takes the generic kernel the table falls back to.
 */
async function stemKernel(backend: Backend, dedicated: boolean) {
  const random = seededRandom(1);
  const weights = { filter: randomFloat32(random, 32 * 27), bias: randomFloat32(random, 32) };
  if (dedicated) return await backend.prepare(STEM, weights);
  const table = WEBGPU_VARIANTS.conv2d as unknown as KernelVariant<never, never, never>[];
  const at = table.indexOf(f32Conv3x3s2Wgsl as unknown as KernelVariant<never, never, never>);
  const [removed] = table.splice(at, 1);
  try {
    return await backend.prepare(STEM, weights);
  } finally {
    table.splice(at, 0, removed);
  }
}

/** One timed iteration of each benchmark, by name, set up once. */
async function setUp(): Promise<Map<string, () => Promise<void>>> {
  const work = new Map<string, () => Promise<void>>();
  for (const dedicated of [true, false]) {
    const backend = await createWebGpuBackend();
    const kernel = await stemKernel(backend, dedicated);
    const x = backend.upload(randomFloat32(seededRandom(2), 224 * 224 * 3), [1, 224, 224, 3]);
    const y = backend.run(kernel, [x]);
    work.set(`stem 224×224×3→32 ×${STEM_RUNS}: ${kernel.variant}`, async () => {
      for (let i = 0; i < STEM_RUNS; i++) backend.run(kernel, [x], y);
      await backend.sync();
    });
  }
  const model = shufflenetV1({ groups: 3, scale: 1, resolution: 224 });
  for (const fold of [true, false]) {
    const backend = await createWebGpuBackend({ foldChannelShuffle: fold });
    const compiled = await model.compile(backend);
    const x: Tensor = backend.upload(
      randomFloat32(seededRandom(3), 224 * 224 * 3),
      model.inputShape,
    );
    work.set(`${model.name} compiled: foldChannelShuffle ${fold}`, async () => {
      compiled.run(x);
      await backend.sync();
    });
  }
  return work;
}

/**
 * MobileNet v1 1.0-224's layers of one kind, taken from the model's own graph: each node's
 * descriptor, random weights of its size, and its input shape.
 */
function mobilenetLayers(kind: "depthwise" | "pointwise") {
  const { graph } = mobilenetV1({ alpha: 1, resolution: 224 });
  const shapes = inferGraphShapes(graph);
  return graph.nodes.filter((node) => node.name.endsWith(`.${kind}`)).map((node) => {
    const shape = shapes.get(node.inputs[0])!;
    const [, side, , c] = shape;
    const descriptor = node.descriptor as Conv2dDescriptor;
    return {
      name: `${side}×${side}×${c}` +
        (kind === "depthwise" ? ` s${descriptor.stride[0]}` : `→${descriptor.outChannels}`),
      shape,
      descriptor,
    };
  });
}

/** Times MobileNet v1's 13 layers of one kind on the GPU clock, one run each per round. */
async function timeMobilenetLayers(kind: "depthwise" | "pointwise", rounds: number) {
  using backend = await createWebGpuBackend();
  const random = seededRandom(4);
  const layers = await Promise.all(
    mobilenetLayers(kind).map(async ({ name, shape, descriptor }) => {
      const c = shape[3];
      const kernel = await backend.prepare(descriptor, {
        filter: randomFloat32(
          random,
          descriptor.outChannels * (c / descriptor.groups) * descriptor.kernel[0] *
            descriptor.kernel[1],
        ),
        bias: randomFloat32(random, descriptor.outChannels),
      });
      const x = backend.upload(randomFloat32(random, shape.reduce((a, b) => a * b)), shape);
      const y = backend.run(kernel, [x]);
      const flops = 2 * opCost(descriptor, [shape]).multiplyAdds;
      return { name, kernel, x, y, flops };
    }),
  );
  const times = layers.map((): number[] => []);
  for (let round = 0; round < rounds + 3; round++) {
    const { clock, runs } = await backend.time(() => {
      for (const { kernel, x, y } of layers) backend.run(kernel, [x], y);
    });
    if (clock !== "device") throw new Error(`no GPU timestamps here (clock ${clock})`);
    if (round >= 3) runs.forEach((run, i) => times[i].push(run.ms));
  }
  let total = 0;
  for (const [i, { name, kernel, flops }] of layers.entries()) {
    const ms = median(times[i]);
    total += ms;
    console.log(
      `${name.padEnd(18)} ${kernel.variant}: median ${ms.toFixed(3)} ms, ${
        (flops / ms / 1e6).toFixed(2)
      } GFLOP/s`,
    );
  }
  console.log(`13 ${kind} layers: ${total.toFixed(2)} ms (sum of medians)`);
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}

const reason = await webgpuUnavailable();
if (reason !== undefined) {
  console.error(`SKIPPED: ${reason}`);
} else if (import.meta.main && (Deno.args[0] === "depthwise" || Deno.args[0] === "pointwise")) {
  await timeMobilenetLayers(Deno.args[0], Number(Deno.args[1] ?? "30"));
} else if (import.meta.main) {
  // Interleaved, in alternating order, so that the load of a shared machine falls on every
  // configuration alike; the per-round ratio to the first configuration pairs them up.
  const [only = "", rounds = "30"] = Deno.args;
  const work = [...await setUp()].filter(([name]) => name.includes(only));
  const times = work.map((): number[] => []);
  for (let round = 0; round < Number(rounds) + 3; round++) {
    const order = [...work.keys()];
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const start = performance.now();
      await work[i][1]();
      if (round >= 3) times[i].push(performance.now() - start);
    }
  }
  for (const [i, [name]] of work.entries()) {
    const ratio = median(times[i].map((time, round) => time / times[0][round]));
    console.log(
      `${name}: median ${median(times[i]).toFixed(1)} ms (min ${
        Math.min(...times[i]).toFixed(1)
      }); paired ratio to the first ${ratio.toFixed(3)}`,
    );
  }
} else {
  for (const [name, iteration] of await setUp()) {
    Deno.bench({ name, group: name.split(":")[0], fn: iteration });
  }
}
