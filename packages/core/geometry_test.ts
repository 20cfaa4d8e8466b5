import assert from "node:assert/strict";
import {
  add,
  avgPool2d,
  concat,
  conv2d,
  depthwiseConv2d,
  fullyConnected,
  globalAvgPool,
  inferGeometry,
  maxPool2d,
  resolvePadding,
  ShapeError,
  softmax,
} from "./mod.ts";

Deno.test('"same" padding matches TensorFlow: extra row and column go bottom/right', () => {
  assert.deepEqual(resolvePadding("same", [224, 224], [3, 3], [2, 2], [1, 1]), [0, 1, 0, 1]);
  assert.deepEqual(resolvePadding("same", [7, 9], [3, 3], [1, 1], [1, 1]), [1, 1, 1, 1]);
  assert.deepEqual(resolvePadding("same", [7, 9], [4, 4], [1, 1], [1, 1]), [1, 2, 1, 2]);
  assert.deepEqual(resolvePadding("same", [5, 5], [3, 3], [1, 1], [2, 2]), [2, 2, 2, 2]);
  assert.deepEqual(resolvePadding("same", [1, 1], [1, 1], [2, 2], [1, 1]), [0, 0, 0, 0]);
  assert.deepEqual(resolvePadding("valid", [5, 5], [3, 3], [1, 1], [1, 1]), [0, 0, 0, 0]);
});

Deno.test("output size is floor((in + pads − dilated kernel) / stride) + 1", () => {
  const g = inferGeometry(
    conv2d({
      inChannels: 3,
      outChannels: 5,
      kernel: [3, 5],
      stride: [2, 3],
      padding: [1, 0, 2, 1],
      dilation: [1, 2],
    }),
    [[2, 7, 9, 3]],
  );
  // height: (7 + 1 + 0 − 3) / 2 + 1 = 3; width: (9 + 2 + 1 − 9) / 3 + 1 = 2
  assert.deepEqual(g.outputShape, [2, 3, 2, 5]);
  assert.deepEqual(g.padding, [1, 0, 2, 1]);
  const same = inferGeometry(
    depthwiseConv2d({ channels: 4, kernel: 3, stride: 2, padding: "same" }),
    [[1, 7, 9, 4]],
  );
  assert.deepEqual(same.outputShape, [1, 4, 5, 4]);
});

Deno.test("glue operators infer their output shapes", () => {
  assert.deepEqual(inferGeometry(concat(), [[1, 4, 4, 3], [1, 4, 4, 5]]).outputShape, [1, 4, 4, 8]);
  assert.deepEqual(inferGeometry(globalAvgPool(), [[3, 7, 7, 16]]).outputShape, [3, 1, 1, 16]);
  assert.deepEqual(
    inferGeometry(fullyConnected({ inFeatures: 16, outFeatures: 10 }), [[3, 1, 1, 16]]).outputShape,
    [3, 10],
  );
  assert.deepEqual(inferGeometry(softmax(), [[3, 10]]).outputShape, [3, 10]);
  assert.deepEqual(
    inferGeometry(maxPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1] }), [[1, 112, 112, 24]])
      .outputShape,
    [1, 56, 56, 24],
  );
});

Deno.test("bad input shapes raise ShapeError naming the field", () => {
  const conv = conv2d({ inChannels: 4, outChannels: 4, kernel: 5 });
  const cases: [() => unknown, string][] = [
    [() => inferGeometry(conv, [[1, 8, 8]]), "inputs[0].shape = [1, 8, 8]"],
    [() => inferGeometry(conv, [[1, 8, 8, 3]]), "inputs[0].shape[3] = 3"],
    [() => inferGeometry(conv, [[1, 0, 8, 4]]), "inputs[0].shape[1] = 0"],
    [() => inferGeometry(conv, [[1, 4, 8, 4]]), "inputs[0].shape[1] = 4"],
    [() => inferGeometry(conv, [[1, 8, 3, 4]]), "inputs[0].shape[2] = 3"],
    [() => inferGeometry(conv, []), "inputs.length = 0"],
    [() => inferGeometry(add(), [[1, 2, 2, 3], [1, 2, 2, 4]]), "inputs[1].shape = [1, 2, 2, 4]"],
    [() => inferGeometry(concat(), [[1, 2, 2, 3], [1, 2, 3, 4]]), "inputs[1].shape[2] = 3"],
    [
      () => inferGeometry(fullyConnected({ inFeatures: 8, outFeatures: 2 }), [[1, 1, 1, 7]]),
      "inputs[0].shape = [1, 1, 1, 7]",
    ],
  ];
  for (const [infer, prefix] of cases) {
    assert.throws(infer, (e: unknown) => {
      assert.ok(e instanceof ShapeError, `${prefix}: got ${e}`);
      assert.ok(e.message.startsWith(prefix), `"${e.message}" should start with "${prefix}"`);
      return true;
    });
  }
});

Deno.test("ceil mode rounds the pool output up, but no window starts in the trailing padding", () => {
  const out = (options: Parameters<typeof maxPool2d>[0], size: number) =>
    inferGeometry(maxPool2d(options), [[1, size, size, 1]]).outputShape[1];
  // 6 wide, 3×3 stride 2: floor gives 2 windows (0, 2), ceil 3 (the last at 4, hanging by 1).
  assert.equal(out({ kernel: 3, stride: 2 }, 6), 2);
  assert.equal(out({ kernel: 3, stride: 2, ceilMode: true }, 6), 3);
  // Exact fit: ceil equals floor.
  assert.equal(out({ kernel: 3, stride: 2, ceilMode: true }, 7), 3);
  // PyTorch's rule: 5 wide, padding 1 each side, kernel 2 stride 2 → ceil(5/2)+1 = 4, but the
  // 4th window would start at 6 − 1 = 5 = in + leading pad: dropped, 3.
  assert.equal(out({ kernel: 2, stride: 2, padding: [1, 1, 1, 1], ceilMode: true }, 5), 3);
  assert.equal(out({ kernel: 2, stride: 2, padding: [1, 1, 1, 1] }, 5), 3);
  // ONNX test_maxpool_2d_ceil: 4×4, kernel 3, stride 2 → 2×2.
  assert.equal(out({ kernel: 3, stride: 2, ceilMode: true }, 4), 2);
  assert.equal(
    inferGeometry(avgPool2d({ kernel: [1, 4], stride: 3, ceilMode: true }), [[1, 1, 5, 1]])
      .outputShape[2],
    2,
  );
});
