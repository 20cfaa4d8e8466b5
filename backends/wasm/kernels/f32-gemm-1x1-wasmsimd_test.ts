import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { pointwiseConv2d } from "@mobileops/core";
import { createWasmBackend } from "../mod.ts";
import { DEFAULT_GEMM_TILE } from "./gemm.ts";

const ACTIVATIONS = ["none", "relu", "relu6"] as const;
const VARIANT = { variant: "f32-gemm-1x1-wasmsimd" };

Deno.test("gemm: every pixel remainder × output-panel remainder × K remainder, both FMA modes", async () => {
  for (const relaxedSimd of [true, false]) {
    using backend = await createWasmBackend({ threads: 1, relaxedSimd });
    const cases: ConformanceCase[] = [];
    let seed = 0;
    // Pixels cover every remainder of mr twice; outputs every lane and panel remainder.
    for (let pixels = 1; pixels <= 2 * DEFAULT_GEMM_TILE.mr + 1; pixels += 1) {
      for (const n of [1, 3, 4, 5, 8, 9, 13, 17]) {
        for (const k of [1, 2, 5, 8, 9]) {
          for (const groups of [1, 3]) {
            const descriptor = pointwiseConv2d({
              inChannels: k * groups,
              outChannels: n * groups,
              groups,
              bias: seed % 2 === 0,
              activation: ACTIVATIONS[seed % 3],
            });
            cases.push(kernelCase({
              descriptor,
              inputShapes: [[1, 1, pixels, k * groups]],
              seed: seed++,
              inputRange: [-2, 2],
            }));
          }
        }
      }
    }
    await assertCasesPass(backend, cases, VARIANT);
  }
});

Deno.test("gemm: long K walks several pixel chunks and ends on a partial tile", async () => {
  using backend = await createWasmBackend({ threads: 1 });
  const descriptor = pointwiseConv2d({ inChannels: 512, outChannels: 12, bias: true });
  await assertCasesPass(
    backend,
    [kernelCase({ descriptor, inputShapes: [[1, 7, 19, 512]], seed: 3, inputRange: [-2, 2] })],
    VARIANT,
  );
});
