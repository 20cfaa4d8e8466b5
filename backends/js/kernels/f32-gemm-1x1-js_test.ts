import assert from "node:assert/strict";
import { randomFloat32, reference, seededRandom, withinTolerance } from "@mobileops/conformance";
import { type Activation, inferGeometry, pointwiseConv2d, shapeSize } from "@mobileops/core";
import { isPointwiseConv2d, preparePointwiseConv2d } from "./f32-conv2d-pointwise-js.ts";

const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];

// Every output-channel count 1..17 covers full and partial 4-channel blocks
// (and several of each); every pixel count 1..9 covers full and partial
// 4-pixel blocks; groups 1 and 3 cover the group offsets.
Deno.test("pointwise conv matches the reference for every edge size", () => {
  const random = seededRandom(11);
  let cases = 0;
  const failures: string[] = [];
  for (const groups of [1, 3]) {
    for (const groupIn of [1, 6]) {
      for (let groupOut = 1; groupOut <= 17; groupOut++) {
        for (let pixels = 1; pixels <= 9; pixels++) {
          const bias = (groupOut + pixels) % 2 === 0;
          const descriptor = pointwiseConv2d({
            inChannels: groups * groupIn,
            outChannels: groups * groupOut,
            groups,
            bias,
            activation: ACTIVATIONS[(groupOut + pixels + groups) % 3],
          });
          assert(isPointwiseConv2d(descriptor));
          const shape = [1, 1, pixels, groups * groupIn];
          const weights = {
            filter: randomFloat32(random, descriptor.outChannels * groupIn),
            bias: bias ? randomFloat32(random, descriptor.outChannels) : undefined,
          };
          const input = randomFloat32(random, shapeSize(shape), 4);
          const geometry = inferGeometry(descriptor, [shape]);
          const output = new Float32Array(shapeSize(geometry.outputShape)).fill(NaN);
          preparePointwiseConv2d(descriptor, weights).run([input], output, geometry);
          const check = withinTolerance(
            output,
            reference(descriptor, weights, [{ shape, data: input }]),
          );
          cases++;
          if (!check.ok) {
            failures.push(`g${groups} ${groupIn}→${groupOut} p${pixels}: ${check.detail}`);
          }
        }
      }
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${cases} cases failed`);
});

Deno.test("pointwise conv treats batch, rows and columns as one pixel list", () => {
  const random = seededRandom(12);
  const descriptor = pointwiseConv2d({ inChannels: 5, outChannels: 6, bias: true });
  const weights = { filter: randomFloat32(random, 30), bias: randomFloat32(random, 6) };
  const shape = [2, 3, 5, 5];
  const input = randomFloat32(random, shapeSize(shape));
  const geometry = inferGeometry(descriptor, [shape]);
  const output = new Float32Array(shapeSize(geometry.outputShape));
  preparePointwiseConv2d(descriptor, weights).run([input], output, geometry);
  const check = withinTolerance(output, reference(descriptor, weights, [{ shape, data: input }]));
  assert(check.ok, check.detail);
});

Deno.test("isPointwiseConv2d rejects strided, padded and larger kernels", () => {
  const base = { inChannels: 4, outChannels: 4 };
  assert(!isPointwiseConv2d(pointwiseConv2d({ ...base, stride: 2 })));
  assert(!isPointwiseConv2d({ ...pointwiseConv2d(base), padding: [0, 1, 0, 0] }));
  assert(!isPointwiseConv2d({ ...pointwiseConv2d(base), kernel: [1, 3] }));
  assert(isPointwiseConv2d({ ...pointwiseConv2d(base), padding: "same" }));
});
