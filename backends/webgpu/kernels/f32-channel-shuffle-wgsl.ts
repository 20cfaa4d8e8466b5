/**
 * `f32-channel-shuffle-wgsl`: channel shuffle as an explicit copy, one
 * output element per invocation: output channel `j·g + i` takes input
 * channel `i·(C/g) + j` of the same pixel. Its kernels carry their
 * `shuffleGroups`, so that a backend folding shuffles can record none and
 * let the next reader permute its reads instead (see `webgpu_backend.ts`).
 *
 * @module
 */

import { shapeSize } from "@mobileops/core";
import type { WebGpuKernel, WebGpuKernelVariant } from "../kernel.ts";
import { rowSpan } from "./spans.ts";
import { elementMain, elementWorkgroupSize } from "./wgsl.ts";

const NAME = "f32-channel-shuffle-wgsl";

/** A prepared channel shuffle: its `plan` records the explicit copy. */
export interface ChannelShuffleKernel extends WebGpuKernel {
  /** The descriptor's `groups`. */
  readonly shuffleGroups: number;
}

/**
 * Whether `kernel` is a channel shuffle of this variant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ChannelShuffleKernel, isChannelShuffle } from "./f32-channel-shuffle-wgsl.ts";
 * const shuffle: ChannelShuffleKernel = { weights: [], plan: () => [], shuffleGroups: 3 };
 * assert(isChannelShuffle(shuffle));
 * assert(!isChannelShuffle({ weights: [], plan: () => [] }));
 * ```
 */
export function isChannelShuffle(kernel: WebGpuKernel): kernel is ChannelShuffleKernel {
  return typeof (kernel as Partial<ChannelShuffleKernel>).shuffleGroups === "number";
}

function body(workgroupSize: number): string {
  return `fn unit(u: u32) {
  let out = u % p.c;
  let source = (out % p.groups) * (p.c / p.groups) + out / p.groups;
  store_y(u, load_x(u - out + source));
}
${elementMain(workgroupSize)}`;
}

/**
 * The `f32-channel-shuffle-wgsl` variant: matches every channel shuffle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelShuffle } from "@mobileops/core";
 * import { createWebGpuBackend } from "../mod.ts";
 * const backend = await createWebGpuBackend().catch(() => undefined); // undefined: no adapter here
 * if (backend !== undefined) {
 *   using _ = backend;
 *   const kernel = await backend.prepare(channelShuffle({ groups: 3 }));
 *   assert.equal(kernel.variant, "f32-channel-shuffle-wgsl");
 *   const x = backend.upload([0, 1, 2, 3, 4, 5], [1, 1, 1, 6]);
 *   assert.deepEqual([...await backend.run(kernel, [x]).download()], [0, 2, 4, 1, 3, 5]);
 * }
 * ```
 */
export const f32ChannelShuffleWgsl: WebGpuKernelVariant<"channelShuffle"> = {
  name: NAME,
  matches: () => true,
  async prepare(descriptor, _weights, context) {
    const workgroupSize = elementWorkgroupSize(context.limits);
    const program = await context.program({
      variant: NAME,
      key: "",
      reads: ["x"],
      fields: [["c", "u32"], ["groups", "u32"]],
      workgroupSize,
      unitsPerWorkgroup: workgroupSize,
      body: body(workgroupSize),
    });
    const kernel: ChannelShuffleKernel = {
      shuffleGroups: descriptor.groups,
      weights: [],
      plan: (geometry) => {
        const channels = geometry.inputShapes[0][3];
        return [{
          program,
          units: shapeSize(geometry.outputShape),
          values: [channels, descriptor.groups],
          reads: [{ input: 0 }],
          span: (binding, start, end) =>
            binding === 0 ? [start, end] : rowSpan(start, end, channels),
        }];
      },
    };
    return kernel;
  },
};
