// bench/peers/evaluate_ort.ts on the smoke model of tools/train/testdata: ONNX Runtime, our js and
// our wasm backend classify the same test images alike, and each is timed at both batch sizes. It
// needs Debian's dataset-fashion-mnist and is skipped, saying so, without it.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FASHION_MNIST_DIR } from "../../tools/evaluate.ts";
import { compareWithOrt, formatComparisons, parseOrtArgs } from "./evaluate_ort.ts";

const SMOKE_CARD = fileURLToPath(
  new URL("../../tools/train/testdata/card.json", import.meta.url),
);
const dataset = existsSync(join(FASHION_MNIST_DIR, "t10k-images-idx3-ubyte.gz"));
if (!dataset) {
  console.warn(
    `SKIPPED: evaluate_ort on the smoke card: the test set is not at ${FASHION_MNIST_DIR} ` +
      "(apt-get install dataset-fashion-mnist)",
  );
}

Deno.test("parseOrtArgs: defaults, and each bad flag a UsageError naming it", () => {
  const defaults = parseOrtArgs([]);
  assert.deepEqual(
    [defaults.threads, defaults.batch, defaults.runs, defaults.warmup, defaults.limit],
    [1, 64, 30, 10, 10_000],
  );
  for (
    const [args, field] of [
      [["--threads", "0"], "--threads"],
      [["--batch", "64.5"], "--batch"],
      [["--limit", "10001"], "--limit"],
      [["--bogus"], "arguments"],
    ] as const
  ) {
    assert.throws(
      () => parseOrtArgs(args),
      (e: unknown) => (e as { field?: string }).field === field,
      args.join(" "),
    );
  }
});

Deno.test({
  name: "the smoke model: ORT classifies as we and torch do; whole batches, then the rest singly",
  ignore: !dataset,
  fn: async () => {
    // 70 images at batch 32: two whole batches, then 6 one by one.
    const options = {
      ...parseOrtArgs(["--card", SMOKE_CARD, "--batch", "32", "--limit", "70"]),
      runs: 2,
      warmup: 0,
    };
    const [result] = await compareWithOrt(options);
    assert.equal(result.model, "mobilenet_v1_0.1_32");
    assert.equal(result.images, 70);
    assert.deepEqual(
      [result.ortAgreesWithOurs, result.ortAgreesWithTorch, result.oursAgreesWithTorch],
      [1, 1, 1],
    );
    assert(result.maxLogitDifference < 1e-3, String(result.maxLogitDifference));
    for (const timings of [result.batch1, result.batchN]) {
      assert.deepEqual(Object.keys(timings).sort(), ["js", "ort", "wasm"]);
    }
    assert.match(formatComparisons([result]), /\| mobilenet_v1_0\.1_32 \| 0\.22 \|/);
  },
});
