import assert from "node:assert/strict";
import { type Conv2dDescriptor, OP_NAMES, type OpDescriptor } from "@mobileops/core";
import { CASE_TABLES, caseData, type ConformanceCase, OP_CASE_TABLES } from "./cases.ts";
import { reference } from "./reference.ts";

const ALL = CASE_TABLES.flatMap((table) => table.cases);

function convs(table?: string): Conv2dDescriptor[] {
  return CASE_TABLES.filter((t) => table === undefined || t.name === table)
    .flatMap((t) => t.cases.map((c) => c.descriptor))
    .filter((d): d is Conv2dDescriptor => d.op === "conv2d");
}

function covers<T>(seen: Iterable<T>, wanted: readonly T[], what: string) {
  const set = new Set(seen);
  for (const value of wanted) assert.ok(set.has(value), `no case with ${what} ${value}`);
}

function paddingForm(d: { padding: Conv2dDescriptor["padding"] }): string {
  if (typeof d.padding === "string") return d.padding;
  const [t, b, l, r] = d.padding;
  return t === b && l === r ? "symmetric" : "asymmetric";
}

Deno.test("every operator has its own non-empty case tables, holding only its cases", () => {
  for (const op of OP_NAMES) {
    const cases = OP_CASE_TABLES[op].flatMap((table) => table.cases);
    assert.ok(cases.length > 0, `no cases for ${op}`);
    assert.deepEqual(
      cases.filter((c) => c.descriptor.op !== op).map((c) => c.name),
      [],
      `${op}'s tables hold other operators' cases`,
    );
  }
});

Deno.test("case tables: over 1000 cases, unique names", () => {
  assert.ok(ALL.length >= 1000, `${ALL.length} cases`);
  assert.equal(new Set(ALL.map((c) => c.name)).size, ALL.length);
  const ops = new Set(ALL.map((c) => c.descriptor.op));
  covers(ops, [
    "conv2d",
    "avgPool2d",
    "maxPool2d",
    "channelShuffle",
    "add",
    "concat",
    "globalAvgPool",
    "fullyConnected",
    "softmax",
  ] as OpDescriptor["op"][], "op");
});

Deno.test("case tables: convolutions sweep every listed parameter", () => {
  const all = convs();
  covers(all.map((d) => d.kernel[0]), [1, 3, 5, 7], "kernel");
  covers(all.map((d) => d.stride[0]), [1, 2], "stride");
  covers(all.map((d) => d.dilation[0]), [1, 2], "dilation");
  covers(all.map(paddingForm), ["valid", "same", "symmetric", "asymmetric"], "padding");
  covers(all.map((d) => d.activation), ["none", "relu", "relu6"], "activation");
  covers(all.map((d) => d.bias), [true, false], "bias");
  covers(all.map((d) => d.inChannels), [1, 2, 3, 4, 5, 7, 8, 16, 17, 33, 64], "inChannels");
  covers(all.map((d) => d.groups), [2, 3, 4, 8], "groups");
  const depthwise = convs("depthwise conv2d");
  covers(depthwise.map((d) => d.outChannels / d.inChannels), [1, 2], "multiplier");
  covers(depthwise.map((d) => d.inChannels), [1, 2, 3, 4, 5, 7, 8, 16, 17, 33, 64], "channels");
  const nonSquare = convs("non-square conv2d");
  assert.ok(nonSquare.some((d) => d.kernel[0] !== d.kernel[1]));
  assert.ok(nonSquare.some((d) => d.stride[0] !== d.stride[1]));
  assert.ok(nonSquare.some((d) => d.dilation[0] !== d.dilation[1]));
});

Deno.test("case tables: shapes include 1×1, non-square, batch 1 and 3", () => {
  const spatial = ALL.filter((c) => c.inputShapes[0].length === 4).map((c) =>
    c.inputShapes[0].slice(1, 3).join("x")
  );
  covers(spatial, ["1x1", "7x9", "9x7"], "spatial size");
  covers(ALL.map((c) => c.inputShapes[0][0]), [1, 3], "batch");
});

Deno.test("case tables: pools sweep kernel, stride, padding and countIncludePad", () => {
  for (const op of ["avgPool2d", "maxPool2d"]) {
    const pools = ALL.map((c) => c.descriptor).filter((d) => d.op === op) as (OpDescriptor & {
      kernel: readonly number[];
      stride: readonly number[];
      padding: Conv2dDescriptor["padding"];
    })[];
    covers(pools.map((d) => d.kernel[0]), [1, 2, 3, 5, 7], `${op} kernel`);
    covers(pools.map((d) => d.stride[0]), [1, 2], `${op} stride`);
    covers(pools.map(paddingForm), ["valid", "same", "symmetric", "asymmetric"], `${op} padding`);
  }
  const avg = ALL.map((c) => c.descriptor).filter((d) => d.op === "avgPool2d");
  covers(
    avg.map((d) => d.op === "avgPool2d" && d.countIncludePad),
    [true, false],
    "countIncludePad",
  );
});

Deno.test("case tables: relu6 cases clamp at 6 and relu cases at 0", () => {
  const outputsOf = (activation: string) =>
    ALL.filter((c: ConformanceCase) =>
      "activation" in c.descriptor && c.descriptor.activation === activation
    ).slice(0, 60).flatMap((c) => {
      const data = caseData(c);
      return Array.from(
        reference(
          c.descriptor,
          data.weights,
          c.inputShapes.map((shape, i) => ({ shape, data: data.inputs[i] })),
        ).values,
      );
    });
  const relu6 = outputsOf("relu6");
  assert.ok(relu6.filter((v) => v === 6).length > relu6.length / 20, "relu6 rarely clamps");
  const relu = outputsOf("relu");
  assert.ok(relu.filter((v) => v === 0).length > relu.length / 5, "relu rarely clamps");
});

Deno.test("caseData: deterministic, float32, in the case's input range", () => {
  const testCase = CASE_TABLES.find((t) => t.name === "maxPool2d")!.cases.find((c) =>
    c.inputRange[1] < 0
  )!;
  const a = caseData(testCase);
  const b = caseData(testCase);
  assert.deepEqual(a.inputs, b.inputs);
  const [low, high] = testCase.inputRange;
  assert.ok(a.inputs[0].every((v) => v >= low && v <= high));
});
