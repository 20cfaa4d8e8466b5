/**
 * `@mobileops/conformance`: the float64 reference of every operator, the
 * accumulation-length tolerance (NaN and ±∞ judged exactly), deterministic
 * case tables (parameter sweeps, non-finite inputs, extreme sizes) and
 * bad-input cases, random cases for fuzzing, and {@link conformance}, which
 * registers the tables and bad-input cases as one test per backend. See
 * docs/conformance.md.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reference, withinTolerance } from "@mobileops/conformance";
 * import { depthwiseConv2d } from "@mobileops/core";
 * const d = depthwiseConv2d({ channels: 1, kernel: 3, padding: "same" });
 * const expected = reference(d, { filter: new Float32Array(9).fill(1) }, [
 *   { shape: [1, 2, 2, 1], data: [1, 2, 3, 4] },
 * ]);
 * assert(Array.from(expected.values).join() === "10,10,10,10");
 * assert(withinTolerance(new Float32Array([10, 10, 10, 10]), expected).ok);
 * ```
 *
 * @module
 */

export { reference, type ReferenceResult, type ReferenceTensor } from "./reference.ts";
export {
  bitExact,
  type Comparison,
  FLOAT32_UNIT_ROUNDOFF,
  gamma,
  TOLERANCE_FACTOR,
  TOLERANCE_FLOOR,
  toleranceAt,
  withinTolerance,
} from "./tolerance.ts";
export { pickOne, randomFloat32, seededRandom } from "./random.ts";
export {
  BIT_EXACT_OPS,
  CASE_TABLES,
  type CaseData,
  caseData,
  type CaseTable,
  type ConformanceCase,
  describeCall,
  OP_CASE_TABLES,
  type SpecialValue,
} from "./cases.ts";
export {
  assertCasesPass,
  type CaseReport,
  kernelCase,
  type KernelCaseOptions,
  runCase,
  type RunCaseOptions,
} from "./check.ts";
export {
  BAD_INPUT_CASES,
  type BadInputCase,
  type BadInputContext,
  checkBadInput,
  type ErrorClass,
} from "./bad_input.ts";
export { conformance, type ConformanceOptions } from "./conformance.ts";
export { fuzzCase, shrinkCase, type ShrinkOptions } from "./fuzz.ts";
