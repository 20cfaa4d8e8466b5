/**
 * The fuzzer: draws random valid operator calls (`fuzzCase` from
 * `@mobileops/conformance`), runs each on every backend configuration and
 * judges it against the float64 reference with `runCase`, under the
 * conformance suite's tolerance. A failing case is shrunk to a minimal one
 * that still fails and printed on one line with the command that reruns it.
 *
 * ```sh
 * deno task fuzz [--cases N] [--seed S] [--case I] [--backend NAME]... [--json]
 * ```
 *
 * Exit status: 0 when every case passed, 1 when one failed, 2 for bad flags.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type ConformanceCase, fuzzCase, runCase, shrinkCase } from "@mobileops/conformance";
import { type Backend, BackendUnavailableError, InvalidArgumentError } from "@mobileops/core";
import {
  BACKEND_NAMES,
  type BackendConfiguration,
  createConfiguredBackend,
  NoBackendError,
} from "@mobileops/registry";

/**
 * Every configuration the fuzzer knows: js, and wasm with 1 and 2 threads,
 * each with relaxed SIMD (fused multiply-add) on and off.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FUZZ_CONFIGURATIONS } from "./fuzz.ts";
 * assert.deepEqual(FUZZ_CONFIGURATIONS.map((c) => c.label), [
 *   "js", "wasm-1thread", "wasm-1thread-nofma", "wasm-2threads", "wasm-2threads-nofma",
 * ]);
 * ```
 */
export const FUZZ_CONFIGURATIONS: readonly BackendConfiguration[] = [
  { label: "js", backend: "js", options: {} },
  { label: "wasm-1thread", backend: "wasm", options: { threads: 1, relaxedSimd: true } },
  { label: "wasm-1thread-nofma", backend: "wasm", options: { threads: 1, relaxedSimd: false } },
  { label: "wasm-2threads", backend: "wasm", options: { threads: 2, relaxedSimd: true } },
  { label: "wasm-2threads-nofma", backend: "wasm", options: { threads: 2, relaxedSimd: false } },
];

/**
 * The configurations named by `names`, in {@link FUZZ_CONFIGURATIONS} order:
 * a registered backend's name (`wasm`) stands for all of its configurations,
 * a label (`wasm-2threads-nofma`) for one. No names: every configuration.
 *
 * @throws {InvalidArgumentError} A name is neither a backend nor a label (field `--backend`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectConfigurations } from "./fuzz.ts";
 * assert.equal(selectConfigurations(["wasm"]).length, 4);
 * assert.deepEqual(selectConfigurations(["js", "wasm-2threads"]).map((c) => c.label), [
 *   "js", "wasm-2threads",
 * ]);
 * assert.throws(() => selectConfigurations(["gpu"]), /--backend = "gpu"/);
 * ```
 */
export function selectConfigurations(
  names: readonly string[],
  configurations: readonly BackendConfiguration[] = FUZZ_CONFIGURATIONS,
): BackendConfiguration[] {
  if (names.length === 0) return [...configurations];
  for (const name of names) {
    if (!configurations.some((c) => c.label === name || c.backend === name)) {
      throw new InvalidArgumentError(
        "--backend",
        name,
        `is neither a backend (${BACKEND_NAMES.join(", ")}) nor a configuration (${
          configurations.map((c) => c.label).join(", ")
        })`,
      );
    }
  }
  return configurations.filter((c) => names.includes(c.label) || names.includes(c.backend));
}

/** What one fuzz run does. */
export interface FuzzOptions {
  /** Seed of the run; case `i` is `fuzzCase(seed, i)`. */
  readonly seed: number;
  /** The case indices to run. */
  readonly indices: Iterable<number>;
  /** Candidate cases tried per failure while shrinking; 0 skips shrinking. Default 200. */
  readonly shrinkAttempts?: number;
  /** Called with each failure as soon as it is found (and shrunk). */
  readonly onFailure?: (failure: FuzzFailure) => void;
}

/** One case that failed on one configuration. */
export interface FuzzFailure {
  /** The configuration's label. */
  readonly configuration: string;
  /** The run's seed. */
  readonly seed: number;
  /** The case's index in the run. */
  readonly index: number;
  /** The command that reruns exactly this case on this configuration. */
  readonly reproduce: string;
  /** What went wrong, on one line (`runCase`'s report). */
  readonly problem: string;
  /** The simplest case found that still fails (the case itself when shrinking found none). */
  readonly minimal: ConformanceCase;
}

/** How one configuration did. */
export interface FuzzSummary {
  /** The configuration's label. */
  readonly configuration: string;
  /** Cases run. */
  readonly cases: number;
  /** Cases that failed. */
  readonly failures: number;
  /** The largest `|error| / tolerance` of any case (`Infinity` when an exact check failed). */
  readonly worstRatio: number;
  /** Wall time of the cases and the shrinking, in seconds. */
  readonly seconds: number;
  /** Why the configuration did not run here (no SIMD, no relaxed SIMD…); absent when it ran. */
  readonly skipped?: string;
}

/** The reproduction command of case `index` of run `seed` on one configuration. */
function reproduction(seed: number, index: number, label: string): string {
  return `deno task fuzz --seed ${seed} --case ${index} --backend ${label}`;
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0];
}

/**
 * Runs the cases `options.indices` of run `options.seed` on one
 * configuration, each judged by `runCase` (every second one into a
 * NaN-filled preset output, as the suite does), and shrinks each failure.
 * A configuration that cannot start here is reported as skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FUZZ_CONFIGURATIONS, fuzzConfiguration } from "./fuzz.ts";
 * const { summary, failures } = await fuzzConfiguration(FUZZ_CONFIGURATIONS[0], {
 *   seed: 1,
 *   indices: [0, 1, 2],
 * });
 * assert.equal(summary.cases, 3);
 * assert.equal(summary.failures, failures.length);
 * ```
 */
export async function fuzzConfiguration(
  configuration: BackendConfiguration,
  options: FuzzOptions,
): Promise<{ summary: FuzzSummary; failures: FuzzFailure[] }> {
  const { label } = configuration;
  const shrinkAttempts = options.shrinkAttempts ?? 200;
  const start = performance.now();
  let backend: Backend;
  try {
    backend = await createConfiguredBackend(configuration);
  } catch (error) {
    if (!(error instanceof BackendUnavailableError)) throw error;
    const reason = error instanceof NoBackendError ? error.failures[0].reason : error.message;
    return {
      summary: {
        configuration: label,
        cases: 0,
        failures: 0,
        worstRatio: 0,
        seconds: 0,
        skipped: reason,
      },
      failures: [],
    };
  }
  const failures: FuzzFailure[] = [];
  let cases = 0;
  let worstRatio = 0;
  try {
    for (const index of options.indices) {
      const testCase = fuzzCase(options.seed, index);
      const presetOutput = index % 2 === 1;
      const report = await runCase(backend, testCase, { presetOutput });
      cases++;
      // A tolerance that is itself NaN counts as the worst possible.
      worstRatio = Math.max(
        worstRatio,
        Number.isNaN(report.worstRatio) ? Infinity : report.worstRatio,
      );
      if (report.ok) continue;
      const minimal = shrinkAttempts > 0
        ? await shrinkCase(
          testCase,
          async (candidate) => !(await runCase(backend, candidate, { presetOutput })).ok,
          { maxAttempts: shrinkAttempts },
        )
        : testCase;
      const failure: FuzzFailure = {
        configuration: label,
        seed: options.seed,
        index,
        reproduce: reproduction(options.seed, index, label),
        problem: firstLine(report.problem),
        minimal,
      };
      failures.push(failure);
      options.onFailure?.(failure);
    }
  } finally {
    backend.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    summary: { configuration: label, cases, failures: failures.length, worstRatio, seconds },
    failures,
  };
}

/** JSON with NaN and ±Infinity written as strings (plain JSON would make them `null`). */
function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_, v) => typeof v === "number" && !Number.isFinite(v) ? String(v) : v,
  );
}

/**
 * A case as one line of JSON, enough to rebuild and rerun it with `runCase`:
 * descriptor, input shapes, data seed, input range and non-finite values
 * (`"NaN"`, `"Infinity"`, `"-Infinity"` as strings).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { caseJson } from "./fuzz.ts";
 * import { kernelCase } from "@mobileops/conformance";
 * import { add } from "@mobileops/core";
 * const c = { ...kernelCase({ descriptor: add(), inputShapes: [[1], [1]] }), specials: [{ input: 0, index: 0, value: NaN }] };
 * assert.equal(
 *   caseJson(c),
 *   '{"descriptor":{"op":"add","activation":"none"},"inputShapes":[[1],[1]],"seed":1,' +
 *     '"inputRange":[-1,1],"specials":[{"input":0,"index":0,"value":"NaN"}]}',
 * );
 * ```
 */
export function caseJson(testCase: ConformanceCase): string {
  const { descriptor, inputShapes, seed, inputRange, specials } = testCase;
  return toJson({ descriptor, inputShapes, seed, inputRange, specials });
}

/**
 * One failure on one line: the reproduction command, the problem, and the
 * minimal failing case as JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failureLine } from "./fuzz.ts";
 * import { kernelCase } from "@mobileops/conformance";
 * import { softmax } from "@mobileops/core";
 * const line = failureLine({
 *   configuration: "js", seed: 1, index: 7, reproduce: "deno task fuzz --seed 1 --case 7 --backend js",
 *   problem: "1 outputs differ", minimal: kernelCase({ descriptor: softmax(), inputShapes: [[2]] }),
 * });
 * assert.match(line, /^FAIL deno task fuzz --seed 1 --case 7 --backend js: 1 outputs differ; minimal /);
 * assert(!line.includes("\n"));
 * ```
 */
export function failureLine(failure: FuzzFailure): string {
  return `FAIL ${failure.reproduce}: ${failure.problem}; minimal ${caseJson(failure.minimal)}`;
}

/**
 * The per-configuration table printed at the end of a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summaryTable } from "./fuzz.ts";
 * const table = summaryTable([
 *   { configuration: "js", cases: 10, failures: 0, worstRatio: 0.25, seconds: 1.5 },
 * ]);
 * assert.match(table, /js\s+10\s+0\s+0\.250\s+1\.5 s/);
 * ```
 */
export function summaryTable(summaries: readonly FuzzSummary[]): string {
  const width = Math.max(13, ...summaries.map((s) => s.configuration.length));
  const rows = summaries.map((s) =>
    s.skipped !== undefined
      ? `${s.configuration.padEnd(width)}  skipped: ${s.skipped}`
      : `${s.configuration.padEnd(width)}  ${String(s.cases).padStart(7)}  ${
        String(s.failures).padStart(8)
      }  ${s.worstRatio.toFixed(3).padStart(11)}  ${s.seconds.toFixed(1).padStart(7)} s`
  );
  return [
    `${"configuration".padEnd(width)}  ${"cases".padStart(7)}  ${"failures".padStart(8)}  ${
      "worst ratio".padStart(11)
    }  ${"time".padStart(9)}`,
    ...rows,
  ].join("\n");
}

/** The command line, parsed. */
export interface FuzzArgs {
  /** `--cases N`: cases per configuration, indices `0 … N − 1`. Default 1000. */
  readonly cases: number;
  /** `--seed S`. Default 1. */
  readonly seed: number;
  /** `--case I`: run only case `I` (then `--cases` may not be given). */
  readonly case?: number;
  /** `--backend NAME`, repeatable: the configurations to run. Default all. */
  readonly backends: readonly string[];
  /** `--json`: print one JSON document instead of text. */
  readonly json: boolean;
  /** `--help`. */
  readonly help: boolean;
}

/** The usage text. */
export const FUZZ_USAGE: string =
  `usage: deno task fuzz [--cases N] [--seed S] [--case I] [--backend NAME]... [--json]

  --cases N       cases per configuration, indices 0 to N-1 (default 1000, at most 10000000)
  --seed S        seed of the run, an integer in [0, 2^32) (default 1)
  --case I        run only case I of the run (reproduces one failure); excludes --cases
  --backend NAME  a backend (${BACKEND_NAMES.join(", ")}: all of its configurations) or one
                  configuration (${FUZZ_CONFIGURATIONS.map((c) => c.label).join(", ")});
                  repeatable; default all
  --json          print one JSON document (summaries and failures) instead of text
  --help          print this text

exit status: 0 all passed, 1 a case failed, 2 bad flags`;

const MAX_CASES = 10_000_000;

function integerFlag(flag: string, text: string, min: number, max: number): number {
  const value = /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new InvalidArgumentError(flag, text, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * Parses the fuzzer's flags (strictly: an unknown flag, a positional
 * argument or a value that is not a plain decimal integer in range is an
 * error).
 *
 * @throws {InvalidArgumentError} A flag's value is out of range, or `--case` comes with `--cases`.
 * @throws {TypeError} An unknown flag or a missing value (from `node:util` `parseArgs`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFuzzArgs } from "./fuzz.ts";
 * const args = parseFuzzArgs(["--cases", "50", "--backend", "js", "--backend", "wasm"]);
 * assert.equal(args.cases, 50);
 * assert.equal(args.seed, 1);
 * assert.deepEqual(args.backends, ["js", "wasm"]);
 * assert.throws(() => parseFuzzArgs(["--cases", "1e3"]), /--cases = "1e3"/);
 * assert.throws(() => parseFuzzArgs(["--fast"]));
 * ```
 */
export function parseFuzzArgs(args: readonly string[]): FuzzArgs {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      cases: { type: "string" },
      seed: { type: "string" },
      case: { type: "string" },
      backend: { type: "string", multiple: true },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.case !== undefined && values.cases !== undefined) {
    throw new InvalidArgumentError("--case", values.case, "runs one case; leave out --cases");
  }
  const backends = values.backend ?? [];
  selectConfigurations(backends);
  return {
    cases: values.cases === undefined ? 1000 : integerFlag("--cases", values.cases, 1, MAX_CASES),
    seed: values.seed === undefined ? 1 : integerFlag("--seed", values.seed, 0, 2 ** 32 - 1),
    case: values.case === undefined
      ? undefined
      : integerFlag("--case", values.case, 0, 2 ** 32 - 1),
    backends,
    json: values.json ?? false,
    help: values.help ?? false,
  };
}

/** `0, 1, …, count − 1`, lazily (a 10-million-case run holds no index list), once per configuration. */
function range(count: number): Iterable<number> {
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < count; i++) yield i;
    },
  };
}

function isUsageError(error: unknown): boolean {
  return error instanceof InvalidArgumentError ||
    (error instanceof TypeError &&
      String((error as { code?: string }).code).startsWith("ERR_PARSE_ARGS"));
}

/**
 * The command: parses `args`, runs every selected configuration, prints
 * each failure as it is found (one line, {@link failureLine}) and the
 * summary table at the end (or, with `--json`, one JSON document) with
 * `print`, and returns the exit status. A bad flag prints its error and the
 * usage with `printError` and returns 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./fuzz.ts";
 * const lines: string[] = [];
 * assert.equal(await main(["--cases", "2", "--backend", "js"], (line) => lines.push(line)), 0);
 * assert.match(lines.join("\n"), /^js\s+2\s+0\s/m);
 * assert.equal(await main(["--cases", "-1"], () => {}, () => {}), 2);
 * ```
 */
export async function main(
  args: readonly string[],
  print: (line: string) => void = console.log,
  printError: (line: string) => void = console.error,
): Promise<number> {
  let parsed: FuzzArgs;
  try {
    parsed = parseFuzzArgs(args);
  } catch (error) {
    if (!isUsageError(error)) throw error;
    printError(`${(error as Error).message}\n\n${FUZZ_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    print(FUZZ_USAGE);
    return 0;
  }
  const indices = parsed.case !== undefined ? [parsed.case] : range(parsed.cases);
  const summaries: FuzzSummary[] = [];
  const failures: FuzzFailure[] = [];
  for (const configuration of selectConfigurations(parsed.backends)) {
    const result = await fuzzConfiguration(configuration, {
      seed: parsed.seed,
      indices,
      onFailure: parsed.json ? undefined : (failure) => print(failureLine(failure)),
    });
    summaries.push(result.summary);
    failures.push(...result.failures);
  }
  if (parsed.json) {
    print(toJson({
      seed: parsed.seed,
      indices: parsed.case !== undefined ? [parsed.case] : { from: 0, to: parsed.cases - 1 },
      summaries,
      failures: failures.map((f) => ({ ...f, minimal: JSON.parse(caseJson(f.minimal)) })),
    }));
  } else {
    print(
      `fuzz seed ${parsed.seed}, ${
        parsed.case !== undefined ? `case ${parsed.case}` : `${parsed.cases} cases`
      }:`,
    );
    print(summaryTable(summaries));
  }
  return failures.length > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
