/**
 * Writes {@link computeLogits}'s report as JSON: the entry `deno task
 * node-test` bundles for Node.js (`deno bundle --platform deno`), which runs
 * unbundled under Deno too.
 *
 * ```sh
 * node node_entry.mjs REPORT.json REPOSITORY_ROOT
 * deno run --allow-read --allow-write tools/node/node_entry.ts REPORT.json .
 * ```
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import process from "node:process";
import { computeLogits } from "./logits.ts";

const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
const [output, root] = process.argv.slice(2);
if (output === undefined || root === undefined) {
  throw new Error(`usage: node_entry REPORT.json REPOSITORY_ROOT (got ${process.argv.slice(2)})`);
}
const runtime = deno !== undefined ? `deno ${deno.version.deno}` : `node ${process.version}`;
writeFileSync(output, JSON.stringify(await computeLogits(root, runtime)));
