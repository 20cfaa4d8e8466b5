import assert from "node:assert/strict";
import {
  assertCasesPass,
  caseData,
  type ConformanceCase,
  kernelCase,
  seededRandom,
  type SpecialValue,
} from "@mobileops/conformance";
import {
  avgPool2d,
  conv2d,
  type Conv2dDescriptor,
  depthwiseConv2d,
  inferGeometry,
  maxPool2d,
  type OpDescriptor,
  type Padding,
  type Shape,
  shapeSize,
} from "@mobileops/core";
import { createWasmBackend } from "../mod.ts";
import { convUnrolled } from "./f32-conv-wasmsimd.ts";
import { defaultDepthwiseUnroll, depthwiseUnrolled } from "./f32-dwconv-wasmsimd.ts";
import { poolNeedsPadRow } from "./pool.ts";
import { windowGeometry } from "./window.ts";

const SPECIAL_VALUES = [NaN, Infinity, -Infinity];

/** A few NaN / ±∞ at random positions of a `size`-value input, or none for odd seeds. */
function specialsFor(seed: number, size: number): SpecialValue[] | undefined {
  if (seed % 2 === 1) return undefined;
  const random = seededRandom(seed + 1000);
  return Array.from({ length: 1 + (seed % 3) }, (_, i) => ({
    input: 0,
    index: Math.floor(random() * size),
    value: SPECIAL_VALUES[(seed + i) % 3],
  }));
}

/** Whether the generator for this call takes the unrolled walker. */
function unrolled(descriptor: OpDescriptor, shape: Shape): boolean {
  const geometry = inferGeometry(descriptor, [shape]);
  if (descriptor.op === "conv2d") {
    const d: Conv2dDescriptor = descriptor;
    const g = windowGeometry(geometry, d.kernel, d.stride, d.dilation, d.outChannels);
    if (d.groups === d.inChannels && d.outChannels === d.inChannels && d.groups > 1) {
      return depthwiseUnrolled(g, defaultDepthwiseUnroll(g.outWidth));
    }
    return convUnrolled(g, {
      groups: d.groups,
      inPerGroup: d.inChannels / d.groups,
      outPerGroup: d.outChannels / d.groups,
      kernel: d.kernel,
    });
  }
  if (descriptor.op === "maxPool2d" || descriptor.op === "avgPool2d") {
    const channels = shape[3];
    return poolNeedsPadRow(
      windowGeometry(geometry, descriptor.kernel, descriptor.stride, [1, 1], channels),
    );
  }
  throw new RangeError(`not a window operator: ${descriptor.op}`);
}

/** `shape` with height and width grown until the window fits the padded input. */
function fitting(descriptor: OpDescriptor, [n, h, w, c]: Shape): Shape {
  for (;;) {
    try {
      inferGeometry(descriptor, [[n, h, w, c]]);
      return [n, h, w, c];
    } catch {
      [h, w] = [h + 1, w + 1];
    }
  }
}

function windowCase(descriptor: OpDescriptor, shape: Shape, seed: number): ConformanceCase {
  return kernelCase({
    descriptor,
    inputShapes: [shape],
    seed,
    inputRange: [-2, 2],
    specials: specialsFor(seed, shapeSize(shape)),
  });
}

Deno.test("looped walker: depthwise past 64 taps or 16 border columns, against the reference", async () => {
  const cases: ConformanceCase[] = [];
  let seed = 0;
  const forms: [number, Padding, number][] = [
    [9, "same", 1],
    [9, "valid", 1],
    [9, [2, 5, 7, 1], 1],
    [5, "same", 3],
    [3, [18, 1, 17, 20], 1],
    [3, [0, 17, 0, 17], 2],
  ];
  for (const [kernel, padding, dilation] of forms) {
    for (const stride of [1, 2]) {
      for (const width of [1, 2, 5, 11]) {
        for (const channels of [2, 4, 6, 9]) {
          const descriptor = depthwiseConv2d({
            channels,
            kernel,
            stride,
            dilation,
            padding,
            bias: seed % 2 === 0,
            activation: (["none", "relu", "relu6"] as const)[seed % 3],
          });
          const shape = fitting(descriptor, [1 + (seed % 2), 3, width, channels]);
          if (unrolled(descriptor, shape)) continue;
          cases.push(windowCase(descriptor, shape, seed++));
        }
      }
    }
  }
  assert.ok(cases.length > 120, `${cases.length} cases`);
  for (const relaxedSimd of [true, false]) {
    using backend = await createWasmBackend({ threads: 1, relaxedSimd });
    await assertCasesPass(backend, cases, { variant: "f32-dwconv-wasmsimd" });
  }
});

Deno.test("looped and unrolled walkers: dense and grouped convolutions with several blocks per group", async () => {
  const layers: [Omit<Parameters<typeof conv2d>[0], "padding">, Padding][] = [
    [{ inChannels: 3, outChannels: 5, kernel: 9 }, "same"],
    [{ inChannels: 9, outChannels: 40, kernel: 9 }, [3, 0, 4, 8]],
    [{ inChannels: 2, outChannels: 72, kernel: 3, dilation: 2 }, [20, 20, 20, 20]],
    [{ inChannels: 6, outChannels: 80, kernel: 3, groups: 2 }, [1, 1, 1, 1]],
    [{ inChannels: 6, outChannels: 80, kernel: 3, groups: 2 }, [17, 0, 9, 9]],
    [{ inChannels: 4, outChannels: 128, kernel: 3, groups: 2 }, "same"],
    [{ inChannels: 20, outChannels: 66, kernel: [1, 70], groups: 2 }, "same"],
    [{ inChannels: 3, outChannels: 8, kernel: 1, stride: 3 }, [30, 30, 30, 30]],
  ];
  const cases: ConformanceCase[] = [];
  let seed = 500;
  let looped = 0;
  for (const [options, padding] of layers) {
    for (const width of [1, 4, 9]) {
      const descriptor = conv2d({ ...options, padding, bias: seed % 3 !== 0, activation: "relu6" });
      const shape = fitting(descriptor, [1, 5, width, options.inChannels]);
      if (!unrolled(descriptor, shape)) looped++;
      cases.push(windowCase(descriptor, shape, seed++));
    }
  }
  assert.ok(looped >= 12 && looped < cases.length, `${looped} of ${cases.length} looped`);
  for (const relaxedSimd of [true, false]) {
    using backend = await createWasmBackend({ threads: 1, relaxedSimd });
    await assertCasesPass(backend, cases, { variant: "f32-conv-wasmsimd" });
  }
});

Deno.test("looped walker: max and average pools past 64 taps, NaN-sticky max", async () => {
  using backend = await createWasmBackend({ threads: 1 });
  const cases: ConformanceCase[] = [];
  let seed = 900;
  const windows: [number | readonly [number, number], Padding][] = [
    [9, "same"],
    [9, [4, 8, 0, 3]],
    [[1, 70], "same"],
    [[70, 2], [69, 0, 1, 1]],
  ];
  for (const [kernel, padding] of windows) {
    for (const stride of [1, 2, 3]) {
      for (const channels of [1, 4, 7]) {
        const pools = [
          maxPool2d({ kernel, stride, padding }),
          avgPool2d({ kernel, stride, padding }),
          avgPool2d({ kernel, stride, padding, countIncludePad: true }),
        ];
        for (const descriptor of pools) {
          const shape = fitting(descriptor, [1, 6, 5 + (seed % 4), channels]);
          assert.ok(!unrolled(descriptor, shape));
          cases.push(windowCase(descriptor, shape, seed++));
        }
      }
    }
  }
  const maxCases = cases.filter((c) => c.descriptor.op === "maxPool2d");
  const avgCases = cases.filter((c) => c.descriptor.op === "avgPool2d");
  await assertCasesPass(backend, maxCases, { variant: "f32-maxpool-wasmsimd" });
  await assertCasesPass(backend, avgCases, { variant: "f32-avgpool-wasmsimd" });
});

Deno.test("looped walker: results are bit-identical on 1 and 2 threads", async () => {
  const layers: [OpDescriptor, Shape][] = [
    [depthwiseConv2d({ channels: 20, kernel: 9, padding: "same", bias: true }), [1, 40, 40, 20]],
    [conv2d({ inChannels: 4, outChannels: 36, kernel: 9, padding: "same" }), [1, 24, 24, 4]],
    [maxPool2d({ kernel: 9, padding: "same" }), [1, 40, 40, 12]],
  ];
  for (const relaxedSimd of [true, false]) {
    using single = await createWasmBackend({ threads: 1, relaxedSimd });
    using double = await createWasmBackend({ threads: 2, relaxedSimd });
    for (const [descriptor, shape] of layers) {
      assert.ok(!unrolled(descriptor, shape));
      const testCase = windowCase(descriptor, shape, 2);
      const { weights, inputs } = caseData(testCase);
      const results: Float32Array[] = [];
      for (const backend of [single, double]) {
        using kernel = await backend.prepare(descriptor, weights as never);
        using input = backend.upload(inputs[0], shape);
        results.push(await backend.run(kernel, [input]).download());
      }
      assert.deepEqual(results[1], results[0], descriptor.op);
    }
  }
});
