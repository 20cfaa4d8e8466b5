import assert from "node:assert/strict";
import {
  add,
  depthwiseConv2d,
  foldBatchNorm,
  fullyConnected,
  pointwiseConv2d,
  validateWeights,
  WeightsError,
} from "./mod.ts";

Deno.test("validateWeights checks filter, bias and weightless ops", () => {
  const dw = depthwiseConv2d({ channels: 3, multiplier: 2, kernel: 3, bias: true });
  validateWeights(dw, { filter: new Float32Array(54), bias: new Float32Array(6) });
  const cases: [() => unknown, string][] = [
    [
      () => validateWeights(dw, { filter: new Float32Array(27), bias: new Float32Array(6) }),
      "weights.filter",
    ],
    [() => validateWeights(dw, { filter: new Float32Array(54) }), "weights.bias = undefined"],
    [
      () => validateWeights(dw, { filter: new Float32Array(54), bias: new Float32Array(3) }),
      "weights.bias",
    ],
    [
      () =>
        validateWeights(pointwiseConv2d({ inChannels: 2, outChannels: 2 }), {
          filter: new Float32Array(4),
          bias: new Float32Array(2),
        }),
      "weights.bias",
    ],
    [
      () =>
        validateWeights(pointwiseConv2d({ inChannels: 1, outChannels: 2 }), {
          filter: new Float32Array([1, NaN]),
        }),
      "weights.filter[1] = NaN",
    ],
    [
      () =>
        validateWeights(fullyConnected({ inFeatures: 4, outFeatures: 2 }), {
          weights: new Float32Array(7),
        }),
      "weights.weights",
    ],
    // @ts-expect-error: checking the runtime guard
    [() => validateWeights(add(), { filter: new Float32Array(1) }), "weights"],
  ];
  for (const [check, prefix] of cases) {
    assert.throws(check, (e: unknown) => {
      assert.ok(e instanceof WeightsError, `${prefix}: got ${e}`);
      assert.ok(e.message.startsWith(prefix), `"${e.message}" should start with "${prefix}"`);
      return true;
    });
  }
});

Deno.test("foldBatchNorm scales each output channel's filter block and shifts the bias", () => {
  // two output channels, two weights each
  const folded = foldBatchNorm(
    { filter: new Float32Array([1, 2, 3, 4]), bias: new Float32Array([0.5, -1]) },
    {
      gamma: new Float32Array([2, 1]),
      beta: new Float32Array([0.25, 3]),
      mean: new Float32Array([1, 2]),
      variance: new Float32Array([3, 0]),
      epsilon: 1,
    },
  );
  // scale = [2/2, 1/1]; bias = [(0.5 − 1)·1 + 0.25, (−1 − 2)·1 + 3]
  assert.deepEqual([...folded.filter], [1, 2, 3, 4]);
  assert.deepEqual([...folded.bias], [-0.25, 0]);
  const x = new Float32Array([0.3, -0.7]);
  const bn = {
    gamma: new Float32Array([1.5]),
    beta: new Float32Array([0.1]),
    mean: new Float32Array([0.2]),
    variance: new Float32Array([0.8]),
    epsilon: 1e-3,
  };
  const w = new Float32Array([0.9, 0.4]);
  const f = foldBatchNorm({ filter: w }, bn);
  const conv = x[0] * w[0] + x[1] * w[1];
  const expected = (conv - 0.2) / Math.sqrt(0.8 + 1e-3) * 1.5 + 0.1;
  assert.ok(Math.abs(x[0] * f.filter[0] + x[1] * f.filter[1] + f.bias[0] - expected) < 1e-6);
  assert.throws(
    () => foldBatchNorm({ filter: w }, { ...bn, variance: new Float32Array([-1]), epsilon: 0 }),
    WeightsError,
  );
  assert.throws(
    () =>
      foldBatchNorm({ filter: new Float32Array(3) }, {
        ...bn,
        gamma: new Float32Array(2),
        beta: new Float32Array(2),
        mean: new Float32Array(2),
        variance: new Float32Array(2),
      }),
    WeightsError,
  );
});
