import assert from "node:assert/strict";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  SafetensorsError,
  saveSafetensors,
  shufflenetV1,
} from "./mod.ts";

function file(header: unknown, data: Uint8Array = new Uint8Array()): Uint8Array {
  const json = new TextEncoder().encode(
    typeof header === "string" ? header : JSON.stringify(header),
  );
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  return bytes;
}

function rejects(bytes: Uint8Array, field: string) {
  assert.throws(
    () => decodeSafetensors(bytes),
    (error: unknown) => {
      assert.ok(error instanceof SafetensorsError, String(error));
      assert.equal(error.field, field);
      return true;
    },
  );
}

Deno.test("a model round-trips through safetensors, labels included", () => {
  const options = { groups: 8, scale: 0.25, resolution: 32, classes: 3 } as const;
  const source = shufflenetV1({ ...options, seed: 42 }).withParameters(
    shufflenetV1({ ...options, seed: 42 }).parameters,
    { source: "seed 42", labels: ["cat", "dog", "émeu"] },
  );
  const bytes = saveSafetensors(source);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0, "data starts 8-byte aligned");
  const loaded = loadSafetensors(shufflenetV1(options), bytes, "file.safetensors");
  assert.deepEqual([...loaded.parameters.keys()], [...source.parameters.keys()]);
  for (const [name, tensor] of source.parameters) {
    assert.deepEqual(loaded.parameters.get(name), tensor, name);
  }
  assert.deepEqual(loaded.labels, ["cat", "dog", "émeu"]);
  assert.deepEqual(loaded.weightsOrigin, { kind: "loaded", source: "file.safetensors" });
  assert.equal(decodeSafetensors(bytes).metadata.model, "shufflenet_v1_0.25x_g8_32");
});

Deno.test("F64, F16 and BF16 tensors are converted to float32", () => {
  const data = new Uint8Array(8 + 2 + 2);
  const view = new DataView(data.buffer);
  view.setFloat64(0, -0.15625, true);
  view.setUint16(8, 0x3e00, true); // 1.5 in binary16
  view.setUint16(10, 0xc040, true); // -3 in bfloat16
  const { tensors } = decodeSafetensors(file({
    a: { dtype: "F64", shape: [1], data_offsets: [0, 8] },
    b: { dtype: "F16", shape: [1], data_offsets: [8, 10] },
    c: { dtype: "BF16", shape: [], data_offsets: [10, 12] },
  }, data));
  assert.deepEqual(
    ["a", "b", "c"].map((name) => tensors.get(name)!.data[0]),
    [-0.15625, 1.5, -3],
  );
});

Deno.test("malformed files throw SafetensorsError naming what is wrong", () => {
  const four = new Uint8Array(4);
  rejects(new Uint8Array(5), "file");
  rejects(file("{}").subarray(0, 9), "headerLength");
  rejects(file("{not json"), "header");
  rejects(file("[1]"), "header");
  rejects(file({ x: { dtype: "I32", shape: [1], data_offsets: [0, 4] } }, four), "x.dtype");
  rejects(file({ x: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, four), "x.shape");
  rejects(file({ x: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, four), "x.data_offsets");
  rejects(file({ x: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, four), "x.data_offsets");
  rejects(
    file({
      x: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      y: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
    }, new Uint8Array(8)),
    "y.data_offsets",
  );
  rejects(
    file({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)),
    "data",
  );
  rejects(file({ __metadata__: { labels: 3 } }), "__metadata__.labels");
});

Deno.test("loading a file with missing, mis-shaped or unknown tensors fails", () => {
  const options = { groups: 3, scale: 0.25, resolution: 32, classes: 2 } as const;
  const model = shufflenetV1(options);
  const parameters = new Map(model.parameters);
  parameters.delete("fc.bias");
  assert.throws(
    () => loadSafetensors(model, encodeSafetensors(parameters)),
    (error: unknown) => error instanceof SafetensorsError && error.field === "fc.bias",
  );
  parameters.set("fc.bias", { shape: [3], data: new Float32Array(3) });
  assert.throws(
    () => loadSafetensors(model, encodeSafetensors(parameters)),
    (error: unknown) => error instanceof SafetensorsError && error.field === "fc.bias",
  );
  const wider = shufflenetV1({ ...options, classes: 3 });
  assert.throws(
    () => loadSafetensors(model, saveSafetensors(wider)),
    (error: unknown) => error instanceof SafetensorsError && error.field === "fc.weight",
  );
  assert.throws(
    () => loadSafetensors(model, encodeSafetensors(model.parameters, { labels: "[1, 2]" })),
    (error: unknown) => error instanceof SafetensorsError && error.field === "__metadata__.labels",
  );
});
