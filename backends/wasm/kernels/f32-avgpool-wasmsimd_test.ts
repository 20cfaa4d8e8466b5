import { assertCasesPass, type ConformanceCase, kernelCase } from "@mobileops/conformance";
import { avgPool2d, type Padding } from "@mobileops/core";
import { createWasmBackend } from "../mod.ts";

Deno.test("avgpool: with and without pad counting, around every border", async () => {
  using backend = await createWasmBackend({ threads: 1 });
  const paddings: Padding[] = ["valid", "same", [1, 1, 1, 1], [0, 2, 1, 0]];
  const cases: ConformanceCase[] = [];
  // Seeds 3i + 1 and 3i + 2: the max pool's test takes 3i for the same sizes.
  let seed = 0;
  for (const padding of paddings) {
    for (const width of [3, 4, 5, 8]) {
      for (const channels of [3, 4, 9]) {
        for (const stride of [1, 2]) {
          for (const countIncludePad of [false, true]) {
            cases.push(kernelCase({
              descriptor: avgPool2d({ kernel: 3, stride, padding, countIncludePad }),
              inputShapes: [[1, 5, width, channels]],
              seed: seed + 1 + Number(countIncludePad),
              inputRange: [-2, 2],
            }));
          }
          seed += 3;
        }
      }
    }
  }
  await assertCasesPass(backend, cases, { variant: "f32-avgpool-wasmsimd" });
});
