import assert from "node:assert/strict";
import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { avgPool2d, inferGeometry } from "@mobileops/core";
import type { Program, ProgramSpec, WebGpuContext } from "../kernel.ts";
import { createWebGpuBackend } from "../mod.ts";
import { webgpuUnavailable } from "../testing.ts";
import { poolCases } from "./pool_testing.ts";
import { f32AvgpoolWgsl } from "./f32-avgpool-wgsl.ts";

const ignore = await webgpuUnavailable() !== undefined;

Deno.test("f32-avgpool-wgsl: window as override constants; vec4f units when channels % 4 == 0", async () => {
  const specs: ProgramSpec[] = [];
  const context = {
    limits: { maxComputeInvocationsPerWorkgroup: 256 },
    program: (spec: ProgramSpec) => (specs.push(spec), Promise.resolve({ spec } as Program)),
  } as WebGpuContext;
  const d = avgPool2d({ kernel: 3, stride: 2, padding: "same" });
  const kernel = await f32AvgpoolWgsl.prepare(d, undefined, context);
  assert.deepEqual(specs[1].constants, { KH: 3, KW: 3 });
  assert.deepEqual(specs[1].vec4, ["x", "y"]);
  for (const [c, key] of [[240, "vec4"], [239, ""]] as const) {
    const [step] = kernel.plan(inferGeometry(d, [[1, 56, 56, c]]));
    assert.deepEqual([step.program.spec.key, step.units], [key, (28 * 28 * c) / (key ? 4 : 1)]);
  }
});

Deno.test({
  name: "f32-avgpool-wgsl: channels around multiples of 4, divisors, paddings, ceil mode",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases = poolCases((options, seed) =>
      avgPool2d({ ...options, countIncludePad: seed % 4 < 2 })
    );
    cases.push(kernelCase({
      descriptor: avgPool2d({ kernel: 3, stride: 2, padding: [1, 1, 1, 1] }),
      inputShapes: [[1, 56, 56, 240]], // ShuffleNet's shortcut pool
      seed: cases.length + 1,
    }));
    await assertCasesPass(backend, cases, { variant: "f32-avgpool-wgsl" });
  },
});

Deno.test({
  name: "f32-avgpool-wgsl: NaN and ±∞ in every lane position stay in their channel",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases: ConformanceCase[] = [];
    let seed = 1;
    for (const c of [8, 9]) {
      const at = (y: number, x: number, channel: number) => (y * 5 + x) * c + channel;
      for (let lane = 0; lane < 4; lane++) {
        for (const ceilMode of [false, true]) {
          cases.push(kernelCase({
            descriptor: avgPool2d({ kernel: 2, stride: 2, ceilMode, countIncludePad: ceilMode }),
            inputShapes: [[1, 5, 5, c]],
            seed: seed++,
            specials: [
              { input: 0, index: at(0, 0, lane), value: NaN },
              { input: 0, index: at(0, 1, 4 + lane), value: Infinity },
              { input: 0, index: at(2, 2, lane), value: -Infinity },
              { input: 0, index: at(3, 3, (lane + 1) % 4), value: Infinity }, // +∞ − ∞: NaN
              { input: 0, index: at(3, 2, (lane + 1) % 4), value: -Infinity },
              { input: 0, index: at(4, 4, 4 + lane), value: Infinity }, // a ceil-mode window
            ],
          }));
        }
      }
    }
    await assertCasesPass(backend, cases, { variant: "f32-avgpool-wgsl" });
  },
});
