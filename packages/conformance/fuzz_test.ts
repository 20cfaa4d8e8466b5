import assert from "node:assert/strict";
import {
  type Activation,
  convKind,
  inferGeometry,
  InvalidArgumentError,
  OP_NAMES,
  opCost,
  type OpDescriptor,
  shapeSize,
  validateDescriptor,
} from "@mobileops/core";
import { createReferenceBackend } from "./_reference_backend.ts";
import type { ConformanceCase } from "./cases.ts";
import { runCase } from "./check.ts";
import { FUZZ_MULTIPLY_ADD_BUDGET, fuzzCase, shrinkCase } from "./fuzz.ts";
import { reference } from "./reference.ts";

/** Cases within which every operator, option and non-finite value must appear. */
const COVERAGE_CASES = 600;
const cases = Array.from({ length: COVERAGE_CASES }, (_, i) => fuzzCase(1, i));

function activationOf(d: OpDescriptor): Activation | undefined {
  return "activation" in d ? d.activation : undefined;
}

Deno.test("fuzzCase: the same seed and index give the same case, data seed included", () => {
  for (const [seed, index] of [[1, 0], [1, 599], [7, 3], [2 ** 32 - 1, 2 ** 32 - 1]]) {
    assert.deepEqual(fuzzCase(seed, index), fuzzCase(seed, index));
  }
  const names = new Set(cases.map((c) => c.name.replace(/^fuzz 1#\d+: /, "") + c.seed));
  assert.equal(names.size, cases.length, "two indices drew the same case");
  assert.notDeepEqual(fuzzCase(2, 0).descriptor, undefined);
  assert.notEqual(fuzzCase(2, 0).seed, fuzzCase(1, 0).seed);
});

Deno.test("fuzzCase: seed and index must be integers in [0, 2^32)", () => {
  for (
    const [seed, index, field] of [
      [-1, 0, "seed"],
      [2 ** 32, 0, "seed"],
      [1.5, 0, "seed"],
      [NaN, 0, "seed"],
      [1, -1, "index"],
      [1, 2 ** 32, "index"],
    ] as const
  ) {
    assert.throws(
      () => fuzzCase(seed, index),
      (e: unknown) => e instanceof InvalidArgumentError && e.field === field,
    );
  }
});

Deno.test("fuzzCase: every case is valid, canonical and within the work budget", () => {
  for (const c of cases) {
    assert.deepEqual(validateDescriptor(c.descriptor), c.descriptor, c.name);
    assert(Object.isFrozen(c.descriptor), c.name);
    inferGeometry(c.descriptor, c.inputShapes);
    const { multiplyAdds, outputShape } = opCost(c.descriptor, c.inputShapes);
    const touched = c.inputShapes.reduce((sum, shape) => sum + shapeSize(shape), 0);
    assert(
      Math.max(multiplyAdds, touched, shapeSize(outputShape)) <= FUZZ_MULTIPLY_ADD_BUDGET,
      c.name,
    );
    assert(c.inputRange[0] < c.inputRange[1], c.name);
    assert(Number.isInteger(c.seed) && c.seed >= 0 && c.seed < 2 ** 32, c.name);
    for (const s of c.specials ?? []) {
      assert(Number.isInteger(s.input) && s.input >= 0 && s.input < c.inputShapes.length, c.name);
      const size = shapeSize(c.inputShapes[s.input]);
      assert(Number.isInteger(s.index) && s.index >= 0 && s.index < size, c.name);
      assert(!Number.isFinite(s.value), c.name);
    }
    if (c.specials !== undefined) assert(c.specials.length > 0, c.name);
  }
});

Deno.test(`fuzzCase: the first ${COVERAGE_CASES} cases cover every operator and option`, () => {
  const seen = new Set<string>();
  const see = (...keys: string[]) => keys.forEach((key) => seen.add(key));
  for (const { descriptor: d, inputShapes, specials } of cases) {
    see(`op ${d.op}`, `batch ${inputShapes[0].length > 1 ? inputShapes[0][0] : 1}`);
    const activation = activationOf(d);
    if (activation !== undefined) {
      const name = typeof activation === "string" ? activation : "clamp";
      see(`activation ${name}`, `${d.op} ${name}`);
      if (typeof activation === "object") {
        const { min, max } = activation;
        see(
          `clamp ${
            min === max
              ? "min = max"
              : min === -Infinity
              ? "upper only"
              : max === Infinity
              ? "lower only"
              : "both"
          }`,
        );
        if ([min, max].some((b) => Number.isFinite(b) && Math.fround(b) !== b)) {
          see("clamp not float32");
        }
      }
    }
    if ("bias" in d) see(`${d.op} bias ${d.bias}`);
    if ("padding" in d) {
      const p = d.padding;
      see(
        `${d.op} padding ${
          typeof p === "string" ? p : p[0] === p[1] && p[2] === p[3] ? "symmetric" : "asymmetric"
        }`,
      );
    }
    if ("kernel" in d && d.kernel[0] !== d.kernel[1]) see(`${d.op} non-square kernel`);
    if ("stride" in d && (d.stride[0] > 1 || d.stride[1] > 1)) see(`${d.op} strided`);
    switch (d.op) {
      case "conv2d":
        see(`conv ${convKind(d)}`);
        if (d.dilation[0] > 1 || d.dilation[1] > 1) see("conv dilated");
        if (convKind(d) === "depthwise" && d.outChannels > d.inChannels) see("conv multiplier");
        if (convKind(d) === "group" && d.kernel[0] === 1 && d.kernel[1] === 1) {
          see("conv group pointwise");
        }
        break;
      case "avgPool2d":
      case "maxPool2d": {
        if (d.op === "avgPool2d") see(`avgPool2d countIncludePad ${d.countIncludePad}`);
        see(`${d.op} ceilMode ${d.ceilMode}`);
        const floor = inferGeometry({ ...d, ceilMode: false }, inputShapes).outputShape;
        const ceil = inferGeometry(d, inputShapes).outputShape;
        if (ceil.some((size, axis) => size > floor[axis])) see(`${d.op} ceil above floor`);
        break;
      }
      case "concat":
        see(`concat of ${inputShapes.length}`);
        break;
      case "add":
      case "softmax":
      case "fullyConnected":
        see(`${d.op} rank ${inputShapes[0].length}`);
        break;
    }
    for (const s of specials ?? []) see(`special ${s.value}`, `${d.op} special`);
    const channels = inputShapes[0].at(-1)!;
    see(`channels mod 4 = ${channels % 4}`);
    if (channels === 1) see("channels 1");
  }
  const expected = [
    ...OP_NAMES.map((op) => `op ${op}`),
    ...OP_NAMES.map((op) => `${op} special`),
    "batch 1",
    "batch 2",
    "batch 3",
    ...["none", "relu", "relu6", "clamp"].flatMap((a) => [
      `activation ${a}`,
      `conv2d ${a}`,
      `add ${a}`,
      `concat ${a}`,
      `fullyConnected ${a}`,
    ]),
    ...["conv2d", "fullyConnected"].flatMap((op) => [`${op} bias true`, `${op} bias false`]),
    ...["conv2d", "avgPool2d", "maxPool2d"].flatMap((op) => [
      ...["valid", "same", "symmetric", "asymmetric"].map((p) => `${op} padding ${p}`),
      `${op} non-square kernel`,
      `${op} strided`,
    ]),
    "conv depthwise",
    "conv pointwise",
    "conv group",
    "conv dense",
    "conv dilated",
    "conv multiplier",
    "conv group pointwise",
    "avgPool2d countIncludePad true",
    "avgPool2d countIncludePad false",
    ...["avgPool2d", "maxPool2d"].flatMap((op) => [
      `${op} ceilMode true`,
      `${op} ceilMode false`,
      `${op} ceil above floor`,
    ]),
    ...["both", "lower only", "upper only", "min = max", "not float32"].map((k) => `clamp ${k}`),
    ...[1, 2, 3, 4].map((n) => `concat of ${n}`),
    ...[1, 2, 3, 4].flatMap((r) => [`add rank ${r}`, `softmax rank ${r}`]),
    "fullyConnected rank 2",
    "fullyConnected rank 4",
    "special NaN",
    "special Infinity",
    "special -Infinity",
    "channels 1",
    ...[0, 1, 2, 3].map((r) => `channels mod 4 = ${r}`),
  ];
  assert.deepEqual(expected.filter((key) => !seen.has(key)), []);
});

Deno.test("fuzzCase: non-finite values land on borders, ends and the channel tail", () => {
  let border = 0, ends = 0, tail = 0;
  for (const c of cases) {
    for (const s of c.specials ?? []) {
      const shape = c.inputShapes[s.input];
      const size = shapeSize(shape);
      if (s.index === 0 || s.index === size - 1) ends++;
      const channels = shape.at(-1)!;
      if (channels > 4 && s.index % channels >= channels - 4) tail++;
      if (shape.length === 4) {
        const [, h, w, ch] = shape;
        const y = Math.floor(s.index / (w * ch)) % h;
        const x = Math.floor(s.index / ch) % w;
        if (h > 2 && w > 2 && (y === 0 || y === h - 1) && (x === 0 || x === w - 1)) border++;
      }
    }
  }
  assert(border >= 5 && ends >= 5 && tail >= 5, `border ${border}, ends ${ends}, tail ${tail}`);
});

Deno.test("shrinkCase: reduces a synthetic failure to its minimal form", async () => {
  // The failure needs a convolution with relu and a NaN among its inputs.
  const fails = (c: ConformanceCase) =>
    c.descriptor.op === "conv2d" && c.descriptor.activation === "relu" &&
    (c.specials ?? []).some((s) => Number.isNaN(s.value));
  const big = cases.find((c) =>
    c.descriptor.op === "conv2d" && c.descriptor.activation === "relu" &&
    c.descriptor.kernel[0] > 1 && c.descriptor.groups > 1 && shapeSize(c.inputShapes[0]) > 100
  );
  assert(big !== undefined, "no case to shrink");
  const last = shapeSize(big.inputShapes[0]) - 1;
  const start: ConformanceCase = {
    ...big,
    specials: [
      { input: 0, index: last, value: Infinity },
      { input: 0, index: 5, value: NaN },
      { input: 0, index: last - 1, value: NaN },
    ],
  };
  let calls = 0;
  const minimal = await shrinkCase(start, (c) => {
    calls++;
    return Promise.resolve(fails(c));
  });
  assert(fails(minimal), "the minimal case must still fail");
  assert.deepEqual(minimal.inputShapes, [[1, 1, 1, 1]]);
  assert.equal(minimal.specials?.length, 1);
  assert(Number.isNaN(minimal.specials![0].value));
  assert.equal(minimal.specials![0].index, 0);
  const d = minimal.descriptor;
  assert(d.op === "conv2d");
  assert.deepEqual(
    [d.kernel, d.stride, d.dilation, d.padding, d.groups, d.outChannels, d.bias],
    [[1, 1], [1, 1], [1, 1], "valid", 1, 1, false],
  );
  assert(calls <= 400);
  inferGeometry(minimal.descriptor, minimal.inputShapes);
});

Deno.test("shrinkCase: keeps what the failure needs, and stops at maxAttempts", async () => {
  const concatCase = cases.find((c) => c.descriptor.op === "concat" && c.inputShapes.length >= 3)!;
  // Fails while some input has at least 3 channels.
  const minimal = await shrinkCase(
    concatCase,
    (c) => Promise.resolve(c.inputShapes.some((shape) => shape[3] >= 3)),
  );
  assert.deepEqual(minimal.inputShapes, [[1, 1, 1, 3]]);
  assert.equal(minimal.specials, undefined);

  let calls = 0;
  const unchanged = await shrinkCase(concatCase, () => {
    calls++;
    return Promise.resolve(false);
  }, { maxAttempts: 5 });
  assert.equal(unchanged, concatCase);
  assert.equal(calls, 5);
});

Deno.test("shrinkCase: a clamp shrinks to relu or none, ceil mode to floor mode", async () => {
  const clamped = cases.find((c) =>
    c.descriptor.op === "conv2d" && typeof c.descriptor.activation === "object"
  );
  assert(clamped !== undefined, "no clamp to shrink");
  // Fails with any activation: relu is the plainest that still does.
  const anyActivation = await shrinkCase(
    clamped,
    (c) => Promise.resolve(activationOf(c.descriptor) !== "none"),
  );
  assert.equal(activationOf(anyActivation.descriptor), "relu");
  // Fails with any conv: the clamp goes entirely.
  const anyConv = await shrinkCase(
    clamped,
    (c) => Promise.resolve(c.descriptor.op === "conv2d"),
  );
  assert.equal(activationOf(anyConv.descriptor), "none");
  for (const op of ["avgPool2d", "maxPool2d"] as const) {
    const ceil = cases.find((c) => c.descriptor.op === op && c.descriptor.ceilMode);
    assert(ceil !== undefined, `no ceil-mode ${op} to shrink`);
    const floor = await shrinkCase(ceil, (c) => Promise.resolve(c.descriptor.op === op));
    assert.equal((floor.descriptor as { ceilMode: boolean }).ceilMode, false);
    // A failure that needs ceil mode keeps it, and the rest shrinks.
    const kept = await shrinkCase(
      ceil,
      (c) => Promise.resolve((c.descriptor as { ceilMode?: boolean }).ceilMode === true),
    );
    assert.equal((kept.descriptor as { ceilMode: boolean }).ceilMode, true);
    assert.deepEqual(kept.inputShapes[0].slice(0, 1), [1]);
    inferGeometry(kept.descriptor, kept.inputShapes);
  }
});

Deno.test("fuzz: finds a relu that drops NaN and shrinks it to one element", async () => {
  // The planted fault: relu written as `v > 0 ? v : 0`, which turns NaN into 0.
  using backend = createReferenceBackend("planted", (descriptor, weights, inputs) => {
    const exact = reference(descriptor, weights, inputs).values;
    return activationOf(descriptor) === "relu"
      ? Array.from(
        reference({ ...descriptor, activation: "none" } as OpDescriptor, weights, inputs).values,
        (v) => v > 0 ? v : 0,
      )
      : exact;
  });
  const failing = [];
  for (const [index, c] of cases.slice(0, 300).entries()) {
    const report = await runCase(backend, c, { presetOutput: index % 2 === 1 });
    if (!report.ok) failing.push(c);
  }
  assert(failing.length > 0, "the planted fault went unnoticed");
  for (const c of failing) assert.equal(activationOf(c.descriptor), "relu", c.name);
  const minimal = await shrinkCase(
    failing[0],
    async (candidate) => !(await runCase(backend, candidate)).ok,
  );
  assert.equal(activationOf(minimal.descriptor), "relu");
  assert.equal(
    minimal.inputShapes.reduce((sum, shape) => sum + shapeSize(shape), 0),
    minimal.inputShapes.length,
  );
  assert.equal(minimal.specials?.length, 1);
  assert(Number.isNaN(minimal.specials![0].value));
});
