import assert from "node:assert/strict";
import { encode as encodePng } from "npm:fast-png@8.0.0";
import { ImageDecodeError } from "@mobileops/image";
import {
  ModelOptionError,
  SafetensorsError,
  saveSafetensors,
  shufflenetV1,
} from "@mobileops/models";
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
  await assert.rejects(
    runDemo(parseDemoArgs(["--model", "mobilenet", "--alpha", "0", "--backend", "js"])),
    ModelOptionError,
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
