import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The README's usage example: its first ```ts block. */
function usageExample(): string {
  const readme = Deno.readTextFileSync(join(root, "README.md"));
  const match = readme.match(/```ts\n([\s\S]*?)```/);
  assert.ok(match, "README.md has a ```ts block");
  return match[1];
}

async function runWithoutPermissions(source: string): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--ext", "ts", "-"],
    cwd: root,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(source));
  await writer.close();
  const { code, stderr } = await child.output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

Deno.test("the README's usage example runs with no permission, on js and swapped to wasm", async () => {
  const js = usageExample();
  assert.match(js, /createJsBackend/);
  const wasm = js
    .replaceAll("createJsBackend", "createWasmBackend")
    .replace("@mobileops/backend-js", "@mobileops/backend-wasm")
    // What the README says changes: the name of the variant chosen.
    .replace('"f32-dwconv-3x3-js"', '"f32-dwconv-wasmsimd"');
  for (const [name, source] of [["js", js], ["wasm", wasm]]) {
    const { code, stderr } = await runWithoutPermissions(source);
    assert.equal(code, 0, `${name}: ${stderr}`);
  }
});
