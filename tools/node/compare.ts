/**
 * How `deno task node-test` judges a Node.js report against Deno's.
 *
 * @module
 */

import type { LogitsReport } from "./logits.ts";

/** The outcome of {@link compareReports}. */
export interface ReportComparison {
  /** One line per failure; empty when the runtime agrees with Deno. */
  readonly failures: string[];
  /** Results whose logits are bit for bit Deno's. */
  readonly exact: number;
  /**
   * Results allowed to differ — the wasm backend where one engine has relaxed
   * SIMD (fused multiply-add) and the other not — which passed the
   * layer-by-layer conformance check instead; with the largest logit difference.
   */
  readonly withinTolerance: number;
  readonly largestDifference: number;
}

/**
 * Compares `other`'s results with `deno`'s, network by network and backend
 * by backend. Every result of both must pass the layer-by-layer conformance
 * check (`worstRatio` ≤ 1) in its own runtime. The logits must be identical
 * — the js backend's arithmetic is fixed by the language, the wasm backend's
 * by WebAssembly — except on a backend whose `relaxedSimd` capability
 * differs between the two runtimes: `f32x4.relaxed_madd` rounds once where
 * a separate multiply and add round twice, so there the conformance check
 * alone applies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareReports } from "./compare.ts";
 * const capabilities = { js: { device: "cpu", simd: false, relaxedSimd: false, threads: 1, asynchronous: false } } as const;
 * const result = { network: "n", backend: "js", logits: [1, 2], worstRatio: 0.5, worstLayer: "fc" };
 * const deno = { runtime: "deno", capabilities, results: [result] };
 * assert.equal(compareReports(deno, { ...deno, runtime: "node" }).exact, 1);
 * const off = { ...result, logits: [1, 2.0000002] };
 * assert.equal(compareReports(deno, { ...deno, results: [off] }).failures.length, 1);
 * ```
 */
export function compareReports(deno: LogitsReport, other: LogitsReport): ReportComparison {
  const failures: string[] = [];
  let exact = 0;
  let withinTolerance = 0;
  let largestDifference = 0;
  const key = (result: { network: string; backend: string }) =>
    `${result.network} on ${result.backend}`;
  const theirs = new Map(other.results.map((result) => [key(result), result]));
  for (const report of [deno, other]) {
    for (const result of report.results) {
      if (!(result.worstRatio <= 1)) {
        failures.push(
          `${report.runtime}: ${key(result)}: layer ${result.worstLayer} is ` +
            `${result.worstRatio} tolerances from the float64 reference`,
        );
      }
    }
  }
  for (const ours of deno.results) {
    const result = theirs.get(key(ours));
    theirs.delete(key(ours));
    if (result === undefined) {
      failures.push(`${other.runtime}: ${key(ours)} is missing`);
      continue;
    }
    if (result.logits.length !== ours.logits.length) {
      failures.push(
        `${other.runtime}: ${
          key(ours)
        }: ${result.logits.length} logits, Deno ${ours.logits.length}`,
      );
      continue;
    }
    const fused = [deno, other].map((report) => report.capabilities[ours.backend]?.relaxedSimd);
    const mismatch = result.logits.findIndex((value, i) => !Object.is(value, ours.logits[i]));
    if (mismatch === -1) {
      exact++;
    } else if (fused[0] !== fused[1]) {
      withinTolerance++;
      for (const [i, value] of result.logits.entries()) {
        largestDifference = Math.max(largestDifference, Math.abs(value - ours.logits[i]));
      }
    } else {
      failures.push(
        `${other.runtime}: ${key(ours)}: logit ${mismatch} is ${result.logits[mismatch]}, ` +
          `Deno's ${ours.logits[mismatch]}`,
      );
    }
  }
  for (const name of theirs.keys()) failures.push(`${other.runtime}: ${name} is not in Deno's`);
  return { failures, exact, withinTolerance, largestDifference };
}
