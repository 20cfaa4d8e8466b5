/**
 * Takes docs/web.png, the README's picture of the page: wasm with threads,
 * MobileNet v1 α = 0.25 on the committed ankle-boot sample, and one
 * benchmark row.
 *
 * ```sh
 * deno run --allow-all web/screenshot.ts [docs/web.png]
 * ```
 *
 * @module
 */

/// <reference lib="dom" />

import { fileURLToPath } from "node:url";
import { startWebSession } from "./browser.ts";

const output = Deno.args[0] ?? fileURLToPath(new URL("../docs/web.png", import.meta.url));
await using session = await startWebSession();
const page = await session.newPage();
await page.setViewportSize({ width: 1200, height: 1000 });
const idle = async () => {
  await page.waitForFunction(
    () => {
      const state = document.getElementById("status")?.dataset.state;
      return state === "done" || state === "error";
    },
    undefined,
    { timeout: 120_000 },
  );
  if (await page.locator("#status").getAttribute("data-state") !== "done") {
    throw new Error(`the page failed: ${await page.locator("#status").textContent()}`);
  }
};
await page.goto(session.url);
await idle();
await page.check("#backend-wasm");
await page.selectOption("#network", "mobilenet_v1_0.25_32");
await page.fill("#runs", "20");
await page.click("#run-bench");
await idle();
await page.click('[data-sample="9-ankle-boot.png"]');
await idle();
await page.screenshot({ path: output, fullPage: true });
console.log(`wrote ${output}`);
