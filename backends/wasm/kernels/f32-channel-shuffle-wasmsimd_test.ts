import assert from "node:assert/strict";
import type { KernelEntry } from "../control.ts";
import { LinearMemory } from "../memory.ts";
import { generateChannelShuffle } from "./f32-channel-shuffle-wasmsimd.ts";

Deno.test("channel shuffle: every group count 1–9 × every per-group remainder, bit for bit", () => {
  const memory = new LinearMemory({ shared: false, maximumBytes: 1 << 24, owner: "shuffle test" });
  const wasm = { initialPages: 1, maximumPages: memory.maximumPages, shared: false };
  // Bit patterns a float copy could disturb: −0, ±∞ and NaNs with payloads, among ordinary values.
  const special = [0x80000000, 0x7f800000, 0xff800000, 0x7fc00001, 0xffa00005, 0x7f800001];
  for (let groups = 1; groups <= 9; groups++) {
    for (let perGroup = 1; perGroup <= 13; perGroup++) {
      const channels = groups * perGroup;
      const pixels = 3;
      const input = memory.allocate(4 * pixels * channels);
      const output = memory.allocate(4 * pixels * channels);
      const bits = Uint32Array.from(
        { length: pixels * channels },
        (_, k) => k % 7 === 3 ? special[k % special.length] : 0x3f800000 + k * 977,
      );
      new Uint32Array(memory.memory.buffer, input, bits.length).set(bits);
      const run = new WebAssembly.Instance(
        new WebAssembly.Module(generateChannelShuffle({ channels, groups, memory: wasm })),
        { env: { memory: memory.memory } },
      ).exports.run as KernelEntry;
      // Pixel 0 is outside [1, 3) and must stay untouched.
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
    }
  }
});
