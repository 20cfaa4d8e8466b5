/**
 * ONNX import benchmarks: import (decode, lower, fuse) and compile of a
 * MobileNet v1 1.0-224 ONNX file, and one inference of the imported network
 * next to the hand-built one on each backend (the same kernels, so the same
 * speed). The file is written here with onnx-proto from `mobilenetV1()`'s
 * seeded parameters, BatchNormalization nodes kept and ReLU6 as Clip, as
 * PyTorch exports it, so no large file is committed.
 *
 *     deno bench --allow-read --allow-env bench/onnx_bench.ts
 *
 * @module
 */

import onnxProto from "npm:onnx-proto@8.0.1";
import { randomFloat32, seededRandom } from "@mobileops/conformance";
import { type Backend, shapeSize } from "@mobileops/core";
import type { CompiledModel } from "@mobileops/graph";
import { mobilenetV1, type Model } from "@mobileops/models";
import { loadOnnx, nhwcToNchw } from "@mobileops/onnx";
import { createBackend } from "@mobileops/registry";

const { onnx } = onnxProto;

/** `model` as an opset-13 ONNX file: Conv → BatchNormalization → Clip per layer, then the head. */
function toOnnx(model: Model): Uint8Array {
  const initializer: onnxProto.onnx.ITensorProto[] = [];
  const node: onnxProto.onnx.INodeProto[] = [];
  const tensor = (name: string, dims: readonly number[], data: Float32Array) => {
    initializer.push({
      name,
      dims: [...dims],
      dataType: 1,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  };
  const clipBounds = [
    tensor("zero", [], new Float32Array([0])),
    tensor("six", [], new Float32Array([6])),
  ];
  let previous = "image";
  for (const layer of model.definition.layers) {
    const d = layer.descriptor;
    const p = (suffix: string) => model.parameters.get(`${layer.name}.${suffix}`)!;
    if (d.op === "conv2d") {
      const weight = p("weight");
      const [o, kh, kw, i] = weight.shape;
      const padding = d.padding === "valid" ? [0, 0, 0, 0] : d.padding as readonly number[];
      node.push(
        {
          name: layer.name,
          opType: "Conv",
          input: [
            previous,
            tensor(`${layer.name}.weight`, [o, i, kh, kw], nhwcToNchw(weight.data, weight.shape)),
          ],
          output: [`${layer.name}.conv`],
          attribute: [
            { name: "group", type: 2, i: d.groups },
            { name: "kernel_shape", type: 7, ints: [...d.kernel] },
            { name: "strides", type: 7, ints: [...d.stride] },
            { name: "pads", type: 7, ints: [padding[0], padding[2], padding[1], padding[3]] },
          ],
        },
        {
          name: `${layer.name}.bn`,
          opType: "BatchNormalization",
          input: [
            `${layer.name}.conv`,
            ...["gamma", "beta", "mean", "variance"].map((s) =>
              tensor(`${layer.name}.bn.${s}`, [o], p(`bn.${s}`).data)
            ),
          ],
          output: [`${layer.name}.bn`],
          attribute: [{ name: "epsilon", type: 1, f: model.definition.batchNormEpsilon }],
        },
        {
          name: `${layer.name}.relu6`,
          opType: "Clip",
          input: [`${layer.name}.bn`, ...clipBounds],
          output: [layer.name],
        },
      );
    } else if (d.op === "globalAvgPool") {
      node.push(
        { name: layer.name, opType: "GlobalAveragePool", input: [previous], output: ["pooled"] },
        { name: "flatten", opType: "Flatten", input: ["pooled"], output: [layer.name] },
      );
    } else if (d.op === "fullyConnected") {
      const weight = p("weight");
      node.push({
        name: layer.name,
        opType: "Gemm",
        input: [
          previous,
          tensor(`${layer.name}.weight`, weight.shape, weight.data),
          tensor(`${layer.name}.bias`, [d.outFeatures], p("bias").data),
        ],
        output: ["logits"],
        attribute: [{ name: "transB", type: 2, i: 1 }],
      });
    }
    previous = layer.name;
  }
  const [n, h, w, c] = model.inputShape;
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: "bench/onnx_bench.ts",
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: model.name,
      node,
      initializer,
      input: [{
        name: "image",
        type: {
          tensorType: { elemType: 1, shape: { dim: [n, c, h, w].map((d) => ({ dimValue: d })) } },
        },
      }],
      output: [{ name: "logits" }],
    },
  }).finish();
}

const model = mobilenetV1({ alpha: 1, resolution: 224 });
const bytes = toOnnx(model);
const imported = loadOnnx(bytes);
const backends: [string, Backend][] = [
  ["js", await createBackend("js")],
  ["wasm", await createBackend("wasm", { wasm: { threads: 1 } })],
];
const input = randomFloat32(seededRandom(1), shapeSize(model.inputShape));

Deno.bench({
  group: "onnx import: mobilenet_v1_1.0_224",
  name: `loadOnnx (${(bytes.length / 2 ** 20).toFixed(1)} MiB, BatchNorm kept)`,
  baseline: true,
  n: 20,
  fn: () => {
    loadOnnx(bytes);
  },
});

for (const [label, backend] of backends) {
  Deno.bench({
    group: "onnx import: mobilenet_v1_1.0_224",
    name: `loadOnnx + compile on ${label}`,
    n: 10,
    fn: async () => {
      using _compiled = await loadOnnx(bytes).compile(backend);
    },
  });
}

/** Runs until V8 has optimized the code (WebAssembly starts in its baseline tier). */
async function warm(
  compiled: CompiledModel,
  backend: Backend,
  tensor: ReturnType<Backend["upload"]>,
) {
  const start = performance.now();
  for (let run = 0; run < 10 && performance.now() - start < 1000; run++) {
    compiled.run(tensor);
    await backend.sync();
  }
}

for (const [label, backend] of backends) {
  const tensor = backend.upload(input, model.inputShape);
  for (
    const [kind, compiled] of [
      ["hand-built", await model.compile(backend)],
      ["imported", await imported.compile(backend)],
    ] as const
  ) {
    await warm(compiled, backend, tensor);
    Deno.bench({
      group: `mobilenet_v1_1.0_224 inference on ${label}`,
      name: kind,
      baseline: kind === "hand-built",
      n: label === "js" ? 5 : 20,
      warmup: 1,
      fn: async () => {
        compiled.run(tensor);
        await backend.sync();
      },
    });
  }
}
