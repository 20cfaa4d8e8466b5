import assert from "node:assert/strict";
import { convKind, inferGeometry } from "@mobileops/core";
import { BENCH_OPS } from "./shapes.ts";

Deno.test("every bench op has a valid geometry and a unique name", () => {
  for (const op of BENCH_OPS) {
    const { outputShape } = inferGeometry(op.descriptor, op.inputShapes);
    assert.equal(outputShape[0], 1, op.name);
  }
  assert.equal(new Set(BENCH_OPS.map((op) => op.name)).size, BENCH_OPS.length);
});

Deno.test("the bench table holds the benchmarked operator shapes", () => {
  const summary = BENCH_OPS.map((op) => {
    const d = op.descriptor;
    const input = op.inputShapes[0].join("x");
    if (d.op === "channelShuffle") return `shuffle g${d.groups} ${input}`;
    assert.equal(d.op, "conv2d");
    const kind = convKind(d);
    return `${kind} ${d.kernel.join("x")} s${d.stride[0]} g${d.groups} ${input}->${d.outChannels}`;
  });
  assert.deepEqual(summary, [
    "depthwise 3x3 s1 g64 1x112x112x64->64",
    "depthwise 3x3 s1 g128 1x56x56x128->128",
    "depthwise 3x3 s1 g512 1x14x14x512->512",
    "depthwise 3x3 s2 g64 1x112x112x64->64",
    "pointwise 1x1 s1 g1 1x56x56x128->128",
    "pointwise 1x1 s1 g1 1x28x28x256->256",
    "pointwise 1x1 s1 g1 1x14x14x512->512",
    "pointwise 1x1 s1 g1 1x7x7x1024->1024",
    "group 1x1 s1 g3 1x28x28x240->240",
    "group 1x1 s1 g8 1x28x28x384->384",
    "shuffle g3 1x28x28x240",
  ]);
});
