/**
 * Per-operator benchmark of our backends against TF.js 4.22 (wasm backend)
 * and ONNX Runtime Web 1.30 (wasm execution provider), all in this one Deno
 * process, on the benchmark shapes (`BENCH_OPS` from bench/shapes.ts).
 *
 * Every implementation gets the same seeded input and weights; its output is
 * checked against the float64 reference with the conformance tolerance
 * before it is timed, and a mismatch is printed in the table.
 *
 * Two timings per implementation, each a hot-cache median of repeated calls,
 * taken in turns of {@link BURST} calls that rotate between the
 * implementations (`timeInterleaved`), so a slow spell of the shared machine
 * hits all of them alike:
 * - resident: the operator on data already held by the runtime (our
 *   `backend.run` + `sync` into a preallocated output; TF.js op on a tensor);
 * - end to end: `Float32Array` in → `Float32Array` out (upload, run,
 *   download), which is the only form ONNX Runtime Web's `session.run` has.
 *
 * Usage: `deno task peers-ops [--threads 1] [--runs 20] [--warmup 3] [--filter dw]
 * [--tfjs-build simd|threaded-simd]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  randomFloat32,
  reference,
  type ReferenceResult,
  seededRandom,
  withinTolerance,
} from "@mobileops/conformance";
import {
  type Backend,
  convFilterSize,
  convKind,
  opCost,
  type OpDescriptor,
  type OpWeights,
  shapeSize,
} from "@mobileops/core";
import type { ModelGraph } from "@mobileops/graph";
import { createBackend } from "@mobileops/registry";
import { BENCH_OPS } from "../shapes.ts";
import {
  describeMachine,
  gflops,
  type InterleaveOptions,
  markdownTable,
  SPIN_SETTLE_MS,
  timeInterleaved,
  timeMedian,
  type Timing,
} from "./measure.ts";
import { OrtModel } from "./ort.ts";
import { initTfjsWasm, parseTfjsBuild } from "./tfjs.ts";
import { modelGraphToOnnx, nchwToNhwc, nhwcToNchw, onnxShape } from "./to_onnx.ts";
import { modelGraphToTfjs } from "./to_tfjs.ts";
import { createOurWasmBackend } from "./our_backends.ts";

const { values: args } = parseArgs({
  options: {
    threads: { type: "string", default: "1" },
    "tfjs-build": { type: "string" },
    runs: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    filter: { type: "string", default: "" },
  },
});
const threads = Number(args.threads);
const tfjsBuild = parseTfjsBuild(args["tfjs-build"], threads);
/**
 * Calls per turn: the first re-warms the caches after another runtime's turn
 * and is not timed, so each timed call is hot-cache.
 */
const BURST = 5;
const timing: InterleaveOptions = {
  warmup: Number(args.warmup),
  runs: Number(args.runs),
  minTotalMs: 200,
  burst: BURST,
  pauseMs: SPIN_SETTLE_MS,
};

/** One implementation of one op, ready to time, with its output already checked. */
interface Runner {
  readonly check: string;
  /** The op on data already in the runtime; absent for ONNX Runtime. */
  readonly resident?: () => unknown;
  /** Float32Array in → Float32Array out. */
  readonly endToEnd: () => unknown;
  release(): void | Promise<void>;
}

interface Measured {
  readonly check: string;
  readonly resident?: Timing;
  readonly endToEnd?: Timing;
}

function weightsFor(d: OpDescriptor, random: () => number): OpWeights {
  if (d.op === "conv2d") {
    const fanIn = d.kernel[0] * d.kernel[1] * (d.inChannels / d.groups);
    return {
      filter: randomFloat32(random, convFilterSize(d), Math.sqrt(3 / fanIn)),
      bias: d.bias ? randomFloat32(random, d.outChannels) : undefined,
    };
  }
  if (d.op === "fullyConnected") {
    return {
      weights: randomFloat32(random, d.inFeatures * d.outFeatures, Math.sqrt(3 / d.inFeatures)),
      bias: d.bias ? randomFloat32(random, d.outFeatures) : undefined,
    };
  }
  return undefined;
}

function verdict(actual: ArrayLike<number>, expected: ReferenceResult): string {
  const comparison = withinTolerance(actual, expected);
  return comparison.ok
    ? `ok ${comparison.worstRatio.toFixed(2)}`
    : `MISMATCH ${comparison.worstRatio.toPrecision(3)}`;
}

async function ourRunner(
  backend: Backend,
  graph: ModelGraph,
  input: Float32Array,
  expected: ReferenceResult,
): Promise<Runner> {
  const [node] = graph.nodes;
  const kernel = await backend.prepare(node.descriptor, node.weights);
  const x = backend.upload(input, graph.inputShape);
  const out = backend.zeros(expected.shape);
  backend.run(kernel, [x], out);
  return {
    check: verdict(await out.download(), expected),
    resident: async () => {
      backend.run(kernel, [x], out);
      await backend.sync();
    },
    endToEnd: async () => {
      using fresh = backend.upload(input, graph.inputShape);
      backend.run(kernel, [fresh], out);
      await out.download();
    },
    release: () => {
      x.dispose();
      out.dispose();
      kernel.dispose();
    },
  };
}

function tfjsRunner(
  tf: Awaited<ReturnType<typeof initTfjsWasm>>,
  graph: ModelGraph,
  input: Float32Array,
  expected: ReferenceResult,
): Runner {
  const converted = modelGraphToTfjs(graph);
  const x = tf.tensor(input, [...graph.inputShape]);
  const first = converted.run(x);
  const check = verdict(first.dataSync(), expected);
  first.dispose();
  return {
    check,
    resident: () => converted.run(x).dispose(),
    endToEnd: () => {
      const fresh = tf.tensor(input, [...graph.inputShape]);
      const y = converted.run(fresh);
      y.dataSync();
      tf.dispose([fresh, y]);
    },
    release: () => {
      x.dispose();
      converted.dispose();
    },
  };
}

async function ortRunner(
  graph: ModelGraph,
  input: Float32Array,
  expected: ReferenceResult,
): Promise<Runner> {
  const model = await OrtModel.create(modelGraphToOnnx(graph), onnxShape(graph.inputShape), {
    threads,
  });
  const nchw = nhwcToNchw(input, graph.inputShape);
  return {
    check: verdict(nchwToNhwc(await model.run(nchw), expected.shape), expected),
    endToEnd: () => model.run(nchw),
    release: () => model.release(),
  };
}

/**
 * Times the runners' resident forms against each other, then their
 * end-to-end forms; the scalar js backend (~30 ms per pointwise call) is
 * timed alone, resident only, so it does not stretch the interleaved rounds.
 */
async function measureAll(runners: Record<string, Runner>): Promise<Record<string, Measured>> {
  const { js, ...fast } = runners;
  const residentForms = Object.fromEntries(
    Object.entries(fast).flatMap(([key, runner]) =>
      runner.resident ? [[key, runner.resident]] : []
    ),
  );
  const resident: Record<string, Timing | undefined> = await timeInterleaved(residentForms, timing);
  const endToEnd: Record<string, Timing | undefined> = await timeInterleaved(
    Object.fromEntries(Object.entries(fast).map(([key, runner]) => [key, runner.endToEnd])),
    timing,
  );
  const measured: Record<string, Measured> = {
    js: { check: js.check, resident: js.resident && await timeMedian(js.resident, timing) },
  };
  for (const [key, runner] of Object.entries(fast)) {
    measured[key] = { check: runner.check, resident: resident[key], endToEnd: endToEnd[key] };
  }
  for (const runner of Object.values(runners)) await runner.release();
  return measured;
}

const ms = (t: Timing | undefined) => (t === undefined ? "—" : t.medianMs.toFixed(3));
const rate = (macs: number, t: Timing | undefined) =>
  t === undefined || macs === 0 ? "—" : gflops(macs, t.medianMs).toFixed(1);
const speedup = (ours: Timing | undefined, peer: Timing | undefined) =>
  ours === undefined || peer === undefined ? "—" : `${(peer.medianMs / ours.medianMs).toFixed(2)}×`;

const tf = await initTfjsWasm(threads, tfjsBuild);
const js = await createBackend("js");
const wasm = await createOurWasmBackend(threads);
if (typeof wasm === "string") console.error(`# our wasm backend skipped: ${wasm}`);

const residentRows: string[][] = [];
const endToEndRows: string[][] = [];
const checkRows: string[][] = [];
const targetInputs: { kind: string; gflops?: number; bestGflops?: number; overJs: number }[] = [];
for (const [index, op] of BENCH_OPS.entries()) {
  if (!op.name.includes(args.filter)) continue;
  const random = seededRandom(4000 + index);
  const [shape] = op.inputShapes;
  const input = randomFloat32(random, shapeSize(shape));
  const weights = weightsFor(op.descriptor, random);
  const graph: ModelGraph = {
    name: op.name,
    inputShape: shape,
    nodes: [{ name: "op", descriptor: op.descriptor, inputs: ["input"], weights }],
    output: "op",
  };
  const expected = reference(op.descriptor, weights, [{ shape, data: input }]);
  const macs = opCost(op.descriptor, op.inputShapes).multiplyAdds;
  console.error(`# ${op.name}`);
  const runners: Record<string, Runner> = { js: await ourRunner(js, graph, input, expected) };
  if (typeof wasm !== "string") runners.wasm = await ourRunner(wasm, graph, input, expected);
  runners.tfjs = tfjsRunner(tf, graph, input, expected);
  runners.ort = await ortRunner(graph, input, expected);
  const measured = await measureAll(runners);
  const ours = { js: measured.js, wasm: measured.wasm as Measured | undefined };
  const { tfjs, ort } = measured;
  residentRows.push([
    op.name,
    (2 * macs / 1e6).toFixed(1),
    ms(ours.js.resident),
    ms(ours.wasm?.resident),
    ms(tfjs.resident),
    rate(macs, ours.wasm?.resident),
    ours.wasm?.resident && macs > 0 ? gflops(macs, ours.wasm.resident.minMs).toFixed(1) : "—",
    rate(macs, tfjs.resident),
    speedup(ours.wasm?.resident, ours.js.resident),
    speedup(ours.wasm?.resident, tfjs.resident),
  ]);
  endToEndRows.push([
    op.name,
    ms(ours.wasm?.endToEnd),
    ms(tfjs.endToEnd),
    ms(ort.endToEnd),
    rate(macs, ort.endToEnd),
    speedup(ours.wasm?.endToEnd, tfjs.endToEnd),
    speedup(ours.wasm?.endToEnd, ort.endToEnd),
  ]);
  checkRows.push([op.name, ours.js.check, ours.wasm?.check ?? "—", tfjs.check, ort.check]);
  if (ours.wasm?.resident) {
    const kind = op.descriptor.op === "conv2d" ? convKind(op.descriptor) : op.descriptor.op;
    targetInputs.push({
      kind,
      gflops: macs === 0 ? undefined : gflops(macs, ours.wasm.resident.medianMs),
      bestGflops: macs === 0 ? undefined : gflops(macs, ours.wasm.resident.minMs),
      overJs: ours.js.resident!.medianMs / ours.wasm.resident.medianMs,
    });
  }
}

console.log(
  `${describeMachine()}, ${threads} thread(s) for wasm/TF.js/ORT (js: 1), ` +
    `tfjs-backend-wasm ${tfjsBuild} build, our wasm relaxed SIMD: ${
      typeof wasm === "string" ? "—" : wasm.capabilities.relaxedSimd
    }\n`,
);
console.log(
  `Resident (data already in the runtime), median ms of ≥${timing.runs} runs ` +
    `after ${timing.warmup} warm-up; speedup = their time / our wasm time:\n`,
);
console.log(markdownTable([
  "op",
  "MFLOP",
  "js ms",
  "wasm ms",
  "tfjs ms",
  "wasm GFLOP/s",
  "wasm best GFLOP/s",
  "tfjs GFLOP/s",
  "wasm vs js",
  "wasm vs tfjs",
], residentRows));
console.log("\nEnd to end (Float32Array in → Float32Array out), median ms:\n");
console.log(markdownTable([
  "op",
  "wasm ms",
  "tfjs ms",
  "ORT ms",
  "ORT GFLOP/s",
  "wasm vs tfjs",
  "wasm vs ORT",
], endToEndRows));
console.log(
  "\nCross-check against the float64 reference (worst error / tolerance; ≤ 1 passes):\n",
);
console.log(markdownTable(["op", "js", "wasm", "tfjs", "ORT"], checkRows));

/** The per-op speed targets, judged on the slowest op of each kind (resident, our wasm backend). */
function target(label: string, values: number[], wanted: number, unit: string): string {
  if (values.length === 0) return `${label}: no rows`;
  const worst = Math.min(...values);
  const verdict = worst >= wanted ? "meets" : "MISSES";
  return `${label}: slowest ${worst.toFixed(1)}${unit}, fastest ${
    Math.max(...values).toFixed(1)
  }${unit} — ${verdict} the ${wanted}${unit} target`;
}
const rates = (kind: string, best = false) =>
  targetInputs.filter((b) => b.kind === kind && b.gflops !== undefined).map((b) =>
    best ? b.bestGflops! : b.gflops!
  );
console.log(`\nTargets (our wasm backend, resident, ${threads} thread(s)):\n`);
console.log(`- ${target("pointwise, medians", rates("pointwise"), 35, " GFLOP/s")}`);
console.log(`- ${target("pointwise, best calls", rates("pointwise", true), 35, " GFLOP/s")}`);
console.log(`- ${target("depthwise, medians", rates("depthwise"), 12, " GFLOP/s")}`);
const convolutions = targetInputs.filter((b) => b.gflops !== undefined);
console.log(`- ${target("wasm vs js, convolutions", convolutions.map((b) => b.overJs), 5, "×")}`);

js.dispose();
if (typeof wasm !== "string") wasm.dispose();
// tfjs's and ORT's worker pools would keep the process alive.
Deno.exit(0);
