/// <reference lib="dom" />
/**
 * The page in real headless Chromium (`deno task browser-test`): builds
 * web/dist, serves it cross-origin isolated, and checks, on js, on wasm with
 * 1 thread and with threads, and on webgpu where Chromium offers an adapter:
 *
 * - the demo page classifies every committed Fashion-MNIST sample as the
 *   class its file name says (MobileNet v1 α = 0.25; ShuffleNet v1 0.5× g = 3
 *   on the samples it gets right in Deno too) and draws a time per layer;
 * - the benchmark button times the network;
 * - web/conformance.html runs the whole conformance suite (every case table,
 *   the kernel-variant coverage check, the bad-input cases) with no failure.
 *
 * Named `*_check.ts`, not `*_test.ts`, so that the main `deno test` (no
 * network, no Chromium) does not pick it up. With
 * `MOBILEOPS_REQUIRE_WEBGPU=1` a missing adapter fails instead of skipping.
 *
 * ```sh
 * deno test --allow-all web/browser_check.ts
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { CASE_TABLES } from "@mobileops/conformance";
import { BAD_INPUT_CASES } from "@mobileops/conformance";
import { startWebSession, type WebSession } from "./browser.ts";

const SAMPLES = JSON.parse(
  Deno.readTextFileSync(
    new URL("../models/pretrained/fashion-mnist/samples/samples.json", import.meta.url),
  ),
).samples as { file: string; className: string }[];

/** Each backend configuration the page offers, as the radio button and threads it sets. */
const CONFIGURATIONS = [
  { label: "js", backend: "js", threads: undefined },
  { label: "wasm-1t", backend: "wasm", threads: 1 },
  { label: "wasm-2t", backend: "wasm", threads: 2 },
  { label: "webgpu", backend: "webgpu", threads: undefined },
] as const;

const READY = { timeout: 120_000 };
/** The conformance suite takes seconds on js and wasm, longer on SwiftShader's WebGPU. */
const SUITE_TIMEOUT_MS = 15 * 60_000;

async function waitIdle(page: Page): Promise<string> {
  await page.waitForFunction(
    () => {
      const state = document.getElementById("status")?.dataset.state;
      return state === "done" || state === "error";
    },
    undefined,
    READY,
  );
  const status = page.locator("#status");
  const text = await status.textContent() ?? "";
  assert.equal(await status.getAttribute("data-state"), "done", text);
  return text;
}

/** Why the page greys out a backend, or undefined when it can be picked. */
async function unavailable(page: Page, backend: string): Promise<string | undefined> {
  const radio = page.locator(`#backend-${backend}`);
  if (!await radio.isDisabled()) return undefined;
  return await page.locator(`label:has(#backend-${backend}) .reason`).textContent() ?? "";
}

async function choose(page: Page, configuration: (typeof CONFIGURATIONS)[number]) {
  await page.check(`#backend-${configuration.backend}`);
  if (configuration.threads !== undefined) {
    await page.selectOption("#threads", String(configuration.threads));
  }
}

async function classifySample(page: Page, network: string, file: string): Promise<string> {
  await page.selectOption("#network", network);
  await waitIdle(page);
  const before = Number(await page.locator("#top5").getAttribute("data-run") ?? 0);
  await page.click(`[data-sample="${file}"]`);
  const status = await waitIdle(page);
  assert.equal(await page.locator("#top5").getAttribute("data-file"), file, status);
  assert(Number(await page.locator("#top5").getAttribute("data-run")) > before, status);
  return status;
}

Deno.test("the demo page in headless Chromium", async (t) => {
  await using session: WebSession = await startWebSession();
  const page = await session.newPage();
  await page.goto(session.url);
  const ready = await waitIdle(page);
  assert.match(ready, /^Ready$/, "the page is cross-origin isolated, so wasm may use threads");
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);

  for (const configuration of CONFIGURATIONS) {
    const reason = await unavailable(page, configuration.backend);
    const requireGpu = Deno.env.get("MOBILEOPS_REQUIRE_WEBGPU") === "1";
    const ignore = reason !== undefined && !(configuration.backend === "webgpu" && requireGpu);
    if (reason !== undefined) console.log(`${configuration.label}: not available here: ${reason}`);
    await t.step({
      name: `${configuration.label}: classifies the committed samples`,
      ignore,
      fn: async () => {
        assert.equal(reason, undefined, `${configuration.label} is greyed out: ${reason}`);
        await choose(page, configuration);
        for (const { file, className } of SAMPLES) {
          const status = await classifySample(page, "mobilenet_v1_0.25_32", file);
          assert.equal(await page.locator("#top5").getAttribute("data-top1"), className, status);
          if (configuration.threads !== undefined) {
            const threads = `${configuration.threads} thread${
              configuration.threads > 1 ? "s" : ""
            }`;
            assert(status.endsWith(`on wasm, ${threads})`), `${status}: not ${threads}`);
          }
        }
        // ShuffleNet 0.5× g = 3 takes 6-shirt.png for a T-shirt in Deno too (docs/models.md).
        for (const file of ["7-sneaker.png", "9-ankle-boot.png"]) {
          await classifySample(page, "shufflenet_v1_0.5x_g3_32", file);
          const expected = SAMPLES.find((s) => s.file === file)!.className;
          assert.equal(await page.locator("#top5").getAttribute("data-top1"), expected);
        }
        const layers = await page.locator("#layers .row").count();
        assert(layers > 10, `the layer chart has ${layers} rows`);
        assert.match(
          await page.locator("#layers-summary").textContent() ?? "",
          /layers, [\d.]+ ms/,
        );
      },
    });
    await t.step({
      name: `${configuration.label}: benchmarks a network`,
      ignore,
      fn: async () => {
        await choose(page, configuration);
        await page.selectOption("#network", "shufflenet_v1_0.5x_g3_32");
        await page.fill("#runs", "3");
        const before = await page.locator("#bench-table tbody tr").count();
        await page.click("#run-bench");
        await waitIdle(page);
        assert.equal(await page.locator("#bench-table tbody tr").count(), before + 1);
        const row = page.locator("#bench-table tbody tr").last();
        const median = Number(await row.getAttribute("data-median-ms"));
        assert(median > 0 && Number.isFinite(median), `median ${median} ms`);
      },
    });
  }
  const total = CASE_TABLES.reduce((sum, table) => sum + table.cases.length, 0) +
    BAD_INPUT_CASES.length;
  for (const configuration of CONFIGURATIONS) {
    const reason = await unavailable(page, configuration.backend);
    const requireGpu = Deno.env.get("MOBILEOPS_REQUIRE_WEBGPU") === "1";
    await t.step({
      name: `${configuration.label}: the conformance suite passes in the browser (${total} cases)`,
      ignore: reason !== undefined && !(configuration.backend === "webgpu" && requireGpu),
      fn: async () => {
        const suite = await session.newPage();
        try {
          await suite.goto(`${session.url}conformance.html?backend=${configuration.label}`);
          await suite.waitForFunction(
            () => {
              const state = document.getElementById("status")?.dataset.state;
              return state === "done" || state === "error";
            },
            undefined,
            { timeout: SUITE_TIMEOUT_MS },
          );
          const [outcome] = await suite.evaluate(() =>
            (globalThis as unknown as { conformanceReports: unknown[] }).conformanceReports
          ) as {
            label: string;
            unavailable?: string;
            seconds?: number;
            threads?: number;
            report?: { passed: number; failed: number; unreachedVariants: string[] };
          }[];
          assert.equal(outcome.unavailable, undefined, outcome.unavailable);
          const failures = await suite.locator("#failures").textContent();
          assert.equal(outcome.report!.failed, 0, failures ?? "");
          assert.equal(outcome.report!.passed, total);
          if (configuration.threads !== undefined) {
            assert.equal(outcome.threads, configuration.threads);
          }
          console.log(
            `conformance ${configuration.label} in Chromium: ${outcome.report!.passed}/${total} ` +
              `pass in ${outcome.seconds!.toFixed(1)} s`,
          );
        } finally {
          await suite.close();
        }
      },
    });
  }
  assert.deepEqual(session.errors, [], "no page errors");
});

Deno.test("the page greys out what it cannot use, and says why", async () => {
  await using session = await startWebSession({ isolated: false, webgpu: false });
  const page = await session.newPage();
  await page.goto(session.url);
  assert.match(await waitIdle(page), /not cross-origin isolated/);
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  assert.match(await unavailable(page, "webgpu") ?? "", /adapter/i);
  const threads = await page.locator("#threads option").allTextContents();
  assert.deepEqual(threads, ["1 thread"]);
  assert.match(
    await page.locator("label:has(#backend-wasm) .reason").textContent() ?? "",
    /^threads: SharedArrayBuffer is unavailable/,
  );
  await page.check("#backend-wasm");
  await classifySample(page, "mobilenet_v1_0.25_32", "1-trouser.png");
  assert.equal(await page.locator("#top5").getAttribute("data-top1"), "Trouser");
  assert.deepEqual(session.errors, [], "no page errors");
});
