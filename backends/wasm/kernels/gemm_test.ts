import assert from "node:assert/strict";
import { randomFloat32, seededRandom } from "@mobileops/conformance";
import { fullyConnected, pointwiseConv2d } from "@mobileops/core";
import type { KernelEntry } from "../control.ts";
import { LinearMemory } from "../memory.ts";
import { createWasmBackend } from "../mod.ts";
import { checkAgainstReference } from "../testing.ts";
import { generateChannelShuffle } from "./f32-channel-shuffle-wasm.ts";
import { DEFAULT_GEMM_TILE, generateGemm, packGemmWeights } from "./f32-gemm-wasmsimd.ts";

const ACTIVATIONS = ["none", "relu", "relu6"] as const;

Deno.test("gemm: every pixel remainder × output-panel remainder × K remainder, both FMA modes", async () => {
  for (const relaxedSimd of [true, false]) {
    using backend = await createWasmBackend({ threads: 1, relaxedSimd });
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
            const check = await checkAgainstReference(
              backend,
              descriptor,
              "random",
              [[1, 1, pixels, k * groups]],
              seed++,
            );
            assert.ok(check.ok, `pixels ${pixels} n ${n} k ${k} g ${groups}: ${check.detail}`);
          }
        }
      }
    }
  }
});

Deno.test("gemm: long K walks several pixel chunks and ends on a partial tile", async () => {
  using backend = await createWasmBackend({ threads: 1 });
  const descriptor = pointwiseConv2d({ inChannels: 512, outChannels: 12, bias: true });
  const check = await checkAgainstReference(backend, descriptor, "random", [[1, 7, 19, 512]], 3);
  assert.ok(check.ok, check.detail);
});

Deno.test("gemm: fully connected over batch rows", async () => {
  using backend = await createWasmBackend({ threads: 1 });
  for (const [batch, inFeatures, outFeatures] of [[1, 7, 10], [3, 64, 33], [8, 5, 1]]) {
    const descriptor = fullyConnected({ inFeatures, outFeatures, bias: true });
    const check = await checkAgainstReference(backend, descriptor, "random", [
      [batch, inFeatures],
    ], batch);
    assert.ok(check.ok, check.detail);
  }
});

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
