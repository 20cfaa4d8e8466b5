/**
 * The main job: build MobileNet v1 and ShuffleNet v1, show what they cost
 * next to the papers' figures, run them on every backend this machine has,
 * check that the backends agree, and time them.
 *
 * ```sh
 * deno task demo                                   # MobileNet 1.0-224 and ShuffleNet 1× g=3, all backends
 * deno task demo --model shufflenet --groups 8 --scale 0.5 --resolution 160 --runs 20
 * deno task demo --model mobilenet --weights mobilenet.safetensors --image cat.jpg
 * deno task demo --json > report.json
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type Backend,
  BackendUnavailableError,
  InvalidArgumentError,
  validateOptions,
} from "@mobileops/core";
import { decodeImage, imageToInput, MAX_IMAGE_PIXELS } from "@mobileops/image";
import {
  factorizationCosts,
  formatCount,
  loadSafetensors,
  mobilenetV1,
  type Model,
  PAPER_FIGURES,
  SHUFFLENET_GROUPS,
  SHUFFLENET_SCALES,
  type ShuffleNetGroups,
  type ShuffleNetScale,
  shufflenetV1,
  summary,
} from "@mobileops/models";
import {
  BACKEND_NAMES,
  type BackendName,
  createBackend,
  NoBackendError,
} from "@mobileops/registry";

function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/**
 * Only `BackendUnavailableError` means "not on this machine"; anything else
 * (its package failing to load) is reported as such, so that a broken
 * backend is not mistaken for a missing one.
 */
function unavailableReason(error: unknown): string {
  if (error instanceof NoBackendError) return error.failures.map((f) => f.reason).join("; ");
  if (error instanceof BackendUnavailableError) return error.message;
  return `failed to load: ${(error as Error).message}`;
}

/** The demo's options: its flags, parsed and checked. */
export interface DemoOptions {
  readonly model: "all" | "mobilenet" | "shufflenet";
  /** MobileNet width multiplier, in (0, 2]. */
  readonly alpha: number;
  /** Input height = width, a multiple of 32 from 32 to 1024. */
  readonly resolution: number;
  /** ShuffleNet groups: 1, 2, 3, 4 or 8. */
  readonly groups: number;
  /** ShuffleNet scale: 0.25, 0.5, 1, 1.5 or 2. */
  readonly scale: number;
  /** Backend names to use; empty means all. */
  readonly backends: readonly string[];
  /** Timed runs per model and backend, after one first run and one warm-up run: 1 to 10,000. */
  readonly runs: number;
  readonly weights?: string;
  readonly image?: string;
  readonly json: boolean;
}

/**
 * The demo's own limits, tighter than the models package's (`MAX_ALPHA` 4,
 * `MAX_RESOLUTION` 4096): at them a network's planned activations stay under
 * 0.6 GiB (ShuffleNet 2× g = 8 at 1024: 0.57 GiB; MobileNet 2.0-1024:
 * 0.54 GiB) and its parameters under 60 MiB, so no combination of flags
 * needs much more than 1 GiB; more runs than 10,000 is a soak, not a demo.
 */
const LIMITS = { alpha: 2, resolution: 1024, runs: 10_000 } as const;

const USAGE = `usage: deno task demo [options]
  --model all|mobilenet|shufflenet   which network(s) (default all: MobileNet 1.0-224 + ShuffleNet 1× g=3)
  --alpha A        MobileNet width multiplier, above 0 and at most ${LIMITS.alpha} (default 1)
  --resolution R   input size, a multiple of 32 from 32 to ${LIMITS.resolution} (default 224)
  --groups G       ShuffleNet groups ${SHUFFLENET_GROUPS.join("|")} (default 3)
  --scale S        ShuffleNet scale ${SHUFFLENET_SCALES.join("|")} (default 1)
  --backend NAMES  comma-separated, from ${BACKEND_NAMES.join(",")} (default: every one available)
  --runs N         timed runs after warm-up, 1 to ${LIMITS.runs} (default 10)
  --weights FILE   safetensors weights (needs --model mobilenet or shufflenet)
  --image FILE     PNG or JPEG input, at most ${MAX_IMAGE_PIXELS / 1e6} megapixels
                   (default: a seeded random image)
  --json           print the report as JSON
  --help, -h       print this text
Numbers are plain decimals (0.75, 224): no hex, exponent, sign +, spaces, NaN or Infinity.`;

/**
 * A command-line mistake, naming the flag and its value; `main` prints it
 * with the usage and exits with status 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDemoArgs, UsageError } from "./demo.ts";
 * assert.throws(
 *   () => parseDemoArgs(["--alpha", "0x10"]),
 *   (e: unknown) => e instanceof UsageError && e.message.startsWith('--alpha = "0x10": '),
 * );
 * ```
 */
export class UsageError extends InvalidArgumentError {
  /** Always `"UsageError"`, so `String(error)` and stack traces show the class. */
  override name = "UsageError";
}

/** Digits with at most one decimal point, optionally negative (so a range error can say why). */
const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

function numberFlag(flag: string, value: string): number {
  if (!PLAIN_DECIMAL.test(value)) {
    throw new UsageError(flag, value, "must be a plain decimal number such as 0.75 or 224");
  }
  return Number(value);
}

const OPTION_KEYS = [
  "model",
  "alpha",
  "resolution",
  "groups",
  "scale",
  "backends",
  "runs",
  "weights",
  "image",
  "json",
];

/** Checks every option's type and range; `parseDemoArgs` and `runDemo` both run it. */
function checkDemoOptions(options: DemoOptions): DemoOptions {
  validateOptions("options", options, OPTION_KEYS, UsageError);
  if (options === undefined) throw new UsageError("options", options, "are required");
  const { model, alpha, resolution, groups, scale, backends, runs, weights, image, json } = options;
  if (model !== "all" && model !== "mobilenet" && model !== "shufflenet") {
    throw new UsageError("--model", model, "must be all, mobilenet or shufflenet");
  }
  if (typeof alpha !== "number" || !(alpha > 0 && alpha <= LIMITS.alpha)) {
    throw new UsageError("--alpha", alpha, `must be above 0 and at most ${LIMITS.alpha}`);
  }
  if (
    !Number.isInteger(resolution) || resolution % 32 !== 0 || resolution < 32 ||
    resolution > LIMITS.resolution
  ) {
    throw new UsageError(
      "--resolution",
      resolution,
      `must be a multiple of 32 from 32 to ${LIMITS.resolution}`,
    );
  }
  if (!SHUFFLENET_GROUPS.includes(groups as ShuffleNetGroups)) {
    throw new UsageError("--groups", groups, `must be one of ${SHUFFLENET_GROUPS.join(", ")}`);
  }
  if (!SHUFFLENET_SCALES.includes(scale as ShuffleNetScale)) {
    throw new UsageError("--scale", scale, `must be one of ${SHUFFLENET_SCALES.join(", ")}`);
  }
  if (!Array.isArray(backends) || backends.some((name) => typeof name !== "string")) {
    throw new UsageError("--backend", backends, "must be a list of backend names");
  }
  if (!Number.isInteger(runs) || runs < 1 || runs > LIMITS.runs) {
    throw new UsageError("--runs", runs, `must be an integer from 1 to ${LIMITS.runs}`);
  }
  for (const [flag, path] of [["--weights", weights], ["--image", image]] as const) {
    if (path !== undefined && (typeof path !== "string" || path === "")) {
      throw new UsageError(flag, path, "must be a file path");
    }
  }
  if (weights !== undefined && model === "all") {
    throw new UsageError("--weights", weights, "needs --model mobilenet or --model shufflenet");
  }
  if (typeof json !== "boolean") throw new UsageError("--json", json, "must be a boolean");
  return options;
}

/**
 * Parses the command line and checks every flag: numbers must be plain
 * decimals within the demo's ranges (`--alpha` in (0, 2], `--resolution` a
 * multiple of 32 up to 1024, `--groups` and `--scale` from ShuffleNet's
 * tables, `--runs` 1 to 10,000). Throws {@link UsageError} naming the flag
 * and its value, or (field `arguments`) for an unknown flag or `args` that is
 * not an array of strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDemoArgs } from "./demo.ts";
 * const options = parseDemoArgs(["--model", "shufflenet", "--groups", "8", "--runs", "3"]);
 * assert(options.model === "shufflenet" && options.groups === 8 && options.runs === 3);
 * ```
 */
export function parseDemoArgs(args: readonly string[]): DemoOptions {
  if (!Array.isArray(args) || args.some((arg) => typeof arg !== "string")) {
    throw new UsageError("arguments", args, "must be an array of strings");
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: "string", default: "all" },
        alpha: { type: "string", default: "1" },
        resolution: { type: "string", default: "224" },
        groups: { type: "string", default: "3" },
        scale: { type: "string", default: "1" },
        backend: { type: "string", default: "" },
        runs: { type: "string", default: "10" },
        weights: { type: "string" },
        image: { type: "string" },
        json: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError("arguments", args, (error as Error).message);
  }
  return checkDemoOptions({
    model: values.model as DemoOptions["model"],
    alpha: numberFlag("--alpha", values.alpha),
    resolution: numberFlag("--resolution", values.resolution),
    groups: numberFlag("--groups", values.groups),
    scale: numberFlag("--scale", values.scale),
    backends: values.backend.split(",").map((name) => name.trim()).filter((name) => name),
    runs: numberFlag("--runs", values.runs),
    weights: values.weights,
    image: values.image,
    json: values.json,
  });
}

/** Per-backend timing and output of one model. */
export interface BackendRun {
  readonly backend: string;
  /** Compile (prepare every kernel, allocate buffers). */
  readonly compileMs: number;
  /** The first run, downloaded. */
  readonly firstRunMs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly runs: number;
  /** Top-5 classes by logit: index, softmax probability, and label when the weights have them. */
  readonly top5: readonly { index: number; probability: number; label?: string }[];
  /** Max |logit − first backend's logit|; 0 for the first backend. */
  readonly maxAbsDiffToFirst: number;
  /** Whether the top-5 classes are the first backend's, in the same order. */
  readonly sameTop5AsFirst: boolean;
}

/** What the demo found for one model. */
export interface ModelReport {
  readonly name: string;
  readonly weights: string;
  readonly input: string;
  readonly multiplyAdds: number;
  readonly parameters: number;
  readonly plannedActivationBytes: number;
  /** The paper's figures for this configuration, when it reports any. */
  readonly paper?: {
    source: string;
    multiplyAddsM: number;
    parametersM?: number;
    countsClassifier: boolean;
  };
  readonly backends: readonly BackendRun[];
}

/** The whole report. */
export interface DemoReport {
  /** One layer as a standard vs a depthwise-separable convolution, and 1×1 without vs with groups. */
  readonly factorizationCosts: readonly {
    label: string;
    multiplyAdds: number;
    parameters: number;
  }[];
  readonly models: readonly ModelReport[];
  /** Backends that could not be used here, with the reason. */
  readonly skipped: readonly { backend: string; reason: string }[];
}

function buildModels(options: DemoOptions): Model[] {
  const models: Model[] = [];
  if (options.model !== "shufflenet") {
    models.push(mobilenetV1({ alpha: options.alpha, resolution: options.resolution }));
  }
  if (options.model !== "mobilenet") {
    models.push(shufflenetV1({
      groups: options.groups as ShuffleNetGroups,
      scale: options.scale as ShuffleNetScale,
      resolution: options.resolution,
    }));
  }
  return models;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function top5(logits: Float32Array, labels?: readonly string[]): BackendRun["top5"] {
  const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
  const exps = Array.from(logits, (logit) => Math.exp(logit - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return [...logits.keys()].sort((a, b) => logits[b] - logits[a]).slice(0, 5).map((index) => ({
    index,
    probability: exps[index] / total,
    ...(labels === undefined ? {} : { label: labels[index] }),
  }));
}

/** Prints a progress line at most once a second, for steps that take longer. */
function progressReporter(write: (line: string) => void) {
  let last = performance.now();
  return (line: string) => {
    const now = performance.now();
    if (now - last >= 1000) {
      write(line);
      last = now;
    }
  };
}

/** Where {@link runDemo} writes progress lines (stderr in `main`). */
export type ProgressSink = (line: string) => void;

/**
 * Builds the models, runs them on every selected backend that starts, and
 * returns the report. Progress lines go to `progress` whenever a step has
 * taken more than a second since the last line. Checks `options` as
 * {@link parseDemoArgs} does ({@link UsageError}); an image beyond
 * `MAX_IMAGE_PIXELS` is refused from its header before it is decoded
 * (`ImageDecodeError`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDemoArgs, runDemo } from "./demo.ts";
 * const report = await runDemo(
 *   parseDemoArgs(["--model", "shufflenet", "--scale", "0.25", "--resolution", "32", "--runs", "1", "--backend", "js"]),
 * );
 * assert(report.models[0].backends[0].top5.length === 5);
 * ```
 */
export async function runDemo(
  options: DemoOptions,
  progress: ProgressSink = () => {},
): Promise<DemoReport> {
  checkDemoOptions(options);
  if (typeof progress !== "function") {
    throw new InvalidArgumentError("progress", progress, "must be a function of one line");
  }
  let models = buildModels(options);
  if (options.weights !== undefined) {
    const bytes = await Deno.readFile(options.weights);
    models = models.map((model) => loadSafetensors(model, bytes, options.weights));
  }
  const resolution = models[0].inputShape[1];
  let input: Float32Array;
  let inputLabel: string;
  if (options.image !== undefined) {
    input = imageToInput(decodeImage(await Deno.readFile(options.image)), resolution);
    inputLabel = `${options.image}, resized to ${resolution}×${resolution}, scaled to [-1, 1]`;
  } else {
    let state = 12345;
    input = Float32Array.from({ length: resolution * resolution * 3 }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 31 - 1;
    });
    inputLabel = "seeded random image in [-1, 1]";
  }

  const unknown = options.backends.filter((name) => !isBackendName(name));
  if (unknown.length > 0) {
    throw new UsageError(
      "--backend",
      unknown.join(","),
      `names no backend (known: ${BACKEND_NAMES.join(", ")})`,
    );
  }
  const selected = BACKEND_NAMES.filter((name) =>
    options.backends.length === 0 || options.backends.includes(name)
  );
  const skipped: { backend: string; reason: string }[] = [];
  const backends: Backend[] = [];
  for (const name of selected) {
    try {
      backends.push(await createBackend(name));
    } catch (error) {
      skipped.push({ backend: name, reason: unavailableReason(error) });
    }
  }

  const tick = progressReporter(progress);
  const reports: ModelReport[] = [];
  try {
    for (const model of models) {
      const cost = summary(model);
      const paper = PAPER_FIGURES.find((figure) => figure.build().name === model.name);
      const runs: BackendRun[] = [];
      let firstLogits: Float32Array | undefined;
      for (const backend of backends) {
        tick(`${model.name} on ${backend.name}: compiling…`);
        let started = performance.now();
        using compiled = await model.compile(backend);
        const compileMs = performance.now() - started;
        using tensor = backend.upload(input, model.inputShape);
        started = performance.now();
        const logits = await compiled.run(tensor).download();
        const firstRunMs = performance.now() - started;
        await compiled.run(tensor).download();
        const times: number[] = [];
        for (let i = 0; i < options.runs; i++) {
          tick(`${model.name} on ${backend.name}: run ${i + 1}/${options.runs}`);
          started = performance.now();
          await compiled.run(tensor).download();
          times.push(performance.now() - started);
        }
        times.sort((a, b) => a - b);
        firstLogits ??= logits;
        const best = top5(logits, model.labels);
        runs.push({
          backend: backend.name,
          compileMs,
          firstRunMs,
          medianMs: percentile(times, 0.5),
          p90Ms: percentile(times, 0.9),
          runs: options.runs,
          top5: best,
          maxAbsDiffToFirst: logits.reduce(
            (worst, value, i) => Math.max(worst, Math.abs(value - firstLogits![i])),
            0,
          ),
          sameTop5AsFirst: runs.length === 0 ||
            best.every((entry, i) => entry.index === runs[0].top5[i].index),
        });
      }
      reports.push({
        name: model.name,
        weights: model.weightsOrigin.kind === "random"
          ? `random (seed ${model.weightsOrigin.seed}) — not trained, so the classes mean nothing`
          : `loaded from ${model.weightsOrigin.source}`,
        input: inputLabel,
        multiplyAdds: cost.totals.multiplyAdds,
        parameters: cost.totals.parameters,
        plannedActivationBytes: cost.totals.plannedActivationBytes,
        paper: paper && {
          source: paper.source,
          multiplyAddsM: paper.multiplyAddsM,
          parametersM: paper.parametersM,
          countsClassifier: paper.countsClassifier,
        },
        backends: runs,
      });
    }
  } finally {
    for (const backend of backends) backend.dispose();
  }
  return {
    factorizationCosts: factorizationCosts().map(({ label, multiplyAdds, parameters }) => ({
      label,
      multiplyAdds,
      parameters,
    })),
    models: reports,
    skipped,
  };
}

/**
 * Renders the report as text: costs next to the papers', one layer's cost
 * factorized three ways, then per model the backends' latency, agreement and
 * top-5. Throws core's `InvalidArgumentError` when `report` does not have a
 * report's three lists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDemoReport } from "./demo.ts";
 * const text = formatDemoReport({
 *   factorizationCosts: [],
 *   models: [],
 *   skipped: [{ backend: "gpu", reason: "none" }],
 * });
 * assert(text.includes("gpu: none"));
 * ```
 */
export function formatDemoReport(report: DemoReport): string {
  const lists = report as unknown as Record<string, unknown> | null;
  if (
    lists === null || typeof lists !== "object" ||
    !["factorizationCosts", "models", "skipped"].every((key) => Array.isArray(lists[key]))
  ) {
    throw new InvalidArgumentError("report", report, "must be what runDemo returns");
  }
  const lines: string[] = [];
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  lines.push("== Cost model (ours vs the papers) ==");
  for (const model of report.models) {
    const paper = model.paper;
    const reported = paper === undefined
      ? "no paper figure for this configuration"
      : `paper ${paper.multiplyAddsM}M mult-adds${
        paper.parametersM === undefined ? "" : ` / ${paper.parametersM}M params`
      }${paper.countsClassifier ? "" : " (without the classifier)"} — ${paper.source}`;
    lines.push(
      `${model.name}: ${formatCount(model.multiplyAdds)} mult-adds, ${
        formatCount(model.parameters)
      } params, ${(model.plannedActivationBytes / 2 ** 20).toFixed(1)} MiB planned activations`,
      `  ${reported}`,
    );
  }
  if (report.factorizationCosts.length > 0) {
    lines.push("", "== One layer, three ways ==");
    const width = Math.max(...report.factorizationCosts.map((row) => row.label.length));
    for (const row of report.factorizationCosts) {
      lines.push(
        `${row.label.padEnd(width)}  ${row.multiplyAdds.toLocaleString("en-US").padStart(9)} ` +
          `mult-adds  ${String(row.parameters).padStart(4)} params`,
      );
    }
    const [standard, , , separable, dense, grouped] = report.factorizationCosts;
    if (grouped !== undefined) {
      lines.push(
        `depthwise separable costs ${
          (standard.multiplyAdds / separable.multiplyAdds).toFixed(2)
        }× ` +
          `less than standard; 2 groups halve the 1×1 layer (${dense.multiplyAdds} → ${grouped.multiplyAdds})`,
      );
    }
  }
  for (const model of report.models) {
    lines.push("", `== ${model.name} ==`, `weights: ${model.weights}`, `input: ${model.input}`);
    for (const run of model.backends) {
      lines.push(
        `${run.backend.padEnd(6)} first run ${ms(run.firstRunMs)}, then median ${
          ms(run.medianMs)
        }, ` +
          `p90 ${ms(run.p90Ms)} over ${run.runs} runs (compile ${ms(run.compileMs)}); ` +
          `max |Δlogit| vs ${model.backends[0].backend}: ${
            run.maxAbsDiffToFirst.toExponential(2)
          }` +
          (run.sameTop5AsFirst ? "" : " — TOP-5 DIFFERS"),
        `       top-5: ${
          run.top5.map((t) =>
            `${t.index}${t.label === undefined ? "" : ` ${t.label}`} (${
              (100 * t.probability).toFixed(1)
            }%)`
          ).join(", ")
        }`,
      );
    }
    if (model.backends.length > 1) {
      const worst = Math.max(...model.backends.map((run) => run.maxAbsDiffToFirst));
      const agree = model.backends.every((run) => run.sameTop5AsFirst);
      lines.push(
        `backends ${agree ? "agree" : "DISAGREE"}: ${
          agree ? "same top-5 on all" : "top-5 differs"
        }, max |Δlogit| ${worst.toExponential(2)}`,
      );
    }
  }
  if (report.skipped.length > 0) {
    lines.push("", "Skipped backends:");
    for (const { backend, reason } of report.skipped) lines.push(`  ${backend}: ${reason}`);
  }
  return lines.join("\n");
}

/**
 * Runs the demo with command-line `args`; returns the exit code: 0, 2 for a
 * usage error (printed with the usage), 1 for any other failure (printed as
 * `Class: field = value: reason`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./demo.ts";
 * assert((await main(["--runs", "0"])) === 2);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  if (Array.isArray(args) && (args.includes("--help") || args.includes("-h"))) {
    console.log(USAGE);
    return 0;
  }
  let options: DemoOptions;
  try {
    options = parseDemoArgs(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const report = await runDemo(options, (line) => console.error(line));
    console.log(options.json ? JSON.stringify(report, null, 2) : formatDemoReport(report));
    return 0;
  } catch (error) {
    console.error(`${(error as Error).name}: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
