import assert from "node:assert/strict";
import type { BackendCapabilities } from "@mobileops/core";
import { compareReports } from "./compare.ts";
import type { LogitsReport, LogitsResult } from "./logits.ts";

const cpu = { device: "cpu", simd: true, threads: 2, asynchronous: false } as const;

function report(
  runtime: string,
  relaxedSimd: boolean,
  results: readonly LogitsResult[],
): LogitsReport {
  const capabilities: Record<string, BackendCapabilities> = {
    js: { ...cpu, simd: false, relaxedSimd: false },
    wasm: { ...cpu, relaxedSimd },
  };
  return { runtime, capabilities, results };
}

const result = (backend: string, logits: number[], worstRatio = 0.5): LogitsResult => ({
  network: "onnx:net",
  backend,
  logits,
  worstRatio,
  worstLayer: "fc",
});

Deno.test("identical logits pass; one differing bit fails on js and on wasm with the same FMA", () => {
  const deno = report("deno", true, [result("js", [1, -2]), result("wasm", [3, 4])]);
  assert.deepEqual(compareReports(deno, report("node", true, deno.results)), {
    failures: [],
    exact: 2,
    withinTolerance: 0,
    largestDifference: 0,
  });
  const nudged = Math.fround(-2 + 2 ** -22);
  const node = report("node", true, [result("js", [1, nudged]), result("wasm", [3, 4.0000005])]);
  const { failures, exact } = compareReports(deno, node);
  assert.equal(exact, 0);
  assert.deepEqual(failures, [
    `node: onnx:net on js: logit 1 is ${nudged}, Deno's -2`,
    "node: onnx:net on wasm: logit 1 is 4.0000005, Deno's 4",
  ]);
});

Deno.test("wasm may differ where only one engine fuses multiply-adds, if its layers conform", () => {
  const deno = report("deno", true, [result("wasm", [3, 4])]);
  const fine = compareReports(deno, report("node", false, [result("wasm", [3.000001, 4])]));
  assert.deepEqual([fine.failures, fine.exact, fine.withinTolerance], [[], 0, 1]);
  assert.ok(Math.abs(fine.largestDifference - 0.000001) < 1e-12);
  const off = compareReports(deno, report("node", false, [result("wasm", [3.000001, 4], 1.5)]));
  assert.equal(off.failures.length, 1);
  assert.match(off.failures[0], /node: onnx:net on wasm: layer fc is 1.5 tolerances/);
});

Deno.test("a missing or extra result, or a different number of logits, fails", () => {
  const deno = report("deno", true, [result("js", [1, 2])]);
  assert.deepEqual(compareReports(deno, report("node", true, [])).failures, [
    "node: onnx:net on js is missing",
  ]);
  assert.deepEqual(
    compareReports(deno, report("node", true, [result("js", [1, 2]), result("wasm", [1])]))
      .failures,
    ["node: onnx:net on wasm is not in Deno's"],
  );
  assert.deepEqual(compareReports(deno, report("node", true, [result("js", [1])])).failures, [
    "node: onnx:net on js: 1 logits, Deno 2",
  ]);
});
