/**
 * `conformance(name, createBackend)`: registers the whole op-level suite for
 * one backend with `Deno.test`. A backend's test file is this one call.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Backend } from "@mobileops/core";
import { BAD_INPUT_CASES, checkBadInput } from "./bad_input.ts";
import { CASE_TABLES, type ConformanceCase } from "./cases.ts";
import { type CaseReport, runCase } from "./check.ts";

/** Options of {@link conformance}. */
export interface ConformanceOptions {
  /** Register the test as ignored (e.g. no GPU adapter here). */
  readonly ignore?: boolean;
  /** Runs only the cases it accepts (e.g. while a backend is being written). */
  readonly filter?: (testCase: ConformanceCase) => boolean;
}

/** Failures listed in full per table; the rest are counted. */
const LISTED_FAILURES = 10;

/**
 * Registers one `Deno.test`, `conformance: <name>`, with a step per case
 * table (every case must match the float64 reference: shapes and the
 * bit-exact operators exactly, the rest within the accumulation-length
 * tolerance; the worst error ratio of each table is logged), a step that
 * checks every kernel variant the backend lists (`backend.variants`) was
 * chosen by at least one case (skipped when `options.filter` narrows the
 * cases), and a step per bad-input case (the typed error from core, naming
 * the field).
 *
 * @example
 * ```ts ignore
 * // backends/js/js_test.ts
 * import { conformance } from "@mobileops/conformance";
 * import { createBackend } from "@mobileops/registry";
 * conformance("js", () => createBackend("js"));
 * ```
 */
export function conformance(
  name: string,
  createBackend: () => Promise<Backend>,
  options: ConformanceOptions = {},
): void {
  Deno.test({ name: `conformance: ${name}`, ignore: options.ignore }, async (t) => {
    const backend = await createBackend();
    try {
      let total = 0;
      const worstByOp = new Map<string, number>();
      const chosen = new Set<string>();
      for (const table of CASE_TABLES) {
        const cases = table.cases.filter(options.filter ?? (() => true));
        if (cases.length === 0) continue;
        total += cases.length;
        await t.step(`${table.name} (${cases.length} cases)`, async () => {
          const failures: CaseReport[] = [];
          let worst: CaseReport | undefined;
          for (const [index, testCase] of cases.entries()) {
            const report = await runCase(backend, testCase, { presetOutput: index % 2 === 1 });
            if (report.variant !== undefined) chosen.add(report.variant);
            if (!report.ok) {
              failures.push(report);
              continue;
            }
            if (!worst || report.worstRatio > worst.worstRatio) worst = report;
            const op = testCase.descriptor.op;
            worstByOp.set(op, Math.max(worstByOp.get(op) ?? 0, report.worstRatio));
          }
          console.log(
            `conformance ${name}: ${table.name}: ${cases.length - failures.length}/` +
              `${cases.length} pass, worst error ${(worst?.worstRatio ?? 0).toPrecision(3)} ` +
              `of tolerance${worst?.worstRatio ? ` (${worst.name.split(":")[0]})` : ""}`,
          );
          const stats = backend.memoryStats();
          assert.deepEqual(
            [failures.length, stats.tensors, stats.kernels],
            [0, 0, 0],
            [
              `${failures.length} of ${cases.length} cases failed` +
              ` (${stats.tensors} tensors, ${stats.kernels} kernels left):`,
              ...failures.slice(0, LISTED_FAILURES).map((f) => `  ${f.name}: ${f.problem}`),
            ].join("\n"),
          );
        });
      }
      const perOp = [...worstByOp].map(([op, ratio]) => `${op} ${ratio.toPrecision(3)}`);
      console.log(
        `conformance ${name}: ${total} cases; worst error per op (of tolerance): ${
          perOp.join(", ")
        }`,
      );
      if (options.filter === undefined) {
        await t.step(`every kernel variant is chosen (${backend.variants.length})`, () => {
          const unreached = backend.variants.filter((variant) => !chosen.has(variant));
          assert.deepEqual(
            unreached,
            [],
            `no conformance case reaches these kernel variants of ${name}, so they are untested`,
          );
        });
      }
      await t.step(`bad input (${BAD_INPUT_CASES.length} cases)`, async (t) => {
        const other = await createBackend();
        const fresh: Backend[] = [];
        try {
          for (const testCase of BAD_INPUT_CASES) {
            await t.step(testCase.name, () =>
              checkBadInput(testCase, {
                backend,
                other,
                fresh: async () => {
                  fresh.push(await createBackend());
                  return fresh[fresh.length - 1];
                },
              }));
          }
        } finally {
          other.dispose();
          for (const spare of fresh) spare.dispose();
        }
      });
    } finally {
      backend.dispose();
    }
  });
}
