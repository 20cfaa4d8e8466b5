// The PyTorch-exported fixtures (tools/onnx/export_fixtures.py): MobileNet v1 and ShuffleNet v1,
// each exported with BatchNorm folded by the exporter and with BatchNormalization nodes kept.
// Every backend's logits must match torch's, and the imported graphs must be the graphs the
// models package builds by hand: the same operators, descriptors and kernel variants.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type Backend, descriptorKey } from "@mobileops/core";
import type { ModelGraph } from "@mobileops/graph";
import { mobilenetV1, shufflenetV1 } from "@mobileops/models";
import { BACKEND_NAMES, backendUnavailable, createBackend } from "@mobileops/registry";
import { decodeOnnxTensor, loadOnnx, type OnnxModel } from "./mod.ts";
import { onnx } from "./proto.ts";
import { networkReference, worstRatio } from "./_tolerance.ts";

/**
 * Roundings per layer that torch takes and the imported graph does not show: torch evaluates
 * BatchNorm unfolded (subtract, scale, shift) after the convolution, and the folded weights are
 * rounded to float32 once.
 */
const TORCH_EXTRA_ROUNDINGS = 4;

const NETWORKS = {
  mobilenet_v1: () => mobilenetV1({ alpha: 0.125, resolution: 64, classes: 10 }),
  shufflenet_v1: () => shufflenetV1({ groups: 3, scale: 0.25, resolution: 64, classes: 10 }),
} as const;
type Network = keyof typeof NETWORKS;
const KINDS = ["bn_folded", "bn_kept"] as const;

function fixture(network: Network, file: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./testdata/${network}/${file}`, import.meta.url)));
}

function load(network: Network, kind: (typeof KINDS)[number]): OnnxModel {
  return loadOnnx(fixture(network, `${kind}.onnx`));
}

async function variants(graph: ModelGraph, backend: Backend): Promise<string[]> {
  const names: string[] = [];
  for (const node of graph.nodes) {
    using kernel = await backend.prepare(node.descriptor, node.weights);
    names.push(kernel.variant);
  }
  return names;
}

for (const network of Object.keys(NETWORKS) as Network[]) {
  for (const kind of KINDS) {
    Deno.test(`${network} ${kind}: the same graph as the models package builds`, () => {
      const imported = load(network, kind).graph;
      const built = NETWORKS[network]().graph;
      assert.equal(imported.nodes.length, built.nodes.length);
      const keys = (graph: ModelGraph) => graph.nodes.map((node) => descriptorKey(node.descriptor));
      if (network === "mobilenet_v1") {
        assert.deepEqual(keys(imported), keys(built));
      } else {
        // PyTorch computes the stride-2 shortcut after the branch; the builder before it.
        assert.deepEqual(keys(imported).sort(), keys(built).sort());
      }
    });
  }
}

Deno.test("shufflenet_v1: every Reshape → Transpose → Reshape becomes one channelShuffle", () => {
  for (const kind of KINDS) {
    const file = onnx.ModelProto.decode(fixture("shufflenet_v1", `${kind}.onnx`));
    const transposes = (file.graph?.node ?? []).filter((node) =>
      node.opType === "Transpose"
    ).length;
    const graph = load("shufflenet_v1", kind).graph;
    const shuffles = graph.nodes.filter((node) => node.descriptor.op === "channelShuffle");
    assert.equal(transposes, 16);
    assert.equal(shuffles.length, transposes);
    assert.ok(shuffles.every((node) =>
      node.descriptor.op === "channelShuffle" && node.descriptor.groups === 3
    ));
  }
});

/** Backends that do not start here (no WebGPU adapter, say) are skipped, each with its reason. */
const unavailable = new Map(
  await Promise.all(
    BACKEND_NAMES.map(async (name) => [name, await backendUnavailable(name)] as const),
  ),
);

for (const backendName of BACKEND_NAMES) {
  const ignore = unavailable.get(backendName) !== undefined;
  Deno.test({
    name: `fixtures on ${backendName}: the same kernel variants as the hand-built networks`,
    ignore,
  }, async () => {
    using backend = await createBackend(backendName, { wasm: { threads: 1 } });
    for (const network of Object.keys(NETWORKS) as Network[]) {
      const built = await variants(NETWORKS[network]().graph, backend);
      for (const kind of KINDS) {
        const imported = await variants(load(network, kind).graph, backend);
        if (network === "mobilenet_v1") assert.deepEqual(imported, built);
        else assert.deepEqual([...imported].sort(), [...built].sort());
      }
    }
  });

  Deno.test({ name: `fixtures on ${backendName}: logits match torch's`, ignore }, async () => {
    using backend = await createBackend(backendName, { wasm: { threads: 1 } });
    for (const network of Object.keys(NETWORKS) as Network[]) {
      const input = decodeOnnxTensor(fixture(network, "input_0.pb")).data as Float32Array;
      const torch = decodeOnnxTensor(fixture(network, "output_0.pb")).data as Float32Array;
      for (const kind of KINDS) {
        const model = load(network, kind);
        const nhwc = model.toGraphInput(input);
        using compiled = await model.compile(backend);
        using tensor = backend.upload(nhwc, model.input.graphShape);
        const logits = model.fromGraphOutput(await compiled.run(tensor).download());
        const reference = networkReference(model.graph, nhwc, TORCH_EXTRA_ROUNDINGS);
        const ours = worstRatio(logits, reference.values, reference.bound);
        const theirs = worstRatio(torch, reference.values, reference.bound);
        const between = worstRatio(logits, torch, reference.bound.map((b) => 2 * b));
        const maxAbs = Math.max(...logits.map((v, i) => Math.abs(v - torch[i])));
        console.log(
          `${network} ${kind} on ${backendName}: |ours − float64| / bound ${
            ours.toPrecision(3)
          }, ` +
            `|torch − float64| / bound ${theirs.toPrecision(3)}, |ours − torch| / 2·bound ` +
            `${between.toPrecision(3)} (K = ${reference.accumulation}, max |ours − torch| ${
              maxAbs.toExponential(2)
            })`,
        );
        assert.ok(ours <= 1 && theirs <= 1 && between <= 1);
      }
    }
  });
}
