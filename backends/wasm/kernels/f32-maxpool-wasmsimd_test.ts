import assert from "node:assert/strict";
import { avgPool2d, maxPool2d, type Padding } from "@mobileops/core";
import { createWasmBackend } from "../mod.ts";
import { checkAgainstReference } from "../testing.ts";

Deno.test("pools: max, average with and without pad counting, around every border", async () => {
  using backend = await createWasmBackend({ threads: 1 });
  const paddings: Padding[] = ["valid", "same", [1, 1, 1, 1], [0, 2, 1, 0]];
  let seed = 0;
  for (const padding of paddings) {
    for (const width of [3, 4, 5, 8]) {
      for (const channels of [3, 4, 9]) {
        for (const stride of [1, 2]) {
          const options = { kernel: 3, stride, padding };
          for (
            const descriptor of [
              maxPool2d(options),
              avgPool2d({ ...options, countIncludePad: false }),
              avgPool2d({ ...options, countIncludePad: true }),
            ]
          ) {
            const check = await checkAgainstReference(backend, descriptor, undefined, [
              [1, 5, width, channels],
            ], seed++);
            assert.ok(check.ok, `${JSON.stringify(descriptor)} w${width}: ${check.detail}`);
          }
        }
      }
    }
  }
});
