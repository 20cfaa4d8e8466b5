import assert from "node:assert/strict";
import {
  conv2d,
  depthwiseConv2d,
  fullyConnected,
  maxPool2d,
  opCost,
  pointwiseConv2d,
} from "./mod.ts";

// Worked examples on a 64×64 input, "same" padding, no bias.
Deno.test("standard vs depthwise-separable cost on 64×64×3 → 4", () => {
  const input = [[1, 64, 64, 3]];
  const standard = opCost(
    conv2d({ inChannels: 3, outChannels: 4, kernel: 3, padding: "same" }),
    input,
  );
  assert.equal(standard.multiplyAdds, 442_368);
  assert.equal(standard.parameters, 108);
  const dw = opCost(depthwiseConv2d({ channels: 3, kernel: 3, padding: "same" }), input);
  const pw = opCost(pointwiseConv2d({ inChannels: 3, outChannels: 4 }), [dw.outputShape]);
  assert.deepEqual([dw.multiplyAdds, dw.parameters], [110_592, 27]);
  assert.deepEqual([pw.multiplyAdds, pw.parameters], [49_152, 12]);
  assert.equal(dw.multiplyAdds + pw.multiplyAdds, 159_744);
});

Deno.test("grouping a 1×1 conv divides its cost by the group count", () => {
  const input = [[1, 64, 64, 4]];
  const dense = opCost(pointwiseConv2d({ inChannels: 4, outChannels: 2 }), input);
  const grouped = opCost(pointwiseConv2d({ inChannels: 4, outChannels: 2, groups: 2 }), input);
  assert.deepEqual([dense.multiplyAdds, dense.parameters], [32_768, 8]);
  assert.deepEqual([grouped.multiplyAdds, grouped.parameters], [16_384, 4]);
});

Deno.test("bias, fully connected and bytes moved", () => {
  const fc = opCost(fullyConnected({ inFeatures: 1024, outFeatures: 1000, bias: true }), [[
    1,
    1,
    1,
    1024,
  ]]);
  assert.equal(fc.multiplyAdds, 1_024_000);
  assert.equal(fc.parameters, 1_025_000);
  assert.equal(fc.bytesMoved, 4 * (1024 + 1000 + 1_025_000));
  const pool = opCost(maxPool2d({ kernel: 2 }), [[1, 4, 4, 3]]);
  assert.deepEqual([pool.multiplyAdds, pool.parameters, pool.bytesMoved], [0, 0, 4 * (48 + 12)]);
});
