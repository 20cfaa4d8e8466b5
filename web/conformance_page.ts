/// <reference lib="dom" />
/**
 * web/conformance.html: runs the conformance suite (./conformance_runner.ts)
 * on each backend configuration this browser has, one after the other, and
 * shows the counts per table. `?backend=LABEL` runs one configuration,
 * `&tables=A,B` only those case tables. When done, `#status[data-state]` is
 * `done` and `globalThis.conformanceReports` holds one entry per
 * configuration (a report, or the reason it could not start), which
 * web/browser_check.ts reads.
 *
 * @module
 */

import {
  type BackendConfiguration,
  backendUnavailable,
  createConfiguredBackend,
} from "@mobileops/registry";
import { InvalidArgumentError } from "@mobileops/core";
import { runSuite, type SuiteReport } from "./conformance_runner.ts";

/** Each configuration the page runs by default: wasm with threads only does so where the page is isolated. */
const threads = Math.max(2, navigator.hardwareConcurrency);
const CONFIGURATIONS: readonly BackendConfiguration[] = [
  { label: "js", backend: "js", options: {} },
  { label: "wasm-1t", backend: "wasm", options: { threads: 1 } },
  { label: `wasm-${threads}t`, backend: "wasm", options: { threads } },
  { label: "webgpu", backend: "webgpu", options: {} },
];

/** `?backend=LABEL`: a default configuration's label, or `wasm-<N>t` for N threads. */
function configurationFor(label: string): BackendConfiguration {
  const wasm = /^wasm-([1-9]\d*)t$/.exec(label);
  if (wasm !== null) return { label, backend: "wasm", options: { threads: Number(wasm[1]) } };
  const found = CONFIGURATIONS.find((c) => c.label === label);
  if (found === undefined) {
    throw new InvalidArgumentError(
      "backend",
      label,
      `is not one of ${CONFIGURATIONS.map((c) => c.label).join(", ")}, wasm-<N>t`,
    );
  }
  return found;
}

/** One configuration's outcome. */
type Outcome =
  | {
    readonly label: string;
    readonly report: SuiteReport;
    readonly seconds: number;
    /** `capabilities.threads` of the backend under test: the threads it really used. */
    readonly threads: number;
  }
  | { readonly label: string; readonly unavailable: string };

const status = document.getElementById("status")!;
const rows = document.querySelector("#summary tbody")!;
const failures = document.getElementById("failures")!;

function row(cells: readonly string[]): void {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    td.textContent = cell;
    tr.append(td);
  }
  rows.append(tr);
}

async function main(): Promise<Outcome[]> {
  const query = new URLSearchParams(location.search);
  const wanted = query.get("backend");
  const tables = query.get("tables")?.split(",");
  const selected = wanted === null ? CONFIGURATIONS : [configurationFor(wanted)];
  const outcomes: Outcome[] = [];
  for (const configuration of selected) {
    const { label } = configuration;
    const reason = await backendUnavailable(configuration.backend, configuration.options as never);
    if (reason !== undefined) {
      outcomes.push({ label, unavailable: reason });
      row([label, "not available here", "", "", reason]);
      continue;
    }
    status.textContent = `Running on ${label}…`;
    const started = performance.now();
    let threads = 0;
    const create = async () => {
      const backend = await createConfiguredBackend(configuration);
      threads ||= backend.capabilities.threads;
      return backend;
    };
    const report = await runSuite(create, {
      tables,
      onTable: (table) => {
        status.textContent = `Running on ${label}: ${table.name} done`;
        row([
          label,
          table.name,
          String(table.passed),
          String(table.failed),
          table.worstRatio.toPrecision(3),
        ]);
      },
    });
    row([label, `bad input`, String(report.badInput.passed), String(report.badInput.failed), ""]);
    row([
      label,
      "variants reached",
      "",
      String(report.unreachedVariants.length),
      report.unreachedVariants.join(" "),
    ]);
    const listed = [...report.tables.flatMap((t) => t.failures), ...report.badInput.failures];
    failures.textContent += listed.map((f) => `${label}: ${f.name}: ${f.problem}\n`).join("");
    outcomes.push({ label, report, seconds: (performance.now() - started) / 1000, threads });
  }
  return outcomes;
}

main().then((outcomes) => {
  Object.assign(globalThis, { conformanceReports: outcomes });
  const failed = outcomes.reduce((sum, o) => sum + ("report" in o ? o.report.failed : 0), 0);
  status.textContent = failed === 0 ? "Done: no failures" : `Done: ${failed} failures`;
  status.dataset.state = "done";
}, (error) => {
  console.error(error);
  Object.assign(globalThis, { conformanceError: `${error.name}: ${error.message}` });
  status.textContent = `Error: ${error.name}: ${error.message}`;
  status.dataset.state = "error";
});
