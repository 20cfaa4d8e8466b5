import assert from "node:assert/strict";
import { encode as encodePng } from "npm:fast-png@8.0.0";
import { ImageDecodeError } from "@mobileops/image";
import { InvalidArgumentError } from "@mobileops/core";
import { SafetensorsError, saveSafetensors, shufflenetV1 } from "@mobileops/models";
import { formatDemoReport, main, parseDemoArgs, runDemo, UsageError } from "./demo.ts";

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
