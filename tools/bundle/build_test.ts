import assert from "node:assert/strict";
import { join } from "node:path";
import { createBackend } from "@mobileops/registry";
import { compileGraph } from "@mobileops/graph";
import { mobilenetV1 } from "@mobileops/models";
import { buildBundle } from "./build.ts";

/** MobileNet v1 0.25 at 32×32 on js and wasm (1 thread), through whatever `./mobileops.js` is. */
const SCRIPT = `
import { compileGraph, createBackend, mobilenetV1 } from "./mobileops.js";
const logits = {};
for (const name of ["js", "wasm"]) {
  const backend = await createBackend(name);
  const model = mobilenetV1({ alpha: 0.25, resolution: 32 });
  const compiled = await compileGraph(model.graph, backend);
  const input = backend.upload(
    new Float32Array(32 * 32 * 3).map((_, i) => Math.sin(i)),
    model.graph.inputShape,
  );
  logits[name] = [...await compiled.run(input).download()];
  backend.dispose();
}
console.log(JSON.stringify(logits));
`;

async function workspaceLogits(): Promise<Record<string, number[]>> {
  const logits: Record<string, number[]> = {};
  for (const name of ["js", "wasm"] as const) {
    using backend = await createBackend(name);
    const model = mobilenetV1({ alpha: 0.25, resolution: 32 });
    using compiled = await compileGraph(model.graph, backend);
    using input = backend.upload(
      new Float32Array(32 * 32 * 3).map((_, i) => Math.sin(i)),
      model.graph.inputShape,
    );
    logits[name] = [...await compiled.run(input).download()];
  }
  return logits;
}

async function output(command: string, args: string[], cwd: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, { args, cwd, stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, `${command} ${args.join(" ")}: ${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}

function hasNode(): boolean {
  try {
    return new Deno.Command("node", { args: ["--version"], stdout: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("the bundle is one module that runs MobileNet like the workspace: Deno without permissions, and Node", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await buildBundle(join(dir, "mobileops.js"));
    const bundle = await Deno.readTextFile(join(dir, "mobileops.js"));
    assert.doesNotMatch(bundle, /^\s*import\s[^(]*from\s/m, "no static import left");
    await Deno.writeTextFile(join(dir, "check.mjs"), SCRIPT);
    const expected = await workspaceLogits();
    const deno = JSON.parse(
      await output(Deno.execPath(), ["run", "--no-prompt", "check.mjs"], dir),
    );
    assert.deepEqual(deno, expected);
    if (hasNode()) {
      const node = JSON.parse(await output("node", ["check.mjs"], dir));
      // js is plain float32 arithmetic on any engine; wasm may differ by relaxed FMA (Node 20 lacks it).
      assert.deepEqual(node.js, expected.js);
      assert.equal(node.wasm.length, 1000);
      assert.ok(node.wasm.every((v: number, i: number) => Math.abs(v - expected.wasm[i]) < 1e-4));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
