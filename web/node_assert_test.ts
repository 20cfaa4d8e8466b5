// web/node_assert.ts as the browser gets it: bundled by web/build.ts and loaded in a Deno whose
// `process` global is removed (a browser has none), against Deno's own node:assert/strict.
import nodeAssert from "node:assert/strict";
import { bundle } from "./build.ts";

type Assert = typeof nodeAssert;

/**
 * Each call the conformance package makes (and a few it may), with what it did: `pass`, or the
 * thrown error's class name and message. Exported for the process-less Deno below.
 */
export async function outcomes(assert: Assert): Promise<[string, string][]> {
  const rejected = () => Promise.reject(new RangeError("no"));
  const calls: [string, () => unknown][] = [
    ["assert(1)", () => assert(1)],
    ["assert('')", () => assert("")],
    ["ok(0, message)", () => assert.ok(0, "zero")],
    ["equal(1, 1)", () => assert.equal(1, 1)],
    ["equal(1, '1')", () => assert.equal(1, "1")],
    ["equal(1, 2, message)", () => assert.equal(1, 2, "one is not two")],
    ["equal(NaN, NaN)", () => assert.equal(NaN, NaN)],
    ["equal(0, -0)", () => assert.equal(0, -0)],
    ["deepEqual nested", () => assert.deepEqual([0, { b: [1, 2] }], [0, { b: [1, 2] }])],
    ["deepEqual nested differs", () => assert.deepEqual([0, { b: [1, 2] }], [0, { b: [1, 3] }])],
    ["deepEqual extra key", () => assert.deepEqual({ a: 1 }, { a: 1, b: undefined })],
    ["deepEqual array vs object", () => assert.deepEqual([], {})],
    [
      "deepEqual Float32Array",
      () => assert.deepEqual(new Float32Array([1]), new Float32Array([1])),
    ],
    ["deepEqual Float32Array differs", () => assert.deepEqual(new Float32Array([1]), [1])],
    ["match", () => assert.match("models[0].std", /std/)],
    ["match fails", () => assert.match("models[0].std", /mean/)],
    ["throws", () => assert.throws(() => JSON.parse("{"), SyntaxError)],
    ["fail", () => assert.fail("x")],
    ["rejects class", () => assert.rejects(rejected(), RangeError)],
    ["rejects wrong class", () => assert.rejects(rejected(), TypeError)],
    [
      "rejects validator",
      () => assert.rejects(rejected(), (e: unknown) => e instanceof RangeError),
    ],
    // bad_input.ts's way: the validator asserts, and its AssertionError is what rejects throws.
    [
      "rejects validator asserting, message",
      () => assert.rejects(rejected(), () => assert.fail("wrong error")),
    ],
    ["rejects regexp", () => assert.rejects(rejected(), /no/)],
    ["rejects resolved", () => assert.rejects(Promise.resolve(1))],
  ];
  const results: [string, string][] = [
    ["shape", `${typeof assert} strict=${assert.strict === assert}`],
  ];
  for (const [name, call] of calls) {
    try {
      await call();
      results.push([name, "pass"]);
    } catch (error) {
      const { name: kind, message } = error as Error;
      // Node words its own messages differently from release to release, and since Node 20
      // appends the diff to ours: ours, the first line, is what must be the same.
      results.push([name, /message|fail/.test(name) ? `${kind}: ${message.split("\n")[0]}` : kind]);
    }
  }
  return results;
}

Deno.test("node_assert's bundle passes and fails where node:assert/strict does, with no process global", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const output = `${dir}/node_assert.js`;
    await bundle(new URL("node_assert.ts", import.meta.url).pathname, output);
    const script = `delete globalThis.process;
      const { default: assert } = await import(${JSON.stringify(`file://${output}`)});
      const { outcomes } = await import(${JSON.stringify(import.meta.url)});
      console.log(JSON.stringify(await outcomes(assert)));`;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const errors = new TextDecoder().decode(stderr);
    nodeAssert.equal(code, 0, errors);
    const bundled: [string, string][] = JSON.parse(new TextDecoder().decode(stdout));
    const node = await outcomes(nodeAssert);
    // The one known difference: given an error class the rejection is not an instance of,
    // npm:assert@2.1.0 rethrows the rejection, as Node 10 did; Node now throws an AssertionError.
    // Either way the check fails (the conformance package passes a validator function instead).
    const wrongClass = (list: [string, string][]) =>
      list.find(([name]) => name === "rejects wrong class")![1];
    nodeAssert.deepEqual([wrongClass(bundled), wrongClass(node)], ["RangeError", "AssertionError"]);
    const others = (list: [string, string][]) =>
      list.filter(([name]) => name !== "rejects wrong class");
    nodeAssert.deepEqual(others(bundled), others(node));
    nodeAssert(bundled.some(([, outcome]: string[]) => outcome.startsWith("AssertionError")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
