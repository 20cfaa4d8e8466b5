import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encode as encodePng } from "npm:fast-png@8.0.0";
import onnxProto from "npm:onnx-proto@8.0.1";
import {
  decodeImage,
  ImageDecodeError,
  IMAGENET,
  type Normalization,
  preprocessImage,
} from "@mobileops/image";
import { InvalidArgumentError } from "@mobileops/core";
import { SafetensorsError, saveSafetensors, shufflenetV1 } from "@mobileops/models";
import { decodeOnnxTensor, loadOnnx, OnnxError, OnnxUnsupportedError } from "@mobileops/onnx";
import { BACKEND_NAMES } from "@mobileops/registry";
import { type CraftModel, craftModel } from "./packages/onnx/_craft.ts";
import { networkReference } from "./packages/onnx/_tolerance.ts";
import {
  CardError,
  DEFAULT_CARD,
  FASHION_MNIST_DIR,
  loadCard,
  readTestSet,
} from "./tools/evaluate.ts";
import { readSamples, SAMPLES_DIR } from "./tools/train/samples.ts";
import {
  type DemoReport,
  formatDemoReport,
  main,
  parseDemoArgs,
  runDemo,
  toFashionImage,
  UsageError,
} from "./demo.ts";

const SMALL = ["--model", "shufflenet", "--scale", "0.25", "--resolution", "64", "--runs", "2"];

Deno.test("demo: flags parse, and bad ones are usage errors", () => {
  const options = parseDemoArgs([...SMALL, "--backend", "js,wasm", "--json"]);
  assert.deepEqual(
    [
      options.model,
      options.scale,
      options.resolution,
      options.runs,
      options.backends,
      options.json,
    ],
    ["shufflenet", 0.25, 64, 2, ["js", "wasm"], true],
  );
  assert.deepEqual(parseDemoArgs([]).backends, []);
  for (
    const args of [
      ["--runs", "0"],
      ["--alpha", "wide"],
      ["--model", "resnet"],
      ["--weights", "w.safetensors"],
      ["--colour"],
    ]
  ) {
    assert.throws(() => parseDemoArgs(args), UsageError, args.join(" "));
  }
});

Deno.test("demo: reports costs, factorization costs, latency and top-5 on js", async () => {
  const report = await runDemo(parseDemoArgs([...SMALL, "--backend", "js"]));
  assert.equal(report.factorizationCosts[0].multiplyAdds, 442_368);
  const [model] = report.models;
  assert.equal(model.name, "shufflenet_v1_0.25x_g3_64");
  assert.match(model.weights, /^random \(seed 1\)/);
  const [run] = model.backends;
  assert.equal(run.backend, "js");
  assert.equal(run.runs, 2);
  assert.ok(run.medianMs <= run.p90Ms && run.firstRunMs > 0);
  assert.equal(run.maxAbsDiffToFirst, 0);
  assert.equal(run.top5.length, 5);
  assert.ok(run.top5.every((t, i) => i === 0 || t.probability <= run.top5[i - 1].probability));
  assert.ok(run.top5.every((t) => t.label === undefined));
  const text = formatDemoReport(report);
  assert.match(text, /first run .* median .* p90 .* over 2 runs/);
  assert.match(text, /random \(seed 1\)/);
});

Deno.test("demo: --weights and --image feed the model, labels are printed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const options = { groups: 3, scale: 0.25, resolution: 64 } as const;
    const source = shufflenetV1({ ...options, seed: 3 });
    const labels = Array.from({ length: 1000 }, (_, i) => `class${i}`);
    const weights = `${dir}/w.safetensors`;
    await Deno.writeFile(
      weights,
      saveSafetensors(source.withParameters(source.parameters, { source: "test", labels })),
    );
    const image = `${dir}/in.png`;
    const pixels = new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) % 256);
    await Deno.writeFile(image, encodePng({ width: 16, height: 16, data: pixels, channels: 3 }));
    const report = await runDemo(
      parseDemoArgs([...SMALL, "--backend", "js", "--weights", weights, "--image", image]),
    );
    const [model] = report.models;
    assert.equal(model.weights, `loaded from ${weights}`);
    assert.match(model.input, /in\.png, resized to 64×64/);
    const top = model.backends[0].top5[0];
    assert.equal(top.label, `class${top.index}`);
    assert.match(formatDemoReport(report), new RegExp(`${top.index} class${top.index} `));

    await Deno.writeFile(`${dir}/bad.png`, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]));
    await assert.rejects(
      runDemo(parseDemoArgs([...SMALL, "--backend", "js", "--image", `${dir}/bad.png`])),
      ImageDecodeError,
    );
    const other = shufflenetV1({ ...options, groups: 8 });
    await Deno.writeFile(weights, saveSafetensors(other));
    await assert.rejects(
      runDemo(parseDemoArgs([...SMALL, "--backend", "js", "--weights", weights])),
      SafetensorsError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("demo: bad model options and unknown backends fail with typed errors", async () => {
  // The demo checks --alpha's range itself now, before the builder would (ModelOptionError).
  assert.throws(
    () => parseDemoArgs(["--model", "mobilenet", "--alpha", "0", "--backend", "js"]),
    (e: unknown) => e instanceof UsageError && e.field === "--alpha" && e.value === 0,
  );
  await assert.rejects(runDemo(parseDemoArgs([...SMALL, "--backend", "tpu"])), UsageError);
  assert.equal(await main(["--model", "resnet"]), 2);
});

Deno.test("demo: --help prints the usage and exits 0 without running anything", async () => {
  const printed: string[] = [];
  const log = console.log;
  console.log = (line: string) => printed.push(line);
  try {
    assert.equal(await main(["--model", "mobilenet", "--help"]), 0);
  } finally {
    console.log = log;
  }
  assert.equal(printed.length, 1);
  assert.match(printed[0], /^usage: deno task demo/);
  assert.match(printed[0], /--weights FILE/);
  assert.match(printed[0], /--onnx FILE +run an ONNX file/);
  for (const flag of ["--input FILE", "--expected FILE", "--resize S", "--crop C", "--mean M"]) {
    assert.ok(printed[0].includes(flag), flag);
  }
});

/** Runs `body` with console.error silenced, returning what it printed. */
async function quietly<T>(body: () => Promise<T>): Promise<[T, string[]]> {
  const printed: string[] = [];
  const error = console.error;
  console.error = (line: string) => printed.push(line);
  try {
    return [await body(), printed];
  } finally {
    console.error = error;
  }
}

Deno.test("demo: numbers must be plain decimals within the demo's ranges", async () => {
  const refused: [string[], string, unknown][] = [
    [["--alpha", "0x10"], "--alpha", "0x10"],
    [["--alpha", "1e0"], "--alpha", "1e0"],
    [["--alpha", "0.5abc"], "--alpha", "0.5abc"],
    [["--alpha", ""], "--alpha", ""],
    [["--alpha", " 1"], "--alpha", " 1"],
    [["--alpha", "+1"], "--alpha", "+1"],
    [["--alpha", "NaN"], "--alpha", "NaN"],
    [["--alpha", "Infinity"], "--alpha", "Infinity"],
    [["--alpha", "2.01"], "--alpha", 2.01],
    [["--alpha", "16"], "--alpha", 16],
    [["--resolution", "0b1"], "--resolution", "0b1"],
    [["--resolution", "100"], "--resolution", 100],
    [["--resolution", "1056"], "--resolution", 1056],
    [["--resolution", "20000"], "--resolution", 20000],
    [["--groups", "5"], "--groups", 5],
    [["--groups", "3x"], "--groups", "3x"],
    [["--scale", "0.75"], "--scale", 0.75],
    [["--runs", "0"], "--runs", 0],
    [["--runs", "2.5"], "--runs", 2.5],
    [["--runs", "10001"], "--runs", 10001],
    [["--runs", "1e4"], "--runs", "1e4"],
    [["--weights", ""], "--weights", ""],
  ];
  for (const [args, field, value] of refused) {
    assert.throws(() => parseDemoArgs(args), (e: unknown) => {
      assert.ok(e instanceof UsageError && e instanceof InvalidArgumentError, `${args}: ${e}`);
      assert.deepEqual([e.field, e.value], [field, value], args.join(" "));
      return true;
    });
  }
  const widest = parseDemoArgs(["--alpha", "2", "--resolution", "1024", "--runs", "10000"]);
  assert.deepEqual([widest.alpha, widest.resolution, widest.runs], [2, 1024, 10000]);
  assert.deepEqual(parseDemoArgs(["--scale", "0.50", "--groups", "8"]).scale, 0.5);
  const [code, printed] = await quietly(() => main(["--alpha", "0x10"]));
  assert.equal(code, 2);
  assert.match(printed[0], /^--alpha = "0x10": must be a plain decimal number/);
  assert.match(printed[0], /\nusage: deno task demo/);
});

Deno.test("demo: arguments and options of the wrong type are usage errors", async () => {
  for (const args of [undefined, "--alpha", [1]]) {
    assert.throws(
      () => parseDemoArgs(args as never),
      (e: unknown) => e instanceof UsageError && e.field === "arguments",
    );
  }
  assert.equal((await quietly(() => main(undefined as never)))[0], 2);
  const options = parseDemoArgs([...SMALL, "--backend", "js"]);
  const bad: [unknown, string][] = [
    [null, "options"],
    [{ ...options, alhpa: 1 }, "options.alhpa"],
    [{ ...options, alpha: NaN }, "--alpha"],
    [{ ...options, resolution: "64" }, "--resolution"],
    [{ ...options, backends: "js" }, "--backend"],
    [{ ...options, json: "yes" }, "--json"],
  ];
  for (const [value, field] of bad) {
    await assert.rejects(
      runDemo(value as never),
      (e: unknown) => e instanceof UsageError && e.field === field,
    );
  }
  await assert.rejects(
    runDemo(options, "progress" as never),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === "progress",
  );
  assert.throws(
    () => formatDemoReport({ models: [] } as never),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === "report",
  );
});

Deno.test("demo: an image whose header claims 20000×20000 is refused before decoding", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Signature and IHDR only: 33 bytes that decode to 1.2 GB if nothing checks the header.
    const png = new Uint8Array(33);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(png.buffer).setUint32(16, 20000);
    new DataView(png.buffer).setUint32(20, 20000);
    png.set([8, 2], 24);
    const image = `${dir}/huge.png`;
    await Deno.writeFile(image, png);
    await assert.rejects(
      runDemo(parseDemoArgs([...SMALL, "--backend", "js", "--image", image])),
      (e: unknown) =>
        e instanceof ImageDecodeError && e.field === "[width, height]" &&
        e.message.includes("more than MAX_IMAGE_PIXELS"),
    );
    const [code, printed] = await quietly(() =>
      main([...SMALL, "--backend", "js", "--image", image])
    );
    assert.equal(code, 1);
    assert.match(printed.at(-1)!, /^ImageDecodeError: \[width, height\] = \[20000, 20000\]/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- --onnx ----

/** A committed fixture's path, as a user would type it. */
function testdata(network: string, file: string): string {
  return fileURLToPath(new URL(`./packages/onnx/testdata/${network}/${file}`, import.meta.url));
}

/** Runs `main` with console.log and console.error captured: exit code, stdout lines, stderr lines. */
async function capture(args: string[]): Promise<[number, string[], string[]]> {
  const out: string[] = [];
  const log = console.log;
  console.log = (line: string) => out.push(line);
  try {
    const [code, err] = await quietly(() => main(args));
    return [code, out, err];
  } finally {
    console.log = log;
  }
}

/** `main(args)` with `--json`, which must exit 0: the report. */
async function jsonReport(args: string[]): Promise<DemoReport> {
  const [code, out, err] = await capture([...args, "--runs", "1", "--json"]);
  assert.equal(code, 0, err.join("\n"));
  return JSON.parse(out.join("\n"));
}

/** A serialized FLOAT TensorProto. */
function tensorBytes(shape: number[], data: ArrayLike<number>): Uint8Array {
  return onnxProto.onnx.TensorProto.encode({
    name: "t",
    dims: shape,
    dataType: 1,
    floatData: Array.from(data),
  }).finish();
}

/** x [1, 3, H, W] → GlobalAveragePool → Flatten: the per-channel means of the input, [1, 3]. */
function channelMeans(shape: CraftModel["input"]["shape"]): Uint8Array {
  return craftModel({
    nodes: [
      { op: "GlobalAveragePool", inputs: ["x"], outputs: ["pooled"] },
      { op: "Flatten", inputs: ["pooled"], outputs: ["y"] },
    ],
    input: { name: "x", shape },
    output: "y",
  });
}

/** Writes each `name → bytes` into a fresh directory, runs `body` with their paths, removes it. */
async function withFiles(
  files: Record<string, Uint8Array>,
  body: (paths: Record<string, string>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const paths: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(files)) {
      paths[name] = `${dir}/${name}`;
      await Deno.writeFile(paths[name], bytes);
    }
    await body(paths);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("demo --onnx: the fixtures' logits match torch's on every backend, fed the fixture input", async () => {
  // Torch's unfolded BatchNorm rounds 4 more times per layer (as packages/onnx/fixtures_test.ts).
  const torchRoundings = 4;
  for (const [network, kind] of [["mobilenet_v1", "bn_folded"], ["shufflenet_v1", "bn_kept"]]) {
    const [file, input, output] = [`${kind}.onnx`, "input_0.pb", "output_0.pb"]
      .map((name) => testdata(network, name));
    const report = await jsonReport(["--onnx", file, "--input", input, "--expected", output]);
    assert.deepEqual(report.factorizationCosts, []);
    const [model] = report.models;
    assert.equal(model.name, file);
    assert.match(model.input, /input_0\.pb, fed as ONNX input "image" \[1, 3, 64, 64\]$/);
    assert.equal(
      model.backends.length + report.skipped.length,
      BACKEND_NAMES.length,
      "every registered backend ran or was skipped",
    );

    const torch = decodeOnnxTensor(await Deno.readFile(output)).data as Float32Array;
    const torchTop5 = [...torch.keys()].sort((a, b) => torch[b] - torch[a]).slice(0, 5);
    const imported = loadOnnx(await Deno.readFile(file));
    const nchw = decodeOnnxTensor(await Deno.readFile(input)).data as Float32Array;
    const reference = networkReference(imported.graph, imported.toGraphInput(nchw), torchRoundings);
    // Ours and torch's each within the bound of float64: within twice the smallest bound.
    const tolerance = 2 * Math.min(...reference.bound);
    for (const run of model.backends) {
      assert.ok(
        run.maxAbsDiffToExpected! <= tolerance,
        `${network} on ${run.backend}: ${run.maxAbsDiffToExpected} > ${tolerance}`,
      );
      assert.deepEqual(run.top5.map((t) => t.index), torchTop5, `${network} on ${run.backend}`);
      assert.ok(run.sameTop5AsFirst && run.top5.every((t) => t.label === undefined));
    }
    assert.match(formatDemoReport(report), /max \|Δlogit\| vs \w+: [-+.e\d]+, vs expected: /);
  }
});

Deno.test("demo --onnx: by default a synthetic image, resized and cropped to the file's input", async () => {
  const file = testdata("mobilenet_v1", "bn_folded.onnx");
  const report = await jsonReport(["--onnx", file]);
  const [model] = report.models;
  assert.equal(
    model.input,
    "synthetic gradient 320×240, resized to 97×73 (bilinear, short side 73), centre crop 64×64 " +
      "from (16, 4), (v − [123.675, 116.28, 103.53]) / [58.395, 57.12, 57.375]",
  );
  assert.match(model.weights, /ONNX opset 13, pytorch 1\.13\.0; no labels in the file/);
  assert.ok(model.multiplyAdds > 0 && model.paper === undefined);
  for (const run of model.backends) {
    assert.ok(
      run.sameTop5AsFirst && run.top5.length === 5 && run.maxAbsDiffToExpected === undefined,
    );
    assert.ok(run.maxAbsDiffToFirst < 1e-4, `${run.backend}: ${run.maxAbsDiffToFirst}`);
  }
  const text = formatDemoReport(report);
  assert.doesNotMatch(text, /One layer, three ways/);
  if (model.backends.length > 1) assert.match(text, /backends agree: same top-5 on all/);
  // The file fixes 64×64: another crop is a usage error.
  const [code, , err] = await capture(["--onnx", file, "--crop", "32", "--runs", "1"]);
  assert.equal(code, 2);
  assert.match(err.at(-1)!, /^UsageError: --crop = 32: must be the ONNX input's size, 64×64/);
  const [small] = await capture(["--onnx", file, "--resize", "60", "--runs", "1"]);
  assert.equal(small, 2);
});

Deno.test("demo --onnx: an image goes through preprocessImage, with --resize, --mean and --std", async () => {
  const [width, height] = [16, 12];
  const pixels = new Uint8Array(width * height * 3).map((_, i) => (i * 53 + (i >> 4) * 7) % 256);
  const png = encodePng({ width, height, data: pixels, channels: 3 });
  const expectedMeans = (normalization: Normalization) => {
    const { data } = preprocessImage(decodeImage(png), { resize: 8, crop: 6 }, normalization);
    return [0, 1, 2].map((c) => data.filter((_, i) => i % 3 === c).reduce((a, b) => a + b) / 36);
  };
  const cases: [string[], Normalization, RegExp][] = [
    [[], IMAGENET, /\(v − \[123\.675, 116\.28, 103\.53\]\) \/ \[58\.395, 57\.12, 57\.375\]$/],
    [["--mean", "10,20,30", "--std", "64"], { mean: [10, 20, 30], std: 64 }, /\/ 64$/],
  ];
  for (const [flags, normalization, label] of cases) {
    const expected = expectedMeans(normalization);
    await withFiles({
      "gap.onnx": channelMeans([1, 3, 6, 6]),
      "in.png": png,
      "expected.pb": tensorBytes([1, 3], expected),
    }, async (paths) => {
      const report = await jsonReport([
        "--onnx",
        paths["gap.onnx"],
        "--image",
        paths["in.png"],
        "--resize",
        "8",
        "--expected",
        paths["expected.pb"],
        ...flags,
      ]);
      const [model] = report.models;
      // 16×12 → short side 8: 10×8 (⌊8 · 16 / 12⌋); the 6×6 crop starts at column 2, row 1.
      assert.match(model.input, /in\.png 16×12, resized to 10×8 \(bilinear, short side 8\), /);
      assert.match(model.input, /centre crop 6×6 from \(2, 1\), /);
      assert.match(model.input, label);
      for (const run of model.backends) {
        assert.ok(run.maxAbsDiffToExpected! < 1e-5, `${flags}: ${run.maxAbsDiffToExpected}`);
        const order = [0, 1, 2].sort((a, b) => expected[b] - expected[a]);
        assert.deepEqual(run.top5.map((t) => t.index), order);
      }
    });
  }
});

Deno.test("demo --onnx: a dynamic input takes its size from --crop, --resize or --input", async () => {
  const nchw = Float32Array.from({ length: 75 }, (_, i) => i % 7);
  await withFiles({
    "dynamic.onnx": channelMeans(["N", 3, "H", "W"]),
    "batch.onnx": channelMeans(["N", 3, 6, 6]),
    "x.pb": tensorBytes([1, 3, 5, 5], nchw),
  }, async (paths) => {
    const dynamic = paths["dynamic.onnx"];
    assert.throws(
      () => loadOnnx(Deno.readFileSync(dynamic)),
      OnnxError,
      "the importer's own refusal",
    );
    const [code, , err] = await capture(["--onnx", dynamic, "--runs", "1"]);
    assert.equal(code, 2);
    assert.equal(
      err.at(-1),
      'UsageError: --crop = undefined: is needed: the height and width of ONNX input "x" ' +
        "are dynamic",
    );
    const cropped = await jsonReport(["--onnx", dynamic, "--crop", "8"]);
    // 320×240 with the short side ⌊8 · 8/7⌋ = 9 → 12×9; the 8×8 crop starts at (2, 0) (0.5 → 0).
    assert.match(
      cropped.models[0].input,
      /resized to 12×9 \(bilinear, short side 9\), centre crop 8×8 from \(2, 0\)/,
    );
    const resized = await jsonReport(["--onnx", dynamic, "--resize", "10"]);
    assert.match(resized.models[0].input, /resized to 13×10 .*centre crop 10×10 from \(2, 0\)/);
    const fed = await jsonReport(["--onnx", dynamic, "--input", paths["x.pb"]]);
    assert.match(fed.models[0].input, /fed as ONNX input "x" \[1, 3, 5, 5\]$/);
    const means = [0, 1, 2].map((c) =>
      nchw.slice(25 * c, 25 * c + 25).reduce((a, b) => a + b) / 25
    );
    const order = [0, 1, 2].sort((a, b) => means[b] - means[a]);
    assert.deepEqual(fed.models[0].backends[0].top5.map((t) => t.index), order);
    // Only the batch is dynamic: the file's 6×6 is the crop.
    const batch = await jsonReport(["--onnx", paths["batch.onnx"]]);
    assert.match(batch.models[0].input, /centre crop 6×6 /);
  });
});

Deno.test("demo --onnx: a malformed or truncated file is the importer's OnnxError, exit 1", async () => {
  const fixture = await Deno.readFile(testdata("mobilenet_v1", "bn_folded.onnx"));
  await withFiles({
    "bad.onnx": new Uint8Array([0x0a, 0x05, 0x61, 0x62, 0x63]),
    "truncated.onnx": fixture.subarray(0, 1000),
    "bad.pb": new Uint8Array([0x0a, 0x09, 0x01]),
  }, async (paths) => {
    for (const name of ["bad.onnx", "truncated.onnx"]) {
      await assert.rejects(
        runDemo(parseDemoArgs(["--onnx", paths[name], "--backend", "js"])),
        (e: unknown) => e instanceof OnnxError && e.field === "bytes",
      );
      const [code, , err] = await capture(["--onnx", paths[name], "--backend", "js"]);
      assert.equal(code, 1);
      assert.match(
        err.at(-1)!,
        /^OnnxError: bytes = Uint8Array\(\d+\): truncated or malformed ONNX file: /,
      );
    }
    const file = testdata("mobilenet_v1", "bn_folded.onnx");
    const [code, , err] = await capture(["--onnx", file, "--expected", paths["bad.pb"]]);
    assert.equal(code, 1);
    assert.ok(
      err.at(-1)!.startsWith(
        `OnnxError: --expected = ${
          JSON.stringify(paths["bad.pb"])
        }: is not a readable TensorProto: `,
      ),
      err.at(-1),
    );
  });
});

Deno.test("demo --onnx: unsupported operators are one OnnxUnsupportedError listing every node", async () => {
  const bytes = craftModel({
    nodes: [
      { op: "Sigmoid", inputs: ["x"], outputs: ["s"], name: "gate" },
      {
        op: "MaxPool",
        inputs: ["s"],
        outputs: ["y"],
        name: "pool",
        attributes: { kernel_shape: [2, 2], dilations: [2, 2] },
      },
    ],
    input: { name: "x", shape: [1, 3, 8, 8] },
    output: "y",
  });
  await withFiles({ "unsupported.onnx": bytes }, async (paths) => {
    const args = ["--onnx", paths["unsupported.onnx"], "--backend", "js", "--runs", "1"];
    await assert.rejects(runDemo(parseDemoArgs(args)), (e: unknown) => {
      assert.ok(e instanceof OnnxUnsupportedError, String(e));
      assert.deepEqual(e.nodes.map((n) => [n.node, n.opType, n.attribute]), [
        ["gate", "Sigmoid", undefined],
        ["pool", "MaxPool", "dilations"],
      ]);
      return true;
    });
    const [code, , err] = await capture(args);
    assert.equal(code, 1);
    const lines = err.at(-1)!.split("\n");
    assert.equal(
      lines[0],
      'OnnxUnsupportedError: graph.node = ["gate", "pool"]: 2 nodes cannot be imported:',
    );
    assert.match(lines[1], /^ {2}"gate" \(Sigmoid\): /);
    assert.match(lines[2], /^ {2}"pool" \(MaxPool\) dilations = \[2, 2\]: /);
  });
});

Deno.test("demo --onnx: an input that is not one RGB image needs --input, of its shape", async () => {
  const bytes = craftModel({
    nodes: [{ op: "Softmax", inputs: ["x"], outputs: ["y"] }],
    input: { name: "x", shape: [1, 4] },
    output: "y",
  });
  await withFiles({
    "softmax.onnx": bytes,
    "x.pb": tensorBytes([1, 4], [0, 3, 1, 2]),
    "wrong.pb": tensorBytes([1, 5], [0, 3, 1, 2, 4]),
  }, async (paths) => {
    const file = paths["softmax.onnx"];
    const [code, , err] = await capture(["--onnx", file, "--backend", "js"]);
    assert.equal(code, 1);
    assert.match(
      err.at(-1)!,
      /^InvalidArgumentError: --onnx = ".*": takes "x" \[1, 4\], not one RGB/,
    );
    const report = await jsonReport(["--onnx", file, "--input", paths["x.pb"]]);
    assert.deepEqual(report.models[0].backends[0].top5.map((t) => t.index), [1, 3, 2, 0]);
    await assert.rejects(
      runDemo(parseDemoArgs(["--onnx", file, "--input", paths["wrong.pb"]])),
      (e: unknown) => e instanceof InvalidArgumentError && e.field === "--input",
    );
  });
});

Deno.test("demo --onnx flags: parsed strictly, and only where they apply", async () => {
  const options = parseDemoArgs([
    "--onnx",
    "m.onnx",
    "--image",
    "a.png",
    "--resize",
    "256",
    "--crop",
    "224",
    "--mean",
    "1,2.5,3",
    "--std",
    "4",
  ]);
  assert.deepEqual(
    [options.onnx, options.image, options.resize, options.crop, options.mean, options.std],
    ["m.onnx", "a.png", 256, 224, [1, 2.5, 3], 4],
  );
  assert.equal(options.model, undefined);
  const onnx = ["--onnx", "m.onnx"];
  const refused: [string[], string, unknown][] = [
    [[...onnx, "--model", "mobilenet"], "--model", "mobilenet"],
    [[...onnx, "--alpha", "0.5"], "--alpha", "0.5"],
    [[...onnx, "--resolution", "224"], "--resolution", "224"],
    [[...onnx, "--groups", "3"], "--groups", "3"],
    [[...onnx, "--scale", "1"], "--scale", "1"],
    [[...onnx, "--weights", "w"], "--weights", "w"],
    [["--resize", "256"], "--resize", 256],
    [["--crop", "224"], "--crop", 224],
    [["--mean", "1"], "--mean", 1],
    [["--std", "1,2,3"], "--std", [1, 2, 3]],
    [["--input", "a.pb"], "--input", "a.pb"],
    [["--expected", "b.pb"], "--expected", "b.pb"],
    [[...onnx, "--input", "a.pb", "--image", "b.png"], "--input", "a.pb"],
    [[...onnx, "--input", "a.pb", "--crop", "8"], "--crop", 8],
    [[...onnx, "--input", "a.pb", "--mean", "8"], "--mean", 8],
    [[...onnx, "--mean", "1,2"], "--mean", "1,2"],
    [[...onnx, "--mean", "1,,2"], "--mean", "1,,2"],
    [[...onnx, "--mean", "1e3"], "--mean", "1e3"],
    [[...onnx, "--mean", "1, 2, 3"], "--mean", "1, 2, 3"],
    [[...onnx, "--std", "0"], "--std", 0],
    [[...onnx, "--std", "1,0,1"], "--std", [1, 0, 1]],
    [[...onnx, "--crop", "0"], "--crop", 0],
    [[...onnx, "--crop", "1025"], "--crop", 1025],
    [[...onnx, "--crop", "0x10"], "--crop", "0x10"],
    [[...onnx, "--resize", "4097"], "--resize", 4097],
    [[...onnx, "--resize", "2.5"], "--resize", 2.5],
    [["--onnx", ""], "--onnx", ""],
  ];
  for (const [args, field, value] of refused) {
    assert.throws(() => parseDemoArgs(args), (e: unknown) => {
      assert.ok(e instanceof UsageError, `${args}: ${e}`);
      assert.deepEqual([e.field, e.value], [field, value], args.join(" "));
      return true;
    });
  }
  const base = parseDemoArgs([...onnx, "--backend", "js"]);
  for (
    const [value, field] of [
      [{ ...base, mean: [1, NaN, 2] }, "--mean"],
      [{ ...base, std: "1" }, "--std"],
      [{ ...base, crop: 8.5 }, "--crop"],
      [{ ...parseDemoArgs(["--backend", "js"]), resize: 10 }, "--resize"],
    ] as const
  ) {
    await assert.rejects(
      runDemo(value as never),
      (e: unknown) => e instanceof UsageError && e.field === field,
    );
  }
});

// ---- the trained Fashion-MNIST networks (the default) ----

/** The smoke card (MobileNet v1 α = 0.1, tools/train/README.md): the trained mode without the real card. */
const SMOKE_CARD = fileURLToPath(new URL("./tools/train/testdata/card.json", import.meta.url));
/** The smoke card, js only, no test set: the committed samples score the network. */
const SMOKE = ["--card", SMOKE_CARD, "--backend", "js", "--data", "/nonexistent"];
const hasTestSet = existsSync(join(FASHION_MNIST_DIR, "t10k-images-idx3-ubyte.gz"));

Deno.test("demo (trained): the smoke network classifies the committed samples as torch does", async () => {
  const report = await jsonReport(SMOKE);
  const trained = report.trained!;
  assert.deepEqual(report.factorizationCosts, []);
  assert.deepEqual(report.models.map((model) => model.name), ["mobilenet_v1_0.1_32"]);
  assert.match(report.models[0].weights, /^trained here on Fashion-MNIST by tools\/train /);
  assert.match(
    report.models[0].input,
    /^0-t-shirt-top\.png \(test image 19, T-shirt\/top\): 28×28/,
  );
  assert.deepEqual([trained.backend, trained.side], ["js", 28]);
  const samples = readSamples();
  assert.deepEqual(trained.images.map((image) => image.file), samples.map((s) => s.file));
  const [{ predictions: torch }] = loadCard(SMOKE_CARD);
  for (const [i, image] of trained.images.entries()) {
    const sample = samples[i];
    assert.deepEqual(
      [image.testIndex, image.trueIndex, image.trueLabel, image.inverted, image.width],
      [sample.testIndex, sample.label, sample.className, false, 28],
    );
    const [prediction] = image.predictions;
    assert.equal(prediction.torch, torch[sample.testIndex]);
    assert.equal(prediction.index, prediction.torch, `${image.file}: ours is torch's class`);
    assert.ok(prediction.probability > 0.1 && prediction.probability <= 1);
  }
  // Without the test set, the samples score the network, and the report says so.
  const { accuracy } = trained;
  assert.deepEqual([accuracy.on, accuracy.images, accuracy.models[0].agreement], [
    "samples",
    10,
    1,
  ]);
  assert.match(accuracy.testSetMissing!, /^DatasetError: data = "\/nonexistent": has no /);
  const text = formatDemoReport(report);
  assert.match(text, /^== Networks trained here on Fashion-MNIST ==\n/);
  assert.match(text, /they know those 10 classes and nothing else/);
  assert.match(text, /\n9-ankle-boot\.png +Ankle boot +\S/);
  assert.match(
    text,
    /== Accuracy on the 10 committed samples only: the test set could not be read/,
  );
  assert.match(text, /\njs +first run .* median .* p90 /);
  assert.doesNotMatch(text, /Cost model|One layer, three ways/);
});

Deno.test("demo (trained): --image on each committed sample gives the sample's answer", async () => {
  const report = await runDemo(parseDemoArgs([...SMOKE, "--runs", "1"]));
  for (const [i, sample] of readSamples().entries()) {
    const path = join(SAMPLES_DIR, sample.file);
    const one = await runDemo(parseDemoArgs([...SMOKE, "--runs", "1", "--image", path]));
    const [image] = one.trained!.images;
    assert.equal(one.trained!.imagesFrom, "--image");
    assert.deepEqual([image.file, image.inverted, image.trueLabel], [path, false, undefined]);
    const [ours, sampled] = [image, report.trained!.images[i]].map((x) => x.predictions[0]);
    assert.deepEqual(
      [ours.index, ours.probability, ours.torch],
      [sampled.index, sampled.probability, undefined],
    );
    // The timed input is the image too: its top-5 starts with the same class.
    assert.equal(one.models[0].backends[0].top5[0].index, image.predictions[0].index);
  }
});

/** A committed sample enlarged 3× (each pixel 3×3) and inverted, as RGB: a light-background photo. */
function lightPhoto(pixels: Uint8Array): Uint8Array {
  const side = 84;
  const rgb = new Uint8Array(side * side * 3);
  for (let p = 0; p < side * side; p++) {
    const v = 255 - pixels[Math.floor(p / side / 3) * 28 + Math.floor((p % side) / 3)];
    rgb.set([v, v, v], 3 * p);
  }
  return encodePng({ width: side, height: side, data: rgb, channels: 3 });
}

Deno.test("demo (trained): a light-background photo is inverted by --invert auto, not by no", async () => {
  const [sample] = readSamples().filter((s) => s.className === "Bag");
  const pixels = toFashionImage(decodeImage(Deno.readFileSync(join(SAMPLES_DIR, sample.file))), 28)
    .pixels;
  const photo = lightPhoto(pixels);
  // Bilinear 84 → 28 reads each 3×3 block's centre exactly, so inverting gives the sample back.
  const back = toFashionImage(decodeImage(photo), 28);
  assert.ok(back.inverted && back.borderMean > 127.5);
  assert.deepEqual(back.pixels, pixels);
  await withFiles({ "bag.png": photo }, async (paths) => {
    const report = await jsonReport([...SMOKE, "--image", paths["bag.png"]]);
    const [image] = report.trained!.images;
    assert.deepEqual([image.width, image.inverted, image.predictions[0].label], [84, true, "Bag"]);
    assert.match(
      formatDemoReport(report),
      /84×84, resized to 28×28 \(bilinear\), gray .*; inverted: /,
    );
    const kept = await jsonReport([...SMOKE, "--image", paths["bag.png"], "--invert", "no"]);
    assert.equal(kept.trained!.images[0].inverted, false);
  });
});

Deno.test("toFashionImage: BT.601 luma rounded once, gray kept exactly, inversion", () => {
  const pixel = (rgb: number[], invert: "yes" | "no") =>
    toFashionImage({ width: 1, height: 1, data: new Uint8Array(rgb) }, 1, invert).pixels[0];
  // (299 R + 587 G + 114 B) / 1000: 76.245, 149.685, 29.07, 77 exactly.
  const colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [77, 77, 77]];
  assert.deepEqual(colours.map((rgb) => pixel(rgb, "no")), [76, 150, 29, 77]);
  assert.equal(pixel([77, 77, 77], "yes"), 178);
  // Every 8-bit gray value survives, as a committed sample's pixels must.
  const ramp = new Uint8Array(256 * 3).map((_, i) => Math.floor(i / 3));
  const gray = toFashionImage({ width: 16, height: 16, data: ramp }, 16, "no");
  assert.deepEqual([...gray.pixels], Array.from({ length: 256 }, (_, i) => i));
  const black = { width: 2, height: 2, data: new Uint8Array(12) };
  assert.throws(
    () => toFashionImage(black, 2, "maybe" as never),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === "invert",
  );
  assert.throws(() => toFashionImage(black, 0), InvalidArgumentError);
});

Deno.test("demo (trained) flags: where they apply, and the card's names", async () => {
  const trained = parseDemoArgs(["--network", "a", "--network", "b", "--data", "d", "--card", "c"]);
  assert.deepEqual(
    [trained.model, trained.networks, trained.data, trained.card, trained.invert],
    [undefined, ["a", "b"], "d", "c", undefined],
  );
  assert.equal(parseDemoArgs(["--scale", "0.5"]).model, "all", "a built-in flag selects them");
  const refused: [string[], string, unknown][] = [
    [["--model", "all", "--card", "c"], "--card", "c"],
    [["--alpha", "0.5", "--network", "n"], "--network", ["n"]],
    [["--onnx", "m.onnx", "--data", "d"], "--data", "d"],
    [["--onnx", "m.onnx", "--invert", "yes", "--image", "a.png"], "--invert", "yes"],
    [["--invert", "yes"], "--invert", "yes"],
    [["--invert", "maybe", "--image", "a.png"], "--invert", "maybe"],
    [["--network", "a", "--network", "a"], "--network", "a"],
    [["--network", ""], "--network", [""]],
    [["--card", ""], "--card", ""],
    [["--data", ""], "--data", ""],
  ];
  for (const [args, field, value] of refused) {
    assert.throws(() => parseDemoArgs(args), (e: unknown) => {
      assert.ok(e instanceof UsageError, `${args}: ${e}`);
      assert.deepEqual([e.field, e.value], [field, value], args.join(" "));
      return true;
    });
  }
  const options = parseDemoArgs(SMOKE);
  for (
    const [value, field] of [
      [{ ...options, alpha: 0.5 }, "--alpha"],
      [{ ...options, weights: "w" }, "--weights"],
      [{ ...options, networks: "n" }, "--network"],
      [{ ...options, onnx: "m.onnx" }, "--card"],
    ] as const
  ) {
    await assert.rejects(
      runDemo(value as never),
      (e: unknown) => e instanceof UsageError && e.field === field,
    );
  }
  await assert.rejects(
    runDemo(parseDemoArgs([...SMOKE, "--network", "shufflenet_v1_0.5x_g3_32"])),
    (e: unknown) =>
      e instanceof UsageError && e.field === "--network" &&
      /it has mobilenet_v1_0\.1_32$/.test(e.message),
  );
  const [code, , err] = await capture(["--card", "/nonexistent/card.json"]);
  assert.equal(code, 1);
  assert.match(err.at(-1)!, /^CardError: --card = "\/nonexistent\/card\.json": does not exist: /);
  await assert.rejects(
    runDemo(parseDemoArgs(["--card", "/nonexistent/card.json"])),
    (e: unknown) => e instanceof CardError && e.field === "--card",
  );
});

Deno.test("demo (trained): by default the card's first MobileNet and first ShuffleNet without ablation", async () => {
  const card = JSON.parse(Deno.readTextFileSync(SMOKE_CARD));
  const [smoke] = card.models;
  const files = ["file", "predictions"].map((key) => join(dirname(SMOKE_CARD), smoke[key]));
  const models = ["first", "second"].map((name) => ({ ...smoke, name }));
  await withFiles({
    "card.json": new TextEncoder().encode(JSON.stringify({ ...card, models })),
    [smoke.file]: Deno.readFileSync(files[0]),
    [smoke.predictions]: Deno.readFileSync(files[1]),
  }, async (paths) => {
    const args = ["--card", paths["card.json"], "--backend", "js", "--data", "/nonexistent"];
    const chosen = await jsonReport(args);
    assert.deepEqual(chosen.models.map((model) => model.name), ["first"], "no ShuffleNet here");
    const named = await jsonReport([...args, "--network", "second", "--network", "first"]);
    assert.deepEqual(named.models.map((model) => model.name), ["second", "first"]);
    assert.deepEqual(
      named.trained!.images[0].predictions.map((p) => p.model),
      ["second", "first"],
    );
    assert.match(
      formatDemoReport(named),
      /\nfirst +222,323 +37,941 +1\.00× the mult-adds, 1\.00× /,
    );
  });
});

Deno.test({
  name:
    "demo (trained) on the test set: the smoke network scores torch's accuracy (needs dataset-fashion-mnist)",
  ignore: !hasTestSet,
  async fn() {
    const report = await jsonReport(["--card", SMOKE_CARD, "--backend", "wasm"]);
    const { accuracy } = report.trained!;
    assert.deepEqual([accuracy.on, accuracy.images], ["test set", 10_000]);
    assert.equal(accuracy.source, join(FASHION_MNIST_DIR, "t10k-images-idx3-ubyte.gz"));
    const [row] = accuracy.models;
    const [{ entry }] = loadCard(SMOKE_CARD);
    assert.equal(row.torchAccuracy, entry.torch.testAccuracy);
    assert.ok(row.agreement >= 0.999, `agreement ${row.agreement}`);
    assert.ok(Math.abs(row.accuracy - row.torchAccuracy) <= 0.001);
    assert.match(
      formatDemoReport(report),
      /== Accuracy on the test set: the 10,000 images of .*t10k-images-idx3-ubyte\.gz, on \w+ ==/,
    );
  },
});

Deno.test({
  name: "demo with no flags: the committed MobileNet 0.25 and ShuffleNet g = 3 classify the " +
    "samples as torch does (ignored until models/pretrained/fashion-mnist/card.json exists)",
  ignore: !existsSync(DEFAULT_CARD),
  async fn() {
    const report = await jsonReport([]);
    assert.deepEqual(
      report.models.map((model) => model.name),
      ["mobilenet_v1_0.25_32", "shufflenet_v1_0.5x_g3_32"],
    );
    const trained = report.trained!;
    for (const image of trained.images) {
      for (const prediction of image.predictions) {
        assert.equal(prediction.index, prediction.torch, `${prediction.model} on ${image.file}`);
      }
    }
    const cards = loadCard(DEFAULT_CARD, report.models.map((model) => model.name));
    for (const [i, row] of trained.accuracy.models.entries()) {
      assert.equal(trained.accuracy.on, hasTestSet ? "test set" : "samples");
      assert.ok(row.agreement >= 0.999, `${row.model}: agreement ${row.agreement}`);
      if (hasTestSet) assert.equal(row.torchAccuracy, cards[i].entry.torch.testAccuracy);
    }
    assert.match(formatDemoReport(report), /^== Networks trained here on Fashion-MNIST ==/);
  },
});

Deno.test({
  name: "the committed samples are the first test image of each class, byte for byte " +
    "(needs dataset-fashion-mnist)",
  ignore: !hasTestSet,
  fn() {
    const test = readTestSet();
    for (const sample of readSamples()) {
      const image = decodeImage(Deno.readFileSync(join(SAMPLES_DIR, sample.file)));
      const { pixels } = toFashionImage(image, 28);
      const index = sample.testIndex;
      assert.deepEqual(pixels, test.images.slice(index * 784, (index + 1) * 784), sample.file);
      assert.equal(test.labels[index], sample.label);
      assert.equal(test.labels.indexOf(sample.label), index, "the first of its class");
    }
  },
});

Deno.test("demo --profile: one run per listed backend, layer by layer, in the report and text", async () => {
  assert.deepEqual(parseDemoArgs(["--profile", "all"]).profile, [...BACKEND_NAMES]);
  assert.deepEqual(parseDemoArgs(["--profile", "none"]).profile, []);
  assert.equal(parseDemoArgs([]).profile, undefined);
  assert.throws(
    () => parseDemoArgs(["--profile", "js,tpu"]),
    (e: unknown) => e instanceof UsageError && e.field === "--profile",
  );
  const report = await runDemo(parseDemoArgs([...SMALL, "--backend", "js", "--profile", "js"]));
  const [model] = report.models;
  const profile = model.backends[0].profile!;
  const graph = shufflenetV1({ groups: 3, scale: 0.25, resolution: 64 }).graph;
  assert.equal(profile.clock, "cpu");
  assert.deepEqual(profile.layers.map((layer) => layer.node), graph.nodes.map((node) => node.name));
  assert.equal(
    profile.layers.reduce((sum, layer) => sum + layer.multiplyAdds, 0),
    model.multiplyAdds,
  );
  const text = formatDemoReport(report);
  assert.match(text, /js per layer, one run \(CPU clock around each kernel\): [\d.]+ ms/);
  assert.match(text, /\n {2}conv1 +f32-conv-im2row-js +[\d.]+ +[\d.]+ +[\d.]+ %/);
  // Absent --profile: webgpu only, so a js-only run has none.
  const plain = await runDemo(parseDemoArgs([...SMALL, "--backend", "js"]));
  assert.equal(plain.models[0].backends[0].profile, undefined);
});
