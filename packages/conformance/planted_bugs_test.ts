// The suite must catch wrong backends and pass honest float32 ones. Each
// backend here wraps the reference with one deliberate change.
import assert from "node:assert/strict";
import {
  type Activation,
  activationBounds,
  type Backend,
  channelShuffle,
  concat,
  type Conv2dDescriptor,
  type ConvWeights,
  DescriptorError,
  type OpDescriptor,
  type OpGeometry,
  type OpWeights,
  softmax,
} from "@mobileops/core";
import { type Compute, createReferenceBackend } from "./_reference_backend.ts";
import { BAD_INPUT_CASES, type BadInputCase, checkBadInput } from "./bad_input.ts";
import { CASE_TABLES, type ConformanceCase } from "./cases.ts";
import { type CaseReport, runCase } from "./check.ts";
import { reference, type ReferenceTensor } from "./reference.ts";

const f = Math.fround;

async function reports(
  compute: Compute,
  accept: (testCase: ConformanceCase) => boolean,
): Promise<CaseReport[]> {
  using backend = createReferenceBackend("planted", compute);
  const results: CaseReport[] = [];
  for (const table of CASE_TABLES) {
    for (const [index, testCase] of table.cases.entries()) {
      if (accept(testCase)) {
        results.push(await runCase(backend, testCase, { presetOutput: index % 2 === 1 }));
      }
    }
  }
  assert.ok(results.length > 0, "no case selected");
  return results;
}

/** Asserts that some selected case fails, and that every case the bug cannot touch passes. */
async function assertCaught(
  compute: Compute,
  affected: (testCase: ConformanceCase) => boolean,
  unaffected?: (testCase: ConformanceCase) => boolean,
) {
  const failed = (await reports(compute, affected)).filter((r) => !r.ok);
  assert.ok(failed.length > 0, "the planted bug went unnoticed");
  if (unaffected) {
    const wrong = (await reports(compute, unaffected)).filter((r) => !r.ok);
    assert.deepEqual(wrong.map((r) => `${r.name}: ${r.problem}`), []);
  }
}

function values(
  descriptor: OpDescriptor,
  weights: OpWeights,
  inputs: readonly ReferenceTensor[],
  _geometry?: OpGeometry,
): Float64Array {
  return reference(descriptor, weights, inputs).values;
}

const isOp = (op: OpDescriptor["op"]) => (c: ConformanceCase) => c.descriptor.op === op;

Deno.test("planted bug: 'same' padding shifted by one row", async () => {
  const isSame = (c: ConformanceCase) =>
    "padding" in c.descriptor && c.descriptor.padding === "same";
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      const [top, bottom, left, right] = geometry.padding;
      if ("padding" in descriptor && descriptor.padding === "same" && bottom > 0) {
        const shifted = { ...descriptor, padding: [top + 1, bottom - 1, left, right] as const };
        return values(shifted, weights, inputs, geometry);
      }
      return values(descriptor, weights, inputs, geometry);
    },
    isSame,
    (c) => !isSame(c) && c.inputShapes.length === 1 && c.descriptor.op === "conv2d",
  );
});

Deno.test("planted bug: channel shuffle with the (C/g, g) inverse permutation", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      if (descriptor.op !== "channelShuffle") return values(descriptor, weights, inputs, geometry);
      const channels = inputs[0].shape[3];
      return values(
        channelShuffle({ groups: channels / descriptor.groups }),
        weights,
        inputs,
        geometry,
      );
    },
    isOp("channelShuffle"),
  );
});

Deno.test("planted bug: relu6 clamped at 7", async () => {
  const isRelu6 = (c: ConformanceCase) =>
    "activation" in c.descriptor && c.descriptor.activation === "relu6";
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      if (!("activation" in descriptor) || descriptor.activation !== "relu6") {
        return values(descriptor, weights, inputs, geometry);
      }
      const linear = values({ ...descriptor, activation: "none" }, weights, inputs, geometry);
      return Array.from(linear, (v) => Math.min(Math.max(v, 0), 7));
    },
    isRelu6,
    (c) => !isRelu6(c) && c.descriptor.op === "add",
  );
});

Deno.test("planted bug: avg pool ignores countIncludePad", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) =>
      values(
        descriptor.op === "avgPool2d" ? { ...descriptor, countIncludePad: false } : descriptor,
        weights,
        inputs,
        geometry,
      ),
    (c) => c.descriptor.op === "avgPool2d" && c.descriptor.countIncludePad,
    (c) => c.descriptor.op === "avgPool2d" && !c.descriptor.countIncludePad,
  );
});

/**
 * The input with its padding made explicit cells: `outside(edge)` of the
 * nearest in-image cell of the same channel (zeros by default), so a pool or
 * convolution sees padded cells as values.
 */
function padded(
  x: ReferenceTensor,
  [top, bottom, left, right]: OpGeometry["padding"],
  outside: (edge: number) => number = () => 0,
) {
  const [n, h, w, c] = x.shape;
  const shape = [n, h + top + bottom, w + left + right, c];
  const data = new Float64Array(shape.reduce((a, b) => a * b));
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < shape[1]; y++) {
      for (let xx = 0; xx < shape[2]; xx++) {
        const sy = Math.min(Math.max(y - top, 0), h - 1);
        const sx = Math.min(Math.max(xx - left, 0), w - 1);
        const inside = sy === y - top && sx === xx - left;
        for (let ch = 0; ch < c; ch++) {
          const value = x.data[((b * h + sy) * w + sx) * c + ch];
          data[((b * shape[1] + y) * shape[2] + xx) * c + ch] = inside ? value : outside(value);
        }
      }
    }
  }
  return { shape, data };
}

Deno.test("planted bug: max pool lets padded zeros win", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) =>
      descriptor.op === "maxPool2d"
        ? values({ ...descriptor, padding: "valid" }, weights, [
          padded(inputs[0], geometry.padding),
        ], geometry)
        : values(descriptor, weights, inputs, geometry),
    isOp("maxPool2d"),
  );
});

Deno.test("planted bug: depthwise multiplier outputs in k·C + c order", async () => {
  const isMultiplied = (c: ConformanceCase) =>
    c.descriptor.op === "conv2d" && c.descriptor.groups === c.descriptor.inChannels &&
    c.descriptor.inChannels > 1 && c.descriptor.outChannels > c.descriptor.inChannels;
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      const right = values(descriptor, weights, inputs, geometry);
      if (descriptor.op !== "conv2d" || descriptor.groups !== descriptor.inChannels) return right;
      const channels = descriptor.inChannels;
      const multiplier = descriptor.outChannels / channels;
      const swapped = new Float64Array(right.length);
      for (let base = 0; base < right.length; base += descriptor.outChannels) {
        for (let c = 0; c < channels; c++) {
          for (let k = 0; k < multiplier; k++) {
            swapped[base + k * channels + c] = right[base + c * multiplier + k];
          }
        }
      }
      return swapped;
    },
    isMultiplied,
  );
});

Deno.test("planted bug: weights rounded to bfloat16", async () => {
  const bfloat16 = (array: Float32Array) => {
    const rounded = array.slice();
    const bits = new Uint32Array(rounded.buffer);
    for (let i = 0; i < bits.length; i++) bits[i] &= 0xffff0000;
    return rounded;
  };
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      if (descriptor.op !== "conv2d") return values(descriptor, weights, inputs, geometry);
      const w = weights as ConvWeights;
      return values(descriptor, { ...w, filter: bfloat16(w.filter) }, inputs, geometry);
    },
    isOp("conv2d"),
  );
});

Deno.test("planted bug: bias ignored", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) =>
      descriptor.op === "conv2d"
        ? values(
          { ...descriptor, bias: false },
          { filter: (weights as ConvWeights).filter },
          inputs,
          geometry,
        )
        : values(descriptor, weights, inputs, geometry),
    (c) => c.descriptor.op === "conv2d" && c.descriptor.bias,
    (c) => c.descriptor.op === "conv2d" && !c.descriptor.bias,
  );
});

Deno.test("planted bug: concat in reverse input order", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) =>
      values(
        descriptor.op === "concat" ? concat(descriptor) : descriptor,
        weights,
        descriptor.op === "concat" ? [...inputs].reverse() : inputs,
        geometry,
      ),
    (c) => c.descriptor.op === "concat" && c.inputShapes.length > 1,
  );
});

Deno.test("planted bug: softmax over the whole tensor instead of the last axis", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) =>
      descriptor.op === "softmax"
        ? values(
          softmax(),
          weights,
          [{ shape: [inputs[0].data.length], data: inputs[0].data }],
          geometry,
        )
        : values(descriptor, weights, inputs, geometry),
    (c) => c.descriptor.op === "softmax" && c.inputShapes[0].length > 1,
  );
});

Deno.test("planted bug: the last output is never written", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) =>
      values(descriptor, weights, inputs, geometry).subarray(0, -1),
    isOp("add"),
  );
});

Deno.test("planted bug: run modifies its input", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      const result = values(descriptor, weights, inputs, geometry);
      (inputs[0].data as Float32Array)[0] += 1;
      return result;
    },
    isOp("globalAvgPool"),
  );
});

const special = (c: ConformanceCase) => (c.specials?.length ?? 0) > 0;
const activated = (c: ConformanceCase) =>
  "activation" in c.descriptor && c.descriptor.activation !== "none";

Deno.test("planted bug: fused activations as f32x4.pmin(hi, f32x4.pmax(lo, x)), which turns NaN into lo", async () => {
  // WebAssembly's pseudo-minimum and pseudo-maximum: b < a ? b : a and a < b ? b : a.
  const pmin = (a: number, b: number) => b < a ? b : a;
  const pmax = (a: number, b: number) => a < b ? b : a;
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      if (!("activation" in descriptor) || descriptor.activation === "none") {
        return values(descriptor, weights, inputs, geometry);
      }
      const [low, high] = activationBounds(descriptor.activation).map(f);
      const linear = values({ ...descriptor, activation: "none" }, weights, inputs, geometry);
      return linear.map((v) => pmin(high, pmax(low, v)));
    },
    (c) => special(c) && activated(c),
    (c) => !special(c) && activated(c) && ["add", "concat"].includes(c.descriptor.op),
  );
});

const isClamp = (c: ConformanceCase) =>
  "activation" in c.descriptor && typeof c.descriptor.activation === "object";

Deno.test("planted bug: clamp ignores its lower bound", async () => {
  const hasMin = (c: ConformanceCase) =>
    isClamp(c) && activationBounds((c.descriptor as { activation: Activation }).activation)[0] >
      -Infinity;
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      if (!("activation" in descriptor) || typeof descriptor.activation !== "object") {
        return values(descriptor, weights, inputs, geometry);
      }
      const linear = values({ ...descriptor, activation: "none" }, weights, inputs, geometry);
      return linear.map((v) => Math.min(v, f((descriptor.activation as { max: number }).max)));
    },
    hasMin,
    (c) => isClamp(c) && !hasMin(c),
  );
});

const isCeil = (c: ConformanceCase) =>
  (c.descriptor.op === "avgPool2d" || c.descriptor.op === "maxPool2d") && c.descriptor.ceilMode;

Deno.test("planted bug: ceil-mode average divides by the whole window, overhang included", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      if (descriptor.op !== "avgPool2d" || !descriptor.countIncludePad) {
        return values(descriptor, weights, inputs, geometry);
      }
      const [n, h, w, c] = inputs[0].shape;
      const [, outH, outW] = geometry.outputShape;
      const [top, , left] = geometry.padding;
      const [kh, kw] = descriptor.kernel;
      const out = new Float64Array(n * outH * outW * c);
      let index = 0;
      for (let b = 0; b < n; b++) {
        for (let oy = 0; oy < outH; oy++) {
          const y0 = oy * descriptor.stride[0] - top;
          for (let ox = 0; ox < outW; ox++) {
            const x0 = ox * descriptor.stride[1] - left;
            for (let ch = 0; ch < c; ch++) {
              let sum = 0;
              for (let y = Math.max(y0, 0); y < Math.min(y0 + kh, h); y++) {
                for (let x = Math.max(x0, 0); x < Math.min(x0 + kw, w); x++) {
                  sum += inputs[0].data[((b * h + y) * w + x) * c + ch];
                }
              }
              out[index++] = sum / (kh * kw);
            }
          }
        }
      }
      return out;
    },
    (c) => isCeil(c) && c.descriptor.op === "avgPool2d" && c.descriptor.countIncludePad,
    (c) => c.descriptor.op === "avgPool2d" && !isCeil(c),
  );
});

Deno.test("planted bug: ceil-mode max pool reads the overhang (and trailing padding) as zeros", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      if (descriptor.op !== "maxPool2d" || !descriptor.ceilMode) {
        return values(descriptor, weights, inputs, geometry);
      }
      const [, h, w] = inputs[0].shape;
      const [, outH, outW] = geometry.outputShape;
      const [top, , left] = geometry.padding;
      // Zeros as data up to the end of the last window.
      const reach = (out: number, axis: 0 | 1, size: number, before: number) =>
        Math.max((out - 1) * descriptor.stride[axis] + descriptor.kernel[axis] - before - size, 0);
      const extended = padded(inputs[0], [0, reach(outH, 0, h, top), 0, reach(outW, 1, w, left)]);
      return values(
        { ...descriptor, padding: [top, 0, left, 0], ceilMode: false },
        weights,
        [extended],
        geometry,
      );
    },
    (c) => isCeil(c) && c.descriptor.op === "maxPool2d",
    (c) => c.descriptor.op === "maxPool2d" && !isCeil(c),
  );
});

Deno.test("planted bug: max pool skips NaN (value > max, from −∞)", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      if (descriptor.op !== "maxPool2d") return values(descriptor, weights, inputs, geometry);
      const cleaned = {
        shape: inputs[0].shape,
        data: Array.from(inputs[0].data, (v) => v === v ? v : -Infinity),
      };
      return values(descriptor, weights, [cleaned], geometry);
    },
    (c) => special(c) && c.descriptor.op === "maxPool2d",
    (c) => !special(c) && c.descriptor.op === "maxPool2d",
  );
});

Deno.test("planted bug: convolution padding taps computed as 0 × the edge pixel (∞·0 = NaN)", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) =>
      descriptor.op === "conv2d"
        ? values({ ...descriptor, padding: "valid" }, weights, [
          padded(inputs[0], geometry.padding, (edge) => 0 * edge),
        ], geometry)
        : values(descriptor, weights, inputs, geometry),
    // The extreme sizes would pad to 8193×8193 images here.
    (c) => special(c) && c.descriptor.op === "conv2d",
    (c) => !special(c) && c.descriptor.op === "conv2d" && !c.name.startsWith("extreme sizes"),
  );
});

Deno.test("planted bug: softmax's row maximum skips non-finite values", async () => {
  await assertCaught(
    (descriptor, weights, inputs, geometry) => {
      if (descriptor.op !== "softmax") return values(descriptor, weights, inputs, geometry);
      const x = inputs[0];
      const length = x.shape[x.shape.length - 1];
      const out = new Float64Array(x.data.length);
      for (let base = 0; base < out.length; base += length) {
        const row = Array.from({ length }, (_, i) => x.data[base + i]);
        const max = Math.max(...row.filter(Number.isFinite));
        const sum = row.reduce((total, v) => total + Math.exp(v - max), 0);
        row.forEach((v, i) => out[base + i] = Math.exp(v - max) / sum);
      }
      return out;
    },
    (c) => special(c) && c.descriptor.op === "softmax",
    (c) => !special(c) && c.descriptor.op === "softmax",
  );
});

Deno.test("planted bug: outputs the reference gives as NaN are never written, into a preset output", async () => {
  using backend = createReferenceBackend(
    "planted",
    (descriptor, weights, inputs, geometry, output) =>
      values(descriptor, weights, inputs, geometry).map((v, i) => Number.isNaN(v) ? output[i] : v),
  );
  const cases = CASE_TABLES.flatMap((table) => table.cases).filter(special);
  const failed: CaseReport[] = [];
  for (const testCase of cases.slice(0, 100)) {
    const report = await runCase(backend, testCase, { presetOutput: true });
    if (!report.ok) failed.push(report);
  }
  // A NaN-filled preset would hide this bug: the preset is finite wherever the reference has NaN.
  assert.ok(failed.length > 50, `${failed.length} cases caught`);
});

/** Float32 convolution, taps in reverse order, bias added last: honest, just rounded. */
function float32Conv(
  d: Conv2dDescriptor,
  w: ConvWeights,
  x: ReferenceTensor,
  geometry: OpGeometry,
): Float32Array {
  const [, height, width, channels] = x.shape;
  const [batch, outH, outW] = geometry.outputShape;
  const [top, , left] = geometry.padding;
  const [kh, kw] = d.kernel;
  const groupIn = d.inChannels / d.groups;
  const groupOut = d.outChannels / d.groups;
  const [low, high] = activationBounds(d.activation).map(f);
  const out = new Float32Array(batch * outH * outW * d.outChannels);
  let index = 0;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let o = 0; o < d.outChannels; o++) {
          const group = Math.floor(o / groupOut);
          let sum = 0;
          for (let ky = kh - 1; ky >= 0; ky--) {
            const iy = oy * d.stride[0] - top + ky * d.dilation[0];
            for (let kx = kw - 1; kx >= 0; kx--) {
              const ix = ox * d.stride[1] - left + kx * d.dilation[1];
              if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
              for (let i = groupIn - 1; i >= 0; i--) {
                const input =
                  x.data[((n * height + iy) * width + ix) * channels + group * groupIn + i];
                sum = f(sum + f(input * w.filter[((o * kh + ky) * kw + kx) * groupIn + i]));
              }
            }
          }
          if (w.bias) sum = f(sum + w.bias[o]);
          out[index++] = Math.min(Math.max(sum, low), high);
        }
      }
    }
  }
  return out;
}

/**
 * Float32 softmax whose exp errs by the most WGSL allows, `3 + 2|x|` ulp,
 * always upwards (exactly 0 stays 0: `exp(−∞)`); sum and divide rounded.
 */
function float32Softmax(x: ReferenceTensor): Float32Array {
  const length = x.shape[x.shape.length - 1];
  const out = new Float32Array(x.data.length);
  for (let base = 0; base < out.length; base += length) {
    let max = -Infinity;
    for (let i = 0; i < length; i++) max = Math.max(max, x.data[base + i]);
    let sum = 0;
    for (let i = 0; i < length; i++) {
      const t = f(x.data[base + i] - max);
      const e = Math.exp(t);
      out[base + i] = e === 0 ? 0 : f(e * (1 + (3 + 2 * Math.abs(t)) * 2 ** -23));
      sum = f(sum + out[base + i]);
    }
    for (let i = 0; i < length; i++) out[base + i] = f(out[base + i] / sum);
  }
  return out;
}

Deno.test("honest float32 backend: convolutions and softmax pass", async () => {
  const honest: Compute = (descriptor, weights, inputs, geometry) =>
    descriptor.op === "conv2d"
      ? float32Conv(descriptor, weights as ConvWeights, inputs[0], geometry)
      : descriptor.op === "softmax"
      ? float32Softmax(inputs[0])
      : values(descriptor, weights, inputs, geometry);
  const results = await reports(honest, (c) => ["conv2d", "softmax"].includes(c.descriptor.op));
  assert.deepEqual(results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.problem}`), []);
  const worst = Math.max(...results.map((r) => r.worstRatio));
  assert.ok(worst > 0 && worst <= 1, `worst ratio ${worst}`);
});

function proxy(backend: Backend, overrides: Partial<Backend>): Backend {
  return new Proxy(backend, {
    get(target, property) {
      if (property in overrides) return overrides[property as keyof Backend];
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function assertFlagged(lax: Backend, testCase: BadInputCase) {
  using other = createReferenceBackend();
  await assert.rejects(
    checkBadInput(testCase, {
      backend: lax,
      other,
      fresh: () => Promise.resolve(createReferenceBackend()),
    }),
    assert.AssertionError,
  );
}

const badCase = (name: string) => BAD_INPUT_CASES.find((c) => c.name === name)!;

Deno.test("planted bug: bad input raising a plain Error, naming the wrong field, or rejecting instead of throwing", async () => {
  using backend = createReferenceBackend();
  await assertFlagged(
    proxy(backend, { prepare: () => Promise.reject(new Error("bad descriptor")) }),
    badCase("zero kernel size"),
  );
  await assertFlagged(
    proxy(backend, {
      prepare: () => Promise.reject(new DescriptorError("descriptor", {}, "is malformed")),
    }),
    badCase("groups not dividing inChannels"),
  );
  await assertFlagged(
    proxy(backend, {
      run: (...args: Parameters<Backend["run"]>) => {
        try {
          return backend.run(...args);
        } catch (error) {
          return Promise.reject(error) as never;
        }
      },
    }),
    badCase("conv input of rank 3"),
  );
  // The unmodified backend passes the same cases.
  using other = createReferenceBackend();
  for (
    const name of ["zero kernel size", "groups not dividing inChannels", "conv input of rank 3"]
  ) {
    await checkBadInput(badCase(name), {
      backend,
      other,
      fresh: () => Promise.resolve(createReferenceBackend()),
    });
  }
});
