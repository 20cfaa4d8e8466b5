import assert from "node:assert/strict";
import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { inferGeometry, maxPool2d } from "@mobileops/core";
import type { Program, ProgramSpec, WebGpuContext } from "../kernel.ts";
import { createWebGpuBackend } from "../mod.ts";
import { webgpuUnavailable } from "../testing.ts";
import { poolCases } from "./pool_testing.ts";
import { f32MaxpoolWgsl } from "./f32-maxpool-wgsl.ts";

const ignore = await webgpuUnavailable() !== undefined;

Deno.test("f32-maxpool-wgsl: window as override constants; vec4f units when channels % 4 == 0", async () => {
  const specs: ProgramSpec[] = [];
  const context = {
    limits: { maxComputeInvocationsPerWorkgroup: 256 },
    program: (spec: ProgramSpec) => (specs.push(spec), Promise.resolve({ spec } as Program)),
  } as WebGpuContext;
  const d = maxPool2d({ kernel: [3, 2], stride: [2, 1] });
  const kernel = await f32MaxpoolWgsl.prepare(d, undefined, context);
  assert.deepEqual(specs.map((spec) => spec.constants), [
    { KH: 3, KW: 2 },
    { KH: 3, KW: 2 },
  ]);
  for (const [c, key] of [[8, "vec4"], [6, ""], [3, ""]] as const) {
    const [step] = kernel.plan(inferGeometry(d, [[1, 5, 5, c]]));
    assert.deepEqual([step.program.spec.key, step.units], [key, (2 * 4 * c) / (key ? 4 : 1)]);
  }
});

Deno.test({
  name: "f32-maxpool-wgsl: channels around multiples of 4, windows, strides, paddings, ceil mode",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases = poolCases((options) => maxPool2d(options));
    cases.push(kernelCase({
      descriptor: maxPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1] }),
      inputShapes: [[1, 112, 112, 24]], // MobileNet/ShuffleNet stem pool
      seed: cases.length + 1,
    }));
    await assertCasesPass(backend, cases, { variant: "f32-maxpool-wgsl" });
  },
});

Deno.test({
  name: "f32-maxpool-wgsl: NaN and ±∞ in every lane position stay in their channel",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases: ConformanceCase[] = [];
    let seed = 1;
    for (const c of [8, 7]) {
      const at = (y: number, x: number, channel: number) => (y * 5 + x) * c + channel;
      for (let lane = 0; lane < 4; lane++) {
        for (const ceilMode of [false, true]) {
          cases.push(kernelCase({
            descriptor: maxPool2d({ kernel: 2, stride: 2, ceilMode }),
            inputShapes: [[1, 5, 5, c]],
            seed: seed++,
            specials: [
              { input: 0, index: at(0, 0, lane), value: NaN },
              { input: 0, index: at(0, 1, 4 + lane % 3), value: Infinity },
              { input: 0, index: at(2, 2, lane), value: Infinity },
              { input: 0, index: at(3, 3, (lane + 1) % 4), value: NaN }, // with a +∞ beside it
              { input: 0, index: at(3, 2, (lane + 1) % 4), value: Infinity },
              // A ceil-mode window of the last row: −∞ is its maximum in one lane.
              ...[0, 1, 2, 3].map((x) => ({
                input: 0,
                index: at(4, x, 4 + lane % 3),
                value: -Infinity,
              })),
              { input: 0, index: at(4, 4, lane), value: -Infinity },
            ],
          }));
        }
      }
    }
    await assertCasesPass(backend, cases, { variant: "f32-maxpool-wgsl" });
  },
});
