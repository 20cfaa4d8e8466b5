import nodeAssert from "node:assert/strict";
import assert from "./node_assert.ts";

/** Whether a call throws (or rejects). */
async function fails(call: () => unknown): Promise<boolean> {
  try {
    await call();
    return false;
  } catch {
    return true;
  }
}

Deno.test("node_assert passes and fails where node:assert/strict does", async () => {
  const rejected = () => Promise.reject(new RangeError("no"));
  const calls: [string, (a: typeof nodeAssert | typeof assert) => unknown][] = [
    ["ok(1)", (a) => a.ok(1)],
    ["ok(0)", (a) => a.ok(0)],
    ["assert('')", (a) => a("")],
    ["equal(1, 1)", (a) => a.equal(1, 1)],
    ["equal(1, '1')", (a) => a.equal(1, "1")],
    ["equal(NaN, NaN)", (a) => a.equal(NaN, NaN)],
    ["deepEqual nested", (a) => a.deepEqual([0, { b: [1, 2] }], [0, { b: [1, 2] }])],
    ["deepEqual nested differs", (a) => a.deepEqual([0, { b: [1, 2] }], [0, { b: [1, 3] }])],
    ["deepEqual extra key", (a) => a.deepEqual({ a: 1 }, { a: 1, b: undefined })],
    ["deepEqual array vs object", (a) => a.deepEqual([], {})],
    ["fail", (a) => a.fail("x")],
    ["rejects class", (a) => a.rejects(rejected(), RangeError)],
    ["rejects wrong class", (a) => a.rejects(rejected(), TypeError)],
    ["rejects validator", (a) => a.rejects(rejected(), (e: unknown) => e instanceof RangeError)],
    ["rejects validator false", (a) => a.rejects(rejected(), () => false as true)],
    ["rejects resolved", (a) => a.rejects(Promise.resolve(1))],
  ];
  for (const [name, call] of calls) {
    nodeAssert.equal(await fails(() => call(assert)), await fails(() => call(nodeAssert)), name);
  }
});

Deno.test("node_assert's failures are AssertionErrors with the given message", () => {
  nodeAssert.throws(
    () => assert.equal(1, 2, "one is not two"),
    (e: unknown) => e instanceof assert.AssertionError && e.message === "one is not two",
  );
});
