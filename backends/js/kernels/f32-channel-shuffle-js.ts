/**
 * Channel shuffle: output channel `j·g + i` takes input channel `i·(C/g) + j`
 * (ShuffleNet's reshape `[g, C/g]` → transpose → reshape).
 *
 * Loop order: pixel → source group `i` → channel `j` within it, so reads are
 * contiguous and writes stride by `g` inside one pixel's channel row, which
 * stays in L1. Exact: values are copied, never computed.
 *
 * @module
 */

import type { ChannelShuffleDescriptor, OpGeometry } from "@mobileops/core";
import type { JsKernel, JsKernelVariant } from "../kernel.ts";

class ChannelShuffle implements JsKernel {
  readonly #groups: number;

  constructor(descriptor: ChannelShuffleDescriptor) {
    this.#groups = descriptor.groups;
  }

  run(inputs: readonly Float32Array[], output: Float32Array, geometry: OpGeometry): void {
    const input = inputs[0];
    const shape = geometry.inputShapes[0];
    const channels = shape[3];
    const pixels = input.length / channels;
    const groups = this.#groups;
    const perGroup = channels / groups;
    for (let p = 0, base = 0; p < pixels; p++, base += channels) {
      for (let i = 0; i < groups; i++) {
        const source = base + i * perGroup;
        for (let j = 0; j < perGroup; j++) output[base + j * groups + i] = input[source + j];
      }
    }
  }
}

/**
 * `f32-channel-shuffle-js`: every channel shuffle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelShuffle, inferGeometry } from "@mobileops/core";
 * import { f32ChannelShuffleJs } from "./f32-channel-shuffle-js.ts";
 * const d = channelShuffle({ groups: 2 });
 * const output = new Float32Array(4);
 * f32ChannelShuffleJs.prepare(d, undefined).run([new Float32Array([0, 1, 2, 3])], output, inferGeometry(d, [[1, 1, 1, 4]]));
 * assert(output.join() === "0,2,1,3");
 * ```
 */
export const f32ChannelShuffleJs: JsKernelVariant<"channelShuffle"> = {
  name: "f32-channel-shuffle-js",
  matches: () => true,
  prepare: (descriptor) => new ChannelShuffle(descriptor),
};
