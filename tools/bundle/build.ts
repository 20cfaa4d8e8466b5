/**
 * `deno task bundle`: builds `dist/mobileops.js` from `mobileops.ts` with
 * `deno bundle` — one ES module with every runtime package and its npm
 * dependencies inlined, no imports left, loadable by a browser page
 * (`<script type="module">`), Node.js and Deno. `--out FILE` writes
 * elsewhere.
 *
 * ```sh
 * deno task bundle                 # dist/mobileops.js
 * deno task bundle --out /tmp/m.js
 * ```
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where `deno task bundle` writes by default. */
export const DEFAULT_BUNDLE = join(root, "dist", "mobileops.js");

/**
 * Runs `deno bundle` (Deno's esbuild-based bundler) from the repository
 * root on `entry` (a path relative to the root, or absolute) for the browser
 * platform as an ES module, adding `extraArgs` (e.g. `--sourcemap linked`,
 * `--external node:assert/strict`). With `extraArgs` naming an `--output`
 * file it resolves to `""`; otherwise to the bundle's text.
 *
 * @throws {Error} `deno bundle` failed: the entry, its exit code and output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoBundle } from "./build.ts";
 * const code = await denoBundle("packages/core/limits.ts");
 * assert.match(code, /MAX_DIMENSION/);
 * assert.doesNotMatch(code, /^import /m);
 * ```
 */
export async function denoBundle(
  entry: string,
  extraArgs: readonly string[] = [],
): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "--format", "esm", ...extraArgs, entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `deno bundle ${entry} failed (exit ${code}): ${new TextDecoder().decode(stderr)}`,
    );
  }
  return new TextDecoder().decode(stdout);
}

/**
 * Bundles the workspace's runtime packages into `outFile` (its directory
 * created) and resolves to its size in bytes.
 *
 * @throws {Error} `deno bundle` failed: its exit code and output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathToFileURL } from "node:url";
 * import { buildBundle } from "./build.ts";
 * const out = await Deno.makeTempFile({ suffix: ".js" });
 * assert.ok((await buildBundle(out)) > 100_000);
 * const { OP_NAMES } = await import(pathToFileURL(out).href);
 * assert.ok(OP_NAMES.includes("conv2d"));
 * await Deno.remove(out);
 * ```
 */
export async function buildBundle(outFile: string): Promise<number> {
  await Deno.mkdir(dirname(outFile), { recursive: true });
  await denoBundle(join("tools", "bundle", "mobileops.ts"), ["--output", outFile]);
  return (await Deno.stat(outFile)).size;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: DEFAULT_BUNDLE } },
    strict: true,
  });
  const bytes = await buildBundle(values.out);
  console.log(`${values.out}: ${(bytes / 1024).toFixed(0)} KiB`);
}
