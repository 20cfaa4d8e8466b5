/**
 * The conformance suite as `conformance()` of `@mobileops/conformance` runs
 * it under `Deno.test` — every case table against the float64 reference
 * (a preset output on every other case), no tensor or kernel left after a
 * table, every kernel variant chosen by some case, every bad-input case —
 * but returning counts instead of registering tests, so that a browser page
 * (web/conformance_page.ts) can run it and report to web/browser_check.ts.
 *
 * @module
 */

import { type Backend, InvalidArgumentError } from "@mobileops/core";
import {
  BAD_INPUT_CASES,
  CASE_TABLES,
  type CaseTable,
  checkBadInput,
  runCase,
} from "@mobileops/conformance";

/** One failed case: its name (enough to reproduce it) and what went wrong. */
export interface Failure {
  /** The case's name. */
  readonly name: string;
  /** Why it failed. */
  readonly problem: string;
}

/** How one case table went. */
export interface TableReport {
  /** The table's name, e.g. `depthwise conv2d`. */
  readonly name: string;
  /** Cases that matched the reference. */
  readonly passed: number;
  /** Cases that did not, plus one when the table left tensors or kernels behind. */
  readonly failed: number;
  /** The worst `|error| / tolerance` among the passing cases. */
  readonly worstRatio: number;
  /** The first failures, at most {@link LISTED_FAILURES}. */
  readonly failures: readonly Failure[];
}

/** How the whole suite went on one backend. */
export interface SuiteReport {
  /** `backend.name`. */
  readonly backend: string;
  /** Per case table, in `CASE_TABLES` order (only those asked for). */
  readonly tables: readonly TableReport[];
  /** Kernel variants no case chose (checked only when every table ran). */
  readonly unreachedVariants: readonly string[];
  /** The bad-input cases: passed, failed, the first failures. */
  readonly badInput: {
    readonly passed: number;
    readonly failed: number;
    readonly failures: readonly Failure[];
  };
  /** Every case run (tables and bad input) that passed. */
  readonly passed: number;
  /** Every failure (cases, leaks, unreached variants, bad input). */
  readonly failed: number;
}

/** Failures listed per table; the rest are counted. */
export const LISTED_FAILURES = 10;

/** Options of {@link runSuite}. */
export interface SuiteOptions {
  /** Only the tables of these names; default every table (and then the variant check too). */
  readonly tables?: readonly string[];
  /** Called after each table, e.g. to show progress. */
  readonly onTable?: (report: TableReport) => void;
}

async function runTable(
  backend: Backend,
  table: CaseTable,
  chosen: Set<string>,
): Promise<TableReport> {
  const failures: Failure[] = [];
  let failed = 0;
  let worstRatio = 0;
  for (const [index, testCase] of table.cases.entries()) {
    const report = await runCase(backend, testCase, { presetOutput: index % 2 === 1 });
    if (report.variant !== undefined) chosen.add(report.variant);
    if (report.ok) {
      worstRatio = Math.max(worstRatio, report.worstRatio);
      continue;
    }
    failed++;
    if (failures.length < LISTED_FAILURES) {
      failures.push({ name: report.name, problem: report.problem });
    }
  }
  const stats = backend.memoryStats();
  if (stats.tensors !== 0 || stats.kernels !== 0) {
    failed++;
    failures.push({
      name: `${table.name}: memory`,
      problem: `${stats.tensors} tensors and ${stats.kernels} kernels left after the table`,
    });
  }
  return { name: table.name, passed: table.cases.length - failed, failed, worstRatio, failures };
}

/**
 * Runs the suite on a backend made by `create` (called once for the backend
 * under test, once for the second instance the bad-input cases need, and
 * once per case that disposes its own), disposing every one it made.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBackend } from "@mobileops/registry";
 * import { runSuite } from "./conformance_runner.ts";
 * const report = await runSuite(() => createBackend("js"), { tables: ["softmax"] });
 * assert.equal(report.failed, 0);
 * assert.equal(report.tables[0].name, "softmax");
 * ```
 */
export async function runSuite(
  create: () => Promise<Backend>,
  options: SuiteOptions = {},
): Promise<SuiteReport> {
  const tables = options.tables === undefined
    ? CASE_TABLES
    : CASE_TABLES.filter((table) => options.tables!.includes(table.name));
  const unknown = (options.tables ?? []).filter((name) =>
    !CASE_TABLES.some((t) => t.name === name)
  );
  if (unknown.length > 0) {
    throw new InvalidArgumentError("options.tables", unknown, "names no case table");
  }
  const made: Backend[] = [];
  const make = async () => {
    made.push(await create());
    return made[made.length - 1];
  };
  try {
    const backend = await make();
    const chosen = new Set<string>();
    const reports: TableReport[] = [];
    for (const table of tables) {
      const report = await runTable(backend, table, chosen);
      reports.push(report);
      options.onTable?.(report);
    }
    const unreachedVariants = options.tables === undefined
      ? backend.variants.filter((variant) => !chosen.has(variant))
      : [];
    const other = await make();
    const badFailures: Failure[] = [];
    for (const testCase of BAD_INPUT_CASES) {
      try {
        await checkBadInput(testCase, { backend, other, fresh: make });
      } catch (error) {
        badFailures.push({ name: testCase.name, problem: String(error) });
      }
    }
    const badInput = {
      passed: BAD_INPUT_CASES.length - badFailures.length,
      failed: badFailures.length,
      failures: badFailures.slice(0, LISTED_FAILURES),
    };
    return {
      backend: backend.name,
      tables: reports,
      unreachedVariants,
      badInput,
      passed: reports.reduce((sum, r) => sum + r.passed, 0) + badInput.passed,
      failed: reports.reduce((sum, r) => sum + r.failed, 0) + unreachedVariants.length +
        badInput.failed,
    };
  } finally {
    for (const backend of made) backend.dispose();
  }
}
