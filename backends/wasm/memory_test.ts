import assert from "node:assert/strict";
import { seededRandom } from "@mobileops/conformance";
import { LinearMemory } from "./memory.ts";

/** Blocks are 64-byte aligned with 16 bytes of read slack, as in memory.ts. */
const blockBytes = (bytes: number) => Math.ceil((bytes + 16) / 64) * 64;

/** The allocator as a plain sorted array: first fit, coalescing, top trimmed — the definition. */
class NaiveArena {
  readonly free: [number, number][] = [];
  readonly sizes = new Map<number, number>();
  end = 64;

  allocate(bytes: number): number {
    const size = blockBytes(bytes);
    const i = this.free.findIndex(([, length]) => length >= size);
    let offset: number;
    if (i < 0) {
      offset = this.end;
      this.end += size;
    } else {
      offset = this.free[i][0];
      if (this.free[i][1] === size) this.free.splice(i, 1);
      else this.free[i] = [offset + size, this.free[i][1] - size];
    }
    this.sizes.set(offset, size);
    return offset;
  }

  release(offset: number): void {
    const size = this.sizes.get(offset)!;
    this.sizes.delete(offset);
    this.free.push([offset, size]);
    this.free.sort((a, b) => a[0] - b[0]);
    for (let i = this.free.length - 1; i > 0; i--) {
      const [start, length] = this.free[i - 1];
      if (start + length === this.free[i][0]) {
        this.free[i - 1] = [start, length + this.free[i][1]];
        this.free.splice(i, 1);
      }
    }
    const last = this.free[this.free.length - 1];
    if (last !== undefined && last[0] + last[1] === this.end) {
      this.end = last[0];
      this.free.pop();
    }
  }
}

Deno.test("allocator: random allocate/free sequences give the offsets of plain first fit", () => {
  const random = seededRandom(11);
  const memory = new LinearMemory({ shared: false, maximumBytes: 1 << 28, owner: "test" });
  const naive = new NaiveArena();
  const live: number[] = [];
  for (let step = 0; step < 4000; step++) {
    if (live.length > 0 && random() < 0.45) {
      const [offset] = live.splice(Math.floor(random() * live.length), 1);
      memory.free(offset);
      naive.release(offset);
    } else {
      const bytes = 1 + Math.floor(random() * random() * 5000);
      const offset = memory.allocate(bytes);
      assert.equal(offset, naive.allocate(bytes), `step ${step}`);
      live.push(offset);
    }
    assert.equal(memory.stats().arenaFreeBlocks, naive.free.length, `step ${step}`);
  }
});

Deno.test("allocator: 200k blocks, every other freed, then reallocated, in O(n log n) steps", () => {
  const count = 200_000;
  const memory = new LinearMemory({ shared: false, maximumBytes: 1 << 30, owner: "test" });
  const offsets = Array.from({ length: count }, () => memory.allocate(100));
  const grown = memory.stats().linearMemoryBytes;
  for (let i = 0; i < count; i += 2) memory.free(offsets[i]);
  assert.equal(memory.stats().arenaFreeBlocks, count / 2);
  // First fit refills the holes in address order, and nothing grows.
  for (let i = 0; i < count; i += 2) assert.equal(memory.allocate(100), offsets[i]);
  const stats = memory.stats();
  assert.equal(stats.arenaFreeBlocks, 0);
  assert.equal(stats.linearMemoryBytes, grown);
  assert.equal(stats.arenaBytesInUse, count * blockBytes(100));
  // 400k operations over up to 100k free blocks: a sorted array's scans take ~10¹⁰ steps, a
  // balanced tree a few dozen per operation.
  const operations = 2 * count;
  assert.ok(
    memory.allocatorSteps < 8 * operations * Math.log2(count),
    `${memory.allocatorSteps} allocator steps for ${operations} operations`,
  );
});

Deno.test("allocator: freeing coalesces with both neighbours and trims the top", () => {
  const memory = new LinearMemory({ shared: false, maximumBytes: 1 << 24, owner: "test" });
  const [a, b, c, d] = [100, 200, 300, 400].map((bytes) => memory.allocate(bytes));
  memory.free(a);
  memory.free(c);
  assert.equal(memory.stats().arenaFreeBlocks, 2);
  memory.free(b); // merges a, b and c into one block
  assert.equal(memory.stats().arenaFreeBlocks, 1);
  assert.equal(memory.allocate(blockBytes(100) + blockBytes(200) + blockBytes(300) - 16), a);
  memory.free(a);
  memory.free(d); // the top block: the arena shrinks back to its start
  assert.equal(memory.stats().arenaFreeBlocks, 0);
  assert.equal(memory.allocate(1), a);
});
