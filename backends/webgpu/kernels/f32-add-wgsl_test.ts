import assert from "node:assert/strict";
import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { type Activation, add, inferGeometry, type Shape } from "@mobileops/core";
import type { Program, ProgramSpec, WebGpuContext } from "../kernel.ts";
import { createWebGpuBackend } from "../mod.ts";
import { webgpuUnavailable } from "../testing.ts";
import { f32AddWgsl } from "./f32-add-wgsl.ts";

const ignore = await webgpuUnavailable() !== undefined;
const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6", { min: -1, max: 0.5 }];
const CONTEXT = {
  limits: { maxComputeInvocationsPerWorkgroup: 256 },
  program: (spec: ProgramSpec) => Promise.resolve({ spec } as Program),
} as WebGpuContext;

Deno.test("f32-add-wgsl: vec4f units when the element count is a multiple of 4, else scalars", async () => {
  const kernel = await f32AddWgsl.prepare(add({ activation: "relu" }), undefined, CONTEXT);
  for (const [shape, key, units] of [[[2, 3, 4], "relu|vec4", 6], [[3, 5], "relu", 15]] as const) {
    const [step] = kernel.plan(inferGeometry(add(), [shape, shape]));
    assert.deepEqual([step.program.spec.key, step.units], [key, units]);
    assert.deepEqual(step.span(2, 1, 3), key === "relu" ? [1, 3] : [4, 12]);
  }
});

Deno.test({
  name: "f32-add-wgsl: element counts just around multiples of 4, every activation",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases: ConformanceCase[] = [];
    let seed = 1;
    const shapes: Shape[] = [
      ...Array.from({ length: 13 }, (_, i): Shape => [i + 1]),
      [1, 3, 5, 7], // 105: scalar
      [2, 4, 4, 8], // vec4
      [1, 28, 28, 240], // ShuffleNet's stage-2 sum: vec4
      [1, 28, 28, 239],
    ];
    for (const shape of shapes) {
      for (const activation of ACTIVATIONS) {
        cases.push(kernelCase({
          descriptor: add({ activation }),
          inputShapes: [shape, shape],
          seed: seed++,
          inputRange: [-4, 8],
        }));
      }
    }
    await assertCasesPass(backend, cases, { variant: "f32-add-wgsl" });
  },
});

Deno.test({
  name: "f32-add-wgsl: NaN and ±∞ in every lane position, vec4 and scalar paths",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases: ConformanceCase[] = [];
    let seed = 1;
    // Lane r of the first four vec4s: NaN in a, +∞ in b, −∞ in a, +∞ + −∞ (NaN) across a and b.
    for (const size of [16, 17, 15]) {
      for (let r = 0; r < 4; r++) {
        const lane = (k: number) => 4 * k + (r + k) % 4;
        for (const activation of ACTIVATIONS) {
          cases.push(kernelCase({
            descriptor: add({ activation }),
            inputShapes: [[size], [size]],
            seed: seed++,
            specials: [
              { input: 0, index: lane(0), value: NaN },
              { input: 1, index: lane(1), value: Infinity },
              { input: 0, index: lane(2), value: -Infinity },
              { input: 0, index: lane(3) % size, value: Infinity },
              { input: 1, index: lane(3) % size, value: -Infinity },
            ],
          }));
        }
      }
    }
    await assertCasesPass(backend, cases, { variant: "f32-add-wgsl" });
  },
});
