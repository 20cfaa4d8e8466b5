/**
 * Full-network benchmark: MobileNet v1 1.0-224 and ShuffleNet v1 1× g=3 224
 * (batch 1, seeded random weights from `@mobileops/models`) on our backends,
 * TF.js 4.22 (wasm backend) and ONNX Runtime Web 1.30 (wasm execution
 * provider), all in this one Deno process. The peers run the same folded
 * graph, converted by to_tfjs.ts and to_onnx.ts.
 *
 * Before timing, every implementation's logits are compared with the float64
 * reference forward pass (max |Δ|, and whether the top-1 class agrees).
 * Timed is one inference, `Float32Array` in → logits `Float32Array` out:
 * upload, run, download for us and TF.js; `session.run` for ONNX Runtime
 * (fed the input already in NCHW, as ONNX users do). Our wasm backend, TF.js
 * and ONNX Runtime are timed interleaved, in turns of {@link BURST}
 * inferences in a rotating order, so a slow spell of a shared machine hits all
 * three alike; the first inference of a turn is untimed, so each runtime is
 * timed in its steady state (its weights back in cache), as when one model
 * runs over and over.
 *
 * Usage: `deno task peers-networks [--threads 1] [--runs 30] [--warmup 10]
 * [--js-runs 3] [--models mobilenet,shufflenet] [--tfjs-build simd|threaded-simd]`. The scalar js backend is
 * single-threaded, so it is only run when `--threads 1`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { randomFloat32, seededRandom } from "@mobileops/conformance";
import { type Backend, shapeSize } from "@mobileops/core";
import { referenceForward } from "@mobileops/graph/reference";
import { mobilenetV1, type Model, shufflenetV1 } from "@mobileops/models";
import { createBackend } from "@mobileops/registry";
import {
  describeMachine,
  type InterleaveOptions,
  markdownTable,
  maxAbsDiff,
  SPIN_SETTLE_MS,
  timeInterleaved,
  timeMedian,
  type Timing,
  type TimingOptions,
} from "./measure.ts";
import { OrtModel } from "./ort.ts";
import { createOurWasmBackend } from "./our_backends.ts";
import { initTfjsWasm, parseTfjsBuild } from "./tfjs.ts";
import { modelGraphToOnnx, nhwcToNchw, onnxShape } from "./to_onnx.ts";
import { modelGraphToTfjs } from "./to_tfjs.ts";

const { values: args } = parseArgs({
  options: {
    threads: { type: "string", default: "1" },
    "tfjs-build": { type: "string" },
    runs: { type: "string", default: "30" },
    // Every runtime here runs new WebAssembly in a baseline tier for its first calls.
    warmup: { type: "string", default: "10" },
    "js-runs": { type: "string", default: "3" },
    models: { type: "string", default: "mobilenet,shufflenet" },
  },
});
const threads = Number(args.threads);
const tfjsBuild = parseTfjsBuild(args["tfjs-build"], threads);
/** Inferences per turn; the first is untimed. */
const BURST = 3;
const timing: InterleaveOptions = {
  warmup: Number(args.warmup),
  runs: Number(args.runs),
  burst: BURST,
  pauseMs: SPIN_SETTLE_MS,
};
const jsTiming: TimingOptions = { warmup: 1, runs: Number(args["js-runs"]) };

const MODELS: Record<string, () => Model> = {
  mobilenet: () => mobilenetV1({ alpha: 1, resolution: 224 }),
  shufflenet: () => shufflenetV1({ groups: 3, scale: 1, resolution: 224 }),
};

/** One implementation, ready to run: its first logits, one timed inference, and cleanup. */
interface Runner {
  readonly logits: Float32Array;
  infer(): unknown;
  release(): void | Promise<void>;
}

async function ourRunner(backend: Backend, model: Model, input: Float32Array): Promise<Runner> {
  const compiled = await model.compile(backend);
  const infer = async () => {
    using x = backend.upload(input, model.graph.inputShape);
    return await compiled.run(x).download();
  };
  return { logits: await infer(), infer, release: () => compiled.dispose() };
}

async function tfjsRunner(model: Model, input: Float32Array): Promise<Runner> {
  const tf = await initTfjsWasm(threads, tfjsBuild);
  const converted = modelGraphToTfjs(model.graph);
  const infer = () => {
    const x = tf.tensor(input, [...model.graph.inputShape]);
    const y = converted.run(x);
    const logits = y.dataSync() as Float32Array;
    tf.dispose([x, y]);
    return logits;
  };
  return { logits: infer(), infer, release: () => converted.dispose() };
}

async function ortRunner(model: Model, input: Float32Array): Promise<Runner> {
  const session = await OrtModel.create(
    modelGraphToOnnx(model.graph),
    onnxShape(model.graph.inputShape),
    { threads },
  );
  const nchw = nhwcToNchw(input, model.graph.inputShape);
  return {
    logits: await session.run(nchw),
    infer: () => session.run(nchw),
    release: () => session.release(),
  };
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

const js = threads === 1 ? await createBackend("js") : undefined;
const wasm = await createOurWasmBackend(threads);
if (typeof wasm === "string") console.error(`# our wasm backend skipped: ${wasm}`);

const timingRows: string[][] = [];
const checkRows: string[][] = [];
for (const name of args.models.split(",")) {
  const model = MODELS[name]();
  const input = randomFloat32(seededRandom(77), shapeSize(model.graph.inputShape));
  console.error(`# ${model.definition.name}: float64 reference`);
  const expected = referenceForward(model.graph, input).values;
  const runners: Record<string, Runner> = {};
  if (typeof wasm !== "string") runners.wasm = await ourRunner(wasm, model, input);
  runners.tfjs = await tfjsRunner(model, input);
  runners.ort = await ortRunner(model, input);
  console.error(`# ${model.definition.name}: wasm, tfjs, ORT interleaved`);
  const timings: Record<string, Timing> = await timeInterleaved(
    Object.fromEntries(Object.entries(runners).map(([key, runner]) => [key, runner.infer])),
    timing,
  );
  for (const runner of Object.values(runners)) await runner.release();
  if (js) {
    console.error(`# ${model.definition.name}: js`);
    const runner = await ourRunner(js, model, input);
    runners.js = runner;
    timings.js = await timeMedian(runner.infer, jsTiming);
    await runner.release();
  }
  const results: Record<string, { logits: Float32Array; timing: Timing } | undefined> = {};
  for (const [key, runner] of Object.entries(runners)) {
    results[key] = { logits: runner.logits, timing: timings[key] };
  }

  const ms = (key: string) => results[key]?.timing.medianMs.toFixed(1) ?? "—";
  const speedup = (peer: string, ours = "wasm") =>
    results[ours] && results[peer]
      ? `${(results[peer]!.timing.medianMs / results[ours]!.timing.medianMs).toFixed(2)}×`
      : "—";
  timingRows.push([
    model.definition.name,
    ms("js"),
    ms("wasm"),
    ms("tfjs"),
    ms("ort"),
    speedup("tfjs"),
    speedup("ort"),
    speedup("js"),
  ]);
  const top = argmax(expected);
  const scale = expected.reduce((worst, v) => Math.max(worst, Math.abs(v)), 0);
  checkRows.push([
    model.definition.name,
    `${top}, ${scale.toPrecision(3)}`,
    ...["js", "wasm", "tfjs", "ort"].map((key) => {
      const logits = results[key]?.logits;
      if (logits === undefined) return "—";
      const top1 = argmax(logits) === top ? "top-1 ok" : `TOP-1 ${argmax(logits)}`;
      return `${maxAbsDiff(logits, expected).toExponential(1)}, ${top1}`;
    }),
  ]);
}

console.log(
  `${describeMachine()}, ${threads} thread(s) for wasm/TF.js/ORT (js: 1), ` +
    `tfjs-backend-wasm ${tfjsBuild} build, our wasm relaxed SIMD: ${
      typeof wasm === "string" ? "—" : wasm.capabilities.relaxedSimd
    }\n`,
);
console.log(
  `Median ms per inference (input Float32Array → logits) of ${timing.runs} runs after ` +
    `${timing.warmup} warm-up, wasm/tfjs/ORT interleaved in turns of ${BURST} (the first ` +
    `untimed) (js: ${jsTiming.runs} ` +
    `runs, alone); speedup = their time / our wasm time:\n`,
);
console.log(markdownTable([
  "model",
  "js ms",
  "wasm ms",
  "tfjs ms",
  "ORT ms",
  "wasm vs tfjs",
  "wasm vs ORT",
  "wasm vs js",
], timingRows));
console.log("\nLogits against the float64 reference (max |Δ|, top-1 agreement):\n");
console.log(markdownTable(
  ["model", "reference top-1, max abs logit", "js", "wasm", "tfjs", "ORT"],
  checkRows,
));

js?.dispose();
if (typeof wasm !== "string") wasm.dispose();
// tfjs's and ORT's worker pools would keep the process alive.
Deno.exit(0);
