import { assertCasesPass, kernelCase } from "@mobileops/conformance";
import { fullyConnected } from "@mobileops/core";
import { createWasmBackend } from "../mod.ts";

Deno.test("fully connected: over batch rows, on the GEMM generator", async () => {
  using backend = await createWasmBackend({ threads: 1 });
  const cases = [[1, 7, 10], [3, 64, 33], [8, 5, 1]].map(([batch, inFeatures, outFeatures]) =>
    kernelCase({
      descriptor: fullyConnected({ inFeatures, outFeatures, bias: true }),
      inputShapes: [[batch, inFeatures]],
      seed: batch,
      inputRange: [-2, 2],
    })
  );
  await assertCasesPass(backend, cases, { variant: "f32-fully-connected-wasmsimd" });
});
