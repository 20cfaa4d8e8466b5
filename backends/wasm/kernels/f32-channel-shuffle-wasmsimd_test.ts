import assert from "node:assert/strict";
import type { KernelEntry } from "../control.ts";
import { LinearMemory } from "../memory.ts";
import {
  generateChannelShuffle,
  MAX_SHUFFLE_VECTOR_GROUPS,
  MAX_UNROLLED_SHUFFLE_CHANNELS,
} from "./f32-channel-shuffle-wasmsimd.ts";

// Bit patterns a float copy could disturb: −0, ±∞ and NaNs with payloads, among ordinary values.
const SPECIAL = [0x80000000, 0x7f800000, 0xff800000, 0x7fc00001, 0xffa00005, 0x7f800001];

/** Shuffles pixels [1, 3) of 3 and checks every output bit for bit; pixel 0 stays untouched. */
function assertShuffles(memory: LinearMemory, groups: number, perGroup: number): number {
  const wasm = { initialPages: 1, maximumPages: memory.maximumPages, shared: false };
  const channels = groups * perGroup;
  const pixels = 3;
  const input = memory.allocate(4 * pixels * channels);
  const output = memory.allocate(4 * pixels * channels);
  const bits = Uint32Array.from(
    { length: pixels * channels },
    (_, k) => k % 7 === 3 ? SPECIAL[k % SPECIAL.length] : 0x3f800000 + k * 977,
  );
  new Uint32Array(memory.memory.buffer, input, bits.length).set(bits);
  const bytes = generateChannelShuffle({ channels, groups, memory: wasm });
  const run = new WebAssembly.Instance(
    new WebAssembly.Module(bytes),
    { env: { memory: memory.memory } },
  ).exports.run as KernelEntry;
  run(input, 0, output, 1, pixels);
  const actual = new Uint32Array(memory.memory.buffer, output, bits.length);
  for (let p = 0; p < pixels; p++) {
    for (let j = 0; j < perGroup; j++) {
      for (let i = 0; i < groups; i++) {
        const want = p === 0 ? 0 : bits[p * channels + i * perGroup + j];
        const at = p * channels + j * groups + i;
        assert.equal(actual[at], want, `g ${groups}, C/g ${perGroup}, pixel ${p}, out ${at}`);
      }
    }
  }
  memory.free(input);
  memory.free(output);
  return bytes.length;
}

Deno.test("channel shuffle: every group count 1–9 × every per-group remainder, bit for bit", () => {
  const memory = new LinearMemory({ shared: false, maximumBytes: 1 << 24, owner: "shuffle test" });
  for (let groups = 1; groups <= 9; groups++) {
    for (let perGroup = 1; perGroup <= 13; perGroup++) assertShuffles(memory, groups, perGroup);
  }
});

Deno.test("channel shuffle: past the unrolled sizes, block loops and scalar loops, bit for bit", () => {
  const memory = new LinearMemory({ shared: false, maximumBytes: 1 << 28, owner: "shuffle test" });
  const sizes = [
    [3, 1001], // block loop, one column left over
    [MAX_SHUFFLE_VECTOR_GROUPS, 130], // block loop at the most vector groups
    [2, 2 ** 15],
    [MAX_SHUFFLE_VECTOR_GROUPS + 1, 8], // more groups than locals: scalar loops
    [1024, 3],
    [256, 256],
    [2 ** 16, 1],
  ];
  for (const [groups, perGroup] of sizes) {
    assert.ok(
      groups * perGroup > MAX_UNROLLED_SHUFFLE_CHANNELS || groups > MAX_SHUFFLE_VECTOR_GROUPS,
    );
    const bytes = assertShuffles(memory, groups, perGroup);
    assert.ok(bytes < 4096, `g ${groups}, C/g ${perGroup}: ${bytes} bytes of code`);
  }
});
