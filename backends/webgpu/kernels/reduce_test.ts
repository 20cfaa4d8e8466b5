import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { fullyConnected, globalAvgPool, softmax } from "@mobileops/core";
import { createWebGpuBackend } from "../mod.ts";
import { webgpuUnavailable } from "../testing.ts";

const ignore = await webgpuUnavailable() !== undefined;

// The workgroup size is the override constant WG; the tree's first stride is derived from it in
// WGSL, so sizes that are not powers of two (and a workgroup of one, without a tree) run too.
for (const size of [1, 3, 10, 64]) {
  Deno.test({
    name:
      `reduce.ts: global average pool, fully connected and softmax on ${size}-invocation workgroups`,
    ignore,
    async fn() {
      using backend = await createWebGpuBackend({
        limits: { maxComputeWorkgroupStorageSize: 4 * size },
      });
      const cases: ConformanceCase[] = [];
      let seed = 1;
      for (const length of [1, size - 1, size, size + 1, 4 * size + 3, 300].filter((n) => n > 0)) {
        cases.push(
          kernelCase({
            descriptor: globalAvgPool(),
            inputShapes: [[2, 1, length, 3]],
            seed: seed++,
          }),
          kernelCase({
            descriptor: fullyConnected({ inFeatures: length, outFeatures: 5, bias: true }),
            inputShapes: [[2, length]],
            seed: seed++,
          }),
          kernelCase({ descriptor: softmax(), inputShapes: [[3, length]], seed: seed++ }),
        );
      }
      cases.push(kernelCase({
        descriptor: softmax(),
        inputShapes: [[2, 2 * size + 1]],
        seed: seed++,
        specials: [{ input: 0, index: size, value: NaN }, { input: 0, index: 1, value: Infinity }],
      }));
      await assertCasesPass(backend, cases);
    },
  });
}
