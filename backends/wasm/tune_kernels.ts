/**
 * Compares kernel generator parameters — GEMM tiles, depthwise unrolling, and
 * channel shuffle as a copy or folded into the preceding group 1×1
 * convolution's stores — on one linear memory, interleaved round by round so
 * that a busy machine slows every variant alike; prints the best time and
 * GFLOP/s of each. This is how the defaults in the generators were chosen.
 *
 *     deno run --allow-read --allow-env backends/wasm/tune_kernels.ts [--rounds 40] [--filter shuffle]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { randomFloat32, seededRandom } from "@mobileops/conformance";
import type { KernelEntry } from "./control.ts";
import { generateChannelShuffle } from "./kernels/f32-channel-shuffle-wasmsimd.ts";
import { generateDepthwiseConv, packDepthwiseWeights } from "./kernels/f32-dwconv-wasmsimd.ts";
import { DEFAULT_GEMM_TILE, generateGemm, packGemmWeights } from "./kernels/gemm.ts";
import { LinearMemory } from "./memory.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "40" },
    /** Only the variants whose name contains this text. */
    filter: { type: "string", default: "" },
  },
});
const rounds = Number(args.rounds);

const memory = new LinearMemory({ shared: false, maximumBytes: 1 << 30, owner: "tune" });
const wasm = { initialPages: 1, maximumPages: memory.maximumPages, shared: false };
const random = seededRandom(1);
const place = (data: Float32Array) => {
  const offset = memory.allocate(4 * data.length);
  memory.f32().set(data, offset / 4);
  return offset;
};
const instantiate = (bytes: Uint8Array<ArrayBuffer>) =>
  new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: memory.memory } })
    .exports.run as KernelEntry;

interface Variant {
  readonly name: string;
  readonly flops: number;
  readonly run: () => void;
  best: number;
}
const variants: Variant[] = [];

for (
  const [pixels, k, n, groups] of [[3136, 128, 128, 1], [784, 256, 256, 1], [196, 512, 512, 1], [
    784,
    80,
    20,
    3,
  ]]
) {
  const shape = { groups, k, n, inStride: k * groups, outStride: n * groups };
  const input = place(randomFloat32(random, pixels * k * groups));
  const output = memory.allocate(4 * pixels * n * groups);
  for (const [mr, nr] of [[6, 2], [5, 2], [4, 2], [2, 4], [7, 2], [4, 3], [3, 4]]) {
    const weights = packGemmWeights(
      randomFloat32(random, n * groups * k),
      undefined,
      shape,
      nr,
    );
    const run = instantiate(generateGemm({
      shape,
      tile: { mr, nr },
      activation: "relu6",
      weights: place(weights),
      fused: true,
      memory: wasm,
    }));
    variants.push({
      name: `gemm ${pixels}×${k * groups}→${n * groups} g${groups}, tile ${mr}×${4 * nr}`,
      flops: 2 * pixels * k * n * groups,
      run: () => run(input, 0, output, 0, pixels),
      best: Infinity,
    });
  }
}

for (const [size, channels, stride] of [[112, 64, 1], [56, 128, 1], [14, 512, 1], [112, 64, 2]]) {
  const out = Math.ceil(size / stride);
  const input = place(randomFloat32(random, size * size * channels));
  const output = memory.allocate(4 * out * out * channels);
  const zeroRow = memory.allocate(4 * size * channels);
  const weights = place(
    packDepthwiseWeights(randomFloat32(random, 9 * channels), undefined, channels, [3, 3]),
  );
  const pad = stride === 1 ? 1 : 0;
  for (const unroll of [1, 2, 3, 4, 6, 8]) {
    const run = instantiate(generateDepthwiseConv({
      geometry: {
        height: size,
        width: size,
        inStride: channels,
        outHeight: out,
        outWidth: out,
        outStride: channels,
        kernel: [3, 3],
        stride: [stride, stride],
        dilation: [1, 1],
        padTop: pad,
        padLeft: pad,
      },
      channels,
      activation: "relu6",
      weights,
      zeroRow,
      fused: true,
      memory: wasm,
      unroll,
    }));
    variants.push({
      name: `dwconv ${size}×${size}×${channels} s${stride}, unroll ${unroll}`,
      flops: 2 * 9 * out * out * channels,
      run: () => run(input, 0, output, 0, out),
      best: Infinity,
    });
  }
}

// ShuffleNet v1 1× g=3 (stages 2–4) and 1× g=8 (stage 2): a unit's first group 1×1 convolution,
// then the channel shuffle — as the backend runs it (GEMM, then the blocked copy) and folded
// into the GEMM's stores.
for (
  const [pixels, k, n, groups] of [[784, 80, 20, 3], [196, 160, 40, 3], [49, 320, 80, 3], [
    784,
    48,
    12,
    8,
  ]]
) {
  const channels = n * groups;
  const shape = { groups, k, n, inStride: k * groups, outStride: channels };
  const input = place(randomFloat32(random, pixels * k * groups));
  const convolved = memory.allocate(4 * pixels * channels);
  const shuffled = memory.allocate(4 * pixels * channels);
  const spec = {
    shape,
    tile: DEFAULT_GEMM_TILE,
    activation: "relu",
    weights: place(packGemmWeights(
      randomFloat32(random, channels * k),
      undefined,
      shape,
      DEFAULT_GEMM_TILE.nr,
    )),
    fused: true,
    memory: wasm,
  } as const;
  const gemm = instantiate(generateGemm(spec));
  const copy = instantiate(generateChannelShuffle({ channels, groups, memory: wasm }));
  const folded = instantiate(generateGemm({ ...spec, shuffledOutput: true }));
  const name = `shuffle ${pixels}×${k * groups}→${channels} g${groups}`;
  const flops = 2 * pixels * k * channels;
  variants.push({
    name: `${name}, gemm then copy`,
    flops,
    run: () => {
      gemm(input, 0, convolved, 0, pixels);
      copy(convolved, 0, shuffled, 0, pixels);
    },
    best: Infinity,
  }, {
    name: `${name}, shuffled stores`,
    flops,
    run: () => folded(input, 0, shuffled, 0, pixels),
    best: Infinity,
  }, {
    name: `${name}, gemm alone`,
    flops,
    run: () => gemm(input, 0, convolved, 0, pixels),
    best: Infinity,
  });
}

const selected = variants.filter((variant) => variant.name.includes(args.filter));
for (const variant of selected) for (let i = 0; i < 20; i++) variant.run();
for (let round = 0; round < rounds; round++) {
  // Rotate the order, so that no variant always runs right after another shape's data.
  for (let i = 0; i < selected.length; i++) {
    const variant = selected[(i + round) % selected.length];
    variant.run();
    const start = performance.now();
    variant.run();
    variant.best = Math.min(variant.best, performance.now() - start);
  }
}
for (const { name, flops, best } of selected) {
  const ms = `${best.toFixed(3).padStart(7)} ms`;
  console.log(`${name.padEnd(48)} ${ms} ${(flops / best / 1e6).toFixed(1).padStart(6)} GFLOP/s`);
}
