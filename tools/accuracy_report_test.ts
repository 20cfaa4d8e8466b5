// tools/accuracy_report.ts on a made-up seven-network card (the smoke model's entry seven times
// over, with the committed networks' names, options and ablations, and predictions drawn at chosen
// accuracies), so that every table and finding is exercised before the real card exists; and end
// to end on the smoke card, which needs Debian's dataset-fashion-mnist (skipped, saying so,
// without it).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CardModel, type EvaluationRow, FASHION_MNIST_DIR, parseCard } from "./evaluate.ts";
import {
  accuracyPlot,
  makeReport,
  MOBILENET_PAPER,
  pairedComparison,
  parseEvaluation,
  parseReportArgs,
  parseTraining,
  REGIONS,
  replaceRegions,
  ReportError,
  type ReportInput,
  SHUFFLENET_PAPER_TABLE3,
} from "./accuracy_report.ts";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const SMOKE_CARD = here("./train/testdata/card.json");
const DOC = here("../docs/accuracy.md");
const smokeJson = () => JSON.parse(readFileSync(SMOKE_CARD, "utf8"));
const dataset = existsSync(join(FASHION_MNIST_DIR, "t10k-labels-idx1-ubyte.gz"));
// The end-to-end run writes its doc and plot into a temporary directory.
const writable = Deno.permissions.querySync({ name: "write" }).state === "granted";
if (!dataset || !writable) {
  console.warn(
    "SKIPPED: the end-to-end run on the smoke card: " +
      (dataset
        ? "it needs --allow-write"
        : `the test set is not at ${FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist)`),
  );
}

/** A deterministic stream of numbers in [0, 1): a 32-bit linear congruential generator. */
function stream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const LABELS = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 10);

/** The committed networks' names and options, each with the accuracy its predictions are drawn at. */
const NETWORKS: [string, Partial<CardModel["options"]>, CardModel["ablation"], number, number][] = [
  ["mobilenet_v1_0.25_32", { alpha: 0.25 }, "none", 0.91, 834_688],
  ["mobilenet_v1_0.125_32", { alpha: 0.125 }, "none", 0.89, 290_000],
  ["mobilenet_v1_fullconv_0.125_32", { alpha: 0.125 }, "full-conv", 0.90, 1_900_000],
  ["shufflenet_v1_0.5x_g3_32", { groups: 3, scale: 0.5 }, "none", 0.905, 762_144],
  ["shufflenet_v1_0.5x_g3_noshuffle_32", { groups: 3, scale: 0.5 }, "no-shuffle", 0.90, 762_144],
  ["shufflenet_v1_0.5x_g8_32", { groups: 8, scale: 0.5 }, "none", 0.91, 817_920],
  ["shufflenet_v1_0.5x_g8_noshuffle_32", { groups: 8, scale: 0.5 }, "no-shuffle", 0.88, 817_920],
];

/** The made-up card's report input; `change` edits the rows before use. */
function sevenNetworks(): ReportInput {
  const [smoke] = parseCard(smokeJson());
  const random = stream(7);
  const predictions = new Map<string, Uint8Array>();
  const models = NETWORKS.map(([name, options, ablation, accuracy, multiplyAdds]): CardModel => {
    const predicted = LABELS.map((label) => random() < accuracy ? label : (label + 1) % 10);
    predictions.set(name, predicted);
    const right = predicted.filter((p, i) => p === LABELS[i]).length;
    return {
      ...smoke,
      name,
      file: `${name}.onnx`,
      architecture: name.startsWith("mobilenet") ? "mobilenet_v1" : "shufflenet_v1",
      options: { ...options, resolution: 32, classes: 10 },
      ablation,
      torch: { testAccuracy: right / LABELS.length, testImages: LABELS.length },
      cost: { multiplyAdds, parameters: Math.round(multiplyAdds / 4) },
    };
  });
  const rows: EvaluationRow[] = models.flatMap((m) =>
    (["js", "wasm"] as const).map((backend) => ({
      model: m.name,
      backend,
      accuracy: m.torch.testAccuracy + (backend === "wasm" ? 0.0001 : 0),
      torchAccuracy: m.torch.testAccuracy,
      agreement: backend === "wasm" ? 0.9999 : 1,
      imagesPerSecond: 1000,
      images: LABELS.length,
      batch: null,
      batchImagesPerSecond: null,
    }))
  );
  const training = new Map(
    models.map((m) => [m.name, { command: "train.py", epochs: 12, seed: 1, trainSeconds: 420 }]),
  );
  return {
    models,
    predictions,
    labels: LABELS,
    rows,
    training,
    cardPath: "models/pretrained/fashion-mnist/card.json",
    svgLink: "accuracy.svg",
  };
}

Deno.test("pairedComparison: discordant counts, paired interval, exact McNemar p", () => {
  // 10 images only the first gets right, 20 only the second, 970 both: McNemar's exact
  // two-sided p for 10 against 20 is 0.098737 (scipy.stats.binomtest(10, 30).pvalue).
  const labels = new Uint8Array(1000);
  const first = new Uint8Array(1000);
  const second = new Uint8Array(1000);
  for (let i = 0; i < 20; i++) first[i] = 1;
  for (let i = 20; i < 30; i++) second[i] = 1;
  const c = pairedComparison(first, second, labels);
  assert.deepEqual([c.onlyFirst, c.onlySecond], [10, 20]);
  assert.equal(c.difference, 1);
  assert(Math.abs(c.p - 0.0987371467) < 1e-9, String(c.p));
  // Var = ((b + c)/n − d²)/n = (0.03 − 0.0001)/1000.
  const half = 100 * 1.959964 * Math.sqrt((0.03 - 0.0001) / 1000);
  assert(
    Math.abs(c.high - c.difference - half) < 1e-9 && Math.abs(c.difference - c.low - half) < 1e-9,
  );
  // Thousands of discordant images: summed in logs, no underflow (926 against 1006: p 0.072259).
  const many = new Uint8Array(10_000);
  const a = new Uint8Array(10_000);
  const b = new Uint8Array(10_000);
  for (let i = 0; i < 926; i++) a[i] = 1;
  for (let i = 926; i < 1932; i++) b[i] = 1;
  assert(Math.abs(pairedComparison(a, b, many).p - 0.0722586257) < 1e-9);
  assert.equal(pairedComparison(labels, labels, labels).p, 1);
  assert.throws(() => pairedComparison(first, second.subarray(1), labels), /predictions/);
});

Deno.test("the papers' figures: Table 4, Table 6 (costs from PAPER_FIGURES), Table 3", () => {
  assert.deepEqual(
    [MOBILENET_PAPER.table4.full.top1, MOBILENET_PAPER.table4.separable.multiplyAddsMillions],
    [0.717, 569],
  );
  assert.deepEqual(
    MOBILENET_PAPER.table6.map((
      r,
    ) => [r.alpha, r.top1, r.multiplyAddsMillions, r.parametersMillions]),
    [[1, 0.706, 569, 4.2], [0.75, 0.684, 325, 2.6], [0.5, 0.637, 149, 1.3], [0.25, 0.506, 41, 0.5]],
  );
  // Every Table 3 row: the shuffle lowers the error, more at g = 8 than at g = 3.
  for (const scale of [1, 0.5, 0.25]) {
    const [g3, g8] = [3, 8].map((g) =>
      SHUFFLENET_PAPER_TABLE3.find((r) => r.scale === scale && r.groups === g)!
    );
    assert(g3.errorShuffle < g3.errorNoShuffle && g8.errorShuffle < g8.errorNoShuffle);
    assert(g8.errorNoShuffle - g8.errorShuffle > g3.errorNoShuffle - g3.errorShuffle);
  }
});

Deno.test("makeReport: the seven networks, each comparison found by its card fields", () => {
  const input = sevenNetworks();
  const { regions, svg } = makeReport(input);
  assert.deepEqual(Object.keys(regions), [...REGIONS]);
  // Every network, torch / js / wasm, the least agreement.
  const networks = regions.networks.split("\n").filter((line) => line.startsWith("| `"));
  assert.equal(networks.length, 7);
  const g8 = input.models[5];
  const acc = (100 * g8.torch.testAccuracy).toFixed(2);
  const wasm = (100 * (g8.torch.testAccuracy + 0.0001)).toFixed(2);
  assert(networks[5].includes(`${acc} / ${acc} / ${wasm} %`), networks[5]);
  assert(networks[5].includes("99.99 %") && networks[5].includes("12, 1 | 7.0 min"));
  // Table 4: full-conv α 0.125 against plain α 0.125, not α 0.25.
  assert.match(
    regions.mobilenet,
    /\| full 3×3 convolutions \| `mobilenet_v1_fullconv_0.125_32` \|/,
  );
  assert.match(regions.mobilenet, /\| depthwise separable \| `mobilenet_v1_0.125_32` \|/);
  assert.match(regions.mobilenet, /÷ 6\.55 \| ÷ 6\.55 \| +\| −1\.1 pp \| ÷ 8\.55 \| ÷ 6\.98 \|/);
  // Table 6: widest first, then the paper's four rows.
  assert(
    regions.width.indexOf("mobilenet_v1_0.25_32") < regions.width.indexOf("mobilenet_v1_0.125_32"),
  );
  assert.match(regions.width, /\| 0\.25 MobileNet-224 \| 0\.25 \| 50\.6 % \| 41 M \| 0\.5 M \|/);
  // Table 3: g = 3 then g = 8, as errors, beside the paper's 0.5× rows.
  const shuffle = regions.shufflenet.split("\n").filter((line) => line.startsWith("| `"));
  assert.equal(shuffle.length, 2);
  assert.match(shuffle[0], /g3_32` \| 3 \|.*\| 45\.7 % \(0\.5×\) \| 43\.2 % \| −2\.5 pp \|$/);
  assert.match(shuffle[1], /g8_32` \| 8 \|.*\| 48\.1 % \(0\.5×\) \| 42\.3 % \| −5\.8 pp \|$/);
  // The findings: one per comparison, the engine's first, signs as drawn.
  const findings = regions.findings.split("\n");
  assert.equal(findings.length, 6);
  assert.match(findings[0], /^- \*\*Our engine reproduces torch\.\*\* .*within 0\.01 pp/);
  assert.match(findings[1], /Table 4.*As in the paper, the separable network is the less accurate/);
  assert.match(
    findings[2],
    /Table 6.*1\.0 → 0\.5: −6\.9 pp for 3\.82× fewer; 0\.5 → 0\.25: −13\.1 pp/,
  );
  assert.match(findings[4], /g = 8 .*It helps, as in the paper\. .*excludes 0/);
  assert.match(findings[5], /^- \*\*Does the shuffle help more as g grows\?\*\*/);
  // The plot: seven markers, three ablation lines, every label.
  assert.equal((svg.match(/<(circle|polygon) /g) ?? []).length, 7 + 4); // + the legend's four
  assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 3);
  for (const label of ["full-conv MobileNet α 0.125", "ShuffleNet 0.5× g8 no shuffle"]) {
    assert(svg.includes(`>${label}</text>`), label);
  }
});

Deno.test("makeReport: the engine row that falls short is named so, and missing pairs are said", () => {
  const input = sevenNetworks();
  const rows = input.rows.map((r, i) => i === 3 ? { ...r, agreement: 0.99 } : r);
  const short = makeReport({ ...input, rows });
  assert.match(short.regions.findings, /^- \*\*Our engine falls short of 99\.9 % agreement/);
  const onlyShuffleNets = makeReport({
    ...input,
    models: input.models.filter((m) => m.architecture === "shufflenet_v1"),
    rows: input.rows.filter((r) => r.model.startsWith("shufflenet")),
  });
  assert.match(onlyShuffleNets.regions.mobilenet, /^The card has no full-convolution MobileNet/);
  assert.match(onlyShuffleNets.regions.width, /^The card has no plain MobileNet\./);
});

Deno.test("makeReport: rows of another card, a partial test set or an unknown model are refused", () => {
  const input = sevenNetworks();
  const cases: [(row: EvaluationRow) => EvaluationRow, string][] = [
    [(r) => ({ ...r, model: "resnet50" }), "evaluation[0].model"],
    [(r) => ({ ...r, images: 500 }), "evaluation[0].images"],
    [(r) => ({ ...r, torchAccuracy: r.torchAccuracy + 0.01 }), "evaluation[0].torchAccuracy"],
  ];
  for (const [change, field] of cases) {
    const rows = input.rows.map((r, i) => i === 0 ? change(r) : r);
    assert.throws(
      () => makeReport({ ...input, rows }),
      (e: unknown) => e instanceof ReportError && e.field === field,
      field,
    );
  }
});

Deno.test("accuracyPlot: labels of coincident points do not overlap, output is deterministic", () => {
  const points = [
    { label: "with", multiplyAdds: 8e5, accuracy: 90.4, family: "shufflenet" },
    { label: "without", multiplyAdds: 8e5, accuracy: 90.35, family: "shufflenet-no-shuffle" },
  ] as const;
  const svg = accuracyPlot(points, [["with", "without"]]);
  assert.equal(svg, accuracyPlot(points, [["with", "without"]]));
  const ys = [
    ...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" text-anchor="[a-z]+" fill="#111">with/g),
  ]
    .map((m) => Number(m[1]));
  assert.equal(ys.length, 2); // "with" and "without"
  assert(Math.abs(ys[0] - ys[1]) >= 12 || svg.includes('text-anchor="end" fill="#111">with'), svg);
  assert(svg.includes("<title>") && svg.includes("100 k") && svg.includes("1 M"));
});

Deno.test("replaceRegions: fills each region, keeps its markers, twice gives the same text", () => {
  const doc = "# A\n\n<!-- accuracy_report:plot -->\nold\n<!-- /accuracy_report:plot -->\n\ntail\n";
  const once = replaceRegions(doc, { plot: "new" });
  assert.equal(once, replaceRegions(once, { plot: "new" }));
  assert(once.endsWith("<!-- /accuracy_report:plot -->\n\ntail\n"));
  for (const bad of [doc.replace("<!-- /accuracy_report:plot -->", ""), doc + doc]) {
    assert.throws(() => replaceRegions(bad, { plot: "x" }), ReportError);
  }
  // The committed doc has every region exactly once.
  const committed = readFileSync(DOC, "utf8");
  replaceRegions(committed, Object.fromEntries(REGIONS.map((name) => [name, "x"])));
});

Deno.test("parsers: flags, evaluation rows and the card's training, each error naming its field", () => {
  assert.equal(parseReportArgs([]).backends, "js,wasm");
  const bad: [string[], string][] = [
    [["--bogus"], "arguments"],
    [["positional"], "arguments"],
    [["--svg", ""], "--svg"],
    [["--backend", "gpu"], "--backend"],
  ];
  for (const [args, field] of bad) {
    assert.throws(
      () => parseReportArgs(args),
      (e: unknown) => e instanceof ReportError && e.field === field,
      args.join(" "),
    );
  }
  const [row] = sevenNetworks().rows;
  assert.deepEqual(parseEvaluation(JSON.parse(JSON.stringify([row]))), [row]);
  for (
    const [change, field] of [
      [{ backend: "" }, "evaluation[0].backend"],
      [{ agreement: 1.5 }, "evaluation[0].agreement"],
      [{ images: 0 }, "evaluation[0].images"],
    ] as const
  ) {
    assert.throws(
      () => parseEvaluation([{ ...row, ...change }]),
      (e: unknown) => e instanceof ReportError && e.field === field,
      field,
    );
  }
  assert.throws(() => parseEvaluation([]), ReportError);
  const training = parseTraining(smokeJson()).get("mobilenet_v1_0.1_32");
  assert.deepEqual([training?.epochs, training?.seed, training?.trainSeconds], [3, 1, 5.4]);
  const card = smokeJson();
  delete card.models[0].training.seed;
  assert.throws(() => parseTraining(card), /models\[0\]\.training\.seed/);
});

async function cli(...args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      here("./accuracy_report.ts"),
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

Deno.test("command line: --help, a usage error, a missing card", async () => {
  const help = await cli("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: deno run /);
  const usage = await cli("--doc");
  assert.equal(usage.code, 2);
  const missing = await cli("--card", "/nonexistent/card.json");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^CardError: card = "\/nonexistent\/card.json": cannot be read/);
});

Deno.test({
  name: "end to end on the smoke card: a saved evaluation, formatted output, the same twice",
  ignore: !dataset || !writable,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const doc = join(dir, "accuracy.md");
      const svg = join(dir, "accuracy.svg");
      const rows = join(dir, "rows.json");
      await Deno.copyFile(DOC, doc);
      const [entry] = parseCard(smokeJson());
      const row = {
        model: entry.name,
        backend: "wasm",
        accuracy: entry.torch.testAccuracy,
        torchAccuracy: entry.torch.testAccuracy,
        agreement: 1,
        imagesPerSecond: 5000,
        images: 10_000,
        batch: null,
        batchImagesPerSecond: null,
      };
      await Deno.writeTextFile(rows, JSON.stringify([row]));
      const args = ["--card", SMOKE_CARD, "--evaluation", rows, "--doc", doc, "--svg", svg];
      const first = await cli(...args);
      assert.equal(first.code, 0, first.stderr);
      const [docOnce, svgOnce] = [await Deno.readTextFile(doc), await Deno.readTextFile(svg)];
      assert.match(
        docOnce,
        /\| `mobilenet_v1_0\.1_32` +\| none +\| +222 k \| +37\.9 k \| +72\.17 \/ 72\.17 % \|/,
      );
      assert.match(docOnce, /!\[[^\]]+\]\(accuracy\.svg\)/);
      assert(svgOnce.includes("MobileNet α 0.1"));
      assert.equal((await cli(...args)).code, 0);
      assert.equal(await Deno.readTextFile(doc), docOnce);
      assert.equal(await Deno.readTextFile(svg), svgOnce);
      const check = await new Deno.Command(Deno.execPath(), {
        args: ["fmt", "--check", "--config", here("../deno.json"), doc, svg],
        stdout: "null",
        stderr: "null",
      }).output();
      assert(check.success, "the written files are deno fmt clean");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
