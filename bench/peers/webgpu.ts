/// <reference types="npm:@webgpu/types@0.1.74" />
/**
 * WebGPU side by side: MobileNet v1 1.0-224 and ShuffleNet v1 1× g=3 224
 * (batch 1, the seeded random weights of `@mobileops/models`, the same
 * folded graph converted by to_tfjs.ts and to_onnx.ts as in networks.ts) on
 * our `webgpu` backend, TF.js 4.22's WebGPU backend and ONNX Runtime Web
 * 1.30's WebGPU execution provider, all on the one `navigator.gpu` adapter
 * of this Deno process.
 *
 * Measured per implementation and network:
 *
 * - **first inference**: from a backend that has compiled nothing (its device
 *   already made, timed apart): converting/compiling the network (pipeline
 *   creation, weight packing and upload), uploading the input, the first run
 *   and reading the logits back; the median of `--first` fresh backends
 *   each, with Mesa's on-disk shader cache off (`MESA_SHADER_CACHE_DISABLE`,
 *   unless `--shader-cache`) so that no run reuses another's compiled shaders.
 *   ORT makes its runtime and device once per process (a one-node session,
 *   timed apart), then a session per network;
 * - **warm median**: one inference, `Float32Array` in → logits out (upload,
 *   run, read-back), interleaved across the implementations in a rotating
 *   order, `--runs` timed after `--warmup`;
 * - **dispatches and submits** of one warm inference, read-back included:
 *   ours from `memoryStats().detail`, everyone's from counting
 *   `dispatchWorkgroups` and `queue.submit` calls;
 * - **recording**: CPU time of the call that records one inference without
 *   waiting for it (`compiled.run(x)` for us, the converted graph's `run`
 *   for TF.js), median; the work is awaited between samples, untimed;
 * - with `--profile`: our per-layer GPU times (`compiled.profile`, GPU
 *   timestamps) summed per operator and variant, TF.js's per-kernel times
 *   (`tf.profile`) summed per kernel, 5 of each interleaved; convolutions
 *   paired layer by layer where TF.js runs each as one kernel; and our first
 *   run on a fresh backend against its second, per layer.
 *
 * Before timing, every implementation's logits are compared with the
 * float64 reference (max |Δ|, top-1 agreement).
 *
 * Usage: `deno task peers-webgpu [--runs 15] [--warmup 3] [--first 3]
 * [--models mobilenet,shufflenet] [--profile] [--shader-cache]`. Set `XDG_RUNTIME_DIR` on
 * Linux, where Deno's WebGPU otherwise warns.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import * as ortWebGpu from "npm:onnxruntime-web@1.30.0/webgpu";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { randomFloat32, seededRandom } from "@mobileops/conformance";
import { type Backend, globalAvgPool, shapeSize } from "@mobileops/core";
import type { CompiledModel, ModelProfile } from "@mobileops/graph";
import { referenceForward } from "@mobileops/graph/reference";
import { mobilenetV1, type Model, shufflenetV1 } from "@mobileops/models";
import { createBackend } from "@mobileops/registry";
import {
  describeMachine,
  markdownTable,
  maxAbsDiff,
  timeInterleaved,
  type Timing,
} from "./measure.ts";
import { freshTfjsWebGpu } from "./tfjs_webgpu.ts";
import { modelGraphToOnnx, nhwcToNchw, onnxShape } from "./to_onnx.ts";
import { modelGraphToTfjs, type TfjsGraph } from "./to_tfjs.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    warmup: { type: "string", default: "3" },
    models: { type: "string", default: "mobilenet,shufflenet" },
    first: { type: "string", default: "3" },
    profile: { type: "boolean", default: false },
    "shader-cache": { type: "boolean", default: false },
  },
});
const firstRuns = Number(args.first);
if (!(firstRuns >= 1)) throw new Error(`--first must be at least 1, got ${args.first}`);
// Mesa keeps compiled shaders on disk across processes: without this a first inference would
// reuse the pipelines of the previous run. Set before the driver is loaded (the first adapter).
if (!args["shader-cache"]) Deno.env.set("MESA_SHADER_CACHE_DISABLE", "true");
const runs = Number(args.runs);
const warmup = Number(args.warmup);
if (!(runs >= 10)) throw new Error(`--runs must be at least 10, got ${args.runs}`);

/** Profiles per network with `--profile`, each side's and interleaved. */
const PROFILES = 5;
/** TF.js kernels that run one of our `conv2d` layers whole. */
const TFJS_CONVOLUTIONS = new Set([
  "FusedConv2D",
  "FusedDepthwiseConv2D",
  "Conv2D",
  "DepthwiseConv2dNative",
]);

const MODELS: Record<string, () => Model> = {
  mobilenet: () => mobilenetV1({ alpha: 1, resolution: 224 }),
  shufflenet: () => shufflenetV1({ groups: 3, scale: 1, resolution: 224 }),
};

/** One implementation, compiled: its first logits, one inference, its recording call, cleanup. */
interface Runner {
  /** Milliseconds to make a backend with its own device (before the first inference). */
  readonly deviceMs: number;
  /** Milliseconds of the first inference: compile/convert, upload, run, read back. */
  readonly firstMs: number;
  readonly logits: Float32Array;
  infer(): Promise<Float32Array>;
  /** Records one inference without waiting for it, then (untimed) waits for it. */
  record?(): { ms: number; finish(): Promise<unknown> };
  release(): void | Promise<void>;
}

/** Calls `body` and measures the milliseconds it spent inside `queue.submit`. */
function timeSubmits<T>(body: () => T): { result: T; submitMs: number } {
  const queue = GPUQueue.prototype;
  const submit = queue.submit;
  let submitMs = 0;
  queue.submit = function (this: GPUQueue, buffers) {
    const start = performance.now();
    try {
      return submit.call(this, buffers);
    } finally {
      submitMs += performance.now() - start;
    }
  };
  try {
    const result = body();
    return { result, submitMs };
  } finally {
    queue.submit = submit;
  }
}

/**
 * What one call of `body` made the GPU do: compute dispatches, queue
 * submissions and compute pipelines created; and what it returned.
 */
async function countGpuCalls<T>(body: () => Promise<T>) {
  const pass = GPUComputePassEncoder.prototype;
  const queue = GPUQueue.prototype;
  const device = GPUDevice.prototype;
  const dispatch = pass.dispatchWorkgroups;
  const submit = queue.submit;
  const createPipeline = device.createComputePipeline;
  const createPipelineAsync = device.createComputePipelineAsync;
  const counts = { dispatches: 0, submits: 0, pipelines: 0 };
  pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, ...rest) {
    counts.dispatches++;
    return dispatch.apply(this, rest);
  };
  queue.submit = function (this: GPUQueue, buffers) {
    counts.submits++;
    return submit.call(this, buffers);
  };
  device.createComputePipeline = function (this: GPUDevice, descriptor) {
    counts.pipelines++;
    return createPipeline.call(this, descriptor);
  };
  device.createComputePipelineAsync = function (this: GPUDevice, descriptor) {
    counts.pipelines++;
    return createPipelineAsync.call(this, descriptor);
  };
  try {
    const result = await body();
    return { ...counts, result };
  } finally {
    pass.dispatchWorkgroups = dispatch;
    queue.submit = submit;
    device.createComputePipeline = createPipeline;
    device.createComputePipelineAsync = createPipelineAsync;
  }
}

async function ourRunner(model: Model, input: Float32Array): Promise<
  Runner & { backend: Backend; compiled: CompiledModel; compileMs: number }
> {
  const start = performance.now();
  const backend = await createBackend("webgpu");
  const made = performance.now();
  const compiled = await model.compile(backend);
  const compileMs = performance.now() - made;
  const infer = async () => {
    using x = backend.upload(input, model.graph.inputShape);
    return await compiled.run(x).download();
  };
  const logits = await infer();
  const firstMs = performance.now() - made;
  const x = backend.upload(input, model.graph.inputShape);
  return {
    deviceMs: made - start,
    firstMs,
    logits,
    infer,
    record() {
      const begin = performance.now();
      compiled.run(x);
      const ms = performance.now() - begin;
      return { ms, finish: () => backend.sync() };
    },
    release() {
      x.dispose();
      compiled.dispose();
      backend.dispose();
    },
    backend,
    compiled,
    compileMs,
  };
}

async function tfjsRunner(model: Model, input: Float32Array): Promise<
  Runner & { converted: TfjsGraph }
> {
  const start = performance.now();
  if (await freshTfjsWebGpu() === undefined) throw new Error("TF.js has no WebGPU backend here");
  const made = performance.now();
  const converted = modelGraphToTfjs(model.graph);
  const infer = async () => {
    const x = tf.tensor(input, [...model.graph.inputShape]);
    const y = converted.run(x);
    const logits = await y.data() as Float32Array;
    tf.dispose([x, y]);
    return logits;
  };
  const logits = await infer();
  const firstMs = performance.now() - made;
  const x = tf.tensor(input, [...model.graph.inputShape]);
  return {
    deviceMs: made - start,
    firstMs,
    logits,
    infer,
    record() {
      const begin = performance.now();
      const y = converted.run(x);
      const ms = performance.now() - begin;
      return { ms, finish: () => y.data().then(() => y.dispose()) };
    },
    release() {
      x.dispose();
      converted.dispose();
    },
    converted,
  };
}

let ortReady: Promise<number> | undefined;

/**
 * Loads ONNX Runtime's WebGPU build and makes its device, with a one-node
 * session, once per process; resolves to the milliseconds that took.
 */
function initOrtWebGpu(): Promise<number> {
  ortReady ??= (async () => {
    const start = performance.now();
    const require = createRequire(import.meta.url);
    ortWebGpu.env.wasm.wasmPaths = pathToFileURL(`${dirname(require.resolve("onnxruntime-web"))}/`)
      .href;
    ortWebGpu.env.wasm.numThreads = 1;
    ortWebGpu.env.logLevel = "error";
    const tiny = await ortWebGpu.InferenceSession.create(
      modelGraphToOnnx({
        name: "pool",
        inputShape: [1, 2, 2, 1],
        nodes: [{ name: "pool", descriptor: globalAvgPool(), inputs: ["input"] }],
        output: "pool",
      }),
      { executionProviders: ["webgpu"] },
    );
    await tiny.run({
      [tiny.inputNames[0]]: new ortWebGpu.Tensor("float32", new Float32Array(4), [1, 1, 2, 2]),
    });
    await tiny.release();
    return performance.now() - start;
  })();
  return ortReady;
}

async function ortRunner(model: Model, input: Float32Array): Promise<Runner> {
  const deviceMs = await initOrtWebGpu();
  const onnx = modelGraphToOnnx(model.graph);
  const dims = onnxShape(model.graph.inputShape);
  const nchw = nhwcToNchw(input, model.graph.inputShape);
  const start = performance.now();
  const session = await ortWebGpu.InferenceSession.create(onnx, {
    executionProviders: ["webgpu"],
    graphOptimizationLevel: "all",
  });
  const infer = async () => {
    const feed = new ortWebGpu.Tensor("float32", nchw, dims);
    const results = await session.run({ [session.inputNames[0]]: feed });
    const output = results[session.outputNames[0]];
    const data = await output.getData() as Float32Array;
    output.dispose();
    return data;
  };
  const logits = await infer();
  return {
    deviceMs,
    firstMs: performance.now() - start,
    logits,
    infer,
    release: () => session.release(),
  };
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const NAMES = { ours: "ours (webgpu)", tfjs: "tfjs-webgpu", ort: "ORT Web webgpu EP" } as const;
type Key = keyof typeof NAMES;

const firstRows: string[][] = [];
const warmRows: string[][] = [];
const countRows: string[][] = [];
const checkRows: string[][] = [];
const notes: string[] = [];
const profiles: string[] = [];
for (const name of args.models.split(",")) {
  const model = MODELS[name]();
  const network = model.definition.name;
  const input = randomFloat32(seededRandom(77), shapeSize(model.graph.inputShape));
  console.error(`# ${network}: float64 reference`);
  const expected = referenceForward(model.graph, input).values;

  console.error(`# ${network}: first inferences, ${firstRuns} times each`);
  const firsts: Record<Key, { deviceMs: number[]; firstMs: number[] }> = {
    ours: { deviceMs: [], firstMs: [] },
    tfjs: { deviceMs: [], firstMs: [] },
    ort: { deviceMs: [], firstMs: [] },
  };
  let ours: Awaited<ReturnType<typeof ourRunner>> | undefined;
  let tfjs: Awaited<ReturnType<typeof tfjsRunner>> | undefined;
  let ort: Runner | undefined;
  let ortFailed = false;
  const compileMs: number[] = [];
  const firstPipelines: Partial<Record<Key, number[]>> = {};
  for (let turn = 0; turn < firstRuns; turn++) {
    // The last turn's runners stay for the warm measurements.
    const last = turn === firstRuns - 1;
    const record = async <R extends Runner>(key: Key, make: () => Promise<R>): Promise<R> => {
      const { result: runner, pipelines } = await countGpuCalls(make);
      (firstPipelines[key] ??= []).push(pipelines);
      firsts[key].deviceMs.push(runner.deviceMs);
      firsts[key].firstMs.push(runner.firstMs);
      if (!last) await runner.release();
      return runner;
    };
    ours = await record("ours", () => ourRunner(model, input));
    compileMs.push(ours.compileMs);
    tfjs = await record("tfjs", () => tfjsRunner(model, input));
    if (ortFailed) continue;
    try {
      ort = await record("ort", () => ortRunner(model, input));
    } catch (error) {
      ortFailed = true;
      notes.push(
        `${network}, ORT Web webgpu EP: ${error instanceof Error ? error.message : error}`,
      );
    }
  }
  const runners: Partial<Record<Key, Runner>> = { ours, tfjs, ...(ort ? { ort } : {}) };
  notes.push(
    `${network}, first inference per fresh backend, in turn order: ` +
      (["ours", "tfjs", "ort"] as const)
        .filter((key) => firsts[key].firstMs.length > 0)
        .map((key) =>
          `${NAMES[key]} ${firsts[key].firstMs.map((ms) => ms.toFixed(0)).join(", ")} ms, ` +
          `creating ${firstPipelines[key]!.join(", ")} compute pipelines`
        ).join("; ") +
      `. Ours compiled (pipelines, weight packing and upload) in ` +
      `${median(compileMs).toFixed(1)} ms of its first inference (median).`,
  );
  const keys = Object.keys(runners) as Key[];
  assert(ours !== undefined && tfjs !== undefined);

  console.error(`# ${network}: ${keys.join(", ")} interleaved`);
  const warm: Record<string, Timing> = await timeInterleaved(
    Object.fromEntries(keys.map((key) => [key, runners[key]!.infer])),
    { warmup, runs },
  );

  const counts: Partial<Record<Key, { dispatches: number; submits: number }>> = {};
  for (const key of keys) counts[key] = await countGpuCalls(runners[key]!.infer);
  const detailBefore = ours.backend.memoryStats().detail!;
  await ours.infer();
  const detailAfter = ours.backend.memoryStats().detail!;
  const ourDispatches = detailAfter.dispatches - detailBefore.dispatches;
  const ourSubmits = detailAfter.submits - detailBefore.submits;

  const recording: Partial<Record<Key, { ms: number; submitMs: number }>> = {};
  for (const key of ["ours", "tfjs"] as const) {
    const samples: number[] = [];
    const submitSamples: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const { result: { ms, finish }, submitMs } = timeSubmits(() => runners[key]!.record!());
      await finish();
      if (i >= warmup) {
        samples.push(ms);
        submitSamples.push(submitMs);
      }
    }
    recording[key] = { ms: median(samples), submitMs: median(submitSamples) };
  }

  if (args.profile) profiles.push(await profile(network, model, input, ours, tfjs));

  const ratio = (theirs: number | undefined, our: number) =>
    theirs === undefined ? "—" : `${(theirs / our).toFixed(2)}×`;
  const firstOf = (key: Key) =>
    firsts[key].firstMs.length ? median(firsts[key].firstMs) : undefined;
  const warmOf = (key: Key) => warm[key]?.medianMs;
  const ms = (value: number | undefined) => value === undefined ? "—" : value.toFixed(1);
  firstRows.push([
    network,
    ...keys.map((key) => `${ms(median(firsts[key].deviceMs))} + ${ms(firstOf(key))}`),
    ...(keys.includes("ort") ? [] : ["—"]),
    ratio(firstOf("tfjs"), firstOf("ours")!),
    ratio(firstOf("ort"), firstOf("ours")!),
  ]);
  warmRows.push([
    network,
    ms(warmOf("ours")),
    ms(warmOf("tfjs")),
    ms(warmOf("ort")),
    ratio(warmOf("tfjs"), warmOf("ours")!),
    ratio(warmOf("ort"), warmOf("ours")!),
  ]);
  countRows.push([
    network,
    `${ourDispatches} / ${ourSubmits}`,
    ...keys.map((key) => `${counts[key]!.dispatches} / ${counts[key]!.submits}`),
    ...(keys.includes("ort") ? [] : ["—"]),
    `${ms(recording.ours?.ms)} (${ms(recording.ours?.submitMs)})`,
    `${ms(recording.tfjs?.ms)} (${ms(recording.tfjs?.submitMs)})`,
  ]);
  const top = argmax(expected);
  const scale = expected.reduce((worst, v) => Math.max(worst, Math.abs(v)), 0);
  checkRows.push([
    network,
    `${top}, ${scale.toPrecision(3)}`,
    ...(["ours", "tfjs", "ort"] as const).map((key) => {
      const logits = runners[key]?.logits;
      if (logits === undefined) return "—";
      const top1 = argmax(logits) === top ? "top-1 ok" : `TOP-1 ${argmax(logits)}`;
      return `${maxAbsDiff(logits, expected).toExponential(1)}, ${top1}`;
    }),
  ]);
  for (const runner of Object.values(runners)) await runner.release();
}

/**
 * Where our first inference's run spends its extra time: a fresh backend
 * profiled on its first run and again, per layer, as Markdown (the layers
 * whose first run took longer, most first).
 */
async function firstRunProfile(network: string, model: Model, input: Float32Array) {
  using backend = await createBackend("webgpu");
  using compiled = await model.compile(backend);
  using x = backend.upload(input, model.graph.inputShape);
  const first = await compiled.profile(x);
  const second = await compiled.profile(x);
  const rows = first.layers.map((layer, i) => ({ layer, again: second.layers[i].ms }))
    .filter(({ layer, again }) => layer.ms > again)
    .sort((a, b) => (b.layer.ms - b.again) - (a.layer.ms - a.again))
    .slice(0, 8)
    .map(({ layer, again }) => [
      layer.node,
      layer.variant,
      layer.ms.toFixed(1),
      again.toFixed(1),
      (layer.ms - again).toFixed(1),
    ]);
  return [
    `\n#### ${network}: our first run on a fresh backend against its second, GPU clock ` +
    `(sum ${first.totalMs.toFixed(1)} against ${second.totalMs.toFixed(1)} ms)\n`,
    markdownTable(["layer", "variant", "first ms", "second ms", "excess"], rows),
  ].join("\n");
}

/** Our per-layer GPU times and TF.js's per-kernel times of one inference, as Markdown. */
async function profile(
  network: string,
  model: Model,
  input: Float32Array,
  ours: Awaited<ReturnType<typeof ourRunner>>,
  tfjs: Awaited<ReturnType<typeof tfjsRunner>>,
): Promise<string> {
  const x = ours.backend.upload(input, model.graph.inputShape);
  const xs = tf.tensor(input, [...model.graph.inputShape]);
  // Interleaved, so that a slow spell of the shared machine hits both alike.
  const samples: ModelProfile[] = [];
  const tfjsSamples: { name: string; ms: number }[][] = [];
  for (let i = 0; i < PROFILES; i++) {
    samples.push(await ours.compiled.profile(x));
    const info = await tf.profile(() => tfjs.converted.run(xs));
    const kernels = [];
    for (const kernel of info.kernels) {
      kernels.push({ name: kernel.name, ms: await kernel.kernelTimeMs as number });
    }
    tf.dispose(info.result);
    tfjsSamples.push(kernels);
  }
  x.dispose();
  xs.dispose();
  const layers = samples[0].layers.map((layer, i) => ({
    ...layer,
    ms: median(samples.map((sample) => sample.layers[i].ms)),
  }));
  const kernels = tfjsSamples[0].map(({ name }, i) => ({
    name,
    ms: median(tfjsSamples.map((sample) => sample[i].ms)),
  }));
  const total = layers.reduce((sum, layer) => sum + layer.ms, 0);
  const byVariant = new Map<string, { ms: number; layers: number; multiplyAdds: number }>();
  for (const layer of layers) {
    const key = `${layer.op} ${layer.variant}`;
    const entry = byVariant.get(key) ?? { ms: 0, layers: 0, multiplyAdds: 0 };
    entry.ms += layer.ms;
    entry.layers++;
    entry.multiplyAdds += layer.multiplyAdds;
    byVariant.set(key, entry);
  }
  const rate = (multiplyAdds: number, ms: number) =>
    multiplyAdds && ms ? (2 * multiplyAdds / (ms * 1e6)).toFixed(1) : "—";
  const variantRows = [...byVariant].sort((a, b) => b[1].ms - a[1].ms).map(([key, entry]) => [
    key,
    String(entry.layers),
    entry.ms.toFixed(2),
    `${(100 * entry.ms / total).toFixed(0)}%`,
    rate(entry.multiplyAdds, entry.ms),
  ]);

  const kernelTotals = new Map<string, { ms: number; kernels: number }>();
  for (const kernel of kernels) {
    const entry = kernelTotals.get(kernel.name) ?? { ms: 0, kernels: 0 };
    entry.ms += kernel.ms;
    entry.kernels++;
    kernelTotals.set(kernel.name, entry);
  }
  const tfjsTotal = kernels.reduce((sum, kernel) => sum + kernel.ms, 0);
  const kernelRows = [...kernelTotals].filter(([, entry]) => entry.ms > 0)
    .sort((a, b) => b[1].ms - a[1].ms).map(([kernel, entry]) => [
      kernel,
      String(entry.kernels),
      entry.ms.toFixed(2),
      `${(100 * entry.ms / tfjsTotal).toFixed(0)}%`,
    ]);

  // Convolutions pair up layer by layer where TF.js runs each as one kernel (not ShuffleNet's
  // split group convolutions): both lists are in execution order.
  const ourConvs = layers.filter((layer) => layer.op === "conv2d");
  const tfjsConvs = kernels.filter(({ name }) => TFJS_CONVOLUTIONS.has(name));
  const pairs = ourConvs.length === tfjsConvs.length
    ? ourConvs.map((layer, i) => ({ layer, theirs: tfjsConvs[i] }))
      .sort((a, b) => (b.layer.ms - b.theirs.ms) - (a.layer.ms - a.theirs.ms))
    : [];
  const pairRows = pairs.slice(0, 10).map(({ layer, theirs }) => [
    layer.node,
    layer.variant,
    layer.ms.toFixed(2),
    rate(layer.multiplyAdds, layer.ms),
    theirs.ms.toFixed(2),
    rate(layer.multiplyAdds, theirs.ms),
    (layer.ms - theirs.ms).toFixed(2),
  ]);
  const lines = [
    `#### ${network}: GPU time per operator and variant, ours (median of ${PROFILES} ` +
    `profiles interleaved with TF.js's, sum ${total.toFixed(1)} ms)\n`,
    markdownTable(["op variant", "layers", "ms", "share", "GFLOP/s"], variantRows),
    `\n#### ${network}: TF.js WebGPU GPU time per kernel (tf.profile, median of ${PROFILES}, ` +
    `sum ${tfjsTotal.toFixed(1)} ms)\n`,
    markdownTable(["kernel", "calls", "ms", "share"], kernelRows),
  ];
  if (pairRows.length > 0) {
    lines.push(
      `\n#### ${network}: convolutions layer by layer, largest excess of ours over TF.js first\n`,
      markdownTable(
        [
          "layer",
          "our variant",
          "ours ms",
          "ours GFLOP/s",
          "tfjs ms",
          "tfjs GFLOP/s",
          "ours − tfjs",
        ],
        pairRows,
      ),
      `\nThe ${pairs.length} convolutions by our variant:\n`,
      markdownTable(
        ["our variant", "layers", "ours ms", "tfjs ms", "tfjs / ours"],
        [...Map.groupBy(pairs, ({ layer }) => layer.variant)].map(([variant, group]) => {
          const oursMs = group.reduce((sum, { layer }) => sum + layer.ms, 0);
          const theirsMs = group.reduce((sum, { theirs }) => sum + theirs.ms, 0);
          return [
            variant,
            String(group.length),
            oursMs.toFixed(1),
            theirsMs.toFixed(1),
            `${(theirsMs / oursMs).toFixed(2)}×`,
          ];
        }),
      ),
    );
  }
  lines.push(await firstRunProfile(network, model, input));
  return lines.join("\n");
}

const adapter = await navigator.gpu.requestAdapter();
console.log(
  `${describeMachine()}, adapter: ${adapter?.info.description || adapter?.info.vendor}` +
    ` (fallback adapter: ${adapter?.info.isFallbackAdapter})\n`,
);
console.log(
  `First inference, ms, median of ${firstRuns} fresh backends: making the backend's device + ` +
    "compile/convert, upload, first run and read-back (ORT: its runtime and device are made " +
    "once per process, with a one-node session); ratio = their first inference / ours" +
    `${args["shader-cache"] ? " (Mesa shader cache on)" : " (Mesa shader cache off)"}:\n`,
);
console.log(markdownTable(
  ["model", NAMES.ours, NAMES.tfjs, NAMES.ort, "ours vs tfjs", "ours vs ORT"],
  firstRows,
));
console.log(
  `\nWarm median ms per inference (input Float32Array → logits) of ${runs} runs after ` +
    `${warmup} warm-up, interleaved; ratio = their time / ours:\n`,
);
console.log(markdownTable(
  [
    "model",
    `${NAMES.ours} ms`,
    `${NAMES.tfjs} ms`,
    `${NAMES.ort} ms`,
    "ours vs tfjs",
    "ours vs ORT",
  ],
  warmRows,
));
console.log(
  "\nDispatches / submits per warm inference (read-back included): ours from " +
    "memoryStats().detail, then everyone's counted at dispatchWorkgroups / queue.submit; " +
    "CPU ms to record one inference (no wait), median, and in parentheses the part spent " +
    "inside queue.submit (which blocks while lavapipe runs the submitted work):\n",
);
console.log(markdownTable(
  [
    "model",
    "ours (detail)",
    "ours (counted)",
    "tfjs (counted)",
    "ORT (counted)",
    "ours record ms",
    "tfjs record ms",
  ],
  countRows,
));
console.log("\nLogits against the float64 reference (max |Δ|, top-1 agreement):\n");
console.log(markdownTable(
  ["model", "reference top-1, max abs logit", NAMES.ours, NAMES.tfjs, NAMES.ort],
  checkRows,
));
for (const note of notes) console.log(`\n${note}`);
for (const text of profiles) console.log(`\n${text}`);
// ORT's and TF.js's devices and pools would keep the process alive.
Deno.exit(0);
