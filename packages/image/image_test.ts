import assert from "node:assert/strict";
import { encode as encodePng } from "npm:fast-png@8.0.0";
import jpeg from "npm:jpeg-js@0.4.4";
import { InvalidArgumentError } from "@mobileops/core";
import {
  decodeImage,
  ImageDecodeError,
  imageToInput,
  MAX_IMAGE_PIXELS,
  MINUS_ONE_TO_ONE,
  readImageSize,
} from "./mod.ts";

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

/** A PNG that is only its signature and IHDR chunk (no pixel data), claiming `width`×`height`. */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(8 + 25);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set([0x49, 0x48, 0x44, 0x52], 12); // "IHDR"
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 2, 0, 0, 0], 24); // 8-bit RGB; the CRC is left 0
  return bytes;
}

/** A JPEG that is SOI, a JFIF APP0 segment, fill bytes and a start of frame `marker`, nothing more. */
function jpegHeader(width: number, height: number, marker = 0xc0): Uint8Array {
  const app0 = [0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const frame = [
    0xff,
    0xff,
    0xff,
    marker,
    0,
    17,
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
  ];
  return new Uint8Array([0xff, 0xd8, ...app0, ...frame, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
}

function refusedAs(call: () => unknown, ErrorType: typeof InvalidArgumentError, field: string) {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof ErrorType, `${field}: ${error}`);
    assert.equal((error as InvalidArgumentError).field, field, `${error}`);
    return true;
  });
}

Deno.test("readImageSize reads PNG and JPEG headers without decoding", () => {
  const png = encodePng({ width: 5, height: 3, data: new Uint8Array(45), channels: 3 });
  assert.deepEqual(readImageSize(png), { format: "png", width: 5, height: 3 });
  const rgba = new Uint8Array(7 * 4 * 4);
  const jpg = jpeg.encode({ width: 7, height: 4, data: rgba }, 90).data;
  assert.deepEqual(readImageSize(jpg), { format: "jpeg", width: 7, height: 4 });
  assert.deepEqual(readImageSize(jpegHeader(640, 480, 0xc2)), {
    format: "jpeg",
    width: 640,
    height: 480,
  });
  assert.deepEqual(readImageSize(pngHeader(8000, 5000)).width, 8000, "exactly MAX_IMAGE_PIXELS");
});

Deno.test("a header claiming more than MAX_IMAGE_PIXELS is refused as too large, before decoding", () => {
  for (
    const bytes of [
      pngHeader(20000, 20000),
      pngHeader(8001, 5000),
      pngHeader(2 ** 31 - 1, 1),
      jpegHeader(20000, 20000),
      jpegHeader(65535, 65535, 0xc2),
    ]
  ) {
    for (const read of [readImageSize, decodeImage]) {
      assert.throws(() => read(bytes), (error: unknown) => {
        assert.ok(error instanceof ImageDecodeError, `${error}`);
        assert.equal(error.field, "[width, height]");
        assert.ok(error.message.includes(`more than MAX_IMAGE_PIXELS (${MAX_IMAGE_PIXELS})`));
        return true;
      });
    }
  }
  assert.equal(
    (() => {
      try {
        decodeImage(pngHeader(20000, 20000));
      } catch (error) {
        return (error as Error).message;
      }
    })(),
    "[width, height] = [20000, 20000]: is 400000000 pixels, more than MAX_IMAGE_PIXELS " +
      "(40000000); refused before decoding",
  );
});

Deno.test("malformed headers, zero sizes and bytes that are not a Uint8Array are refused", () => {
  refusedAs(() => decodeImage(pngHeader(0, 10)), ImageDecodeError, "width");
  refusedAs(() => decodeImage(jpegHeader(10, 0)), ImageDecodeError, "height");
  refusedAs(() => readImageSize(pngHeader(10, 10).subarray(0, 20)), ImageDecodeError, "image");
  refusedAs(() => readImageSize(jpegHeader(10, 10).subarray(0, 28)), ImageDecodeError, "image");
  // A scan before any frame header, and a byte where a marker must be.
  refusedAs(
    () => readImageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2])),
    ImageDecodeError,
    "image",
  );
  refusedAs(
    () => readImageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 7, 7, 0, 0])),
    ImageDecodeError,
    "image",
  );
  for (const bytes of [undefined, null, "png", [0x89, 0x50], new Uint16Array(40)]) {
    for (const read of [decodeImage, readImageSize]) {
      assert.throws(() => read(bytes as never), (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError && !(error instanceof ImageDecodeError));
        assert.equal(error.field, "bytes");
        return true;
      });
    }
  }
});

Deno.test("imageToInput refuses bad images, sizes and normalizations, and its output is finite", () => {
  const image = { width: 2, height: 2, data: new Uint8Array(12).fill(200) };
  const cases: [unknown, unknown, unknown, string][] = [
    [null, 4, undefined, "image"],
    [{ ...image, width: 0 }, 4, undefined, "image.width"],
    [{ ...image, height: 1.5 }, 4, undefined, "image.height"],
    [{ ...image, data: new Uint8Array(11) }, 4, undefined, "image.data"],
    [{ ...image, data: Array(12).fill(1) }, 4, undefined, "image.data"],
    [image, 0, undefined, "size"],
    [image, -4, undefined, "size"],
    [image, NaN, undefined, "size"],
    [image, 2.5, undefined, "size"],
    [image, "224", undefined, "size"],
    [image, 10_000, undefined, "size"],
    [image, 4, null, "normalization"],
    [image, 4, { mean: 0 }, "normalization.std"],
    [image, 4, { mean: 0, std: 0 }, "normalization.std"],
    [image, 4, { mean: NaN, std: 1 }, "normalization.mean"],
    [image, 4, { mean: 0, std: Infinity }, "normalization.std"],
    [image, 4, { mean: 0, std: 1e-300 }, "normalization"],
    [image, 4, { mean: 0, std: 1, scale: 2 }, "normalization.scale"],
  ];
  for (const [img, size, normalization, field] of cases) {
    refusedAs(
      () => imageToInput(img as never, size as never, normalization as never),
      InvalidArgumentError,
      field,
    );
  }
  const extreme = imageToInput(image, 3, { mean: 0, std: 1e-36 });
  assert.ok(extreme.every(Number.isFinite) && extreme[0] === Math.fround(200 / 1e-36));
});
