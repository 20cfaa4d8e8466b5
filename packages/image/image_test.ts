import assert from "node:assert/strict";
import { encode as encodePng } from "npm:fast-png@8.0.0";
import jpeg from "npm:jpeg-js@0.4.4";
import { decodeImage, ImageDecodeError, imageToInput, MINUS_ONE_TO_ONE } from "./mod.ts";

const RGBA = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 10, 20, 30, 255]);

Deno.test("PNG: RGBA, gray, 16-bit and palette images decode to 8-bit RGB", () => {
  const rgba = decodeImage(encodePng({ width: 2, height: 2, data: RGBA, channels: 4 }));
  assert.deepEqual([rgba.width, rgba.height], [2, 2]);
  assert.deepEqual([...rgba.data], [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
  const gray = decodeImage(
    encodePng({ width: 2, height: 1, data: new Uint8Array([7, 200]), channels: 1 }),
  );
  assert.deepEqual([...gray.data], [7, 7, 7, 200, 200, 200]);
  const deep = decodeImage(encodePng({
    width: 1,
    height: 1,
    data: new Uint16Array([0x1234, 0xff00, 0x00ff]),
    channels: 3,
    depth: 16,
  }));
  assert.deepEqual([...deep.data], [0x12, 0xff, 0x00]);
  const indexed = decodeImage(encodePng({
    width: 2,
    height: 1,
    data: new Uint8Array([1, 0]),
    channels: 1,
    depth: 8,
    palette: [[1, 2, 3], [4, 5, 6]],
  }));
  assert.deepEqual([...indexed.data], [4, 5, 6, 1, 2, 3]);
});

Deno.test("JPEG decodes to RGB near the encoded colours", () => {
  const size = 8;
  const data = new Uint8Array(size * size * 4);
  for (let p = 0; p < size * size; p++) data.set([200, 100, 50, 255], 4 * p);
  const image = decodeImage(jpeg.encode({ width: size, height: size, data }, 95).data);
  assert.deepEqual([image.width, image.height, image.data.length], [size, size, size * size * 3]);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(image.data[c] - [200, 100, 50][c]) <= 3);
});

Deno.test("bytes that are not an image throw ImageDecodeError", () => {
  for (const bytes of [new Uint8Array([1, 2, 3]), new Uint8Array([0xff, 0xd8, 0xff, 0x00, 0x01])]) {
    assert.throws(
      () => decodeImage(bytes),
      (e: unknown) => e instanceof ImageDecodeError && e.field === "image",
    );
  }
  const png = encodePng({ width: 2, height: 2, data: RGBA, channels: 4 });
  assert.throws(() => decodeImage(png.subarray(0, 40)), ImageDecodeError);
});

Deno.test("imageToInput resizes bilinearly with half-pixel centers and normalizes to [-1, 1]", () => {
  // One row 0 → 255: upsampling ×2 puts samples at ¼ and ¾ between the pixels, edges clamped.
  const ramp = { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 255, 255, 255]) };
  const input = imageToInput(ramp, 4);
  const red = [0, 1, 2, 3].map((x) => input[x * 3]);
  const expected = [0, 63.75, 191.25, 255].map((v) => (v - 127.5) / 127.5);
  assert.deepEqual(red, expected.map((v) => Math.fround(v)));
  assert.deepEqual([...input.subarray(12, 24)], [...input.subarray(0, 12)], "rows repeat");
  const down = imageToInput({ width: 4, height: 4, data: new Uint8Array(48).fill(51) }, 2, {
    mean: 0,
    std: 255,
  });
  assert.ok(down.every((v) => v === Math.fround(0.2)));
  assert.deepEqual(MINUS_ONE_TO_ONE, { mean: 127.5, std: 127.5 });
});
