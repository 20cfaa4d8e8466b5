// tools/fashion_mnist.ts: what the browser page needs of it (no node: module, no permission) and
// its top5. parseCard, preprocess and toFashionImage are tested where they are used, through
// their re-exports: tools/evaluate_test.ts and demo_test.ts.
import assert from "node:assert/strict";
import { parseCard, preprocessingText, top5 } from "./fashion_mnist.ts";

Deno.test("fashion_mnist.ts imports no node: module, so web/ can bundle it", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("fashion_mnist.ts", import.meta.url).href],
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const modules: { specifier: string }[] = JSON.parse(new TextDecoder().decode(stdout)).modules;
  assert(modules.some((m) => m.specifier.endsWith("/packages/image/mod.ts")), "the graph is read");
  assert.deepEqual(modules.filter((m) => m.specifier.startsWith("node:")), []);
});

Deno.test("fashion_mnist.ts parses a card and preprocesses an image without any permission", async () => {
  const card = JSON.parse(
    await Deno.readTextFile(new URL("train/testdata/card.json", import.meta.url)),
  );
  const script = `
    const { parseCard, preprocess, toFashionImage } = await import(${
    JSON.stringify(new URL("fashion_mnist.ts", import.meta.url).href)
  });
    const [model] = parseCard(${JSON.stringify(card)});
    const gray = toFashionImage({ width: 1, height: 1, data: new Uint8Array([9, 9, 9]) }, 28);
    console.log(preprocess(gray.pixels, model.preprocessing).length);`;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-prompt", script],
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const [, channels, height, width] = card.models[0].input.shape;
  assert.equal(Number(new TextDecoder().decode(stdout)), channels * height * width);
});

Deno.test("top5: the largest logits first, ties in index order, float64 softmax over all", () => {
  const logits = new Float32Array([1, 3, 3, -2, 0, 5, 1]);
  const best = top5(logits, ["a", "b", "c", "d", "e", "f", "g"]);
  assert.deepEqual(best.map((c) => c.index), [5, 1, 2, 0, 6]);
  assert.deepEqual(best.map((c) => c.label), ["f", "b", "c", "a", "g"]);
  const total = [...logits].reduce((sum, v) => sum + Math.exp(v - 5), 0);
  assert.equal(best[0].probability, 1 / total);
  assert.equal(best[1].probability, Math.exp(-2) / total);
});

Deno.test("top5: fewer classes than five, no labels, huge logits", () => {
  const two = top5(new Float32Array([0, 1]));
  assert.deepEqual(two.map((c) => c.index), [1, 0]);
  assert(two.every((c) => !("label" in c)), "no label key without labels");
  // Softmax from the largest logit: no overflow at float32's largest values.
  const huge = top5(new Float32Array([3e38, 3e38, -3e38]));
  assert.deepEqual(huge.map((c) => c.probability), [0.5, 0.5, 0]);
});

Deno.test("preprocessingText: replication and asymmetric padding are spelled out", () => {
  const smoke = parseCard(
    JSON.parse(Deno.readTextFileSync(new URL("train/testdata/card.json", import.meta.url))),
  )[0].preprocessing;
  const spec = { ...smoke, replicate: 2, pad: [1, 0, 3, 4], padValue: 255 } as const;
  assert.equal(
    preprocessingText(spec),
    `28×28 gray, each pixel repeated 2×2, padded with 255 (top, left, bottom, right: 1, 0, 3, 4) ` +
      `to 60×60, (v − ${smoke.mean}) / ${smoke.std}, ${smoke.channels} channels`,
  );
});
