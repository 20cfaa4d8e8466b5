// Enforces docs/architecture.md's layering: each entry point's module graph
// reaches only the packages listed for it (npm packages aside).
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const PACKAGES = [
  "packages/core",
  "packages/conformance",
  "packages/graph",
  "packages/onnx",
  "packages/image",
  "packages/registry",
  "backends/js",
  "backends/wasm",
  "backends/webgpu",
  "models",
];

/** Entry point → the packages its module graph may reach (its own included). */
const ALLOWED: Record<string, readonly string[]> = {
  "packages/core/mod.ts": ["packages/core"],
  "packages/conformance/mod.ts": ["packages/conformance", "packages/core"],
  "packages/graph/mod.ts": ["packages/graph", "packages/core"],
  "packages/graph/reference.ts": ["packages/graph", "packages/conformance", "packages/core"],
  "packages/image/mod.ts": ["packages/image", "packages/core"],
  "packages/onnx/mod.ts": ["packages/onnx", "packages/graph", "packages/core"],
  "backends/js/mod.ts": ["backends/js", "packages/core"],
  "backends/wasm/mod.ts": ["backends/wasm", "packages/core"],
  "backends/webgpu/mod.ts": ["backends/webgpu", "packages/core"],
  "packages/registry/mod.ts": [
    "packages/registry",
    "backends/js",
    "backends/wasm",
    "backends/webgpu",
    "packages/core",
  ],
  "models/mod.ts": ["models", "packages/graph", "packages/core"],
  "models/testing.ts": ["models", "packages/graph", "packages/conformance", "packages/core"],
};

async function reachedPackages(entry: string): Promise<Set<string>> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const modules: { specifier: string }[] = JSON.parse(new TextDecoder().decode(stdout)).modules;
  const rootUrl = pathToFileURL(root).href;
  const reached = new Set<string>();
  for (const { specifier } of modules) {
    if (!specifier.startsWith(rootUrl)) continue;
    const path = relative(root, fileURLToPath(specifier));
    const owner = PACKAGES.find((pkg) => path.startsWith(`${pkg}/`));
    reached.add(owner ?? path);
  }
  return reached;
}

Deno.test("every entry point reaches only the packages below it", async () => {
  for (const [entry, allowed] of Object.entries(ALLOWED)) {
    const extra = [...await reachedPackages(entry)].filter((pkg) => !allowed.includes(pkg));
    assert.deepEqual(extra, [], `${entry} reaches ${extra.join(", ")}`);
  }
});

Deno.test("every entry point of every workspace package is covered by the layering rules", () => {
  const workspace: string[] = JSON.parse(Deno.readTextFileSync(join(root, "deno.json"))).workspace;
  const entries = workspace.flatMap((member) => {
    const exports = JSON.parse(Deno.readTextFileSync(join(root, member, "deno.json"))).exports;
    return (typeof exports === "string" ? [exports] : Object.values(exports) as string[])
      .map((target) => join(member, target));
  });
  assert.deepEqual(entries.filter((entry) => !(entry in ALLOWED)), []);
});
