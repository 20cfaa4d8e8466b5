import assert from "node:assert/strict";
import { randomFloat32, seededRandom } from "@mobileops/conformance";
import type { KernelEntry } from "../control.ts";
import { LinearMemory } from "../memory.ts";
import { generateChannelShuffle } from "./f32-channel-shuffle-wasmsimd.ts";
import { DEFAULT_GEMM_TILE, generateGemm, packGemmWeights } from "./gemm.ts";

Deno.test("gemm: packing puts bias, then K rows of nr·4 lanes, zero-padded", () => {
  // 2 groups × 5 outputs × 2 inputs, panels of 4 lanes: per group a full panel and a 1-lane tail.
  const weights = Float32Array.from({ length: 20 }, (_, i) => i + 1);
  const bias = Float32Array.from({ length: 10 }, (_, i) => -(i + 1));
  const packed = packGemmWeights(weights, bias, {
    groups: 2,
    k: 2,
    n: 5,
    inStride: 4,
    outStride: 10,
  }, 1);
  assert.deepEqual([...packed.subarray(0, 12)], [-1, -2, -3, -4, 1, 3, 5, 7, 2, 4, 6, 8]);
  assert.deepEqual([...packed.subarray(12, 24)], [-5, 0, 0, 0, 9, 0, 0, 0, 10, 0, 0, 0]);
  assert.deepEqual([...packed.subarray(24, 28)], [-6, -7, -8, -9]);
});

Deno.test("gemm: shuffled stores equal the plain GEMM followed by the channel shuffle, bit for bit", () => {
  const memory = new LinearMemory({ shared: false, maximumBytes: 1 << 24, owner: "gemm test" });
  const wasm = { initialPages: 1, maximumPages: memory.maximumPages, shared: false };
  const instantiate = (bytes: Uint8Array<ArrayBuffer>) =>
    new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: memory.memory } })
      .exports.run as KernelEntry;
  const random = seededRandom(7);
  const place = (data: Float32Array) => {
    const offset = memory.allocate(4 * data.length);
    memory.f32().set(data, offset / 4);
    return offset;
  };
  for (const pixels of [1, 5, 6, 7, 13]) {
    for (const n of [1, 3, 4, 5, 9, 20]) {
      for (const [k, groups] of [[1, 2], [5, 3], [8, 3], [3, 8]]) {
        const channels = n * groups;
        const shape = { groups, k, n, inStride: k * groups, outStride: channels };
        const input = place(randomFloat32(random, pixels * k * groups));
        const weights = place(packGemmWeights(
          randomFloat32(random, channels * k),
          randomFloat32(random, channels),
          shape,
          DEFAULT_GEMM_TILE.nr,
        ));
        const [plain, shuffledByCopy, shuffledByStore] = [0, 1, 2].map(() =>
          memory.allocate(4 * pixels * channels)
        );
        const spec = {
          shape,
          tile: DEFAULT_GEMM_TILE,
          activation: "relu6",
          weights,
          fused: true,
          memory: wasm,
        } as const;
        instantiate(generateGemm(spec))(input, 0, plain, 0, pixels);
        instantiate(generateChannelShuffle({ channels, groups, memory: wasm }))(
          plain,
          0,
          shuffledByCopy,
          0,
          pixels,
        );
        instantiate(generateGemm({ ...spec, shuffledOutput: true }))(
          input,
          0,
          shuffledByStore,
          0,
          pixels,
        );
        const heap = memory.f32();
        const expected = heap.slice(shuffledByCopy / 4, shuffledByCopy / 4 + pixels * channels);
        const actual = heap.slice(shuffledByStore / 4, shuffledByStore / 4 + pixels * channels);
        assert.deepEqual(actual, expected, `pixels ${pixels} n ${n} k ${k} groups ${groups}`);
      }
    }
  }
});
