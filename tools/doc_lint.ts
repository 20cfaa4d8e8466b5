/**
 * Runs `deno doc --lint` over every entry point of every workspace package,
 * read from each member's `deno.json` `exports`, so a new package or entry
 * point is linted without editing a list.
 *
 * ```sh
 * deno run --allow-read --allow-run tools/doc_lint.ts
 * ```
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Every workspace package's entry-point files, relative to the repository root. */
export function entryPoints(): string[] {
  const workspace = JSON.parse(Deno.readTextFileSync(join(root, "deno.json")))
    .workspace as string[];
  return workspace.flatMap((member) => {
    const config = JSON.parse(Deno.readTextFileSync(join(root, member, "deno.json")));
    const exports: string | Record<string, string> = config.exports;
    const targets = typeof exports === "string" ? [exports] : Object.values(exports);
    return targets.map((target) => join(member, target));
  });
}

if (import.meta.main) {
  const files = entryPoints();
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...files],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code === 0) console.log(`deno doc --lint: ${files.length} entry points clean`);
  Deno.exit(code);
}
