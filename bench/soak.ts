/**
 * The soak: for each backend configuration, many inferences of one compiled
 * network, then many backend create/compile/run/dispose cycles, printing
 * memory as it goes and saying at the end whether it stayed flat. Not a
 * test: the full run takes minutes.
 *
 * ```sh
 * deno run --allow-read --allow-env bench/soak.ts [--inferences N] [--cycles M] [--backend NAME]...
 * ```
 *
 * Inferences run MobileNet v1 0.25-128 (seeded weights), compiled once, on
 * one input, and read every output back; cycles each create a backend,
 * compile MobileNet v1 0.25-32 (10 classes), run it once, read the output
 * and dispose everything. A sample — `Deno.memoryUsage()` (rss, heapUsed,
 * external) and the backend's `memoryStats()` (tensors, kernels,
 * tensorBytes and its `detail`) — is taken after a full garbage collection
 * every 1,000 inferences and every 20 cycles (every tenth of the run when it
 * is shorter). For cycles the backend figures are those of the last cycle's
 * backend after its dispose.
 *
 * Flat means, between the first sample and the last: rss, heapUsed and
 * external each grew by at most {@link FLAT_SLACK_BYTES} or
 * {@link FLAT_SLACK_SHARE} of the first sample, whichever is more; and every
 * backend figure (counts, bytes, `detail`) is identical. A leak of 2 KB per
 * inference or 100 KB per cycle exceeds that over the default run. Every
 * output must also be bit-identical to the first (an error otherwise).
 * Exit status 1 when a phase is not flat, 2 for bad flags.
 *
 * @module
 */

import { parseArgs } from "node:util";
import v8 from "node:v8";
import vm from "node:vm";
import { randomFloat32, seededRandom } from "@mobileops/conformance";
import { BackendUnavailableError, InvalidArgumentError, type MemoryStats } from "@mobileops/core";
import { mobilenetV1, type Model } from "@mobileops/models";
import {
  type BackendConfiguration,
  createConfiguredBackend,
  NoBackendError,
} from "@mobileops/registry";
import { selectConfigurations } from "../tools/fuzz.ts";

/** Absolute growth of rss, heapUsed or external still counted as flat: 16 MiB. */
export const FLAT_SLACK_BYTES: number = 16 * 2 ** 20;
/** Growth relative to the first sample still counted as flat: 10 %. */
export const FLAT_SLACK_SHARE = 0.1;

/** One memory reading. */
export interface SoakSample {
  /** Inferences or cycles done when it was taken. */
  readonly step: number;
  /** `Deno.memoryUsage()` at that moment, in bytes. */
  readonly rss: number;
  /** V8 heap in use, bytes. */
  readonly heapUsed: number;
  /** Memory of objects outside the V8 heap (array buffers, wasm memories), bytes. */
  readonly external: number;
  /** The backend's own account. */
  readonly stats: MemoryStats;
}

const MiB = 2 ** 20;

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

function signedMib(bytes: number): string {
  return `${bytes >= 0 ? "+" : "−"}${mib(Math.abs(bytes))}`;
}

/** The backend figures compared for flatness, by name. */
function backendFigures(stats: MemoryStats): Record<string, number> {
  return {
    tensors: stats.tensors,
    kernels: stats.kernels,
    tensorBytes: stats.tensorBytes,
    ...stats.detail,
  };
}

/**
 * V8's full collector, run before each sample: the soak looks for leaks,
 * and without it heapUsed and external follow the collector's sawtooth
 * (tens of MiB) instead of what is live. Exposed at run time, the way
 * Node programs do it, so the command needs no V8 flag.
 */
function collector(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc");
}

const collect = collector();

function sample(step: number, stats: MemoryStats): SoakSample {
  collect();
  const { rss, heapUsed, external } = Deno.memoryUsage();
  return { step, rss, heapUsed, external, stats };
}

function sampleLine(label: string, phase: string, s: SoakSample): string {
  const figures = Object.entries(backendFigures(s.stats)).map(([k, v]) => `${k} ${v}`).join(", ");
  return `${label} ${phase} ${String(s.step).padStart(6)}: rss ${mib(s.rss)}, heapUsed ${
    mib(s.heapUsed)
  }, external ${mib(s.external)} | ${figures}`;
}

/**
 * Whether memory stayed flat from the first sample to the last (see the
 * module text), and why not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flatness } from "./soak.ts";
 * const stats = { tensors: 2, kernels: 1, tensorBytes: 64, peakTensorBytes: 64 };
 * const at = (step: number, heapUsed: number) => ({ step, rss: 1e8, heapUsed, external: 0, stats });
 * assert(flatness([at(1, 10e6), at(2, 12e6)]).flat);
 * assert(!flatness([at(1, 10e6), at(2, 40e6)]).flat);
 * assert(!flatness([at(1, 10e6), { ...at(2, 10e6), stats: { ...stats, tensors: 3 } }]).flat);
 * ```
 */
export function flatness(samples: readonly SoakSample[]): { flat: boolean; detail: string } {
  const first = samples[0];
  const last = samples.at(-1)!;
  const problems: string[] = [];
  const growth = (["rss", "heapUsed", "external"] as const).map((key) => {
    const grown = last[key] - first[key];
    const allowed = Math.max(FLAT_SLACK_BYTES, FLAT_SLACK_SHARE * first[key]);
    if (grown > allowed) problems.push(`${key} grew ${mib(grown)} (allowed ${mib(allowed)})`);
    return `${key} ${signedMib(grown)}`;
  });
  const before = backendFigures(first.stats);
  const after = backendFigures(last.stats);
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[key] !== after[key]) problems.push(`${key} ${before[key]} → ${after[key]}`);
  }
  const span = `samples ${first.step} → ${last.step}: ${growth.join(", ")}`;
  return problems.length === 0
    ? { flat: true, detail: `flat (${span}; backend figures unchanged)` }
    : { flat: false, detail: `NOT FLAT (${span}; ${problems.join("; ")})` };
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

function inputFor(model: Model): Float32Array {
  return randomFloat32(seededRandom(1), model.inputShape.reduce((a, b) => a * b));
}

/** Every `interval` steps of `total`: 1,000 inferences or 20 cycles, or a tenth of a shorter run. */
function interval(total: number, usual: number): number {
  return Math.min(usual, Math.max(1, Math.ceil(total / 10)));
}

async function inferencePhase(
  configuration: BackendConfiguration,
  model: Model,
  inferences: number,
  print: (line: string) => void,
): Promise<SoakSample[]> {
  using backend = await createConfiguredBackend(configuration);
  using compiled = await model.compile(backend);
  using input = backend.upload(inputFor(model), model.inputShape);
  const every = interval(inferences, 1000);
  const samples: SoakSample[] = [];
  let first: Float32Array | undefined;
  for (let i = 1; i <= inferences; i++) {
    const values = await compiled.run(input).download();
    first ??= values;
    if (i % every === 0 || i === inferences) {
      if (!sameValues(values, first)) {
        throw new Error(`${configuration.label}: inference ${i} differs from the first`);
      }
      const s = sample(i, backend.memoryStats());
      samples.push(s);
      print(sampleLine(configuration.label, "inferences", s));
    }
  }
  return samples;
}

async function cyclePhase(
  configuration: BackendConfiguration,
  model: Model,
  cycles: number,
  print: (line: string) => void,
): Promise<SoakSample[]> {
  const data = inputFor(model);
  const every = interval(cycles, 20);
  const samples: SoakSample[] = [];
  let first: Float32Array | undefined;
  for (let c = 1; c <= cycles; c++) {
    const backend = await createConfiguredBackend(configuration);
    {
      using compiled = await model.compile(backend);
      using input = backend.upload(data, model.inputShape);
      const values = await compiled.run(input).download();
      first ??= values;
      if (!sameValues(values, first)) {
        throw new Error(`${configuration.label}: cycle ${c} differs from the first`);
      }
    }
    backend.dispose();
    if (c % every === 0 || c === cycles) {
      const s = sample(c, backend.memoryStats());
      samples.push(s);
      print(sampleLine(configuration.label, "cycles", s));
    }
  }
  return samples;
}

/** The command line, parsed. */
export interface SoakArgs {
  /** `--inferences N`: inferences per configuration. Default 10,000. */
  readonly inferences: number;
  /** `--cycles M`: create/compile/run/dispose cycles per configuration. Default 200. */
  readonly cycles: number;
  /** `--backend NAME`, repeatable: a backend or a configuration label. Default all. */
  readonly backends: readonly string[];
  /** `--help`. */
  readonly help: boolean;
}

/** The usage text. */
export const SOAK_USAGE: string =
  `usage: deno run --allow-read --allow-env bench/soak.ts [--inferences N] [--cycles M] [--backend NAME]...

  --inferences N  inferences of MobileNet v1 0.25-128 per configuration (default 10000, 0 skips)
  --cycles M      backend create/compile/run/dispose cycles per configuration (default 200, 0 skips)
  --backend NAME  a backend (js, wasm: all of its configurations) or a configuration label as in
                  deno task fuzz (js, wasm-1thread, wasm-1thread-nofma, wasm-2threads,
                  wasm-2threads-nofma); repeatable; default all
  --help          print this text

exit status: 0 flat, 1 a phase was not flat, 2 bad flags`;

function countFlag(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : NaN;
  if (!(value <= 10_000_000)) {
    throw new InvalidArgumentError(flag, text, "must be an integer from 0 to 10000000");
  }
  return value;
}

/**
 * Parses the soak's flags, strictly (unknown flags, positionals and values
 * that are not plain decimal integers are errors).
 *
 * @throws {InvalidArgumentError} A count out of range, or an unknown backend.
 * @throws {TypeError} An unknown flag or a missing value (from `node:util` `parseArgs`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSoakArgs } from "./soak.ts";
 * assert.deepEqual(parseSoakArgs(["--inferences", "200", "--cycles", "10"]), {
 *   inferences: 200, cycles: 10, backends: [], help: false,
 * });
 * assert.throws(() => parseSoakArgs(["--cycles", "2e2"]), /--cycles = "2e2"/);
 * ```
 */
export function parseSoakArgs(args: readonly string[]): SoakArgs {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      inferences: { type: "string" },
      cycles: { type: "string" },
      backend: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  const backends = values.backend ?? [];
  selectConfigurations(backends);
  return {
    inferences: countFlag("--inferences", values.inferences, 10_000),
    cycles: countFlag("--cycles", values.cycles, 200),
    backends,
    help: values.help ?? false,
  };
}

/**
 * The command: parses `args`, soaks every selected configuration, prints
 * the samples and each phase's verdict, and returns the exit status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./soak.ts";
 * const lines: string[] = [];
 * const status = await main(["--inferences", "2", "--cycles", "2", "--backend", "js"], (l) => lines.push(l));
 * assert.equal(status, 0);
 * assert(lines.some((l) => /^js inferences: flat/.test(l)));
 * ```
 */
export async function main(
  args: readonly string[],
  print: (line: string) => void = console.log,
  printError: (line: string) => void = console.error,
): Promise<number> {
  let parsed: SoakArgs;
  try {
    parsed = parseSoakArgs(args);
  } catch (error) {
    const usage = error instanceof InvalidArgumentError ||
      (error instanceof TypeError &&
        String((error as { code?: string }).code).startsWith("ERR_PARSE_ARGS"));
    if (!usage) throw error;
    printError(`${(error as Error).message}\n\n${SOAK_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    print(SOAK_USAGE);
    return 0;
  }
  const big = mobilenetV1({ alpha: 0.25, resolution: 128 });
  const small = mobilenetV1({ alpha: 0.25, resolution: 32, classes: 10 });
  print(
    `soak: ${parsed.inferences} inferences of ${big.name}, ${parsed.cycles} cycles of ${small.name}` +
      " per configuration; a full garbage collection before each sample",
  );
  const verdicts: string[] = [];
  let allFlat = true;
  for (const configuration of selectConfigurations(parsed.backends)) {
    const { label } = configuration;
    try {
      (await createConfiguredBackend(configuration)).dispose();
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      const reason = error instanceof NoBackendError ? error.failures[0].reason : error.message;
      verdicts.push(`${label}: skipped (${reason})`);
      continue;
    }
    const phases: [string, () => Promise<SoakSample[]>][] = [
      ["inferences", () => inferencePhase(configuration, big, parsed.inferences, print)],
      ["cycles", () => cyclePhase(configuration, small, parsed.cycles, print)],
    ];
    for (const [phase, run] of phases) {
      const started = performance.now();
      const samples = await run();
      if (samples.length === 0) continue;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const { flat, detail } = flatness(samples);
      allFlat &&= flat;
      verdicts.push(`${label} ${phase}: ${detail}, ${seconds} s`);
    }
  }
  for (const verdict of verdicts) print(verdict);
  return allFlat ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
