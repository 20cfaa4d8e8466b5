import assert from "node:assert/strict";
import { encode as encodePng } from "npm:fast-png@8.0.0";
import jpeg from "npm:jpeg-js@0.4.4";
import { InvalidArgumentError } from "@mobileops/core";
import {
  decodeImage,
  ImageDecodeError,
  IMAGENET,
  imageToInput,
  MAX_IMAGE_PIXELS,
  MINUS_ONE_TO_ONE,
  preprocessImage,
  readImageSize,
  resizedSize,
  type RgbImage,
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

/** A `width`×`height` image whose samples are `sample(x, y, channel)`. */
function synthetic(
  width: number,
  height: number,
  sample: (x: number, y: number, c: number) => number,
): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = sample(x, y, c);
    }
  }
  return { width, height, data };
}

/** Channel `c` of NHWC `data` `width` pixels wide, row `y`. */
function row(data: Float32Array, width: number, y: number, c = 0): number[] {
  return Array.from({ length: width }, (_, x) => data[(y * width + x) * 3 + c]);
}

const IDENTITY = { mean: 0, std: 1 } as const;

Deno.test("resizedSize: the short side becomes the size, the long side is truncated as torchvision's", () => {
  assert.deepEqual(resizedSize(500, 375, 256), { width: 341, height: 256 }); // 341.33
  assert.deepEqual(resizedSize(375, 500, 256), { width: 256, height: 341 });
  assert.deepEqual(resizedSize(640, 427, 256), { width: 383, height: 256 }); // 383.70, not 384
  assert.deepEqual(resizedSize(3, 2, 4), { width: 6, height: 4 });
  assert.deepEqual(resizedSize(5, 5, 7), { width: 7, height: 7 });
  assert.deepEqual(resizedSize(1, 3, 1), { width: 1, height: 3 });
  for (
    const [args, field] of [
      [[0, 5, 4], "width"],
      [[5, 1.5, 4], "height"],
      [[5, 5, 0], "shortSide"],
      [[5, 5, 2 ** 24 + 1], "shortSide"],
      [[5, 5, "4"], "shortSide"],
    ] as const
  ) {
    refusedAs(
      () => resizedSize(...(args as unknown as [number, number, number])),
      InvalidArgumentError,
      field,
    );
  }
});

Deno.test("preprocessImage: bilinear upsampling and the centre crop, values computed by hand", () => {
  // 4×2: red 0, 40, 80, 120 along each row; green 0 on the top row, 200 below; blue 7.
  const image = synthetic(4, 2, (x, y, c) => [40 * x, 200 * y, 7][c]);
  const out = preprocessImage(image, { resize: 4 }, IDENTITY);
  assert.deepEqual(out.resized, { width: 8, height: 4 });
  assert.deepEqual(out.crop, { top: 0, left: 2, height: 4, width: 4 });
  assert.deepEqual(out.shape, [1, 4, 4, 3]);
  // Columns 2–5 of 8 read x = (j + 0.5)·4/8 − 0.5 = 0.75, 1.25, 1.75, 2.25.
  for (let y = 0; y < 4; y++) assert.deepEqual(row(out.data, 4, y, 0), [30, 50, 70, 90]);
  // Rows 0–3 of 4 read y = −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
  assert.deepEqual([0, 1, 2, 3].map((y) => out.data[y * 12 + 1]), [0, 50, 150, 200]);
  assert.ok(out.data.filter((_, i) => i % 3 === 2).every((v) => v === 7));
  // A non-square crop of the same resized image.
  const wide = preprocessImage(image, { resize: 4, crop: [2, 6] }, IDENTITY);
  assert.deepEqual(wide.crop, { top: 1, left: 1, height: 2, width: 6 });
  assert.deepEqual(row(wide.data, 6, 0, 0), [10, 30, 50, 70, 90, 110]);
  assert.deepEqual(row(wide.data, 6, 1, 1), Array(6).fill(150));
});

Deno.test("preprocessImage: downsampling by 2 averages pixel pairs; crop offsets round halves to even", () => {
  // 6×6, red 10·x: resized to 3×3 each output reads x = 2j + 0.5, halfway between 2j and 2j + 1.
  const image = synthetic(6, 6, (x, _y, c) => (c === 0 ? 10 * x : 0));
  const full = preprocessImage(image, { resize: 3 }, IDENTITY);
  assert.deepEqual(row(full.data, 3, 1), [5, 25, 45]);
  // (3 − 2) / 2 = 0.5 rounds to 0, as Python's round does (Math.round would give 1).
  const cropped = preprocessImage(image, { resize: 3, crop: 2 }, IDENTITY);
  assert.deepEqual([cropped.crop.top, cropped.crop.left], [0, 0]);
  assert.deepEqual(row(cropped.data, 2, 0), [5, 25]);
  // 10×4 resized to short side 4 is itself: the crop alone decides.
  const strip = synthetic(10, 4, (x, _y, c) => (c === 0 ? 10 * x : 0));
  const offsets = [[4, 3], [5, 2], [7, 2], [6, 2], [9, 0]].map(([width, left]) => {
    const out = preprocessImage(strip, { resize: 4, crop: [4, width] }, IDENTITY);
    assert.deepEqual(out.resized, { width: 10, height: 4 });
    assert.deepEqual(
      row(out.data, width, 3),
      Array.from({ length: width }, (_, x) => 10 * (x + left)),
    );
    return out.crop.left;
  });
  // (10 − 5) / 2 = 2.5 → 2, (10 − 7) / 2 = 1.5 → 2, (10 − 9) / 2 = 0.5 → 0.
  assert.deepEqual(offsets, [3, 2, 2, 2, 0]);
});

Deno.test("preprocessImage crops the same pixels the whole resized image has, and matches imageToInput", () => {
  const image = synthetic(7, 5, (x, y, c) => (31 * x + 17 * y + 50 * c) % 256);
  const cropped = preprocessImage(image, { resize: 4, crop: 3 }, IMAGENET);
  const { resized, crop } = cropped;
  assert.deepEqual(resized, { width: 5, height: 4 }); // floor(4 · 7 / 5)
  const whole = preprocessImage(image, { resize: 4, crop: [resized.height, resized.width] });
  for (let y = 0; y < crop.height; y++) {
    const from: number = ((crop.top + y) * resized.width + crop.left) * 3;
    assert.deepEqual(
      [...cropped.data.subarray(y * crop.width * 3, (y + 1) * crop.width * 3)],
      [...whole.data.subarray(from, from + crop.width * 3)],
    );
  }
  // A square image keeps its aspect ratio either way: both functions resample alike.
  const square = synthetic(6, 6, (x, y, c) => (13 * x * y + 70 * c) % 256);
  assert.deepEqual(
    preprocessImage(square, { resize: 4 }, MINUS_ONE_TO_ONE).data,
    imageToInput(square, 4, MINUS_ONE_TO_ONE),
  );
});

Deno.test("normalization: one value or one per channel; IMAGENET is torchvision's, times 255", () => {
  const image = synthetic(2, 2, (_x, _y, c) => [100, 150, 200][c]);
  const perChannel = imageToInput(image, 1, { mean: [100, 50, 0], std: [1, 2, 4] });
  assert.deepEqual([...perChannel], [0, 50, 50]);
  assert.deepEqual(
    [...preprocessImage(image, { resize: 1 }, { mean: [100, 50, 0], std: 2 }).data],
    [0, 50, 100],
  );
  assert.deepEqual(
    imageToInput(image, 2, MINUS_ONE_TO_ONE),
    imageToInput(image, 2, { mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] }),
  );
  const [mean, std] = [IMAGENET.mean, IMAGENET.std] as (readonly number[])[];
  [0.485, 0.456, 0.406].forEach((m, c) => assert.ok(Math.abs(mean[c] - 255 * m) < 1e-12));
  [0.229, 0.224, 0.225].forEach((s, c) => assert.ok(Math.abs(std[c] - 255 * s) < 1e-12));
  assert.ok(Object.isFrozen(IMAGENET) && Object.isFrozen(IMAGENET.mean));
  // torchvision: ToTensor divides by 255, then Normalize; the same up to float32 rounding.
  const [r, g, b] = preprocessImage(image, { resize: 1 }).data;
  [[r, 100, 0], [g, 150, 1], [b, 200, 2]].forEach(([value, sample, c]) => {
    const torchvision = (sample / 255 - [0.485, 0.456, 0.406][c]) / [0.229, 0.224, 0.225][c];
    assert.ok(Math.abs(value - torchvision) < 1e-6, `channel ${c}: ${value} vs ${torchvision}`);
  });
});

Deno.test("preprocessImage and per-channel normalization refuse bad values, naming the field", () => {
  const image = synthetic(8, 4, () => 9);
  const normalizations: [unknown, string][] = [
    [{ mean: [0, 0], std: 1 }, "normalization.mean"],
    [{ mean: [0, 0, 0, 0], std: 1 }, "normalization.mean"],
    [{ mean: new Float32Array(3), std: 1 }, "normalization.mean"],
    [{ mean: [0, NaN, 0], std: 1 }, "normalization.mean[1]"],
    [{ mean: [0, "1", 0], std: 1 }, "normalization.mean[1]"],
    [{ mean: 0, std: [1, 0, 1] }, "normalization.std[1]"],
    [{ mean: 0, std: [1, 1, -Infinity] }, "normalization.std[2]"],
    [{ mean: 0, std: "1" }, "normalization.std"],
    [{ mean: [0, 0, 0], std: [1, 1, 1e-300] }, "normalization"],
    [{ mean: 0 }, "normalization.std"],
  ];
  for (const [normalization, field] of normalizations) {
    refusedAs(() => imageToInput(image, 2, normalization as never), InvalidArgumentError, field);
    refusedAs(
      () => preprocessImage(image, { resize: 4 }, normalization as never),
      InvalidArgumentError,
      field,
    );
  }
  const options: [unknown, string][] = [
    [undefined, "options"],
    [null, "options"],
    [{ resize: 0 }, "options.resize"],
    [{ resize: 2.5 }, "options.resize"],
    [{ resize: "4" }, "options.resize"],
    [{ resize: 2 ** 24 + 1 }, "options.resize"],
    [{ resize: 4, crop: 0 }, "options.crop"],
    [{ resize: 4, crop: 5 }, "options.crop"], // taller than the resized 8×4
    [{ resize: 4, crop: [4, 9] }, "options.crop"],
    [{ resize: 4, crop: [4] }, "options.crop"],
    [{ resize: 4, crop: "4" }, "options.crop"],
    [{ resize: 4, crop: [4, 1.5] }, "options.crop[1]"],
    [{ resize: 2 ** 24, crop: 2 ** 24 }, "options.crop"], // 3·2⁴⁸ values: refused, not allocated
    [{ resize: 4, crops: 4 }, "options.crops"],
  ];
  for (const [value, field] of options) {
    refusedAs(() => preprocessImage(image, value as never), InvalidArgumentError, field);
  }
  refusedAs(
    () => preprocessImage({ ...image, data: new Uint8Array(3) }, { resize: 4 }),
    InvalidArgumentError,
    "image.data",
  );
});
