/**
 * What the browser costs: MobileNet v1 1.0-224 and ShuffleNet v1 1× g = 3
 * (random weights) timed on each backend in headless Chromium, through the
 * demo page's benchmark button, and in Deno with the same code
 * (`benchmark` of web/lib.ts), back to back on this machine. Each
 * measurement is the first run and the warm median of `--runs` runs (upload,
 * run, download); each row alternates Chromium and Deno `--rounds` times
 * and shows the median over the rounds of each (so a burst of load from
 * other processes moves one round, not the row), and the ratio of the
 * medians, Chromium / Deno.
 *
 * ```sh
 * XDG_RUNTIME_DIR=/tmp deno run --allow-all web/bench_browser.ts --runs 10 --rounds 3
 * deno run --allow-all web/bench_browser.ts --backend js,wasm-1t --network mobilenet_v1_1.0_224 --json
 * ```
 *
 * On a software WebGPU adapter (Chromium's SwiftShader, Deno's lavapipe)
 * the webgpu rows say what the two adapters cost, nothing about a GPU.
 *
 * @module
 */

/// <reference lib="dom" />

import { parseArgs } from "node:util";
import { InvalidArgumentError } from "@mobileops/core";
import {
  type BackendConfiguration,
  backendUnavailable,
  createConfiguredBackend,
} from "@mobileops/registry";
import { startWebSession } from "./browser.ts";
import { benchmark, type BenchmarkResult, IMAGENET_CHOICES, loadNetwork, median } from "./lib.ts";

/** The configurations compared, as the page's backend radio and threads select name them. */
const CONFIGURATIONS: readonly BackendConfiguration[] = [
  { label: "js", backend: "js", options: {} },
  { label: "wasm-1t", backend: "wasm", options: { threads: 1 } },
  { label: "wasm-2t", backend: "wasm", options: { threads: 2 } },
  { label: "webgpu", backend: "webgpu", options: {} },
];

/** A first run and a warm median, ms: the medians over the rounds, and each round's warm median. */
export interface Timing {
  /** Median over the rounds of the first run. */
  readonly firstRunMs: number;
  /** Median over the rounds of the warm median. */
  readonly medianMs: number;
  /** Each round's warm median. */
  readonly roundsMs: readonly number[];
}

function timing(results: readonly BenchmarkResult[]): Timing | undefined {
  return results.length === 0 ? undefined : {
    firstRunMs: median(results.map((r) => r.firstRunMs)),
    medianMs: median(results.map((r) => r.medianMs)),
    roundsMs: results.map((r) => r.medianMs),
  };
}

/** One network on one configuration, in both places. */
export interface BrowserBenchRow {
  /** e.g. `mobilenet_v1_1.0_224`. */
  readonly network: string;
  /** e.g. `wasm-2t`. */
  readonly backend: string;
  /** Chromium's first run and warm median, ms, medians over the rounds; absent when the backend is not available there. */
  readonly chromium?: Timing;
  /** Deno's, ms; absent when the backend is not available in Deno. */
  readonly deno?: Timing;
  /** Why a side is missing. */
  readonly note?: string;
}

async function inDeno(
  network: string,
  configuration: BackendConfiguration,
  runs: number,
): Promise<BenchmarkResult | string> {
  const reason = await backendUnavailable(configuration.backend, configuration.options as never);
  if (reason !== undefined) return `Deno: ${reason}`;
  const choice = IMAGENET_CHOICES.find((c) => c.id === network)!;
  const { graph } = await loadNetwork(choice, [], new URL(import.meta.url));
  using backend = await createConfiguredBackend(configuration);
  const input = new Float32Array(graph.inputShape.reduce((a, b) => a * b, 1));
  return await benchmark(graph, backend, input, runs);
}

/**
 * Runs the comparison: for each network and configuration, Chromium then
 * Deno. `progress` gets a line per row.
 *
 * @example
 * ```ts ignore
 * import { benchBrowser } from "./bench_browser.ts";
 * const rows = await benchBrowser({
 *   runs: 3,
 *   rounds: 1,
 *   backends: ["js"],
 *   networks: ["shufflenet_v1_1x_g3_224"],
 * });
 * ```
 */
export async function benchBrowser(
  options: {
    runs: number;
    rounds: number;
    backends: readonly string[];
    networks: readonly string[];
  },
  progress: (line: string) => void = () => {},
): Promise<BrowserBenchRow[]> {
  const configurations = CONFIGURATIONS.filter((c) => options.backends.includes(c.label));
  const unknownBackends = options.backends.filter((b) =>
    !CONFIGURATIONS.some((c) => c.label === b)
  );
  if (unknownBackends.length > 0) {
    throw new InvalidArgumentError(
      "--backend",
      unknownBackends.join(","),
      "names no configuration",
    );
  }
  const unknownNetworks = options.networks.filter((n) => !IMAGENET_CHOICES.some((c) => c.id === n));
  if (unknownNetworks.length > 0) {
    throw new InvalidArgumentError("--network", unknownNetworks.join(","), "names no network");
  }
  await using session = await startWebSession();
  const page = await session.newPage();
  await page.goto(session.url);
  const idle = () =>
    page.waitForFunction(
      () => {
        const state = document.getElementById("status")?.dataset.state;
        return state === "done" || state === "error";
      },
      undefined,
      { timeout: 600_000 },
    );
  await idle();
  await page.fill("#runs", String(options.runs));
  /** One benchmark through the page's button, or why it could not run. */
  const inChromium = async (
    network: string,
    configuration: BackendConfiguration,
  ): Promise<BenchmarkResult | string> => {
    const { backend } = configuration;
    if (await page.locator(`#backend-${backend}`).isDisabled()) {
      return `Chromium: ${await page.locator(`label:has(#backend-${backend}) .reason`)
        .textContent()}`;
    }
    await page.check(`#backend-${backend}`);
    if (backend === "wasm") {
      const threads = String((configuration.options as { threads: number }).threads);
      await page.selectOption("#threads", threads);
    }
    await page.selectOption("#network", network);
    await idle();
    const before = await page.locator("#bench-table tbody tr").count();
    await page.click("#run-bench");
    await idle();
    if (await page.locator("#bench-table tbody tr").count() === before) {
      return `Chromium: ${await page.locator("#status").textContent()}`;
    }
    const row = page.locator("#bench-table tbody tr").last();
    return {
      compileMs: Number.NaN,
      firstRunMs: Number(await row.getAttribute("data-first-run-ms")),
      medianMs: Number(await row.getAttribute("data-median-ms")),
      runsMs: [],
    };
  };
  const rows: BrowserBenchRow[] = [];
  for (const network of options.networks) {
    for (const configuration of configurations) {
      const chromium: BenchmarkResult[] = [];
      const deno: BenchmarkResult[] = [];
      const notes = new Set<string>();
      for (let round = 0; round < options.rounds; round++) {
        for (const [side, results] of [[inChromium, chromium], [inDeno, deno]] as const) {
          const result = await side(network, configuration, options.runs);
          if (typeof result === "string") notes.add(result);
          else results.push(result);
        }
      }
      const row = {
        network,
        backend: configuration.label,
        chromium: timing(chromium),
        deno: timing(deno),
        note: [...notes].join("; ") || undefined,
      };
      rows.push(row);
      progress(formatRows([row]).at(-1)!);
    }
  }
  return rows;
}

/**
 * The rows as a Markdown table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRows } from "./bench_browser.ts";
 * const [, , line] = formatRows([{
 *   network: "n", backend: "js",
 *   chromium: { firstRunMs: 2, medianMs: 2, roundsMs: [2] },
 *   deno: { firstRunMs: 1, medianMs: 1, roundsMs: [1] },
 * }]);
 * assert.match(line, /\| 2\.00× \|/);
 * ```
 */
export function formatRows(rows: readonly BrowserBenchRow[]): string[] {
  const ms = (value?: number) => value === undefined ? "—" : value.toFixed(1);
  return [
    "| network | backend | Chromium first run | Chromium median | Deno first run | Deno median | Chromium / Deno |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((row) =>
      `| ${row.network} | ${row.backend} | ${ms(row.chromium?.firstRunMs)} | ` +
      `${ms(row.chromium?.medianMs)} | ${ms(row.deno?.firstRunMs)} | ${ms(row.deno?.medianMs)} | ${
        row.chromium && row.deno
          ? `${(row.chromium.medianMs / row.deno.medianMs).toFixed(2)}×`
          : "—"
      } |${row.note ? ` ${row.note}` : ""}`
    ),
  ];
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "10" },
      rounds: { type: "string", default: "3" },
      backend: { type: "string", default: CONFIGURATIONS.map((c) => c.label).join(",") },
      network: { type: "string", default: IMAGENET_CHOICES.map((c) => c.id).join(",") },
      json: { type: "boolean", default: false },
    },
  });
  const runs = Number(values.runs);
  if (!/^\d+$/.test(values.runs) || runs < 1 || runs > 1000) {
    throw new InvalidArgumentError("--runs", values.runs, "must be an integer from 1 to 1000");
  }
  const rounds = Number(values.rounds);
  if (!/^\d+$/.test(values.rounds) || rounds < 1 || rounds > 100) {
    throw new InvalidArgumentError("--rounds", values.rounds, "must be an integer from 1 to 100");
  }
  const rows = await benchBrowser(
    {
      runs,
      rounds,
      backends: values.backend.split(","),
      networks: values.network.split(","),
    },
    (line) => console.error(line),
  );
  console.log(values.json ? JSON.stringify(rows, null, 2) : formatRows(rows).join("\n"));
}
