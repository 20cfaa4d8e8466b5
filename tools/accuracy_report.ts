/**
 * Writes docs/accuracy.md's tables and findings and the plot docs/accuracy.svg
 * from the Fashion-MNIST card (`models/pretrained/fashion-mnist/card.json`):
 * the MobileNet paper's two ablations (full 3×3 convolutions against
 * depthwise-separable blocks, arXiv 1704.04861 Table 4; the width multiplier,
 * Table 6) and the ShuffleNet paper's (with and without the channel shuffle,
 * arXiv 1707.01083 Table 3), our measurements beside the papers' ImageNet
 * figures, and accuracy against multiply-adds for every network.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-env --allow-run tools/accuracy_report.ts
 * deno task evaluate --json > rows.json   # or reuse a saved evaluation (any backends):
 * deno run --allow-read --allow-write --allow-env --allow-run tools/accuracy_report.ts --evaluation rows.json
 * ```
 *
 * Without `--evaluation` it evaluates every card model on the js and wasm
 * backends at batch 1 itself (`evaluate` of tools/evaluate.ts). Our engine's
 * accuracy comes from that evaluation, torch's from the card and its
 * predictions files; the paired comparisons (which images one network of a
 * pair gets right and the other wrong) use torch's predictions and the test
 * labels, so the Fashion-MNIST test set must be installed. Only the regions of
 * the doc between `<!-- accuracy_report:NAME -->` and
 * `<!-- /accuracy_report:NAME -->` are replaced; the doc and the plot are
 * then formatted with `deno fmt`. The output holds no time stamp: the same
 * card and evaluation give the same files.
 *
 * @module
 */

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { InvalidArgumentError } from "@mobileops/core";
import { PAPER_FIGURES } from "@mobileops/models";
import {
  CardError,
  type CardModel,
  DEFAULT_CARD,
  evaluate,
  type EvaluationRow,
  FASHION_MNIST_DIR,
  loadCard,
  parseEvaluateArgs,
  readTestSet,
  REQUIRED_AGREEMENT,
} from "./evaluate.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The doc the report updates, by default. */
export const DEFAULT_DOC: string = join(ROOT, "docs/accuracy.md");

/** The plot the report writes, by default. */
export const DEFAULT_SVG: string = join(ROOT, "docs/accuracy.svg");

/** Backends evaluated when no `--evaluation` file is given. */
const DEFAULT_BACKENDS = "js,wasm";

const USAGE = `usage: deno run --allow-read --allow-write --allow-env --allow-run \\
         tools/accuracy_report.ts [options]
  --card FILE        the card (default models/pretrained/fashion-mnist/card.json)
  --evaluation FILE  the JSON that \`deno task evaluate --json\` printed for the card, over the
                     whole test set (default: evaluate here on --backend at batch 1)
  --backend NAMES    backends to evaluate on when there is no --evaluation (default ${DEFAULT_BACKENDS})
  --data DIR         the Fashion-MNIST files (default ${FASHION_MNIST_DIR})
  --doc FILE         the Markdown to update (default docs/accuracy.md)
  --svg FILE         the plot to write (default docs/accuracy.svg)
  --help, -h         print this text`;

/**
 * The report cannot be made: a command-line mistake (the field is the flag),
 * an evaluation file that does not match the card, or a doc without the
 * regions to fill. {@link main} prints it; a flag mistake exits with 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReportError, replaceRegions } from "./accuracy_report.ts";
 * assert.throws(() => replaceRegions("no regions here", { plot: "x" }), ReportError);
 * ```
 */
export class ReportError extends InvalidArgumentError {
  /** Always `"ReportError"`, so `String(error)` and stack traces show the class. */
  override name = "ReportError";
}

// ---------------------------------------------------------------------------
// The papers' ImageNet figures, entered from their tables.

/** One ImageNet row of the MobileNet paper: top-1 accuracy (0–1), millions of mult-adds and parameters. */
export interface MobileNetPaperRow {
  /** The paper's name for the network. */
  readonly model: string;
  /** The width multiplier α. */
  readonly alpha: number;
  /** Top-1 accuracy, 0–1. */
  readonly top1: number;
  /** Multiply-adds per image, millions, as printed. */
  readonly multiplyAddsMillions: number;
  /** Parameters, millions, as printed. */
  readonly parametersMillions: number;
}

/** ImageNet top-1 accuracy by width multiplier α: the MobileNet paper's Table 6. */
const TABLE6_TOP1: ReadonlyMap<number, number> = new Map([
  [1, 0.706],
  [0.75, 0.684],
  [0.5, 0.637],
  [0.25, 0.506],
]);

/**
 * The MobileNet paper (Howard et al., arXiv 1704.04861), ImageNet at
 * 224×224: Table 4, the same network with full 3×3 convolutions against
 * depthwise-separable ones, and Table 6, the width multiplier — its
 * multiply-adds and parameters taken from `PAPER_FIGURES` of
 * `@mobileops/models`, whose tests hold the builder to them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MOBILENET_PAPER } from "./accuracy_report.ts";
 * assert.deepEqual(MOBILENET_PAPER.table6.map((row) => row.alpha), [1, 0.75, 0.5, 0.25]);
 * ```
 */
export const MOBILENET_PAPER: {
  readonly table4: { readonly full: MobileNetPaperRow; readonly separable: MobileNetPaperRow };
  readonly table6: readonly MobileNetPaperRow[];
} = {
  table4: {
    full: {
      model: "Conv MobileNet",
      alpha: 1,
      top1: 0.717,
      multiplyAddsMillions: 4866,
      parametersMillions: 29.3,
    },
    separable: {
      model: "MobileNet",
      alpha: 1,
      top1: 0.706,
      multiplyAddsMillions: 569,
      parametersMillions: 4.2,
    },
  },
  table6: PAPER_FIGURES.filter((figure) => figure.source.endsWith("Table 6")).map((figure) => {
    const alpha = Number(figure.build().definition.config.alpha);
    const top1 = TABLE6_TOP1.get(alpha);
    if (top1 === undefined || figure.parametersM === undefined) {
      throw new ReportError("PAPER_FIGURES", figure.source, `has no Table 6 row for α ${alpha}`);
    }
    return {
      model: `${width(alpha)} MobileNet-224`,
      alpha,
      top1,
      multiplyAddsMillions: figure.multiplyAddsM,
      parametersMillions: figure.parametersM,
    };
  }),
};

/** One row of the ShuffleNet paper's Table 3: ImageNet top-1 classification error, percent. */
export interface ShuffleNetPaperRow {
  /** The width factor s of "ShuffleNet s×". */
  readonly scale: number;
  /** The groups g of the 1×1 convolutions. */
  readonly groups: number;
  /** Top-1 error without the channel shuffle, percent. */
  readonly errorNoShuffle: number;
  /** Top-1 error with it, percent. */
  readonly errorShuffle: number;
}

/**
 * The ShuffleNet paper (Zhang et al., arXiv 1707.01083v2), Table 3:
 * ImageNet top-1 error (%) of ShuffleNet with and without the channel
 * shuffle, at three widths and g = 3 and 8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SHUFFLENET_PAPER_TABLE3 } from "./accuracy_report.ts";
 * const row = SHUFFLENET_PAPER_TABLE3.find((r) => r.scale === 0.5 && r.groups === 8)!;
 * assert.equal((row.errorNoShuffle - row.errorShuffle).toFixed(1), "5.8");
 * ```
 */
export const SHUFFLENET_PAPER_TABLE3: readonly ShuffleNetPaperRow[] = [
  { scale: 1, groups: 3, errorNoShuffle: 34.5, errorShuffle: 32.6 },
  { scale: 1, groups: 8, errorNoShuffle: 37.6, errorShuffle: 32.4 },
  { scale: 0.5, groups: 3, errorNoShuffle: 45.7, errorShuffle: 43.2 },
  { scale: 0.5, groups: 8, errorNoShuffle: 48.1, errorShuffle: 42.3 },
  { scale: 0.25, groups: 3, errorNoShuffle: 56.3, errorShuffle: 55.0 },
  { scale: 0.25, groups: 8, errorNoShuffle: 56.5, errorShuffle: 52.7 },
];

// ---------------------------------------------------------------------------
// Statistics.

/** How two classifiers compare on the same labelled images ({@link pairedComparison}). */
export interface PairedComparison {
  /** Images on which only the first is right. */
  readonly onlyFirst: number;
  /** Images on which only the second is right. */
  readonly onlySecond: number;
  /** The second's accuracy minus the first's, in percentage points. */
  readonly difference: number;
  /** The 95 % interval of `difference` over resamplings of the test images, percentage points. */
  readonly low: number;
  readonly high: number;
  /** Two-sided exact McNemar p-value: the chance of a split this uneven if neither were better. */
  readonly p: number;
}

/**
 * Compares two classifiers' predictions on the same images: the images only
 * one of them gets right, the second's accuracy minus the first's with its
 * paired 95 % interval (normal approximation of the paired difference), and
 * the exact McNemar test on the discordant images. This is the noise of
 * drawing 10,000 test images, not of training: a second training seed would
 * add its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedComparison } from "./accuracy_report.ts";
 * const labels = new Uint8Array([0, 1, 2, 3]);
 * const c = pairedComparison(new Uint8Array([0, 1, 0, 0]), new Uint8Array([0, 1, 2, 3]), labels);
 * assert.deepEqual([c.onlyFirst, c.onlySecond, c.difference, c.p], [0, 2, 50, 0.5]);
 * ```
 */
export function pairedComparison(
  first: Uint8Array,
  second: Uint8Array,
  labels: Uint8Array,
): PairedComparison {
  if (first.length !== labels.length || second.length !== labels.length || labels.length === 0) {
    throw new InvalidArgumentError(
      "predictions",
      [first.length, second.length, labels.length],
      "must be as many as the labels, at least one",
    );
  }
  let onlyFirst = 0;
  let onlySecond = 0;
  for (let i = 0; i < labels.length; i++) {
    const a = first[i] === labels[i];
    const b = second[i] === labels[i];
    if (a && !b) onlyFirst++;
    if (b && !a) onlySecond++;
  }
  const n = labels.length;
  const d = (onlySecond - onlyFirst) / n;
  const variance = ((onlyFirst + onlySecond) / n - d * d) / n;
  const half = 1.959964 * Math.sqrt(Math.max(variance, 0));
  return {
    onlyFirst,
    onlySecond,
    difference: 100 * d,
    low: 100 * (d - half),
    high: 100 * (d + half),
    p: mcnemarExact(onlyFirst, onlySecond),
  };
}

/** 2·P(X ≤ min(b, c)) for X ~ Binomial(b + c, ½), capped at 1; summed in logs, since 2^−n underflows. */
function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let logChoose = 0; // log C(n, 0)
  let logSum = -Infinity;
  for (let i = 0; i <= k; i++) {
    const high = Math.max(logSum, logChoose);
    logSum = high + Math.log(Math.exp(logSum - high) + Math.exp(logChoose - high));
    logChoose += Math.log(n - i) - Math.log(i + 1);
  }
  return Math.min(1, 2 * Math.exp(logSum - n * Math.LN2));
}

// ---------------------------------------------------------------------------
// Inputs.

/** What the card says about how one network was trained (tools/train/README.md). */
export interface Training {
  readonly command: string;
  readonly epochs: number;
  readonly seed: number;
  readonly trainSeconds: number;
}

/**
 * Each model's `training` from a parsed card.json (which `parseCard`
 * leaves out), by model name. Throws `CardError` naming the field that is
 * missing or of the wrong type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTraining } from "./accuracy_report.ts";
 * const training = { command: "train.py", epochs: 12, seed: 1, trainSeconds: 600 };
 * assert.equal(parseTraining({ models: [{ name: "m", training }] }).get("m")?.epochs, 12);
 * ```
 */
export function parseTraining(card: unknown): Map<string, Training> {
  const models = (card as { models?: unknown })?.models;
  if (!Array.isArray(models)) throw new CardError("models", models, "must be an array");
  return new Map(models.map((model: unknown, i): [string, Training] => {
    const field = `models[${i}].training`;
    const { name, training } = (model ?? {}) as { name?: unknown; training?: unknown };
    const t = (training ?? {}) as Record<string, unknown>;
    const check = (key: string, ok: boolean) => {
      if (!ok) throw new CardError(`${field}.${key}`, t[key], "is missing or of the wrong type");
    };
    check("command", typeof t.command === "string");
    for (const key of ["epochs", "seed"]) check(key, Number.isSafeInteger(t[key]));
    check("trainSeconds", typeof t.trainSeconds === "number" && Number.isFinite(t.trainSeconds));
    return [String(name), {
      command: t.command as string,
      epochs: t.epochs as number,
      seed: t.seed as number,
      trainSeconds: t.trainSeconds as number,
    }];
  }));
}

/**
 * Validates the JSON `deno task evaluate --json` printed: an array of rows
 * with the fields the report reads. Throws {@link ReportError} naming the
 * first bad field, e.g. `evaluation[3].accuracy`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEvaluation, ReportError } from "./accuracy_report.ts";
 * const row = { model: "m", backend: "js", accuracy: 0.9, torchAccuracy: 0.9, agreement: 1, imagesPerSecond: 900, images: 10000, batch: null, batchImagesPerSecond: null };
 * assert.equal(parseEvaluation([row])[0].backend, "js");
 * assert.throws(() => parseEvaluation([{ ...row, accuracy: 90 }]), ReportError);
 * ```
 */
export function parseEvaluation(value: unknown): EvaluationRow[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ReportError("evaluation", value, "must be a non-empty array of rows");
  }
  return value.map((row: unknown, i) => {
    const r = (row ?? {}) as Record<string, unknown>;
    const field = `evaluation[${i}]`;
    for (const key of ["model", "backend"]) {
      if (typeof r[key] !== "string" || r[key] === "") {
        throw new ReportError(`${field}.${key}`, r[key], "must be a non-empty string");
      }
    }
    for (const key of ["accuracy", "torchAccuracy", "agreement"]) {
      const v = r[key];
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
        throw new ReportError(`${field}.${key}`, v, "must be a fraction from 0 to 1");
      }
    }
    if (!Number.isSafeInteger(r.images) || (r.images as number) < 1) {
      throw new ReportError(`${field}.images`, r.images, "must be a positive integer");
    }
    return r as unknown as EvaluationRow;
  });
}

// ---------------------------------------------------------------------------
// Formatting.

function percent(fraction: number, digits = 2): string {
  return `${(100 * fraction).toFixed(digits)} %`;
}

/** Percentage points with their sign; U+2212 for minus, as the docs write it. */
function points(value: number, digits = 2): string {
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `${text} pp`;
  return `${value < 0 ? "−" : "+"}${text} pp`;
}

/** A count to 3 significant digits as the docs write sizes: 222 k, 1.23 M; `trim`: 1 M, not 1.00 M. */
function count(n: number, trim = false): string {
  const [scaled, unit] = n >= 1e6 ? [n / 1e6, " M"] : n >= 1e3 ? [n / 1e3, " k"] : [n, ""];
  const digits = scaled.toPrecision(3);
  return `${trim ? String(Number(digits)) : digits}${unit}`;
}

function pValue(p: number): string {
  return p < 0.001 ? "< 0.001" : p.toFixed(3);
}

/** A Markdown table; `align` has one `l` or `r` per column. `deno fmt` pads it afterwards. */
function table(header: readonly string[], rows: readonly string[][], align: string): string {
  const rule = [...align].map((a) => (a === "l" ? ":--" : "--:"));
  return [header, rule, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** "0.125" → "0.125"; 1 → "1.0", as the model names and the paper write widths. */
function width(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

// ---------------------------------------------------------------------------
// The report.

/** Everything the report is made from. */
export interface ReportInput {
  /** The card's models, in the card's order. */
  readonly models: readonly CardModel[];
  /** Torch's class per test image, by model name (the card's predictions files). */
  readonly predictions: ReadonlyMap<string, Uint8Array>;
  /** The test labels the predictions are scored against. */
  readonly labels: Uint8Array;
  /** Our engine's rows, any backends, each over the whole test set. */
  readonly rows: readonly EvaluationRow[];
  /** Each model's training, by name ({@link parseTraining}). */
  readonly training: ReadonlyMap<string, Training>;
  /** The card's path as the doc should show it, e.g. `models/pretrained/fashion-mnist/card.json`. */
  readonly cardPath: string;
  /** The plot's path relative to the doc, for the image link. */
  readonly svgLink: string;
}

/** The generated doc regions by name, and the plot. */
export interface Report {
  /** Markdown per region of the doc ({@link REGIONS}). */
  readonly regions: Readonly<Record<Region, string>>;
  /** The plot, a standalone SVG document. */
  readonly svg: string;
}

/** The doc's generated regions, in the order they appear. */
export const REGIONS = [
  "networks",
  "mobilenet",
  "width",
  "shufflenet",
  "plot",
  "findings",
] as const;

/** One of {@link REGIONS}. */
export type Region = typeof REGIONS[number];

/** What the report knows of one network: its entry, torch's predictions, our rows. */
interface Network {
  readonly entry: CardModel;
  readonly predictions: Uint8Array;
  readonly rows: readonly EvaluationRow[];
}

/** What every section is made from. */
interface Context {
  readonly networks: readonly Network[];
  /** The backends of the rows, in order of first appearance. */
  readonly backends: readonly string[];
  readonly labels: Uint8Array;
}

/** One section of the report: its doc region, its findings, the plot's ablation pairs. */
interface Section {
  readonly markdown: string;
  readonly findings: readonly string[];
  readonly pairs: readonly (readonly [Network, Network])[];
}

function torchAccuracy(network: Network): number {
  return network.entry.torch.testAccuracy;
}

function compare(context: Context, first: Network, second: Network): PairedComparison {
  return pairedComparison(first.predictions, second.predictions, context.labels);
}

/** The header of a column of {@link accuracies}. */
function accuracyHeader(context: Context, what = "accuracy"): string {
  return `${what} (${["torch", ...context.backends].join(" / ")})`;
}

/** Torch's and each backend's accuracies (or errors), percent, in one cell. */
function accuracies(context: Context, network: Network, error = false): string {
  const values = [
    torchAccuracy(network),
    ...context.backends.map((b) => network.rows.find((r) => r.backend === b)?.accuracy),
  ];
  return values.map((v) => v === undefined ? "—" : (100 * (error ? 1 - v : v)).toFixed(2))
    .join(" / ") + " %";
}

/** The short name a network gets in the plot. */
function label(entry: CardModel): string {
  const { alpha, scale, groups } = entry.options;
  if (entry.architecture === "mobilenet_v1") {
    return `${entry.ablation === "full-conv" ? "full-conv MobileNet" : "MobileNet"} α ${alpha}`;
  }
  return `ShuffleNet ${scale}× g${groups}${entry.ablation === "no-shuffle" ? " no shuffle" : ""}`;
}

/** Whether the test set resolves a difference whose 95 % interval is `low` to `high` pp. */
function noiseSentence(low: number, high: number, p: number): string {
  const interval = `Its paired 95 % interval over the test images, ${points(low)} to ${
    points(high)
  } (McNemar p ${pValue(p)}),`;
  return low > 0 || high < 0
    ? `${interval} excludes 0: the test set resolves the difference.`
    : `${interval} includes 0: the test set cannot tell the two networks apart.`;
}

/** Every row must be of a card model, over the whole test set, with the card's torch accuracy. */
function checkRows(networks: readonly Network[], rows: readonly EvaluationRow[]): void {
  for (const [i, row] of rows.entries()) {
    const network = networks.find((n) => n.entry.name === row.model);
    if (network === undefined) {
      throw new ReportError(`evaluation[${i}].model`, row.model, "is not in the card");
    }
    const { testImages, testAccuracy } = network.entry.torch;
    if (row.images !== testImages) {
      throw new ReportError(
        `evaluation[${i}].images`,
        row.images,
        `must be the whole test set (${testImages}); run without --limit`,
      );
    }
    if (Math.abs(row.torchAccuracy - testAccuracy) > 5e-7) {
      throw new ReportError(
        `evaluation[${i}].torchAccuracy`,
        row.torchAccuracy,
        `the card says ${testAccuracy}: the evaluation is of another card`,
      );
    }
  }
}

/** Every network: cost, torch's and each backend's accuracy, agreement, training. */
function networksSection(
  context: Context,
  training: ReadonlyMap<string, Training>,
  cardPath: string,
): Section {
  const { networks } = context;
  if (networks.length === 0) {
    return { markdown: "The card has no networks.", findings: [], pairs: [] };
  }
  const rows = networks.flatMap((n) => n.rows);
  const findings: string[] = [];
  if (rows.length > 0) {
    const gap = Math.max(...rows.map((r) => 100 * Math.abs(r.accuracy - r.torchAccuracy)));
    const agreement = Math.min(...rows.map((r) => r.agreement));
    findings.push(
      (agreement >= REQUIRED_AGREEMENT
        ? "**Our engine reproduces torch.** "
        : `**Our engine falls short of ${
          percent(REQUIRED_AGREEMENT, 1)
        } agreement with torch.** `) +
        `On every backend evaluated (${context.backends.join(", ")}) each network's accuracy is ` +
        `within ${gap.toFixed(2)} pp of torch's, and its predictions agree with torch's on at ` +
        `least ${percent(agreement)} of the images.`,
    );
  }
  const markdown = [
    `From \`${cardPath}\`; "accuracy" is on all ` +
    `${networks[0].entry.torch.testImages.toLocaleString("en-US")} test images, torch's from ` +
    `the card and each backend's from our engine; "least agreement" is the smallest share of ` +
    `images on which a backend's class equals torch's.`,
    table(
      [
        "network",
        "ablation",
        "multiply-adds",
        "parameters",
        accuracyHeader(context),
        "least agreement with torch",
        "epochs, seed",
        "training",
      ],
      networks.map((n) => {
        const t = training.get(n.entry.name);
        return [
          `\`${n.entry.name}\``,
          n.entry.ablation,
          count(n.entry.cost.multiplyAdds),
          count(n.entry.cost.parameters),
          accuracies(context, n),
          n.rows.length === 0 ? "—" : percent(Math.min(...n.rows.map((r) => r.agreement))),
          t === undefined ? "—" : `${t.epochs}, ${t.seed}`,
          t === undefined ? "—" : `${(t.trainSeconds / 60).toFixed(1)} min`,
        ];
      }),
      "llrrrrrr",
    ),
  ].join("\n\n");
  return { markdown, findings, pairs: [] };
}

const isPlain = (n: Network) => n.entry.ablation === "none";
const isMobileNet = (n: Network) => n.entry.architecture === "mobilenet_v1";
const isShuffleNet = (n: Network) => n.entry.architecture === "shufflenet_v1";

/** Full convolutions against depthwise-separable blocks at the same α: the MobileNet paper's Table 4. */
function tableFourSection(context: Context): Section {
  const mobilenets = context.networks.filter(isMobileNet);
  const pairs = mobilenets.filter((n) => n.entry.ablation === "full-conv").flatMap((full) => {
    const { alpha, resolution } = full.entry.options;
    const twin = mobilenets.find((n) =>
      isPlain(n) && n.entry.options.alpha === alpha && n.entry.options.resolution === resolution
    );
    return twin === undefined ? [] : [[full, twin] as const];
  });
  if (pairs.length === 0) {
    return {
      markdown:
        "The card has no full-convolution MobileNet with a depthwise-separable twin of the same α.",
      findings: [],
      pairs,
    };
  }
  const paper = MOBILENET_PAPER.table4;
  const paperDifference = 100 * (paper.separable.top1 - paper.full.top1);
  const paperMultiplyAdds = paper.full.multiplyAddsMillions / paper.separable.multiplyAddsMillions;
  const paperParameters = paper.full.parametersMillions / paper.separable.parametersMillions;
  const findings: string[] = [];
  const parts = pairs.map(([full, separable]) => {
    const c = compare(context, full, separable);
    const multiplyAdds = full.entry.cost.multiplyAdds / separable.entry.cost.multiplyAdds;
    const parameters = full.entry.cost.parameters / separable.entry.cost.parameters;
    findings.push(
      `**Depthwise-separable blocks (MobileNet's Table 4).** At α = ${full.entry.options.alpha}, ` +
        `replacing the full 3×3 convolutions with depthwise-separable blocks changed torch's ` +
        `accuracy by ${points(c.difference)} (${percent(torchAccuracy(full))} → ` +
        `${percent(torchAccuracy(separable))}) for ${multiplyAdds.toFixed(2)}× fewer ` +
        `multiply-adds and ${parameters.toFixed(2)}× fewer parameters; the paper: ` +
        `${points(paperDifference, 1)} for ${paperMultiplyAdds.toFixed(2)}× and ` +
        `${paperParameters.toFixed(2)}× fewer. ` +
        (Math.sign(c.difference) === Math.sign(paperDifference)
          ? "As in the paper, the separable network is the less accurate one. "
          : "Unlike in the paper, the separable network is at least as accurate here. ") +
        noiseSentence(c.low, c.high, c.p),
    );
    const row = (n: Network, blocks: string, p: MobileNetPaperRow) => [
      blocks,
      `\`${n.entry.name}\``,
      accuracies(context, n),
      count(n.entry.cost.multiplyAdds),
      count(n.entry.cost.parameters),
      p.model,
      percent(p.top1, 1),
      `${p.multiplyAddsMillions} M`,
      `${p.parametersMillions} M`,
    ];
    return [
      table(
        [
          "blocks",
          "ours (Fashion-MNIST, 32×32)",
          accuracyHeader(context),
          "multiply-adds",
          "parameters",
          "paper (ImageNet, 224×224)",
          "top-1",
          "multiply-adds",
          "parameters",
        ],
        [
          row(full, "full 3×3 convolutions", paper.full),
          row(separable, "depthwise separable", paper.separable),
          [
            "separable against full",
            "",
            `${points(c.difference)} (torch)`,
            `÷ ${multiplyAdds.toFixed(2)}`,
            `÷ ${parameters.toFixed(2)}`,
            "",
            points(paperDifference, 1),
            `÷ ${paperMultiplyAdds.toFixed(2)}`,
            `÷ ${paperParameters.toFixed(2)}`,
          ],
        ],
        "llrrrlrrr",
      ),
      `Torch's accuracy difference, its paired 95 % interval over the test images and the ` +
      `McNemar p-value: ${points(c.difference)} (${points(c.low)} to ${points(c.high)}; ` +
      `p ${pValue(c.p)}); ${c.onlySecond} images only the separable network classifies ` +
      `correctly, ${c.onlyFirst} only the full-convolution one.`,
    ].join("\n\n");
  });
  return { markdown: parts.join("\n\n"), findings, pairs };
}

/** The plain MobileNets by width, beside the paper's Table 6. */
function widthSection(context: Context): Section {
  const widths = context.networks.filter((n) => isMobileNet(n) && isPlain(n))
    .sort((a, b) => (b.entry.options.alpha ?? 0) - (a.entry.options.alpha ?? 0));
  const paper = MOBILENET_PAPER.table6;
  const ours = widths.length === 0 ? "The card has no plain MobileNet." : table(
    [
      "ours (Fashion-MNIST, 32×32)",
      "α",
      accuracyHeader(context),
      "multiply-adds",
      "parameters",
    ],
    widths.map((n) => [
      `\`${n.entry.name}\``,
      width(n.entry.options.alpha ?? 0),
      accuracies(context, n),
      count(n.entry.cost.multiplyAdds),
      count(n.entry.cost.parameters),
    ]),
    "lrrrr",
  );
  const theirs = table(
    ["paper (ImageNet, 224×224)", "α", "top-1", "multiply-adds", "parameters"],
    paper.map((p) => [
      p.model,
      width(p.alpha),
      percent(p.top1, 1),
      `${p.multiplyAddsMillions} M`,
      `${p.parametersMillions} M`,
    ]),
    "lrrrr",
  );
  const findings = widths.slice(1).map((narrow, i) => {
    const wide = widths[i];
    const c = compare(context, wide, narrow);
    const ratio = wide.entry.cost.multiplyAdds / narrow.entry.cost.multiplyAdds;
    // The paper's steps between widths in the same ratio as ours (halvings for 0.25 → 0.125).
    const factor = (wide.entry.options.alpha ?? 0) / (narrow.entry.options.alpha ?? 1);
    const steps = paper.flatMap((q) =>
      paper.filter((p) => Math.abs(q.alpha / p.alpha - factor) < 1e-9).map((p) =>
        `${width(q.alpha)} → ${width(p.alpha)}: ${points(100 * (p.top1 - q.top1), 1)} for ` +
        `${(q.multiplyAddsMillions / p.multiplyAddsMillions).toFixed(2)}× fewer`
      )
    );
    return `**Width multiplier (MobileNet's Table 6).** From α = ${wide.entry.options.alpha} to ` +
      `${narrow.entry.options.alpha}, torch's accuracy changed by ${points(c.difference)} ` +
      `(${percent(torchAccuracy(wide))} → ${percent(torchAccuracy(narrow))}) for ` +
      `${ratio.toFixed(2)}× fewer multiply-adds; ` +
      (steps.length === 0
        ? `the paper's Table 6 has no two widths ${factor}× apart. `
        : `the paper's steps of the same ratio on ImageNet: ${steps.join("; ")}. `) +
      noiseSentence(c.low, c.high, c.p);
  });
  return { markdown: `${ours}\n\n${theirs}`, findings, pairs: [] };
}

/** With and without the channel shuffle at each g: the ShuffleNet paper's Table 3, as errors. */
function tableThreeSection(context: Context): Section {
  const shufflenets = context.networks.filter(isShuffleNet);
  const pairs = shufflenets.filter((n) => n.entry.ablation === "no-shuffle").flatMap((without) => {
    const { groups, scale, resolution } = without.entry.options;
    const twin = shufflenets.find((n) =>
      isPlain(n) && n.entry.options.groups === groups && n.entry.options.scale === scale &&
      n.entry.options.resolution === resolution
    );
    return twin === undefined ? [] : [[without, twin] as const];
  }).sort(([, a], [, b]) => (a.entry.options.groups ?? 0) - (b.entry.options.groups ?? 0));
  if (pairs.length === 0) {
    return {
      markdown: "The card has no ShuffleNet without the channel shuffle beside one with it.",
      findings: [],
      pairs,
    };
  }
  const paperRow = (n: Network) =>
    SHUFFLENET_PAPER_TABLE3.find((p) =>
      p.scale === n.entry.options.scale && p.groups === n.entry.options.groups
    );
  const paperEffect = (p: ShuffleNetPaperRow) => p.errorShuffle - p.errorNoShuffle;
  // The shuffle's effect on the error is minus its effect on the accuracy.
  const compared = pairs.map(([without, shuffled]) => {
    const c = compare(context, without, shuffled);
    return { without, shuffled, effect: -c.difference, low: -c.high, high: -c.low, p: c.p };
  });
  const findings = compared.map(({ without, shuffled, effect, low, high, p }) => {
    const paper = paperRow(shuffled);
    return `**Channel shuffle at g = ${shuffled.entry.options.groups} (ShuffleNet's Table 3).** ` +
      `The shuffle changed torch's error by ${points(effect)} ` +
      `(${percent(1 - torchAccuracy(without))} → ${percent(1 - torchAccuracy(shuffled))})` +
      (paper === undefined
        ? "; the paper has no row for this width and g. "
        : `; the paper, ${paper.scale}× g = ${paper.groups}: ${points(paperEffect(paper), 1)}. ` +
          (effect < 0 ? "It helps, as in the paper. " : "It does not help here. ")) +
      noiseSentence(low, high, p);
  });
  if (compared.length >= 2) {
    // Does the shuffle help more at the largest g than at the smallest? The
    // two effects' test-set noise combined as if independent.
    const [small, large] = [compared[0], compared[compared.length - 1]];
    const halfWidth = (x: typeof small) => (x.high - x.low) / 2;
    const contrast = small.effect - large.effect; // positive: more help at the larger g
    const half = Math.hypot(halfWidth(small), halfWidth(large));
    const [paperSmall, paperLarge] = [paperRow(small.shuffled), paperRow(large.shuffled)];
    const g = (x: typeof small) => x.shuffled.entry.options.groups;
    findings.push(
      `**Does the shuffle help more as g grows?** Its effect on the error is ${
        points(large.effect)
      } at g = ${g(large)} against ${points(small.effect)} at g = ${g(small)}: ` +
        `${points(contrast)} more help at the larger g` +
        (paperSmall && paperLarge
          ? `; in the paper (${paperLarge.scale}×), ${
            points(paperEffect(paperSmall) - paperEffect(paperLarge), 1)
          } more. `
          : ". ") +
        `Treating the two pairs' test-set noise as independent, that is known to about ` +
        `±${half.toFixed(2)} pp (95 %), so ` +
        (Math.abs(contrast) > half
          ? `the test set resolves it${
            contrast > 0 ? ", in the paper's direction" : ", against the paper's direction"
          }.`
          : "the test set cannot tell whether the help grows with g."),
    );
  }
  const markdown = [
    table(
      [
        "ours (Fashion-MNIST, 32×32)",
        "g",
        accuracyHeader(context, "error without shuffle"),
        "error with shuffle",
        "shuffle's effect on torch's error (95 % interval; p)",
        "multiply-adds",
        "parameters",
        "paper (ImageNet): without",
        "with",
        "effect",
      ],
      compared.map(({ without, shuffled, effect, low, high, p }) => {
        const paper = paperRow(shuffled);
        return [
          `\`${shuffled.entry.name}\``,
          String(shuffled.entry.options.groups),
          accuracies(context, without, true),
          accuracies(context, shuffled, true),
          `${points(effect)} (${points(low)} to ${points(high)}; p ${pValue(p)})`,
          count(shuffled.entry.cost.multiplyAdds),
          count(shuffled.entry.cost.parameters),
          paper === undefined ? "—" : `${paper.errorNoShuffle.toFixed(1)} % (${paper.scale}×)`,
          paper === undefined ? "—" : `${paper.errorShuffle.toFixed(1)} %`,
          paper === undefined ? "—" : points(paperEffect(paper), 1),
        ];
      }),
      "lrrrrrrrrr",
    ),
    "The paper's whole Table 3 (ImageNet top-1 error):",
    table(
      ["paper", "g", "without shuffle", "with shuffle", "effect"],
      SHUFFLENET_PAPER_TABLE3.map((p) => [
        `ShuffleNet ${p.scale}×`,
        String(p.groups),
        `${p.errorNoShuffle.toFixed(1)} %`,
        `${p.errorShuffle.toFixed(1)} %`,
        points(paperEffect(p), 1),
      ]),
      "lrrrr",
    ),
  ].join("\n\n");
  return { markdown, findings, pairs };
}

function plotFamily(entry: CardModel): PlotFamily {
  if (entry.architecture === "mobilenet_v1") {
    return entry.ablation === "full-conv" ? "mobilenet-full-conv" : "mobilenet";
  }
  return entry.ablation === "no-shuffle" ? "shufflenet-no-shuffle" : "shufflenet";
}

/**
 * Makes every table, the findings and the plot from the card's models,
 * torch's predictions, the test labels and our engine's rows. The networks
 * of each comparison are found by their card fields, not their names: a
 * `"full-conv"` MobileNet and the plain one of the same α and resolution;
 * the plain MobileNets by α; a `"no-shuffle"` ShuffleNet and the plain one of
 * the same groups, scale and resolution. A comparison the card lacks is said
 * to be missing. Throws {@link ReportError} when a row names a model the card
 * lacks, does not cover the whole test set, or disagrees with the card about
 * torch's accuracy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeReport } from "./accuracy_report.ts";
 * const report = makeReport({ models: [], predictions: new Map(), labels: new Uint8Array(1), rows: [], training: new Map(), cardPath: "card.json", svgLink: "accuracy.svg" });
 * assert.match(report.regions.mobilenet, /has no full-convolution MobileNet/);
 * assert(report.svg.startsWith("<svg"));
 * ```
 */
export function makeReport(input: ReportInput): Report {
  const networks = input.models.map((entry): Network => {
    const predictions = input.predictions.get(entry.name);
    if (predictions === undefined) {
      throw new ReportError("predictions", entry.name, "has no predictions for this model");
    }
    return { entry, predictions, rows: input.rows.filter((r) => r.model === entry.name) };
  });
  checkRows(networks, input.rows);
  const context: Context = {
    networks,
    backends: [...new Set(input.rows.map((r) => r.backend))],
    labels: input.labels,
  };
  const sections = {
    networks: networksSection(context, input.training, input.cardPath),
    mobilenet: tableFourSection(context),
    width: widthSection(context),
    shufflenet: tableThreeSection(context),
  };
  const findings = Object.values(sections).flatMap((s) => s.findings);
  const pairs = Object.values(sections).flatMap((s) => s.pairs)
    .map(([a, b]) => [label(a.entry), label(b.entry)] as const);
  const plotted = networks.map((n): PlotPoint => ({
    label: label(n.entry),
    multiplyAdds: n.entry.cost.multiplyAdds,
    accuracy: 100 * torchAccuracy(n),
    family: plotFamily(n.entry),
  }));
  const plot = networks.length === 0 ? "The card has no networks to plot." : [
    `![Torch's test accuracy against multiply-adds per image, log scale, for every network of ` +
    `the card](${input.svgLink})`,
    `Torch's test accuracy of each network of the card against its multiply-adds per image (log ` +
    `scale); dashed lines join the two networks of each ablation. Our engine's accuracies are ` +
    `torch's to within the margins of the first table.`,
  ].join("\n\n");
  return {
    regions: {
      networks: sections.networks.markdown,
      mobilenet: sections.mobilenet.markdown,
      width: sections.width.markdown,
      shufflenet: sections.shufflenet.markdown,
      plot,
      findings: findings.length === 0
        ? "No findings: the card has no networks evaluated or compared."
        : findings.map((f) => `- ${f}`).join("\n"),
    },
    svg: accuracyPlot(plotted, pairs),
  };
}

// ---------------------------------------------------------------------------
// The plot.

/** How a point is drawn: colour by architecture, filled for the paper's design, hollow for the ablation. */
export type PlotFamily =
  | "mobilenet"
  | "mobilenet-full-conv"
  | "shufflenet"
  | "shufflenet-no-shuffle";

/** One network in {@link accuracyPlot}. */
export interface PlotPoint {
  /** Drawn beside the point; also how `pairs` name it. */
  readonly label: string;
  readonly multiplyAdds: number;
  /** Percent, 0–100. */
  readonly accuracy: number;
  readonly family: PlotFamily;
}

interface Style {
  readonly colour: string;
  readonly filled: boolean;
  readonly shape: "circle" | "triangle";
  readonly legend: string;
}

const BLUE = "#1f5fa8";
const RED = "#c0392b";
const FAMILIES: Readonly<Record<PlotFamily, Style>> = {
  mobilenet: { colour: BLUE, filled: true, shape: "circle", legend: "MobileNet v1" },
  "mobilenet-full-conv": {
    colour: BLUE,
    filled: false,
    shape: "circle",
    legend: "MobileNet v1, full convolutions",
  },
  shufflenet: { colour: RED, filled: true, shape: "triangle", legend: "ShuffleNet v1" },
  "shufflenet-no-shuffle": {
    colour: RED,
    filled: false,
    shape: "triangle",
    legend: "ShuffleNet v1, no shuffle",
  },
};

/** The canvas, the margins around the plot area, and the font size, in pixels. */
const CANVAS = { width: 800, height: 460, left: 64, right: 24, top: 56, bottom: 56, font: 12 };

/** A sans-serif glyph's mean width per pixel of font size, for placing labels without a renderer. */
const GLYPH_WIDTH = 0.62;

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** One SVG element: numbers rounded to 0.1 px, so that the output is stable and short. */
function element(
  name: string,
  attributes: Readonly<Record<string, string | number>>,
  text?: string,
): string {
  const open = [
    name,
    ...Object.entries(attributes).map(([key, value]) =>
      `${key}="${typeof value === "number" ? Math.round(value * 10) / 10 : escapeXml(value)}"`
    ),
  ].join(" ");
  return text === undefined ? `<${open}/>` : `<${open}>${escapeXml(text)}</${name}>`;
}

/** A tick step of 1, 2 or 5 × 10^k giving at most 10 ticks over `span`. */
function niceStep(span: number): number {
  const base = 10 ** Math.floor(Math.log10(span / 4));
  return [1, 2, 5].map((m) => m * base).find((step) => span / step <= 10) ?? 10 * base;
}

function marker(family: PlotFamily, x: number, y: number): string {
  const { colour, filled, shape } = FAMILIES[family];
  const paint: Record<string, string | number> = filled
    ? { fill: colour, stroke: colour }
    : { fill: "white", stroke: colour, "stroke-width": 2 };
  if (shape === "circle") return element("circle", { cx: x, cy: y, r: 5, ...paint });
  const corners = [[x, y - 6.5], [x - 6, y + 4.5], [x + 6, y + 4.5]]
    .map(([a, b]) => `${Math.round(a * 10) / 10},${Math.round(b * 10) / 10}`).join(" ");
  return element("polygon", { points: corners, ...paint });
}

/** A text's box `[left, top, right, bottom]` for an anchor at `x`, baseline `y`. */
type Box = readonly [number, number, number, number];

function textBox(x: number, y: number, anchor: string, text: string): Box {
  const w = GLYPH_WIDTH * CANVAS.font * text.length;
  const left = anchor === "start" ? x : anchor === "end" ? x - w : x - w / 2;
  return [left, y - CANVAS.font, left + w, y + 3];
}

function overlaps(a: Box, b: Box): boolean {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

/**
 * Accuracy (%) against multiply-adds (log scale) as a standalone SVG: one
 * marker per point (colour by architecture, hollow for an ablated network),
 * its label placed where it overlaps neither another label nor a marker when
 * one of six spots around it allows, a dashed line between the two points
 * of each pair, and a legend above the plot. Deterministic: the same points
 * give the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accuracyPlot } from "./accuracy_report.ts";
 * const svg = accuracyPlot([
 *   { label: "a", multiplyAdds: 2e5, accuracy: 85, family: "mobilenet" },
 *   { label: "b", multiplyAdds: 3e6, accuracy: 91.5, family: "shufflenet" },
 * ], [["a", "b"]]);
 * assert(svg.includes(">a</text>") && svg.includes("stroke-dasharray"));
 * ```
 */
export function accuracyPlot(
  points: readonly PlotPoint[],
  pairs: readonly (readonly [string, string])[] = [],
): string {
  const { width: w, height: h, left, right, top, bottom, font } = CANVAS;
  const plotW = w - left - right;
  const plotH = h - top - bottom;
  // Whole decades on x; on y the data's range widened to whole steps, half a step of margin.
  const logs = points.map((p) => Math.log10(p.multiplyAdds));
  const accuracies = points.map((p) => p.accuracy);
  const x0 = points.length === 0 ? 5 : Math.floor(Math.min(...logs));
  const x1 = points.length === 0 ? 7 : Math.max(Math.ceil(Math.max(...logs)), x0 + 1);
  const low = points.length === 0 ? 80 : Math.min(...accuracies);
  const high = points.length === 0 ? 100 : Math.max(...accuracies);
  const step = niceStep(Math.max(high - low, 1));
  const y0 = Math.floor((low - step / 2) / step) * step;
  const y1 = Math.ceil((high + step / 2) / step) * step;
  const px = (multiplyAdds: number) => left + (Math.log10(multiplyAdds) - x0) / (x1 - x0) * plotW;
  const py = (accuracy: number) => top + (y1 - accuracy) / (y1 - y0) * plotH;

  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" ` +
    `viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="${font}">`,
    element("title", {}, "Test accuracy against multiply-adds"),
    element(
      "desc",
      {},
      points.map((p) => `${p.label}: ${p.accuracy.toFixed(2)} %, ${p.multiplyAdds} multiply-adds`)
        .join("; "),
    ),
    element("rect", { width: w, height: h, fill: "white" }),
  ];
  for (let k = x0; k <= x1; k++) {
    for (const m of k === x1 ? [1] : [1, 2, 5]) {
      const x = px(m * 10 ** k);
      out.push(
        element("line", {
          x1: x,
          y1: top,
          x2: x,
          y2: top + plotH,
          stroke: m === 1 ? "#ccc" : "#eee",
        }),
        element(
          "text",
          { x, y: top + plotH + 18, "text-anchor": "middle", fill: "#333" },
          count(m * 10 ** k, true),
        ),
      );
    }
  }
  for (let i = 0; y0 + i * step <= y1 + step / 1e6; i++) {
    const value = y0 + i * step;
    const y = py(value);
    out.push(
      element("line", { x1: left, y1: y, x2: left + plotW, y2: y, stroke: "#eee" }),
      element(
        "text",
        { x: left - 8, y: y + 4, "text-anchor": "end", fill: "#333" },
        String(Number(value.toFixed(6))),
      ),
    );
  }
  out.push(
    element("rect", { x: left, y: top, width: plotW, height: plotH, fill: "none", stroke: "#888" }),
    element(
      "text",
      { x: left + plotW / 2, y: h - 12, "text-anchor": "middle", fill: "#111" },
      "multiply-adds per image (log scale)",
    ),
    element(
      "text",
      {
        transform: `translate(16 ${top + plotH / 2}) rotate(-90)`,
        "text-anchor": "middle",
        fill: "#111",
      },
      "torch test accuracy (%)",
    ),
  );
  // The legend, above the plot: the families present, left to right.
  let legendX = left;
  for (const family of Object.keys(FAMILIES) as PlotFamily[]) {
    if (!points.some((p) => p.family === family)) continue;
    const { legend } = FAMILIES[family];
    out.push(
      marker(family, legendX + 6, 24),
      element("text", { x: legendX + 16, y: 28, fill: "#111" }, legend),
    );
    legendX += 28 + GLYPH_WIDTH * font * legend.length;
  }
  const at = new Map(points.map((p) => [p.label, [px(p.multiplyAdds), py(p.accuracy)]] as const));
  for (const [a, b] of pairs) {
    const [from, to] = [at.get(a), at.get(b)];
    if (from === undefined || to === undefined) continue;
    out.push(element("line", {
      x1: from[0],
      y1: from[1],
      x2: to[0],
      y2: to[1],
      stroke: "#777",
      "stroke-dasharray": "4 3",
    }));
  }
  // Labels, greedily, highest point first: the first of six spots around the
  // point that stays inside the plot clear of every marker and placed label.
  const taken: Box[] = [...at.values()].map(([x, y]) => [x - 7, y - 7, x + 7, y + 7]);
  const inside = (b: Box) =>
    b[0] >= left && b[2] <= left + plotW && b[1] >= top && b[3] <= top + plotH;
  const labels: string[] = [];
  const byHeight = [...points].sort((a, b) =>
    b.accuracy - a.accuracy || a.multiplyAdds - b.multiplyAdds
  );
  for (const p of byHeight) {
    const [x, y] = at.get(p.label)!;
    const spots: [number, number, string][] = [
      [x + 9, y + 4, "start"],
      [x - 9, y + 4, "end"],
      [x, y - 10, "middle"],
      [x, y + 19, "middle"],
      [x + 9, y - 9, "start"],
      [x + 9, y + 17, "start"],
    ];
    const clear = spots.find(([sx, sy, anchor]) => {
      const box = textBox(sx, sy, anchor, p.label);
      return inside(box) && !taken.some((t) => overlaps(t, box));
    }) ?? spots[0];
    taken.push(textBox(clear[0], clear[1], clear[2], p.label));
    labels.push(
      element("text", { x: clear[0], y: clear[1], "text-anchor": clear[2], fill: "#111" }, p.label),
    );
  }
  for (const p of points) out.push(marker(p.family, ...at.get(p.label)!));
  out.push(...labels, "</svg>", "");
  return out.join("\n");
}

// ---------------------------------------------------------------------------
// The doc.

/**
 * Replaces the body of each named region of `doc` — the lines between
 * `<!-- accuracy_report:NAME -->` and `<!-- /accuracy_report:NAME -->` —
 * with the given Markdown, keeping the markers so that the next run finds
 * them. Throws {@link ReportError} (field `doc`) naming a region whose
 * markers are missing, repeated or out of order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceRegions } from "./accuracy_report.ts";
 * const doc = "# A\n\n<!-- accuracy_report:plot -->\nold\n<!-- /accuracy_report:plot -->\n";
 * assert.equal(
 *   replaceRegions(doc, { plot: "new" }),
 *   "# A\n\n<!-- accuracy_report:plot -->\n\nnew\n\n<!-- /accuracy_report:plot -->\n",
 * );
 * ```
 */
export function replaceRegions(doc: string, regions: Readonly<Record<string, string>>): string {
  let out = doc;
  for (const [name, body] of Object.entries(regions)) {
    const open = `<!-- accuracy_report:${name} -->`;
    const close = `<!-- /accuracy_report:${name} -->`;
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (
      start < 0 || end < start || out.indexOf(open, start + 1) >= 0 ||
      out.indexOf(close, end + 1) >= 0
    ) {
      throw new ReportError("doc", name, `needs one ${open} followed by one ${close}`);
    }
    out = `${out.slice(0, start + open.length)}\n\n${body}\n\n${out.slice(end)}`;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The command.

/** What {@link main} does; {@link parseReportArgs} makes it from the command line. */
export interface ReportOptions {
  readonly card: string;
  /** A saved `deno task evaluate --json`, or `undefined` to evaluate here. */
  readonly evaluation?: string;
  /** Comma-separated backends to evaluate on here. */
  readonly backends: string;
  readonly data: string;
  readonly doc: string;
  readonly svg: string;
}

/**
 * Parses the command line strictly: an unknown flag, a positional argument
 * an empty path or an unknown backend (checked by tools/evaluate.ts's own
 * parser) throws {@link ReportError} naming the flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReportArgs, ReportError } from "./accuracy_report.ts";
 * assert.equal(parseReportArgs(["--evaluation", "rows.json"]).evaluation, "rows.json");
 * assert.throws(() => parseReportArgs(["--doc", ""]), ReportError);
 * ```
 */
export function parseReportArgs(args: readonly string[]): ReportOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        card: { type: "string", default: DEFAULT_CARD },
        evaluation: { type: "string" },
        backend: { type: "string", default: DEFAULT_BACKENDS },
        data: { type: "string", default: FASHION_MNIST_DIR },
        doc: { type: "string", default: DEFAULT_DOC },
        svg: { type: "string", default: DEFAULT_SVG },
      },
    }));
  } catch (error) {
    throw new ReportError("arguments", args, (error as Error).message);
  }
  for (const key of ["card", "evaluation", "backend", "data", "doc", "svg"] as const) {
    if (values[key] === "") throw new ReportError(`--${key}`, "", "must not be empty");
  }
  try {
    parseEvaluateArgs(["--backend", values.backend]);
  } catch (error) {
    throw new ReportError("--backend", values.backend, (error as Error).message);
  }
  return {
    card: values.card,
    evaluation: values.evaluation,
    backends: values.backend,
    data: values.data,
    doc: values.doc,
    svg: values.svg,
  };
}

function readJson(path: string, field: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ReportError(field, path, `cannot be read as JSON: ${(error as Error).message}`);
  }
}

/** Repository-relative when inside the repository, for the doc to show. */
function shown(path: string): string {
  const inside = relative(ROOT, path);
  return inside.startsWith("..") ? path : inside;
}

/**
 * Makes the report for `options` and writes it: the doc's regions and the
 * SVG, then `deno fmt` on both. Returns what it wrote. `progress`
 * receives the evaluation's progress lines. Throws `CardError` for a card
 * that cannot be read or does not match its files, `DatasetError` without
 * the test set, {@link ReportError} for an evaluation or doc that does not fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CardError } from "./evaluate.ts";
 * import { parseReportArgs, writeReport } from "./accuracy_report.ts";
 * const options = parseReportArgs(["--card", "/nonexistent/card.json"]);
 * await assert.rejects(writeReport(options), CardError);
 * ```
 */
export async function writeReport(
  options: ReportOptions,
  progress: (line: string) => void = () => {},
): Promise<{ doc: string; svg: string }> {
  const loaded = loadCard(options.card);
  const rows = options.evaluation === undefined
    ? await evaluate(
      parseEvaluateArgs([
        "--card",
        options.card,
        "--backend",
        options.backends,
        "--batch",
        "1",
        "--data",
        options.data,
      ]),
      progress,
    )
    : parseEvaluation(readJson(options.evaluation, "--evaluation"));
  const report = makeReport({
    models: loaded.map((m) => m.entry),
    predictions: new Map(loaded.map((m) => [m.entry.name, m.predictions])),
    labels: readTestSet(options.data).labels,
    rows,
    training: parseTraining(readJson(options.card, "--card")),
    cardPath: shown(options.card),
    svgLink: relative(dirname(options.doc), options.svg),
  });
  const doc = replaceRegions(readFileSync(options.doc, "utf8"), report.regions);
  writeFileSync(options.doc, doc);
  writeFileSync(options.svg, report.svg);
  // deno fmt formats SVG too, and `deno task test` checks both files; the
  // root config, since a --doc or --svg outside the repository would get defaults.
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", "--config", join(ROOT, "deno.json"), options.doc, options.svg],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!fmt.success) {
    throw new ReportError("doc", [options.doc, options.svg], "deno fmt failed on them");
  }
  return { doc: options.doc, svg: options.svg };
}

/**
 * The command: parses `args`, writes the report and says where. Returns the
 * exit status: 0, 1 when anything fails (the error's class and message on
 * stderr), 2 for a command-line mistake.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./accuracy_report.ts";
 * assert.equal(await main(["--bogus"]), 2);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let options: ReportOptions;
  try {
    options = parseReportArgs(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const written = await writeReport(options, (line) => console.error(line));
    console.log(`wrote ${shown(written.doc)} and ${shown(written.svg)}`);
    return 0;
  } catch (error) {
    console.error(`${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
