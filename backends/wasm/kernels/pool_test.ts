import assert from "node:assert/strict";
import {
  assertCasesPass,
  caseData,
  type ConformanceCase,
  kernelCase,
  reference,
  type SpecialValue,
  withinTolerance,
} from "@mobileops/conformance";
import {
  avgPool2d,
  type AvgPool2dDescriptor,
  inferGeometry,
  maxPool2d,
  type MaxPool2dDescriptor,
  type Padding,
  type Pair,
  type Shape,
  shapeSize,
} from "@mobileops/core";
import { createWasmBackend } from "../mod.ts";
import { generatePool, type PoolMode, poolNeedsPadRow } from "./pool.ts";
import { windowGeometry } from "./window.ts";

type PoolDescriptor = AvgPool2dDescriptor | MaxPool2dDescriptor;

/** The three pools of one window: max, average, average counting the padding. */
function pools(kernel: Pair, stride: number, padding: Padding): PoolDescriptor[] {
  return [
    maxPool2d({ kernel, stride, padding, ceilMode: true }),
    avgPool2d({ kernel, stride, padding, ceilMode: true }),
    avgPool2d({ kernel, stride, padding, ceilMode: true, countIncludePad: true }),
  ];
}

/** Whether ceil mode gives `shape` more output rows or columns than floor mode. */
function overhangs(descriptor: PoolDescriptor, shape: Shape): boolean {
  let ceil: Shape;
  try {
    ceil = inferGeometry(descriptor, [shape]).outputShape;
  } catch {
    return false;
  }
  const floor = inferGeometry({ ...descriptor, ceilMode: false }, [shape]).outputShape;
  return ceil[1] > floor[1] || ceil[2] > floor[2];
}

function takesLoops(descriptor: PoolDescriptor, shape: Shape): boolean {
  const geometry = inferGeometry(descriptor, [shape]);
  return !poolNeedsPadRow(
    windowGeometry(geometry, descriptor.kernel, descriptor.stride, [1, 1], shape[3]),
  );
}

const SPECIALS = [NaN, -Infinity, Infinity];

/**
 * For even seeds: a NaN / ±∞ at the last value (bottom-right, in the window
 * that hangs over) and one at a seeded place; none for odd seeds.
 */
function specialsFor(seed: number, size: number): SpecialValue[] | undefined {
  if (seed % 2 === 1) return undefined;
  return [size - 1, (seed * 7919) % size].map((index, i) => ({
    input: 0,
    index,
    value: SPECIALS[(seed / 2 + i) % 3],
  }));
}

/**
 * Ceil-mode cases over windows, strides 1–3 and paddings, keeping only the
 * sizes where a last row or column hangs past the padding.
 */
function ceilCases(windows: readonly Pair[], firstSeed: number): ConformanceCase[] {
  const paddings: Padding[] = ["valid", "same", [1, 0, 0, 1], [0, 1, 1, 0], [1, 1, 1, 1]];
  const cases: ConformanceCase[] = [];
  let seed = firstSeed;
  for (const kernel of windows) {
    for (const stride of [1, 2, 3]) {
      for (const padding of paddings) {
        if (typeof padding !== "string" && padding.some((side, i) => side >= kernel[i >> 1])) {
          continue;
        }
        for (let extra = 0; extra < 4; extra++) {
          for (const descriptor of pools(kernel, stride, padding)) {
            const channels = [1, 3, 4, 9][seed % 4];
            const shape: Shape = [
              1 + (seed % 2),
              kernel[0] + extra,
              kernel[1] + extra + 1,
              channels,
            ];
            if (!overhangs(descriptor, shape)) continue;
            cases.push(kernelCase({
              descriptor,
              inputShapes: [shape],
              seed,
              inputRange: [-2, 2],
              specials: specialsFor(seed, shapeSize(shape)),
            }));
            seed++;
          }
        }
      }
    }
  }
  return cases;
}

/** Runs max and average cases on `backend`, each proved to reach its variant. */
async function assertPoolsPass(
  backend: Awaited<ReturnType<typeof createWasmBackend>>,
  cases: readonly ConformanceCase[],
) {
  const max = cases.filter((c) => c.descriptor.op === "maxPool2d");
  const average = cases.filter((c) => c.descriptor.op === "avgPool2d");
  assert.ok(max.length > 0 && average.length > 0);
  await assertCasesPass(backend, max, { variant: "f32-maxpool-wasmsimd" });
  await assertCasesPass(backend, average, { variant: "f32-avgpool-wasmsimd" });
}

Deno.test("pools, ceil mode: around every border, strides 1–3, unrolled walker, 1 and 2 threads", async () => {
  const cases = ceilCases([[2, 2], [3, 3], [3, 2], [2, 4]], 0);
  assert.ok(cases.length > 150, `${cases.length} cases`);
  for (const c of cases) assert.ok(!takesLoops(c.descriptor as PoolDescriptor, c.inputShapes[0]));
  for (const threads of [1, 2]) {
    using backend = await createWasmBackend({ threads });
    await assertPoolsPass(backend, cases);
  }
});

Deno.test("pools, ceil mode: looped walker past 64 taps, 1 and 2 threads", async () => {
  const cases = ceilCases([[9, 9], [1, 70], [70, 2]], 5000);
  assert.ok(cases.length > 60, `${cases.length} cases`);
  for (const c of cases) assert.ok(takesLoops(c.descriptor as PoolDescriptor, c.inputShapes[0]));
  for (const threads of [1, 2]) {
    using backend = await createWasmBackend({ threads });
    await assertPoolsPass(backend, cases);
  }
});

Deno.test("pools, ceil mode: layers split over 2 threads, both walkers", async () => {
  const layers: [PoolDescriptor, Shape][] = [
    [maxPool2d({ kernel: 3, stride: 2, ceilMode: true }), [1, 112, 112, 24]],
    [
      avgPool2d({
        kernel: 3,
        stride: 2,
        padding: [1, 0, 1, 0],
        ceilMode: true,
        countIncludePad: true,
      }),
      [1, 57, 57, 64],
    ],
    [avgPool2d({ kernel: 9, stride: 3, ceilMode: true, countIncludePad: true }), [1, 100, 100, 64]],
    [maxPool2d({ kernel: 9, stride: 3, ceilMode: true }), [1, 100, 100, 64]],
  ];
  const cases = layers.map(([descriptor, shape], i) => {
    assert.ok(overhangs(descriptor, shape));
    return kernelCase({
      descriptor,
      inputShapes: [shape],
      seed: 40 + 2 * i,
      inputRange: [-2, 2],
      specials: specialsFor(40 + 2 * i, shapeSize(shape)),
    });
  });
  assert.deepEqual(cases.map((c) => takesLoops(c.descriptor as PoolDescriptor, c.inputShapes[0])), [
    false,
    false,
    true,
    true,
  ]);
  using backend = await createWasmBackend({ threads: 2 });
  await assertPoolsPass(backend, cases);
});

const MODES: Record<string, PoolMode> = {
  maxPool2d: "max",
  avgPool2d: "average",
  avgPool2dIncludingPad: "averageIncludingPad",
};

Deno.test("pools, ceil mode: no read outside the input or the pad row, no write past the output", () => {
  const memory = new WebAssembly.Memory({ initial: 16 });
  const heap = new Float32Array(memory.buffer);
  const input = 1024;
  const windows: [Pair, number, Padding, Shape][] = [
    [[3, 3], 2, "valid", [1, 6, 6, 5]],
    [[3, 3], 2, [1, 1, 1, 1], [2, 8, 6, 3]],
    [[2, 2], 3, [1, 0, 1, 0], [1, 6, 7, 4]],
    [[9, 9], 3, [4, 0, 0, 4], [1, 11, 12, 6]],
    [[1, 70], 2, "valid", [1, 2, 73, 1]],
  ];
  let checked = 0;
  for (const [kernel, stride, padding, shape] of windows) {
    for (const descriptor of pools(kernel, stride, padding)) {
      assert.ok(overhangs(descriptor, shape));
      const geometry = inferGeometry(descriptor, [shape]);
      const channels = shape[3];
      const g = windowGeometry(geometry, descriptor.kernel, descriptor.stride, [1, 1], channels);
      const mode = MODES[
        descriptor.op === "avgPool2d" && descriptor.countIncludePad
          ? "avgPool2dIncludingPad"
          : descriptor.op
      ];
      const size = shapeSize(shape);
      const outputSize = shapeSize(geometry.outputShape);
      const padRow = input + 4 * size + 1024;
      const output = padRow + 4 * g.width * channels + 1024;
      // NaN everywhere but the input and the pad row: a stray read shows as a NaN output.
      heap.fill(NaN);
      const { inputs } = caseData(kernelCase({ descriptor, inputShapes: [shape], seed: checked }));
      heap.set(inputs[0], input / 4);
      heap.fill(mode === "max" ? -Infinity : 0, padRow / 4, padRow / 4 + g.width * channels);
      const bytes = generatePool({
        geometry: g,
        padBottom: geometry.padding[1],
        padRight: geometry.padding[3],
        channels,
        mode,
        padRow,
        memory: { initialPages: 16, shared: false },
      });
      const run = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
        .exports.run as (a: number, b: number, out: number, start: number, end: number) => void;
      run(input, 0, output, 0, shape[0] * g.outHeight);
      const got = heap.slice(output / 4, output / 4 + outputSize + 64);
      const want = reference(descriptor, undefined, [{ shape, data: inputs[0] }]);
      const comparison = withinTolerance(got.subarray(0, outputSize), want);
      assert.ok(comparison.ok, `${mode} ${shape}: ${comparison.detail}`);
      assert.ok(got.subarray(outputSize).every(Number.isNaN), "a write past the output");
      checked++;
    }
  }
  assert.equal(checked, 15);
});
