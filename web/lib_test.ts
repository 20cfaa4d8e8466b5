import assert from "node:assert/strict";
import { InvalidArgumentError } from "@mobileops/core";
import { type CompiledModel, compileGraph, type ModelProfile } from "@mobileops/graph";
import { decodeImage } from "@mobileops/image";
import { createBackend } from "@mobileops/registry";
import { parseCard } from "../tools/fashion_mnist.ts";
import {
  benchmark,
  classify,
  IMAGENET_CHOICES,
  loadNetwork,
  networkChoices,
  profileLayers,
} from "./lib.ts";

const CARD_URL = new URL("../models/pretrained/fashion-mnist/card.json", import.meta.url);
const card = JSON.parse(Deno.readTextFileSync(CARD_URL));
const SAMPLES = JSON.parse(Deno.readTextFileSync(new URL("samples/samples.json", CARD_URL)))
  .samples as { file: string; className: string }[];

function samplePng(file: string): Uint8Array {
  return Deno.readFileSync(new URL(`samples/${file}`, CARD_URL));
}

Deno.test("networkChoices: the card's networks in card order, then the ImageNet-size ones", () => {
  const entries = parseCard(card);
  const choices = networkChoices(entries);
  assert.deepEqual(
    choices.map((c) => c.id),
    [...entries.map((e) => e.name), ...IMAGENET_CHOICES.map((c) => c.id)],
  );
  const ablated = entries.findIndex((e) => e.ablation !== "none");
  assert.match(choices[ablated].label, /ablation: /);
});

Deno.test("a committed sample is seen as its own bytes, not inverted", async () => {
  const entries = parseCard(card);
  const network = await loadNetwork(networkChoices(entries)[0], entries, CARD_URL);
  for (const { file } of SAMPLES) {
    const image = decodeImage(samplePng(file));
    const seen = network.seen!(image);
    // The samples are the data set's 28×28 gray bytes: R = G = B = the byte.
    assert.deepEqual(seen.pixels, image.data.filter((_, i) => i % 3 === 0), file);
    assert.equal(seen.inverted, false, file);
  }
  assert.match(network.inputDescription, /28×28 gray, padded with 0 .* to 32×32, .* 3 channels/);
});

Deno.test("loadNetwork: a name not in the card, or a file that is not there, names the field", async () => {
  const entries = parseCard(card);
  const [choice] = networkChoices(entries);
  await assert.rejects(
    loadNetwork({ ...choice, id: "resnet" }, entries, CARD_URL),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === "choice.id",
  );
  const missing = [{ ...entries[0], file: "missing.onnx" }];
  await assert.rejects(loadNetwork(choice, missing, CARD_URL), /missing\.onnx/);
});

Deno.test("a committed sample is classified as its file name says on the page's path", async () => {
  using backend = await createBackend("js");
  const entries = parseCard(card);
  const [choice] = networkChoices(entries);
  const network = await loadNetwork(choice, entries, CARD_URL);
  using compiled = await compileGraph(network.graph, backend);
  for (const { file, className } of SAMPLES) {
    const input = network.input(decodeImage(samplePng(file)));
    const { top5 } = await classify(compiled, input, network.labels);
    assert.equal(top5[0].label, className, file);
    assert(top5[0].probability > top5[1].probability);
  }
});

Deno.test("profileLayers profiles every node on the cpu clock for js, ms and GFLOP/s of one run", async () => {
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
  const convolutions = profile.layers.filter((l) => l.multiplyAdds > 0 && l.ms > 0);
  assert(convolutions.length > 20);
  for (const layer of convolutions) {
    assert.equal(layer.gflops, 2 * layer.multiplyAdds / (layer.ms * 1e6), layer.node);
  }
  const sum = profile.layers.reduce((total, layer) => total + layer.ms, 0);
  assert.equal(profile.totalMs, sum);
});

Deno.test("profileLayers keeps each layer's median run, the slower middle one for an even count", async () => {
  const layer = (node: string, ms: number) => ({
    node,
    op: "conv2d",
    variant: "f32-conv-js",
    ms,
    multiplyAdds: 1e6,
    gflops: 2e-3 / ms,
  });
  const runs: [number, number][] = [[3, 10], [1, 30], [2, 20], [4, 40]];
  const scripted = () => {
    let next = 0;
    return {
      profile: (): Promise<ModelProfile> => {
        const [a, b] = runs[next++];
        return Promise.resolve({
          clock: "enqueue",
          layers: [layer("a", a), layer("b", b)],
          totalMs: a + b,
        });
      },
      runs: () => next,
    };
  };
  const three = scripted();
  const odd = await profileLayers(three as unknown as CompiledModel, {} as never, 3);
  assert.equal(three.runs(), 3);
  assert.deepEqual(odd.layers.map((l) => [l.ms, l.gflops]), [[2, 1e-3], [20, 1e-4]]);
  assert.deepEqual([odd.clock, odd.totalMs], ["enqueue", 22]);
  const even = await profileLayers(scripted() as unknown as CompiledModel, {} as never, 4);
  assert.deepEqual(even.layers.map((l) => l.ms), [3, 30]);
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
