/**
 * The trained Fashion-MNIST networks (the card `deno task evaluate` reads,
 * `models/pretrained/fashion-mnist/card.json`) on our js and wasm backends
 * and on ONNX Runtime Web 1.30's wasm execution provider, all in this one
 * Deno process, on the same ONNX files and the same preprocessed test images:
 * images per second at batch 1 and at the larger batch `deno task evaluate`
 * times, and whether ONNX Runtime classifies each image as our engine and as
 * torch do.
 *
 * Timed is one inference of a batch, NCHW `Float32Array` in → logits
 * `Float32Array` out, as an ONNX user feeds it: for us `toGraphInput` (NCHW →
 * NHWC), upload, run, download, `fromGraphOutput`; for ONNX Runtime
 * `session.run`. Preprocessing is outside the timed region for both. (`deno
 * task evaluate` leaves the NCHW → NHWC copy out of its timing, so its
 * images/s can be a little higher than ours here.) Our wasm backend, the js
 * backend and ONNX Runtime are timed interleaved (`timeInterleaved` of
 * measure.ts), in turns of {@link BURST} inferences whose first is untimed,
 * each turn after the {@link SPIN_SETTLE_MS} busy wait, as the other peer
 * scripts do.
 *
 * ```sh
 * deno task peers-evaluate                  # every model of the card, 1 thread
 * deno task peers-evaluate --threads 2      # ONNX Runtime's and our wasm pool: 2 threads (no js)
 * deno task peers-evaluate --card tools/train/testdata/card.json --limit 1000
 * ```
 *
 * ONNX Runtime's thread pool is configured once per process, so each thread
 * count is its own process; the js backend is single-threaded and only runs
 * with `--threads 1`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Backend, BackendUnavailableError } from "@mobileops/core";
import { loadOnnx, type OnnxModel } from "@mobileops/onnx";
import { createBackend } from "@mobileops/registry";
import {
  DEFAULT_CARD,
  FASHION_MNIST_DIR,
  loadCard,
  type LoadedModel,
  percent,
  preprocess,
  readTestSet,
  type TestSet,
  UsageError,
} from "../../tools/evaluate.ts";
import {
  describeMachine,
  markdownTable,
  maxAbsDiff,
  SPIN_SETTLE_MS,
  timeInterleaved,
  type Timing,
} from "./measure.ts";
import { OrtModel } from "./ort.ts";
import { createOurWasmBackend } from "./our_backends.ts";

/** Inferences per turn; the first is untimed, so each timed one finds its runtime's data in cache. */
export const BURST = 3;

/** What {@link compareWithOrt} runs; {@link parseOrtArgs} makes it from the command line. */
export interface OrtComparisonOptions {
  /** The card.json path. */
  readonly card: string;
  /** Models by name or `.onnx` path; empty for all. */
  readonly models: readonly string[];
  /** Threads of ONNX Runtime's pool and of our wasm backend; the js backend runs only at 1. */
  readonly threads: number;
  /** The larger batch timed besides batch 1 (`deno task evaluate`'s default: 64). */
  readonly batch: number;
  /** Timed inferences per implementation and batch size, at least. */
  readonly runs: number;
  /** Untimed inferences of each implementation first. */
  readonly warmup: number;
  /** The first `limit` test images are classified by every implementation and compared. */
  readonly limit: number;
  /** The Fashion-MNIST files. */
  readonly data: string;
}

const USAGE = `usage: deno task peers-evaluate [options]
  --card FILE    the card (default models/pretrained/fashion-mnist/card.json)
  --model M      a model of the card, by name or .onnx file; repeatable (default: all)
  --threads N    ONNX Runtime's and our wasm backend's threads, 1 to 16 (default 1; js only at 1)
  --batch B      the larger batch, 2 to 1024 (default 64, as deno task evaluate)
  --runs N       timed inferences per implementation and batch, 1 to 10000 (default 30)
  --warmup N     untimed inferences first, 0 to 10000 (default 10)
  --limit N      test images every implementation classifies and compares, 1 to 10000 (default all)
  --data DIR     the Fashion-MNIST files (default ${FASHION_MNIST_DIR})
  --help, -h     print this text`;

function integerFlag(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(flag, value, `must be an integer from ${min} to ${max}`);
  }
  return n;
}

/**
 * Parses the command line strictly: an unknown flag, a positional argument or
 * a number that is not a plain integer in range throws `UsageError` (of
 * tools/evaluate.ts) naming the flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOrtArgs } from "./evaluate_ort.ts";
 * const options = parseOrtArgs(["--threads", "2", "--limit", "500"]);
 * assert.deepEqual([options.threads, options.batch, options.limit], [2, 64, 500]);
 * assert.throws(() => parseOrtArgs(["--batch", "1"]), /--batch/);
 * ```
 */
export function parseOrtArgs(args: readonly string[]): OrtComparisonOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        card: { type: "string", default: DEFAULT_CARD },
        model: { type: "string", multiple: true, default: [] },
        threads: { type: "string", default: "1" },
        batch: { type: "string", default: "64" },
        runs: { type: "string", default: "30" },
        warmup: { type: "string", default: "10" },
        limit: { type: "string", default: "10000" },
        data: { type: "string", default: FASHION_MNIST_DIR },
      },
    }));
  } catch (error) {
    throw new UsageError("arguments", args, (error as Error).message);
  }
  return {
    card: values.card,
    models: values.model,
    threads: integerFlag("--threads", values.threads, 1, 16),
    batch: integerFlag("--batch", values.batch, 2, 1024),
    runs: integerFlag("--runs", values.runs, 1, 10_000),
    warmup: integerFlag("--warmup", values.warmup, 0, 10_000),
    limit: integerFlag("--limit", values.limit, 1, 10_000),
    data: values.data,
  };
}

/** An implementation under comparison. */
export type Implementation = "js" | "wasm" | "ort";

/** One model's figures: how fast each implementation classifies, and how their classes agree. */
export interface OrtComparison {
  /** The card entry's name. */
  readonly model: string;
  readonly multiplyAdds: number;
  /** Median time of one inference per implementation that ran, at batch 1 and at `batch`. */
  readonly batch1: Partial<Record<Implementation, Timing>>;
  readonly batchN: Partial<Record<Implementation, Timing>>;
  /** The larger batch. */
  readonly batch: number;
  /** Test images every implementation classified. */
  readonly images: number;
  /** Which of ours ONNX Runtime is compared with: wasm, or js when wasm did not start. */
  readonly ours: "js" | "wasm";
  /** Fraction of the images on which ONNX Runtime's class equals ours. */
  readonly ortAgreesWithOurs: number;
  /** Fraction on which ONNX Runtime's class equals torch's (the card's predictions). */
  readonly ortAgreesWithTorch: number;
  /** Fraction on which ours equals torch's. */
  readonly oursAgreesWithTorch: number;
  /** The largest |logit difference| between ONNX Runtime and ours over the images. */
  readonly maxLogitDifference: number;
}

/** Runs one batch: NCHW in, logits out. */
type Infer = (nchw: Float32Array) => Promise<Float32Array>;

/** Our engine on one backend for the model imported at one batch size. */
async function ourInfer(onnx: OnnxModel, backend: Backend): Promise<[Infer, () => void]> {
  const compiled = await onnx.compile(backend);
  const infer: Infer = async (nchw) => {
    using x = backend.upload(onnx.toGraphInput(nchw), onnx.input.graphShape);
    return onnx.fromGraphOutput(await compiled.run(x).download());
  };
  return [infer, () => compiled.dispose()];
}

function argmaxes(logits: Float32Array, classes: number): Uint8Array {
  const out = new Uint8Array(logits.length / classes);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    // Strictly greater: the first of equal maxima wins, as torch.argmax does.
    for (let k = 1; k < classes; k++) {
      if (logits[i * classes + k] > logits[i * classes + best]) best = k;
    }
    out[i] = best;
  }
  return out;
}

/** The NCHW input of `count` test images from `first`, preprocessed as the card says. */
function inputs(model: LoadedModel, test: TestSet, first: number, count: number): Float32Array {
  const pixels = test.height * test.width;
  const size = model.onnx.input.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(count * size);
  for (let i = 0; i < count; i++) {
    const image = test.images.subarray((first + i) * pixels, (first + i + 1) * pixels);
    out.set(preprocess(image, model.entry.preprocessing), i * size);
  }
  return out;
}

/** The implementations that run at this thread count, for the model at one batch size. */
async function implementations(
  model: LoadedModel,
  batch: number,
  backends: { js?: Backend; wasm?: Backend },
  threads: number,
): Promise<{ infer: Partial<Record<Implementation, Infer>>; release: () => Promise<void> }> {
  const [, channels, height, width] = model.entry.inputShape;
  const shape = [batch, channels, height, width];
  const onnx = batch === 1 ? model.onnx : loadOnnx(model.bytes, { inputShape: shape });
  const infer: Partial<Record<Implementation, Infer>> = {};
  const releases: (() => void | Promise<void>)[] = [];
  for (const name of ["js", "wasm"] as const) {
    const backend = backends[name];
    if (backend === undefined) continue;
    const [run, dispose] = await ourInfer(onnx, backend);
    infer[name] = run;
    releases.push(dispose);
  }
  const ort = await OrtModel.create(model.bytes, shape, { threads });
  infer.ort = (nchw) => ort.run(nchw);
  releases.push(() => ort.release());
  return {
    infer,
    release: async () => {
      for (const release of releases) await release();
    },
  };
}

/**
 * Compares every card model (or those `options.models` names) on our js
 * backend (at 1 thread), our wasm backend and ONNX Runtime: first each
 * classifies the first `options.limit` test images (whole batches of
 * `options.batch`, the rest one by one) and the classes are compared with
 * each other and with torch's; then each is timed, interleaved, at batch 1
 * and at `options.batch`. `progress` receives a line per step.
 */
export async function compareWithOrt(
  options: OrtComparisonOptions,
  progress: (line: string) => void = () => {},
): Promise<OrtComparison[]> {
  const models = loadCard(options.card, options.models);
  const test = readTestSet(options.data);
  const count = Math.min(options.limit, test.count);
  const js = options.threads === 1 ? await createBackend("js") : undefined;
  const wasm = await createOurWasmBackend(options.threads);
  if (typeof wasm === "string") progress(`our wasm backend skipped: ${wasm}`);
  const backends = { js, wasm: typeof wasm === "string" ? undefined : wasm };
  const ours = backends.wasm === undefined ? "js" : "wasm";
  if (backends[ours] === undefined) {
    throw new BackendUnavailableError("wasm", `${wasm}; and js runs only at --threads 1`);
  }
  const results: OrtComparison[] = [];
  try {
    for (const model of models) {
      const classes = model.entry.options.classes;
      const one = await implementations(model, 1, backends, options.threads);
      const many = await implementations(model, options.batch, backends, options.threads);
      try {
        progress(`${model.entry.name}: ${count} images, ours (${ours}) and ONNX Runtime`);
        let [ortOurs, ortTorch, oursTorch, worst] = [0, 0, 0, 0];
        for (let first = 0; first < count;) {
          const size = count - first >= options.batch ? options.batch : 1;
          const run = size === 1 ? one.infer : many.infer;
          const x = inputs(model, test, first, size);
          const [a, b] = [await run.ort!(x), await run[ours]!(x)];
          worst = Math.max(worst, maxAbsDiff(a, b));
          const [ortClasses, ourClasses] = [argmaxes(a, classes), argmaxes(b, classes)];
          for (let i = 0; i < size; i++) {
            const torch = model.predictions[first + i];
            ortOurs += ortClasses[i] === ourClasses[i] ? 1 : 0;
            ortTorch += ortClasses[i] === torch ? 1 : 0;
            oursTorch += ourClasses[i] === torch ? 1 : 0;
          }
          first += size;
        }
        const timing = {
          warmup: options.warmup,
          runs: options.runs,
          burst: BURST,
          pauseMs: SPIN_SETTLE_MS,
        };
        const time = async (set: typeof one, batch: number) => {
          progress(
            `${model.entry.name}: batch ${batch}, ${Object.keys(set.infer).join(", ")} interleaved`,
          );
          const x = inputs(model, test, 0, batch);
          const calls = Object.fromEntries(
            Object.entries(set.infer).map(([name, infer]) => [name, () => infer!(x)]),
          );
          return await timeInterleaved(calls, timing) as Partial<Record<Implementation, Timing>>;
        };
        results.push({
          model: model.entry.name,
          multiplyAdds: model.entry.cost.multiplyAdds,
          batch1: await time(one, 1),
          batchN: await time(many, options.batch),
          batch: options.batch,
          images: count,
          ours,
          ortAgreesWithOurs: ortOurs / count,
          ortAgreesWithTorch: ortTorch / count,
          oursAgreesWithTorch: oursTorch / count,
          maxLogitDifference: worst,
        });
      } finally {
        await one.release();
        await many.release();
      }
    }
  } finally {
    js?.dispose();
    backends.wasm?.dispose();
  }
  return results;
}

/** Images per second of one inference of `batch` images taking `timing.medianMs`. */
function imagesPerSecond(timing: Timing | undefined, batch: number): number | undefined {
  return timing === undefined ? undefined : batch / (timing.medianMs / 1000);
}

/**
 * The comparisons as two Markdown tables: images/s per implementation at
 * batch 1 and at the larger batch, with ours against ONNX Runtime's as a
 * ratio (above 1×: ours is faster), the js columns only when js ran; then
 * the agreement of the classes and the largest logit difference.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatComparisons } from "./evaluate_ort.ts";
 * const t = (medianMs: number) => ({ medianMs, minMs: medianMs, runs: 30 });
 * const text = formatComparisons([{
 *   model: "m", multiplyAdds: 1e6, batch: 64, images: 100, ours: "wasm",
 *   batch1: { js: t(1), wasm: t(0.1), ort: t(0.2) }, batchN: { wasm: t(3.2), ort: t(6.4) },
 *   ortAgreesWithOurs: 1, ortAgreesWithTorch: 1, oursAgreesWithTorch: 1, maxLogitDifference: 1e-6,
 * }]);
 * assert.match(text, /\| m \| 1\.00 \| 1000 \| 10000 \| 5000 \| 0\.20× \| 2\.00× \| — \| 20000 \| 10000 \| — \| 2\.00× \|/);
 * ```
 */
export function formatComparisons(results: readonly OrtComparison[]): string {
  const batch = results[0]?.batch ?? 0;
  const rate = (t: Timing | undefined, b: number) => imagesPerSecond(t, b)?.toFixed(0) ?? "—";
  const ratio = (ours: Timing | undefined, ort: Timing | undefined) =>
    ours === undefined || ort === undefined ? "—" : `${(ort.medianMs / ours.medianMs).toFixed(2)}×`;
  // Columns per batch size: each implementation's rate, then ours against ORT; js's only if it ran.
  const js = results.some((r) => r.batch1.js !== undefined || r.batchN.js !== undefined);
  const ours: ("js" | "wasm")[] = js ? ["js", "wasm"] : ["wasm"];
  const columns: [string, (r: OrtComparison) => string][] = [1, batch].flatMap((b) => {
    const suffix = b === 1 ? "" : `, batch ${b}`;
    const timings = (r: OrtComparison) => b === 1 ? r.batch1 : r.batchN;
    return [
      ...[...ours, "ort" as const].map((name): [string, (r: OrtComparison) => string] => [
        `${name === "ort" ? "ORT" : name} img/s${suffix}`,
        (r) => rate(timings(r)[name], b),
      ]),
      ...ours.map((name): [string, (r: OrtComparison) => string] => [
        `${name} vs ORT${suffix}`,
        (r) => ratio(timings(r)[name], timings(r).ort),
      ]),
    ];
  });
  const speed = markdownTable(
    ["model", "MMAC", ...columns.map(([header]) => header)],
    results.map((r) => [
      r.model,
      (r.multiplyAdds / 1e6).toFixed(2),
      ...columns.map(([, cell]) => cell(r)),
    ]),
  );
  const agreement = markdownTable(
    [
      "model",
      "images",
      "ORT = ours",
      "ORT = torch",
      "ours = torch",
      "max abs Δ logit, ORT vs ours",
    ],
    results.map((r) => [
      r.model,
      String(r.images),
      `${percent(r.ortAgreesWithOurs)} (${r.ours})`,
      percent(r.ortAgreesWithTorch),
      percent(r.oursAgreesWithTorch),
      r.maxLogitDifference.toExponential(1),
    ]),
  );
  return `${speed}\n\nClasses of the same images:\n\n${agreement}`;
}

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let options: OrtComparisonOptions;
  try {
    options = parseOrtArgs(Deno.args);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  const results = await compareWithOrt(options, (line) => console.error(`# ${line}`));
  console.log(
    `${describeMachine()}, ${options.threads} thread(s) for wasm/ORT (js: 1${
      options.threads === 1 ? "" : ", not run"
    }), card ${options.card}\n`,
  );
  console.log(
    `Images per second (NCHW Float32Array in → logits out; median inference of ≥ ${options.runs} ` +
      `after ${options.warmup} warm-up, ${
        options.threads === 1 ? "js/" : ""
      }wasm/ORT interleaved ` +
      `in turns of ${BURST}, the first ` +
      `untimed); "X vs ORT" = X's images/s / ORT's:\n`,
  );
  console.log(formatComparisons(results));
  // ONNX Runtime's worker pool would keep the process alive.
  Deno.exit(0);
}
