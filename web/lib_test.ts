import assert from "node:assert/strict";
import { compileGraph } from "@mobileops/graph";
import { decodeImage } from "@mobileops/image";
import { createBackend } from "@mobileops/registry";
import { toFashionImage } from "../demo.ts";
import { parseCard, preprocess } from "../tools/evaluate.ts";
import {
  benchmark,
  cardEntries,
  classify,
  fashionInput,
  IMAGENET_CHOICES,
  loadNetwork,
  networkChoices,
  profileLayers,
  toGray,
} from "./lib.ts";

const CARD_URL = new URL("../models/pretrained/fashion-mnist/card.json", import.meta.url);
const card = JSON.parse(Deno.readTextFileSync(CARD_URL));
const SAMPLES = JSON.parse(Deno.readTextFileSync(new URL("samples/samples.json", CARD_URL)))
  .samples as { file: string; className: string }[];

function sample(file: string) {
  return decodeImage(Deno.readFileSync(new URL(`samples/${file}`, CARD_URL)));
}

Deno.test("cardEntries reads what evaluate.ts's parseCard reads", () => {
  const entries = cardEntries(card);
  const parsed = parseCard(card);
  assert.deepEqual(entries.map((e) => e.name), parsed.map((m) => m.name));
  entries.forEach((entry, i) => {
    assert.deepEqual(entry.preprocessing, parsed[i].preprocessing);
    assert.deepEqual(entry.classes, parsed[i].classes);
  });
});

Deno.test("cardEntries names the malformed field", () => {
  const [first] = card.models;
  const broken = { models: [{ ...first, preprocessing: { ...first.preprocessing, std: 0 } }] };
  assert.throws(() => cardEntries(broken), /models\[0\]\.preprocessing\.std = 0: must not be 0/);
  assert.throws(() => cardEntries({ models: [] }), /models/);
});

Deno.test("toGray and fashionInput make demo.ts's input, bit for bit", () => {
  const spec = cardEntries(card)[0].preprocessing;
  const shoe = { width: 5, height: 3, data: new Uint8Array(45).map((_, i) => (i * 37) % 256) };
  for (const image of [...SAMPLES.map((s) => sample(s.file)), shoe]) {
    const ours = toGray(image, 28);
    const demo = toFashionImage(image, 28, "auto");
    assert.deepEqual(ours, demo);
    assert.deepEqual(fashionInput(ours.pixels, spec), preprocess(demo.pixels, spec));
  }
});

Deno.test("a committed sample is classified as its file name says on the page's path", async () => {
  using backend = await createBackend("js");
  const entries = cardEntries(card);
  const [choice] = networkChoices(entries);
  const network = await loadNetwork(choice, entries, CARD_URL);
  using compiled = await compileGraph(network.graph, backend);
  for (const { file, className } of SAMPLES) {
    const { top5 } = await classify(compiled, network.input(sample(file)), network.labels);
    assert.equal(top5[0].label, className, file);
    assert(top5[0].probability > top5[1].probability);
  }
});

Deno.test("profileLayers times every node, on the cpu clock for js", async () => {
  using backend = await createBackend("js");
  const network = await loadNetwork(IMAGENET_CHOICES[0], [], CARD_URL);
  const graph = { ...network.graph, inputShape: [1, 32, 32, 3] };
  using compiled = await compileGraph(graph, backend);
  using input = backend.upload(new Float32Array(32 * 32 * 3).fill(0.5), graph.inputShape);
  const profile = await profileLayers(compiled, input, 3);
  assert.equal(profile.clock, "cpu");
  await assert.rejects(profileLayers(compiled, input, 0), /runs = 0/);
  assert.deepEqual(profile.layers.map((l) => l.node), graph.nodes.map((n) => n.name));
  assert(profile.layers.every((l) => l.ms >= 0 && l.variant.endsWith("-js")));
  assert.equal(
    backend.memoryStats().kernels,
    graph.nodes.length,
    "profiling frees nothing it did not make",
  );
});

Deno.test("benchmark refuses a run count outside 1–1000 and reports each run", async () => {
  using backend = await createBackend("js");
  const network = await loadNetwork(IMAGENET_CHOICES[1], [], CARD_URL);
  const graph = { ...network.graph, inputShape: [1, 32, 32, 3] };
  const input = new Float32Array(32 * 32 * 3);
  await assert.rejects(benchmark(graph, backend, input, 0), /runs = 0/);
  const result = await benchmark(graph, backend, input, 4);
  assert.equal(result.runsMs.length, 4);
  assert(result.firstRunMs > 0 && result.compileMs > 0);
  assert.equal(backend.memoryStats().kernels, 0, "the compiled model is disposed");
});
