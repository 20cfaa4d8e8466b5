import assert from "node:assert/strict";
import {
  type Activation,
  activationBounds,
  type AvgPool2dDescriptor,
  type Conv2dDescriptor,
  convKind,
  inferGeometry,
  MAX_WINDOW,
  type MaxPool2dDescriptor,
  OP_NAMES,
  type OpDescriptor,
  type OpName,
} from "@mobileops/core";
import { CASE_TABLES, caseData, type ConformanceCase, OP_CASE_TABLES } from "./cases.ts";
import { CLAMP_KINDS } from "./conformance_case.ts";
import { EXTREME_SIZE_TABLE } from "./extreme_sizes.ts";
import { reference } from "./reference.ts";

const ALL = CASE_TABLES.flatMap((table) => table.cases);

function convs(table?: string): Conv2dDescriptor[] {
  return CASE_TABLES.filter((t) => table === undefined || t.name === table)
    .flatMap((t) => t.cases.map((c) => c.descriptor))
    .filter((d): d is Conv2dDescriptor => d.op === "conv2d");
}

function covers<T>(seen: Iterable<T>, wanted: readonly T[], what: string) {
  const set = new Set(seen);
  for (const value of wanted) assert.ok(set.has(value), `no case with ${what} ${value}`);
}

function paddingForm(d: { padding: Conv2dDescriptor["padding"] }): string {
  if (typeof d.padding === "string") return d.padding;
  const [t, b, l, r] = d.padding;
  return t === b && l === r ? "symmetric" : "asymmetric";
}

Deno.test("every operator has its own non-empty case tables, holding only its cases", () => {
  for (const op of OP_NAMES) {
    const cases = OP_CASE_TABLES[op].flatMap((table) => table.cases);
    assert.ok(cases.length > 0, `no cases for ${op}`);
    assert.deepEqual(
      cases.filter((c) => c.descriptor.op !== op).map((c) => c.name),
      [],
      `${op}'s tables hold other operators' cases`,
    );
  }
});

Deno.test("case tables: over 1000 cases, unique names", () => {
  assert.ok(ALL.length >= 1000, `${ALL.length} cases`);
  assert.equal(new Set(ALL.map((c) => c.name)).size, ALL.length);
  const ops = new Set(ALL.map((c) => c.descriptor.op));
  covers(ops, [
    "conv2d",
    "avgPool2d",
    "maxPool2d",
    "channelShuffle",
    "add",
    "concat",
    "globalAvgPool",
    "fullyConnected",
    "softmax",
  ] as OpDescriptor["op"][], "op");
});

Deno.test("case tables: convolutions sweep every listed parameter", () => {
  const all = convs();
  covers(all.map((d) => d.kernel[0]), [1, 3, 5, 7], "kernel");
  covers(all.map((d) => d.stride[0]), [1, 2], "stride");
  covers(all.map((d) => d.dilation[0]), [1, 2], "dilation");
  covers(all.map(paddingForm), ["valid", "same", "symmetric", "asymmetric"], "padding");
  covers(all.map((d) => d.activation), ["none", "relu", "relu6"], "activation");
  covers(all.map((d) => d.bias), [true, false], "bias");
  covers(all.map((d) => d.inChannels), [1, 2, 3, 4, 5, 7, 8, 16, 17, 33, 64], "inChannels");
  covers(all.map((d) => d.groups), [2, 3, 4, 8], "groups");
  const depthwise = convs("depthwise conv2d");
  covers(depthwise.map((d) => d.outChannels / d.inChannels), [1, 2], "multiplier");
  covers(depthwise.map((d) => d.inChannels), [1, 2, 3, 4, 5, 7, 8, 16, 17, 33, 64], "channels");
  const nonSquare = convs("non-square conv2d");
  assert.ok(nonSquare.some((d) => d.kernel[0] !== d.kernel[1]));
  assert.ok(nonSquare.some((d) => d.stride[0] !== d.stride[1]));
  assert.ok(nonSquare.some((d) => d.dilation[0] !== d.dilation[1]));
});

Deno.test("case tables: shapes include 1×1, non-square, batch 1 and 3", () => {
  const spatial = ALL.filter((c) => c.inputShapes[0].length === 4).map((c) =>
    c.inputShapes[0].slice(1, 3).join("x")
  );
  covers(spatial, ["1x1", "7x9", "9x7"], "spatial size");
  covers(ALL.map((c) => c.inputShapes[0][0]), [1, 3], "batch");
});

Deno.test("case tables: pools sweep kernel, stride, padding and countIncludePad", () => {
  for (const op of ["avgPool2d", "maxPool2d"]) {
    const pools = ALL.map((c) => c.descriptor).filter((d) => d.op === op) as (OpDescriptor & {
      kernel: readonly number[];
      stride: readonly number[];
      padding: Conv2dDescriptor["padding"];
    })[];
    covers(pools.map((d) => d.kernel[0]), [1, 2, 3, 5, 7], `${op} kernel`);
    covers(pools.map((d) => d.stride[0]), [1, 2], `${op} stride`);
    covers(pools.map(paddingForm), ["valid", "same", "symmetric", "asymmetric"], `${op} padding`);
  }
  const avg = ALL.map((c) => c.descriptor).filter((d) => d.op === "avgPool2d");
  covers(
    avg.map((d) => d.op === "avgPool2d" && d.countIncludePad),
    [true, false],
    "countIncludePad",
  );
});

Deno.test("case tables: relu6 cases clamp at 6 and relu cases at 0", () => {
  const outputsOf = (activation: string) =>
    ALL.filter((c: ConformanceCase) =>
      "activation" in c.descriptor && c.descriptor.activation === activation
    ).slice(0, 60).flatMap((c) => {
      const data = caseData(c);
      return Array.from(
        reference(
          c.descriptor,
          data.weights,
          c.inputShapes.map((shape, i) => ({ shape, data: data.inputs[i] })),
        ).values,
      );
    });
  const relu6 = outputsOf("relu6");
  assert.ok(relu6.filter((v) => v === 6).length > relu6.length / 20, "relu6 rarely clamps");
  const relu = outputsOf("relu");
  assert.ok(relu.filter((v) => v === 0).length > relu.length / 5, "relu rarely clamps");
});

Deno.test("caseData: deterministic, float32, in the case's input range", () => {
  const testCase = CASE_TABLES.find((t) => t.name === "maxPool2d")!.cases.find((c) =>
    c.inputRange[1] < 0
  )!;
  const a = caseData(testCase);
  const b = caseData(testCase);
  assert.deepEqual(a.inputs, b.inputs);
  const [low, high] = testCase.inputRange;
  assert.ok(a.inputs[0].every((v) => v >= low && v <= high));
});

/** Every case with specials, per operator, with each special's coordinates. */
function specialsOf(op: OpName) {
  return OP_CASE_TABLES[op].flatMap((table) => table.cases).flatMap((c) =>
    (c.specials ?? []).map((special) => {
      const shape = c.inputShapes[special.input];
      const channels = shape[shape.length - 1];
      const vectors = channels - (channels % 4);
      const channel = special.index % channels;
      // NHWC position of the pixel (rank-4 inputs only).
      const [, h, w] = shape;
      const pixel = Math.floor(special.index / channels);
      return {
        testCase: c,
        value: special.value,
        lane: channel < vectors ? `lane ${channel % 4}` : `tail ${channel - vectors}`,
        x: shape.length === 4 ? pixel % w : -1,
        y: shape.length === 4 ? Math.floor(pixel / w) % h : -1,
        width: shape.length === 4 ? w : -1,
        height: shape.length === 4 ? h : -1,
      };
    })
  );
}

const VALUE_NAMES = (values: number[]) => values.map((v) => Number.isNaN(v) ? "NaN" : `${v}`);

Deno.test("non-finite tables: every operator gets NaN, +∞ and −∞ in every lane and the tail", () => {
  for (const op of OP_NAMES) {
    const specials = specialsOf(op);
    covers(VALUE_NAMES(specials.map((s) => s.value)), ["NaN", "Infinity", "-Infinity"], `${op}`);
    covers(
      specials.map((s) => s.lane),
      ["lane 0", "lane 1", "lane 2", "lane 3", "tail 0", "tail 1", "tail 2"],
      `${op} special in`,
    );
    for (const lane of ["lane 0", "lane 3", "tail 0"]) {
      covers(
        VALUE_NAMES(specials.filter((s) => s.lane === lane).map((s) => s.value)),
        ["NaN", "Infinity", "-Infinity"],
        `${op} ${lane} special`,
      );
    }
  }
});

Deno.test("non-finite tables: borders, corners and every pixel of a 4-, 6- and 12-pixel block", () => {
  for (
    const op of ["conv2d", "avgPool2d", "maxPool2d", "add", "concat", "globalAvgPool"] as const
  ) {
    const specials = specialsOf(op).filter((s) => s.x >= 0);
    const at = (test: (s: (typeof specials)[number]) => boolean, what: string) =>
      assert.ok(specials.some(test), `no ${op} special ${what}`);
    at((s) => s.y === 0 && s.x === 0, "in the top-left corner");
    at((s) => s.y === 0 && s.x === s.width - 1, "in the top-right corner");
    at((s) => s.y === s.height - 1 && s.x === 0, "in the bottom-left corner");
    at((s) => s.y === s.height - 1 && s.x === s.width - 1, "in the bottom-right corner");
    if (op !== "conv2d" && op !== "avgPool2d" && op !== "maxPool2d") continue;
    for (const block of [4, 6, 12]) {
      covers(
        specials.map((s) => s.x % block),
        [...Array(block).keys()],
        `${op} column mod ${block}`,
      );
      at(
        (s) => s.width % block !== 0 && s.x >= s.width - (s.width % block),
        `past the last full ${block}-pixel block of a row`,
      );
    }
  }
});

Deno.test("non-finite tables: every activation, with and without bias", () => {
  for (const op of ["conv2d", "add", "concat", "fullyConnected"] as const) {
    const descriptors = specialsOf(op).map((s) =>
      s.testCase.descriptor as OpDescriptor & {
        activation: string;
        bias?: boolean;
      }
    );
    covers(descriptors.map((d) => d.activation), ["none", "relu", "relu6"], `${op} activation`);
    if (op === "conv2d" || op === "fullyConnected") {
      for (const activation of ["none", "relu", "relu6"]) {
        covers(
          descriptors.filter((d) => d.activation === activation).map((d) => d.bias),
          [true, false],
          `${op} ${activation} bias`,
        );
      }
    }
  }
  const convs = specialsOf("conv2d").map((s) => s.testCase.descriptor as Conv2dDescriptor);
  assert.ok(convs.some((d) => d.groups === d.inChannels && d.kernel[0] === 3 && d.stride[0] === 2));
  assert.ok(convs.some((d) => d.groups === d.inChannels && d.outChannels > d.inChannels));
  assert.ok(convs.some((d) => d.kernel[0] === 1 && d.groups > 1 && d.groups < d.inChannels));
  assert.ok(convs.some((d) => d.groups === 1 && d.kernel[0] === 3 && d.inChannels === 3));
  assert.ok(convs.some((d) => d.dilation[0] > 1));
});

Deno.test("non-finite tables: the reference gives NaN, ±∞ and mostly finite outputs, with finite tolerances", () => {
  for (const op of OP_NAMES) {
    const outputs = new Set<string>();
    let finite = 0;
    let total = 0;
    for (const c of OP_CASE_TABLES[op].flatMap((t) => t.cases).filter((c) => c.specials)) {
      const data = caseData(c);
      const result = reference(
        c.descriptor,
        data.weights,
        c.inputShapes.map((shape, i) => ({ shape, data: data.inputs[i] })),
      );
      assert.ok(Number.isFinite(result.accumulation), c.name);
      assert.ok(result.magnitude.every(Number.isFinite), c.name);
      for (const value of result.values) {
        outputs.add(Number.isNaN(value) ? "NaN" : Number.isFinite(value) ? "finite" : `${value}`);
        if (Number.isFinite(value)) finite++;
      }
      total += result.values.length;
    }
    // Most outputs stay finite, so a value leaking into a neighbour is seen.
    assert.ok(finite > total / 2, `${op}: ${finite} of ${total} outputs finite`);
    const wanted = op === "softmax"
      ? ["NaN", "finite"]
      : ["NaN", "Infinity", "-Infinity", "finite"];
    covers(outputs, wanted, `${op} output`);
  }
});

Deno.test("extreme sizes: every operator, every window parameter at MAX_WINDOW", () => {
  const cases = EXTREME_SIZE_TABLE.cases;
  covers(cases.map((c) => c.descriptor.op), [...OP_NAMES], "op");
  const windows = cases.map((c) => c.descriptor).filter((d) =>
    d.op === "conv2d" || d.op === "avgPool2d" || d.op === "maxPool2d"
  );
  const sides = (d: (typeof windows)[number]): readonly number[] =>
    typeof d.padding === "string" ? [] : d.padding;
  const convs = windows.filter((d): d is Conv2dDescriptor => d.op === "conv2d");
  assert.ok(convs.some((d) => d.kernel.includes(MAX_WINDOW)), "kernel");
  assert.ok(convs.some((d) => d.stride.includes(MAX_WINDOW)), "stride");
  assert.ok(convs.some((d) => d.dilation.includes(MAX_WINDOW)), "dilation");
  assert.ok(convs.some((d) => sides(d).includes(MAX_WINDOW)), "padding");
  assert.ok(
    convs.some((d) => d.dilation[0] === MAX_WINDOW && d.padding === "same" && d.kernel[0] === 3),
    "3×3 'same' at the largest dilation",
  );
  const pools = windows.filter((d) => d.op !== "conv2d");
  assert.ok(pools.some((d) => d.kernel.includes(MAX_WINDOW)), "pool kernel");
  assert.ok(pools.some((d) => d.stride.includes(MAX_WINDOW)), "pool stride");
  assert.ok(pools.some((d) => sides(d).includes(MAX_WINDOW - 1)), "pool padding");
  assert.ok(convs.some((d) => d.inChannels >= 4096 && d.groups === 1), "thousands of channels");
  assert.ok(
    cases.some((c) => c.descriptor.op === "channelShuffle" && c.inputShapes[0][3] >= 2 ** 16),
    "a 2^16-channel shuffle",
  );
  assert.ok(cases.some((c) => c.inputShapes[0][0] >= 4096), "a batch of thousands");
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

Deno.test("caseData: specials replace drawn values, and name inputs that exist", () => {
  const testCase = CASE_TABLES.find((t) => t.name === "add")!.cases[0];
  const plain = caseData(testCase);
  const specials = [
    { input: 1, index: 2, value: Infinity },
    { input: 0, index: 0, value: NaN },
    { input: 0, index: 0, value: -Infinity },
  ];
  const special = caseData({ ...testCase, specials });
  assert.equal(special.inputs[1][2], Infinity);
  assert.equal(special.inputs[0][0], -Infinity, "a later special at the same place wins");
  assert.deepEqual(special.inputs[0].slice(1), plain.inputs[0].slice(1));
  assert.deepEqual(special.inputs[1].slice(3), plain.inputs[1].slice(3));
  assert.throws(
    () => caseData({ ...testCase, specials: [{ input: 2, index: 0, value: NaN }] }),
    /specials\[0\]\.input = 2/,
  );
  assert.throws(
    () => caseData({ ...testCase, specials: [{ input: 0, index: -1, value: NaN }] }),
    /specials\[0\]\.index = -1/,
  );
});

/** Every case of `op`'s tables whose activation is a general clamp. */
function clampCases(op: OpName, nonFinite: boolean): ConformanceCase[] {
  return OP_CASE_TABLES[op].flatMap((table) => table.cases).filter((c) =>
    "activation" in c.descriptor && typeof c.descriptor.activation === "object" &&
    (c.specials !== undefined) === nonFinite
  );
}

function referenceOf(c: ConformanceCase, descriptor: OpDescriptor = c.descriptor) {
  const data = caseData(c);
  return reference(
    descriptor,
    data.weights,
    c.inputShapes.map((shape, i) => ({ shape, data: data.inputs[i] })),
  );
}

const ACTIVATED_OPS = ["conv2d", "add", "concat", "fullyConnected"] as const;

/** Whether the case's activation clamps to the same bounds as `activation`. */
function isKind(c: ConformanceCase, activation: Activation): boolean {
  const bounds = activationBounds((c.descriptor as { activation: Activation }).activation);
  return activationBounds(activation).every((bound, i) => bound === bounds[i]);
}

Deno.test("clamp tables: every operator with an activation gets every kind of bounds", () => {
  for (const op of ACTIVATED_OPS) {
    for (const nonFinite of [false, true]) {
      const bounds = clampCases(op, nonFinite).map((c) =>
        activationBounds((c.descriptor as { activation: Activation }).activation)
      );
      const kinds = new Set(bounds.flatMap(([min, max]) => [
        ...(Number.isFinite(min) && Number.isFinite(max) && min < max ? ["both finite"] : []),
        ...(min === -Infinity ? ["no lower bound"] : []),
        ...(max === Infinity ? ["no upper bound"] : []),
        ...(min === max ? ["min = max"] : []),
        ...(min > 0 ? ["above 0"] : []),
        ...(max < 0 ? ["below 0"] : []),
        ...(min === -Infinity && max < 0 ? ["upper only, below 0"] : []),
        ...(max - min < 1 ? ["narrower than 1"] : []),
        ...(min === -6 && max === 6 ? ["[-6, 6]"] : []),
        ...([min, max].some((b) => Number.isFinite(b) && Math.fround(b) !== b)
          ? ["not float32"]
          : []),
      ]));
      covers(
        kinds,
        [
          "both finite",
          "no lower bound",
          "no upper bound",
          "min = max",
          "above 0",
          "below 0",
          "upper only, below 0",
          "narrower than 1",
          "[-6, 6]",
          "not float32",
        ],
        `${op}${nonFinite ? " non-finite" : ""} clamp`,
      );
    }
  }
  const forms = clampCases("conv2d", false).map((c) => {
    const d = c.descriptor as Conv2dDescriptor;
    const kind = convKind(d);
    return `${kind} ${d.kernel.join("x")} s${d.stride[0]}${d.dilation[0] > 1 ? " dilated" : ""}`;
  });
  covers(
    forms,
    [
      "depthwise 3x3 s1",
      "depthwise 3x3 s2",
      "pointwise 1x1 s1",
      "group 1x1 s1",
      "dense 3x3 s1",
      "dense 3x3 s2",
      "group 3x3 s1",
      "depthwise 3x3 s1 dilated",
    ],
    "clamp conv2d form",
  );
});

Deno.test("clamp tables: both bounds clamp often, for every kind and operator", () => {
  for (const op of ACTIVATED_OPS) {
    for (const kind of CLAMP_KINDS) {
      const cases = clampCases(op, false).filter((c) => isKind(c, kind.activation));
      assert.ok(cases.length > 0, `no ${op} clamp ${kind.name}`);
      const outputs = cases.flatMap((c) => Array.from(referenceOf(c).values));
      for (const bound of activationBounds(kind.activation).filter(Number.isFinite)) {
        const clamped = outputs.filter((v) => v === Math.fround(bound)).length;
        assert.ok(
          clamped > outputs.length / 20,
          `${op} clamp ${kind.name}: ${clamped} of ${outputs.length} outputs at ${bound}`,
        );
      }
    }
  }
});

Deno.test("clamp non-finite tables: NaN stays NaN, and infinities land on each finite bound", () => {
  for (const op of ACTIVATED_OPS) {
    for (const kind of CLAMP_KINDS) {
      const [min, max] = activationBounds(kind.activation);
      const seen = new Set<string>();
      for (const c of clampCases(op, true).filter((c) => isKind(c, kind.activation))) {
        const clamped = referenceOf(c).values;
        const linear = referenceOf(c, { ...c.descriptor, activation: "none" } as OpDescriptor)
          .values;
        linear.forEach((v, i) => {
          if (Number.isNaN(v)) seen.add(Number.isNaN(clamped[i]) ? "NaN" : "NaN lost");
          if (v === Infinity) seen.add(clamped[i] === Math.fround(max) ? "+∞ to max" : "+∞ lost");
          if (v === -Infinity) seen.add(clamped[i] === Math.fround(min) ? "−∞ to min" : "−∞ lost");
        });
      }
      covers(seen, ["NaN", "+∞ to max", "−∞ to min"], `${op} clamp ${kind.name} non-finite:`);
    }
  }
});

/**
 * One axis of a pool in ceil mode, by the ONNX / PyTorch formula: floor and
 * ceil sizes, whether the last-window rule fired, and the cells of the last
 * window inside the padded input and inside the image.
 */
function ceilAxis(size: number, kernel: number, stride: number, before: number, after: number) {
  const padded = size + before + after;
  const rounded = Math.ceil((padded - kernel) / stride) + 1;
  const dropped = (rounded - 1) * stride >= size + before;
  const ceil = dropped ? rounded - 1 : rounded;
  // The last window, in padded coordinates.
  const start = (ceil - 1) * stride;
  return {
    floor: Math.floor((padded - kernel) / stride) + 1,
    ceil,
    dropped,
    paddedCells: Math.min(start + kernel, padded) - start,
    imageCells: Math.min(start + kernel, before + size) - Math.max(start, before),
  };
}

type Pool = AvgPool2dDescriptor | MaxPool2dDescriptor;

function ceilCases(op: "avgPool2d" | "maxPool2d", nonFinite: boolean): ConformanceCase[] {
  return OP_CASE_TABLES[op].flatMap((table) => table.cases).filter((c) =>
    (c.descriptor as Pool).ceilMode && (c.specials !== undefined) === nonFinite
  );
}

/** Both axes of a ceil-mode case, after core's padding. */
function ceilAxes(c: ConformanceCase) {
  const d = c.descriptor as Pool;
  const padding = inferGeometry(d, c.inputShapes).padding;
  return [0, 1].map((axis) =>
    ceilAxis(
      c.inputShapes[0][axis + 1],
      d.kernel[axis],
      d.stride[axis],
      padding[2 * axis],
      padding[2 * axis + 1],
    )
  );
}

Deno.test("ceil-mode tables: sizes where ceil exceeds floor, windows the rule drops, every stride", () => {
  for (const op of ["avgPool2d", "maxPool2d"] as const) {
    for (const nonFinite of [false, true]) {
      const seen = new Set<string>();
      for (const c of ceilCases(op, nonFinite)) {
        const d = c.descriptor as Pool;
        const axes = ceilAxes(c);
        // The reference counts its windows one by one: it must agree with the formula.
        assert.deepEqual(referenceOf(c).shape.slice(1, 3), axes.map((a) => a.ceil), c.name);
        if (axes.some((a) => a.ceil > a.floor)) {
          seen.add("ceil > floor");
          if (axes.some((a, axis) => a.paddedCells < d.kernel[axis])) seen.add("overhang");
          const padding = inferGeometry(d, c.inputShapes).padding;
          seen.add(padding.some((p) => p > 0) ? "padded" : "unpadded");
          for (const s of d.stride) seen.add(`stride ${s}`);
          if (d.kernel[0] !== d.kernel[1]) seen.add("non-square kernel");
          if (d.stride[0] !== d.stride[1]) seen.add("unequal strides");
          if (d.op === "avgPool2d") seen.add(`countIncludePad ${d.countIncludePad}`);
        }
        if (axes.some((a) => a.dropped)) seen.add("dropped");
      }
      covers(
        seen,
        [
          "ceil > floor",
          "overhang",
          "padded",
          "unpadded",
          "dropped",
          "stride 1",
          "stride 2",
          "stride 3",
          "non-square kernel",
          "unequal strides",
          ...(op === "avgPool2d" ? ["countIncludePad true", "countIncludePad false"] : []),
        ],
        `${op}${nonFinite ? " non-finite" : ""} ceil mode`,
      );
    }
  }
});

Deno.test("ceil-mode tables: divisors that count the padding but not the overhang; −∞ overhung", () => {
  for (const nonFinite of [false, true]) {
    // A last window holding image cells, trailing padding and overhang: countIncludePad's
    // divisor lies strictly between the image cells and the full window.
    assert.ok(
      ceilCases("avgPool2d", nonFinite).some((c) =>
        (c.descriptor as AvgPool2dDescriptor).countIncludePad &&
        ceilAxes(c).some((a, axis) =>
          a.imageCells < a.paddedCells && a.paddedCells < (c.descriptor as Pool).kernel[axis]
        )
      ),
      `no ceil-mode average${nonFinite ? " non-finite" : ""} with padding and overhang`,
    );
  }
  // The last window overhangs and holds only −∞: the overhang must not win.
  assert.ok(
    ceilCases("maxPool2d", true).some((c) =>
      ceilAxes(c).some((a, axis) => a.paddedCells < (c.descriptor as Pool).kernel[axis]) &&
      referenceOf(c).values.at(-1) === -Infinity
    ),
    "no ceil-mode max pool whose overhanging last window is all −∞",
  );
});
