/**
 * `f32-global-avgpool-wgsl`: the mean over height and width per image and
 * channel, one output per workgroup: its invocations sum every `size`-th
 * pixel of the channel, the workgroup adds the partial sums
 * (`reduce.ts`), and the total is divided by `H·W`.
 *
 * @module
 */

import type { WebGpuKernelVariant } from "../kernel.ts";
import { rowSpan } from "./spans.ts";
import { reductionSpec } from "./reduce.ts";

const NAME = "f32-global-avgpool-wgsl";

const GROUP = `fn group(u: u32, lid: u32) {
  let ch = u % p.c;
  let base = (u / p.c) * p.pixels * p.c + ch;
  var sum = 0.0;
  for (var i = lid; i < p.pixels; i += WG) {
    sum += load_x(base + i * p.c);
  }
  let total = reduce_sum(lid, sum);
  if (lid == 0u) { store_y(u, total / f32(p.pixels)); }
}`;

/**
 * The `f32-global-avgpool-wgsl` variant: matches every global average pooling.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalAvgPool } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   const kernel = await backend.prepare(globalAvgPool());
 *   assert.equal(kernel.variant, "f32-global-avgpool-wgsl");
 *   const x = backend.upload([1, 10, 2, 20, 3, 30, 6, 60], [1, 2, 2, 2]);
 *   assert.deepEqual([...await backend.run(kernel, [x]).download()], [3, 30]);
 * }
 * ```
 */
export const f32GlobalAvgpoolWgsl: WebGpuKernelVariant<"globalAvgPool"> = {
  name: NAME,
  matches: () => true,
  async prepare(_descriptor, _weights, context) {
    const program = await context.program(reductionSpec(context.limits, {
      variant: NAME,
      key: "",
      reads: ["x"],
      fields: [["pixels", "u32"], ["c", "u32"]],
      group: GROUP,
    }));
    return {
      weights: [],
      plan: (geometry) => {
        const [n, h, w, c] = geometry.inputShapes[0];
        return [{
          program,
          units: n * c,
          values: [h * w, c],
          reads: [{ input: 0 }],
          // Units of one image read all of it: whole images.
          span: (binding, start, end) => {
            if (binding === 0) return [start, end];
            const [first, last] = rowSpan(start, end, c);
            return [first * h * w, last * h * w];
          },
        }];
      },
    };
  },
};
