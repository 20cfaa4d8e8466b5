/**
 * Runs one conformance case on a backend and judges it, without registering
 * any test: the building block of {@link conformance}, usable on its own
 * (e.g. to show that a deliberately broken backend is caught).
 *
 * @module
 */

import { type Backend, inferGeometry, type Kernel, type Shape, type Tensor } from "@mobileops/core";
import { BIT_EXACT_OPS, caseData, type ConformanceCase } from "./cases.ts";
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
}

/** Options of {@link runCase}. */
export interface RunCaseOptions {
  /**
   * Pass a NaN-filled output tensor to `run` (instead of letting it allocate
   * one), which catches kernels that skip outputs or accumulate into them.
   */
  readonly presetOutput?: boolean;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

function failed(name: string, problem: string): CaseReport {
  return { name, ok: false, worstRatio: Infinity, problem };
}

/**
 * Runs `testCase` on `backend` and compares the result with the float64
 * reference: output shape (with core's `inferGeometry` and the reference,
 * exactly), values (bit-exact or within tolerance), the preset output being
 * returned, and inputs left unchanged. Frees everything it allocates.
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
    for (const [i, shape] of inputShapes.entries()) {
      tensors.push(backend.upload(data.inputs[i], shape));
    }
    const output = options.presetOutput
      ? backend.upload(new Float32Array(expected.values.length).fill(NaN), expected.shape)
      : undefined;
    if (output) tensors.push(output);
    const result = backend.run(kernel, tensors.slice(0, inputShapes.length), output);
    if (!output) tensors.push(result);
    if (output && result !== output) return failed(name, "run did not return the output given");
    if (!sameShape(result.shape, expected.shape)) {
      return failed(name, `output shape [${result.shape}], expected [${expected.shape}]`);
    }
    const actual = await result.download();
    const comparison: Comparison = BIT_EXACT_OPS.has(descriptor.op)
      ? bitExact(actual, expected)
      : withinTolerance(actual, expected);
    if (!comparison.ok) {
      return { name, ok: false, worstRatio: comparison.worstRatio, problem: comparison.detail };
    }
    for (const [i, original] of data.inputs.entries()) {
      const after = await tensors[i].download();
      if (after.some((value, j) => !Object.is(value, original[j]))) {
        return failed(name, `inputs[${i}] was modified by run`);
      }
    }
    return { name, ok: true, worstRatio: comparison.worstRatio, problem: "" };
  } catch (error) {
    return failed(name, `the backend threw ${error instanceof Error ? error.stack : error}`);
  } finally {
    kernel?.dispose();
    for (const tensor of tensors) tensor.dispose();
  }
}
