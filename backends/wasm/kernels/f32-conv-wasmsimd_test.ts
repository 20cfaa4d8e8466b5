import { assertCasesPass, kernelCase } from "@mobileops/conformance";
import { conv2d } from "@mobileops/core";
import { createWasmBackend } from "../mod.ts";

Deno.test("direct conv: dense stems, grouped, multiplier depthwise, strided 1×1, output tails", async () => {
  const cases = [
    { inChannels: 3, outChannels: 32, kernel: 3, stride: 2, padding: "same" as const },
    { inChannels: 3, outChannels: 24, kernel: 3, stride: 2, padding: [1, 1, 1, 1] as const },
    { inChannels: 5, outChannels: 7, kernel: [2, 3] as const, dilation: 2 },
    { inChannels: 12, outChannels: 40, kernel: 3, padding: "same" as const },
    { inChannels: 6, outChannels: 9, kernel: 3, groups: 3, padding: "same" as const },
    { inChannels: 4, outChannels: 12, kernel: 3, groups: 4, padding: "same" as const },
    { inChannels: 8, outChannels: 8, kernel: 1, stride: 2 },
    { inChannels: 8, outChannels: 5, kernel: 1, padding: [1, 0, 0, 2] as const },
  ];
  for (const relaxedSimd of [true, false]) {
    using backend = await createWasmBackend({ threads: 1, relaxedSimd });
    const kernelCases = cases.flatMap((c, i) =>
      [1, 4, 7].map((width) =>
        kernelCase({
          descriptor: conv2d({ ...c, bias: i % 2 === 0, activation: "relu6" }),
          inputShapes: [[2, 6, width + 4, c.inChannels]],
          seed: i * 10 + width,
          inputRange: [-2, 2],
        })
      )
    );
    await assertCasesPass(backend, kernelCases, { variant: "f32-conv-wasmsimd" });
  }
});
