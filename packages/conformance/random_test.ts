import assert from "node:assert/strict";
import { pickOne, randomFloat32, seededRandom } from "./random.ts";

Deno.test("seededRandom: one seed, one stream", () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const first = Array.from({ length: 100 }, a);
  assert.deepEqual(Array.from({ length: 100 }, b), first);
  const other = Array.from({ length: 100 }, seededRandom(43));
  assert.notDeepEqual(other, first);
});

Deno.test("seededRandom: uniform on [0, 1)", () => {
  const random = seededRandom(1);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const v = random();
    assert.ok(v >= 0 && v < 1);
    counts[Math.floor(v * 10)]++;
  }
  // Each tenth holds 10 000 ± 5σ (σ ≈ 95).
  for (const count of counts) assert.ok(Math.abs(count - 10_000) < 475, `bucket ${count}`);
});

Deno.test("randomFloat32: float32 values within ±scale, both signs, deterministic", () => {
  const data = randomFloat32(seededRandom(5), 1000, 3);
  assert.ok(data.every((v) => Math.abs(v) <= 3));
  assert.ok(data.some((v) => v < -2.5) && data.some((v) => v > 2.5));
  assert.deepEqual(randomFloat32(seededRandom(5), 1000, 3), data);
});

Deno.test("pickOne: reaches every item", () => {
  const random = seededRandom(8);
  const seen = new Set(Array.from({ length: 200 }, () => pickOne(random, ["a", "b", "c"])));
  assert.deepEqual([...seen].sort(), ["a", "b", "c"]);
});
