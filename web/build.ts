/**
 * Builds the static page into web/dist: `deno bundle` (esbuild, platform
 * browser) of the page's scripts, and the HTML and CSS copied beside them.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-run --allow-env web/build.ts
 * ```
 *
 * @module
 */

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { denoBundle } from "../tools/bundle/build.ts";

const WEB = fileURLToPath(new URL(".", import.meta.url));
const DIST = `${WEB}dist`;

/** Each bundle: its entry module in web/ and the file it becomes in web/dist. */
const BUNDLES = [
  ["app.ts", "app.js"],
  ["conformance_page.ts", "conformance.js"],
  // The conformance package imports node:assert/strict; conformance.html's import map points it
  // here: npm:assert@2.1.0's strict form.
  ["node_assert.ts", "node_assert.js"],
] as const;

const COPIED = ["index.html", "conformance.html", "style.css"] as const;

/**
 * Bundles one module for the browser with `deno bundle` (an ES module with
 * a linked source map) into `output`; `node:assert/strict` is left to the
 * page's import map. Throws an `Error` with `deno bundle`'s output when it
 * fails.
 *
 * @example
 * ```ts ignore
 * import { bundle } from "./build.ts";
 * await bundle("web/node_assert.ts", "/tmp/node_assert.js");
 * ```
 */
export async function bundle(entry: string, output: string): Promise<void> {
  await denoBundle(resolve(entry), [
    "--sourcemap",
    "linked",
    // Left to the page's import map (conformance.html), since a browser has no node: modules.
    "--external",
    "node:assert/strict",
    "--output",
    resolve(output),
  ]);
}

/**
 * Bundles the page's scripts and copies its HTML and CSS into web/dist;
 * throws an `Error` with `deno bundle`'s output when a bundle fails.
 * Returns the files written, relative to web/dist.
 *
 * @example
 * ```ts ignore
 * import { buildWeb } from "./build.ts";
 * console.log(await buildWeb()); // ["app.js", "conformance.js", …]
 * ```
 */
export async function buildWeb(): Promise<string[]> {
  await Deno.mkdir(DIST, { recursive: true });
  await Promise.all(
    BUNDLES.map(([entry, output]) => bundle(`${WEB}${entry}`, `${DIST}/${output}`)),
  );
  for (const file of COPIED) await Deno.copyFile(`${WEB}${file}`, `${DIST}/${file}`);
  return [...BUNDLES.map(([, output]) => output), ...COPIED];
}

if (import.meta.main) {
  const files = await buildWeb();
  console.log(`web/dist: ${files.join(", ")}`);
}
