import assert from "node:assert/strict";
import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { type Activation, concat, inferGeometry } from "@mobileops/core";
import type { Program, ProgramSpec, WebGpuContext } from "../kernel.ts";
import { createWebGpuBackend } from "../mod.ts";
import { webgpuUnavailable } from "../testing.ts";
import { f32ConcatWgsl } from "./f32-concat-wgsl.ts";

const ignore = await webgpuUnavailable() !== undefined;
const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6", { min: -1, max: 0.5 }];
const CONTEXT = {
  limits: { maxComputeInvocationsPerWorkgroup: 256 },
  program: (spec: ProgramSpec) => Promise.resolve({ spec } as Program),
} as WebGpuContext;

Deno.test("f32-concat-wgsl: vec4f per input where its channels, offset and the output's are multiples of 4", async () => {
  const kernel = await f32ConcatWgsl.prepare(concat(), undefined, CONTEXT);
  const keys = (channels: readonly number[]) =>
    kernel.plan(inferGeometry(concat(), channels.map((c) => [1, 2, 3, c])))
      .map((step) => step.program.spec.key);
  assert.deepEqual(keys([4, 8, 12]), ["none|vec4", "none|vec4", "none|vec4"]);
  assert.deepEqual(keys([4, 3, 4, 1]), ["none|vec4", "none", "none", "none"]);
  assert.deepEqual(keys([8, 4, 6]), ["none", "none", "none"]); // 18 output channels
  const [, second] = kernel.plan(inferGeometry(concat(), [[1, 2, 3, 4], [1, 2, 3, 8]]));
  assert.equal(second.units, 12);
  // Units 2–3 are input elements 8–15: pixel 1, written at output channels 4–11 of 12.
  assert.deepEqual([second.span(1, 2, 4), second.span(0, 2, 4)], [[8, 16], [16, 24]]);
});

Deno.test({
  name: "f32-concat-wgsl: 2–5 inputs of mixed channel counts, every activation",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases: ConformanceCase[] = [];
    let seed = 1;
    const channelLists = [
      [4, 8],
      [4, 4, 8, 12],
      [8, 4, 4, 16, 4], // all vec4
      [3, 5],
      [4, 3, 4, 1], // vec4 first, then scalar offsets
      [1, 2, 3, 4, 5],
      [5, 4, 7],
      [8, 8, 3], // 19 output channels: all scalar
      [240, 240],
    ];
    for (const channels of channelLists) {
      for (const [n, h, w] of [[1, 1, 1], [2, 3, 5], [1, 7, 4]]) {
        cases.push(kernelCase({
          descriptor: concat({ activation: ACTIVATIONS[seed % 4] }),
          inputShapes: channels.map((c) => [n, h, w, c]),
          seed: seed++,
          inputRange: [-4, 8],
        }));
      }
    }
    await assertCasesPass(backend, cases, { variant: "f32-concat-wgsl" });
  },
});

Deno.test({
  name: "f32-concat-wgsl: NaN and ±∞ in every lane position, vec4 and scalar inputs",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const cases: ConformanceCase[] = [];
    let seed = 1;
    for (const channels of [[8, 4], [8, 5], [3, 8]]) {
      for (let lane = 0; lane < 4; lane++) {
        for (const activation of ACTIVATIONS) {
          cases.push(kernelCase({
            descriptor: concat({ activation }),
            inputShapes: channels.map((c) => [1, 2, 2, c]),
            seed: seed++,
            specials: [
              { input: 0, index: lane, value: NaN },
              { input: 0, index: channels[0] + (lane + 1) % 4 % channels[0], value: Infinity },
              { input: 1, index: lane % channels[1], value: -Infinity },
              { input: 1, index: channels[1] + (lane + 2) % 4 % channels[1], value: NaN },
            ],
          }));
        }
      }
    }
    await assertCasesPass(backend, cases, { variant: "f32-concat-wgsl" });
  },
});
