/**
 * Runs one conformance case on a backend and judges it, without registering
 * any test: the building block of {@link conformance}, usable on its own
 * (e.g. to show that a deliberately broken backend is caught).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Backend,
  inferGeometry,
  type Kernel,
  type OpDescriptor,
  type Shape,
  type Tensor,
} from "@mobileops/core";
import { BIT_EXACT_OPS, caseData, type ConformanceCase, describeCall } from "./cases.ts";
import { describeSpecials, type SpecialValue } from "./conformance_case.ts";
import { reference } from "./reference.ts";
import { bitExact, type Comparison, withinTolerance } from "./tolerance.ts";

/** How a case went. */
export interface CaseReport {
  /** The case's name, enough to reproduce it. */
  readonly name: string;
  /** Whether shape, values, the preset output and the untouched inputs all checked out. */
  readonly ok: boolean;
  /** `|error| / tolerance` at the worst output (0 or `Infinity` for bit-exact operators). */
  readonly worstRatio: number;
  /** What went wrong, when not `ok`. */
  readonly problem: string;
  /** The kernel variant the backend chose, once `prepare` succeeded. */
  readonly variant?: string;
}

/** Options of {@link runCase}. */
export interface RunCaseOptions {
  /**
   * Pass a preset output tensor to `run` (instead of letting it allocate
   * one), which catches kernels that skip outputs or accumulate into them:
   * filled with NaN, or with a finite value the reference gives nowhere
   * when it gives NaN somewhere (so a skipped NaN output is caught too).
   */
  readonly presetOutput?: boolean;
  /** Fail the case unless the backend chose this kernel variant (`kernel.variant`). */
  readonly variant?: string;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/**
 * What a preset output is filled with: NaN, or where the reference has NaN
 * somewhere, a finite value larger in magnitude than any it has.
 */
function presetFill(expected: Float64Array): number {
  let largest = 0;
  let hasNaN = false;
  for (const value of expected) {
    if (Number.isNaN(value)) hasNaN = true;
    else if (Number.isFinite(value)) largest = Math.max(largest, Math.abs(value));
  }
  return hasNaN ? -(2 * largest + 1) : NaN;
}

function failed(name: string, problem: string, variant?: string): CaseReport {
  return { name, ok: false, worstRatio: Infinity, problem, variant };
}

/**
 * Runs `testCase` on `backend` and compares the result with the float64
 * reference: output shape (with core's `inferGeometry` and the reference,
 * exactly), values (bit-exact or within tolerance; NaN and ±∞ exactly where
 * the reference has them), the preset output being returned, inputs left
 * unchanged and, when asked, the kernel variant chosen. The case's
 * `specials` are written into its inputs by `caseData`. Frees everything it
 * allocates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CASE_TABLES, runCase } from "@mobileops/conformance";
 * import { createJsBackend } from "@mobileops/backend-js";
 * using backend = await createJsBackend();
 * const report = await runCase(backend, CASE_TABLES[0].cases[0]);
 * assert(report.ok, report.problem);
 * ```
 */
export async function runCase(
  backend: Backend,
  testCase: ConformanceCase,
  options: RunCaseOptions = {},
): Promise<CaseReport> {
  const { name, descriptor, inputShapes } = testCase;
  const data = caseData(testCase);
  const expected = reference(
    descriptor,
    data.weights,
    inputShapes.map((shape, i) => ({ shape, data: data.inputs[i] })),
  );
  const coreShape = inferGeometry(descriptor, inputShapes).outputShape;
  if (!sameShape(coreShape, expected.shape)) {
    return failed(name, `core infers shape [${coreShape}], the reference [${expected.shape}]`);
  }
  const tensors: Tensor[] = [];
  let kernel: Kernel | undefined;
  try {
    kernel = await backend.prepare(descriptor, data.weights);
    const variant = kernel.variant;
    if (options.variant !== undefined && variant !== options.variant) {
      return failed(name, `ran kernel variant ${variant}, expected ${options.variant}`, variant);
    }
    for (const [i, shape] of inputShapes.entries()) {
      tensors.push(backend.upload(data.inputs[i], shape));
    }
    const output = options.presetOutput
      ? backend.upload(
        new Float32Array(expected.values.length).fill(presetFill(expected.values)),
        expected.shape,
      )
      : undefined;
    if (output) tensors.push(output);
    const result = backend.run(kernel, tensors.slice(0, inputShapes.length), output);
    if (!output) tensors.push(result);
    if (output && result !== output) {
      return failed(name, "run did not return the output given", variant);
    }
    if (!sameShape(result.shape, expected.shape)) {
      return failed(name, `output shape [${result.shape}], expected [${expected.shape}]`, variant);
    }
    const actual = await result.download();
    const comparison: Comparison = BIT_EXACT_OPS.has(descriptor.op)
      ? bitExact(actual, expected)
      : withinTolerance(actual, expected);
    if (!comparison.ok) {
      return {
        name,
        ok: false,
        worstRatio: comparison.worstRatio,
        problem: comparison.detail,
        variant,
      };
    }
    for (const [i, original] of data.inputs.entries()) {
      const after = await tensors[i].download();
      if (after.some((value, j) => !Object.is(value, original[j]))) {
        return failed(name, `inputs[${i}] was modified by run`, variant);
      }
    }
    return { name, ok: true, worstRatio: comparison.worstRatio, problem: "", variant };
  } catch (error) {
    return failed(name, `the backend threw ${error instanceof Error ? error.stack : error}`);
  } finally {
    kernel?.dispose();
    for (const tensor of tensors) tensor.dispose();
  }
}

/** What {@link kernelCase} needs: the call, and optionally its data's seed, range and specials. */
export interface KernelCaseOptions {
  /** The operator call under test. */
  readonly descriptor: OpDescriptor;
  /** One per operator input. */
  readonly inputShapes: readonly Shape[];
  /** Seed of the random inputs and weights. Default 1. */
  readonly seed?: number;
  /** Inputs are drawn uniformly from `[low, high]`. Default `[-1, 1]`. */
  readonly inputRange?: readonly [low: number, high: number];
  /** Values written into the inputs after the draw (NaN, ±Infinity). Default none. */
  readonly specials?: readonly SpecialValue[];
  /** Default: the call described by `describeCall`, with the seed and the specials. */
  readonly name?: string;
}

/**
 * A one-off {@link ConformanceCase} for a backend's own kernel tests (edge
 * sizes of one variant, say), judged exactly like the suite's cases by
 * {@link runCase} or {@link assertCasesPass}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernelCase } from "@mobileops/conformance";
 * import { add } from "@mobileops/core";
 * const c = kernelCase({ descriptor: add(), inputShapes: [[1, 1, 1, 5], [1, 1, 1, 5]], seed: 3 });
 * assert.equal(c.seed, 3);
 * assert.deepEqual(c.inputRange, [-1, 1]);
 * const nan = kernelCase({
 *   descriptor: add({ activation: "relu" }),
 *   inputShapes: [[1], [1]],
 *   specials: [{ input: 0, index: 0, value: NaN }],
 * });
 * assert.equal(nan.name, "add relu in 1 + 1 seed 1 with in0[0]=NaN");
 * ```
 */
export function kernelCase(options: KernelCaseOptions): ConformanceCase {
  const seed = options.seed ?? 1;
  return {
    name: options.name ??
      `${describeCall(options.descriptor, options.inputShapes)} seed ${seed}` +
        describeSpecials(options.specials),
    descriptor: options.descriptor,
    inputShapes: options.inputShapes,
    seed,
    inputRange: options.inputRange ?? [-1, 1],
    ...(options.specials ? { specials: options.specials } : {}),
  };
}

/** Failures listed in full by {@link assertCasesPass}; the rest are counted. */
const LISTED_FAILURES = 10;

/**
 * Runs every case on `backend` with {@link runCase} (alternating a preset
 * output, as the suite does) and throws one `AssertionError` listing the
 * failures (the first ten in full) if any case fails. With
 * `options.variant`, a case that the backend runs with another kernel
 * variant fails too, so a kernel test proves it tested the variant it names.
 *
 * @example
 * ```ts
 * import { assertCasesPass, kernelCase } from "@mobileops/conformance";
 * import { channelShuffle } from "@mobileops/core";
 * import { createJsBackend } from "@mobileops/backend-js";
 * using backend = await createJsBackend();
 * await assertCasesPass(
 *   backend,
 *   [6, 9, 12].map((c) => kernelCase({ descriptor: channelShuffle({ groups: 3 }), inputShapes: [[1, 2, 2, c]] })),
 *   { variant: "f32-channel-shuffle-js" },
 * );
 * ```
 */
export async function assertCasesPass(
  backend: Backend,
  cases: readonly ConformanceCase[],
  options: { readonly variant?: string } = {},
): Promise<void> {
  const failures: CaseReport[] = [];
  for (const [index, testCase] of cases.entries()) {
    const report = await runCase(backend, testCase, {
      presetOutput: index % 2 === 1,
      variant: options.variant,
    });
    if (!report.ok) failures.push(report);
  }
  assert.equal(
    failures.length,
    0,
    [
      `${failures.length} of ${cases.length} cases failed on ${backend.name}:`,
      ...failures.slice(0, LISTED_FAILURES).map((f) => `  ${f.name}: ${f.problem}`),
    ].join("\n"),
  );
}
