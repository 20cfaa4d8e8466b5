import assert from "node:assert/strict";
import { randomFloat32, reference, seededRandom, withinTolerance } from "@mobileops/conformance";
import {
  type Activation,
  depthwiseConv2d,
  inferGeometry,
  type Padding,
  ShapeError,
  shapeSize,
} from "@mobileops/core";
import { isDwconv3x3, prepareDwconv3x3 } from "./f32-dwconv-3x3-js.ts";

const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];
const PADDINGS: readonly Padding[] = ["valid", "same", [1, 1, 1, 1], [0, 2, 2, 0], [3, 4, 4, 3]];
const STRIDES = [[1, 1], [2, 2], [1, 2], [2, 1]] as const;

// Heights 1..7 and widths 1..13 take every split of a row into left border,
// 4-pixel interior blocks, single interior pixels and right border, at both
// strides, with padding on no side, every side, one side only, and wider
// than the window (rows and columns of windows that lie wholly in padding).
Deno.test("3×3 depthwise conv matches the reference for every edge size", () => {
  const random = seededRandom(21);
  const channels = 5;
  let cases = 0;
  const failures: string[] = [];
  for (const stride of STRIDES) {
    for (const padding of PADDINGS) {
      for (let h = 1; h <= 7; h++) {
        for (let w = 1; w <= 13; w++) {
          const bias = (h + w) % 2 === 0;
          const descriptor = depthwiseConv2d({
            channels,
            kernel: 3,
            stride,
            padding,
            bias,
            activation: ACTIVATIONS[(h * w) % 3],
          });
          const shape = [1, h, w, channels];
          let geometry;
          try {
            geometry = inferGeometry(descriptor, [shape]);
          } catch (error) {
            if (error instanceof ShapeError) continue;
            throw error;
          }
          const weights = {
            filter: randomFloat32(random, 9 * channels),
            bias: bias ? randomFloat32(random, channels) : undefined,
          };
          const input = randomFloat32(random, shapeSize(shape), 4);
          const output = new Float32Array(shapeSize(geometry.outputShape)).fill(NaN);
          prepareDwconv3x3(descriptor, weights).run([input], output, geometry);
          const check = withinTolerance(
            output,
            reference(descriptor, weights, [{ shape, data: input }]),
          );
          cases++;
          if (!check.ok) {
            failures.push(`s${stride} ${JSON.stringify(padding)} ${h}×${w}: ${check.detail}`);
          }
        }
      }
    }
  }
  assert(cases > 1300, `only ${cases} valid cases`);
  assert.deepEqual(failures, [], `${failures.length} of ${cases} cases failed`);
});

Deno.test("3×3 depthwise conv keeps batches apart", () => {
  const random = seededRandom(22);
  const descriptor = depthwiseConv2d({ channels: 3, kernel: 3, padding: "same", bias: true });
  const weights = { filter: randomFloat32(random, 27), bias: randomFloat32(random, 3) };
  const shape = [3, 6, 9, 3];
  const input = randomFloat32(random, shapeSize(shape));
  const geometry = inferGeometry(descriptor, [shape]);
  const output = new Float32Array(shapeSize(geometry.outputShape));
  prepareDwconv3x3(descriptor, weights).run([input], output, geometry);
  const check = withinTolerance(output, reference(descriptor, weights, [{ shape, data: input }]));
  assert(check.ok, check.detail);
});

Deno.test("isDwconv3x3 leaves multipliers, dilation, stride 3 and 5×5 to the generic kernel", () => {
  const base = { channels: 4, kernel: 3 };
  assert(!isDwconv3x3(depthwiseConv2d({ ...base, multiplier: 2 })));
  assert(!isDwconv3x3(depthwiseConv2d({ ...base, dilation: 2 })));
  assert(!isDwconv3x3(depthwiseConv2d({ ...base, stride: 3 })));
  assert(!isDwconv3x3(depthwiseConv2d({ ...base, kernel: 5 })));
});
