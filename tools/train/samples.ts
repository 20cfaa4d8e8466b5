/**
 * The committed sample images, `models/pretrained/fashion-mnist/samples/`:
 * the first test image of each Fashion-MNIST class, as the 28×28 8-bit
 * grayscale PNG the data set holds (no conversion: the file's samples are
 * the data set's bytes), and `samples.json`, which names each file's test
 * index and true class. `deno task demo` classifies them with the trained
 * networks. Run as a script, this module writes them:
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-env tools/train/samples.ts
 * deno run --allow-read --allow-write --allow-env tools/train/samples.ts --card tools/train/testdata/card.json
 * ```
 *
 * The class names come from a card (`--card`, default
 * `models/pretrained/fashion-mnist/card.json`; every card lists the same
 * ten), the images from Debian's `dataset-fashion-mnist` (`--data DIR`).
 *
 * @module
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { encode as encodePng } from "npm:fast-png@8.0.0";
import { InvalidArgumentError } from "@mobileops/core";
import {
  DEFAULT_CARD,
  FASHION_MNIST_DIR,
  parseCard,
  readTestSet,
  type TestSet,
  UsageError,
} from "../evaluate.ts";

/** Where the samples are committed, as an absolute path. */
export const SAMPLES_DIR: string = fileURLToPath(
  new URL("../../models/pretrained/fashion-mnist/samples", import.meta.url),
);

/** The index file in a samples directory. */
export const SAMPLES_JSON = "samples.json";

/** One committed sample: a test image and its true class. */
export interface Sample {
  /** The PNG's name in the samples directory, e.g. `"0-t-shirt-top.png"`. */
  readonly file: string;
  /** Its index in the test set (t10k-images-idx3-ubyte). */
  readonly testIndex: number;
  /** The true class index. */
  readonly label: number;
  /** The true class name, e.g. `"T-shirt/top"`. */
  readonly className: string;
}

/**
 * A samples directory whose `samples.json` is missing or malformed; the
 * field is the path inside the file, e.g. `samples[3].testIndex`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSamples, SamplesError } from "./samples.ts";
 * assert.throws(() => readSamples("/nonexistent"), SamplesError);
 * ```
 */
export class SamplesError extends InvalidArgumentError {
  /** Always `"SamplesError"`, so `String(error)` and stack traces show the class. */
  override name = "SamplesError";
}

/**
 * The index of the first image of each class 0 … `classes` − 1, in class
 * order: the deterministic choice of the committed samples. Throws
 * `InvalidArgumentError` (field `labels`) when a class has no image.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstOfEachClass } from "./samples.ts";
 * assert.deepEqual(firstOfEachClass(new Uint8Array([2, 0, 2, 1, 0]), 3), [1, 3, 0]);
 * ```
 */
export function firstOfEachClass(labels: Uint8Array, classes: number): number[] {
  const first = Array.from({ length: classes }, (_, label) => labels.indexOf(label));
  const missing = first.findIndex((index) => index < 0);
  if (missing >= 0) {
    throw new InvalidArgumentError("labels", `${labels.length} labels`, `have no ${missing}`);
  }
  return first;
}

/**
 * A sample's file name: its class index and name in lower case, each run of
 * other characters a hyphen (`"T-shirt/top"` → `0-t-shirt-top.png`), so the
 * true class reads off the name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sampleFileName } from "./samples.ts";
 * assert.equal(sampleFileName(9, "Ankle boot"), "9-ankle-boot.png");
 * ```
 */
export function sampleFileName(label: number, className: string): string {
  return `${label}-${className.toLowerCase().replace(/[^a-z0-9]+/g, "-")}.png`;
}

/**
 * Writes the first test image of each class as a 28×28 8-bit gray PNG
 * (`npm:fast-png`, the data set's bytes unchanged) into `directory`, with
 * `samples.json`, and returns the samples. `classNames` gives the classes'
 * names by index, as a card lists them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSamples, writeSamples } from "./samples.ts";
 * const dir = Deno.makeTempDirSync();
 * const test = { images: new Uint8Array(3 * 4).map((_, i) => 20 * i), labels: new Uint8Array([1, 0, 1]), count: 3, height: 2, width: 2, source: "t10k" };
 * const written = writeSamples(test, ["zero", "one"], dir);
 * assert.deepEqual(written.map((s) => [s.file, s.testIndex]), [["0-zero.png", 1], ["1-one.png", 0]]);
 * assert.deepEqual(readSamples(dir), written);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function writeSamples(
  test: TestSet,
  classNames: readonly string[],
  directory: string = SAMPLES_DIR,
): Sample[] {
  const pixels = test.height * test.width;
  const samples = firstOfEachClass(test.labels, classNames.length).map((testIndex, label) => ({
    file: sampleFileName(label, classNames[label]),
    testIndex,
    label,
    className: classNames[label],
  }));
  mkdirSync(directory, { recursive: true });
  for (const { file, testIndex } of samples) {
    const data = test.images.slice(testIndex * pixels, (testIndex + 1) * pixels);
    writeFileSync(
      join(directory, file),
      encodePng({ width: test.width, height: test.height, data, channels: 1, depth: 8 }),
    );
  }
  const index = {
    dataset: "Fashion-MNIST test set (t10k-images-idx3-ubyte.gz), Zalando Research, MIT license",
    choice: "the first test image of each class, in class order; 8-bit gray, the data set's bytes",
    samples,
  };
  writeFileSync(join(directory, SAMPLES_JSON), JSON.stringify(index, null, 2) + "\n");
  return samples;
}

/**
 * Reads and checks `directory`'s `samples.json` (default
 * {@link SAMPLES_DIR}): a `samples` array of `{ file, testIndex, label,
 * className }`, each file a plain name inside the directory and present.
 * Throws {@link SamplesError} naming the field that does not hold.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSamples } from "./samples.ts";
 * const samples = readSamples();
 * assert.deepEqual(samples.map((s) => s.label), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
 * assert.equal(samples[9].className, "Ankle boot");
 * ```
 */
export function readSamples(directory: string = SAMPLES_DIR): Sample[] {
  const path = join(directory, SAMPLES_JSON);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new SamplesError("samples", path, `cannot be read as JSON: ${(error as Error).message}`);
  }
  const list = (json as { samples?: unknown } | null)?.samples;
  if (!Array.isArray(list) || list.length === 0) {
    throw new SamplesError("samples", list, `must be a non-empty array in ${path}`);
  }
  return list.map((entry: unknown, i): Sample => {
    const field = `samples[${i}]`;
    const { file, testIndex, label, className } = (entry ?? {}) as Record<string, unknown>;
    if (typeof file !== "string" || !/^[\w.-]+\.png$/.test(file)) {
      throw new SamplesError(`${field}.file`, file, "must be a PNG file name, no directory");
    }
    if (!existsSync(join(directory, file))) {
      throw new SamplesError(`${field}.file`, file, `is not in ${directory}`);
    }
    for (const [key, value] of [["testIndex", testIndex], ["label", label]] as const) {
      if (!Number.isSafeInteger(value) || (value as number) < 0) {
        throw new SamplesError(`${field}.${key}`, value, "must be a non-negative integer");
      }
    }
    if (typeof className !== "string" || className === "") {
      throw new SamplesError(`${field}.className`, className, "must be a non-empty string");
    }
    return { file, testIndex: testIndex as number, label: label as number, className };
  });
}

const USAGE =
  `usage: deno run --allow-read --allow-write --allow-env tools/train/samples.ts [options]
  --card FILE   a card, for the class names (default models/pretrained/fashion-mnist/card.json)
  --data DIR    the Fashion-MNIST files (default ${FASHION_MNIST_DIR})
  --out DIR     where to write (default models/pretrained/fashion-mnist/samples)
  --help, -h    print this text`;

/**
 * The command: writes the samples and prints one line per file. Returns the
 * exit status: 0, 2 for a usage error, 1 for any other failure (its class
 * and message on stderr).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./samples.ts";
 * assert(main(["--colour"]) === 2);
 * ```
 */
export function main(args: readonly string[]): number {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        card: { type: "string", default: DEFAULT_CARD },
        data: { type: "string", default: FASHION_MNIST_DIR },
        out: { type: "string", default: SAMPLES_DIR },
      },
    }));
  } catch (error) {
    console.error(
      `${new UsageError("arguments", args, (error as Error).message).message}\n${USAGE}`,
    );
    return 2;
  }
  try {
    const [{ classes }] = parseCard(JSON.parse(readFileSync(values.card, "utf8")));
    for (const sample of writeSamples(readTestSet(values.data), classes, values.out)) {
      console.log(`${join(values.out, sample.file)}: test image ${sample.testIndex}`);
    }
    return 0;
  } catch (error) {
    console.error(`${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(main(Deno.args));
