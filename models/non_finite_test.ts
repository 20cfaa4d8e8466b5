import assert from "node:assert/strict";
import { channelShuffle } from "@mobileops/core";
import { referenceForward } from "@mobileops/graph/reference";
import { BACKEND_NAMES, createBackend } from "@mobileops/registry";
import { mobilenetV1 } from "./mod.ts";

// One NaN pixel reaches every logit: the pointwise layers mix it into every
// channel, global average pooling into every pixel. A backend whose fused
// ReLU6 dropped NaN gave finite, plausible logits here.
Deno.test("one NaN input pixel makes every MobileNet logit NaN, on every backend", async () => {
  const model = mobilenetV1({ alpha: 0.25, resolution: 128 });
  const input = new Float32Array(model.inputShape.reduce((a, b) => a * b)).fill(0.5);
  input[3 * (64 * 128 + 64)] = NaN;
  const expected = referenceForward(model.graph, input).values;
  assert.ok(Array.from(expected).every(Number.isNaN), "the float64 reference is all NaN");
  for (const name of BACKEND_NAMES) {
    using backend = await createBackend(name, { wasm: { threads: 1 } });
    using compiled = await model.compile(backend);
    using x = backend.upload(input, model.inputShape);
    const logits = await compiled.run(x).download();
    assert.ok(Array.from(logits).every(Number.isNaN), `${name}: ${logits.slice(0, 4)}`);
  }
});

Deno.test("a 2^20-channel shuffle runs and matches on every backend", async () => {
  const channels = 2 ** 20;
  const input = Float32Array.from({ length: channels }, (_, i) => i);
  const outputs: Float32Array[] = [];
  for (const name of BACKEND_NAMES) {
    using backend = await createBackend(name, { wasm: { threads: 1 } });
    using kernel = await backend.prepare(channelShuffle({ groups: 4 }));
    using x = backend.upload(input, [1, 1, 1, channels]);
    using y = backend.run(kernel, [x]);
    outputs.push(await y.download());
  }
  // Output channel j·g + i takes input channel i·(C/g) + j.
  assert.equal(outputs[0][1], channels / 4);
  for (const output of outputs) assert.deepEqual(output, outputs[0]);
});
