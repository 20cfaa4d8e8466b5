/**
 * The conformance case tables: deterministic sweeps over every operator's
 * parameters (kernel, stride, each padding form, dilation, channel counts,
 * odd and non-square sizes, batch, groups, multiplier, activation — clamps
 * of every kind of bounds included — bias, pool ceil mode), plus the real
 * layer shapes of MobileNet v1 and ShuffleNet v1 at reduced spatial size;
 * each operator's non-finite table (non_finite.ts) and the extreme sizes
 * (extreme_sizes.ts) join them here. Every case carries the
 * seed of its data (and its non-finite values), so a failure is
 * reproducible from its name alone.
 *
 * @module
 */

import {
  type Activation,
  add,
  avgPool2d,
  channelShuffle,
  concat,
  conv2d,
  type Conv2dDescriptor,
  type Conv2dOptions,
  depthwiseConv2d,
  fullyConnected,
  globalAvgPool,
  inferGeometry,
  maxPool2d,
  opCost,
  type OpDescriptor,
  type OpName,
  type OpWeights,
  type Padding,
  type Pair,
  pointwiseConv2d,
  type Shape,
  shapeSize,
  softmax,
} from "@mobileops/core";
import {
  type CaseTable,
  CLAMP_KINDS,
  type ConformanceCase,
  convRange,
  describeCall,
  glueRange,
  type SpecialValue,
} from "./conformance_case.ts";
import { EXTREME_SIZE_TABLE } from "./extreme_sizes.ts";
import { NON_FINITE_TABLES } from "./non_finite.ts";
import { pickOne, randomFloat32, seededRandom } from "./random.ts";

export { type CaseTable, type ConformanceCase, describeCall, type SpecialValue };

/** Operators whose results are float32 values moved or selected, so checked with `===`. */
export const BIT_EXACT_OPS: ReadonlySet<OpDescriptor["op"]> = new Set([
  "channelShuffle",
  "concat",
  "maxPool2d",
]);

const CHANNELS = [1, 2, 3, 4, 5, 7, 8, 16, 17, 33, 64];
const KERNELS = [1, 3, 5, 7];
const POOL_KERNELS = [1, 2, 3, 5, 7];
const STRIDES = [1, 2];
const DILATIONS = [1, 2];
const PADDING_FORMS = ["valid", "same", "symmetric", "asymmetric"] as const;
const SPATIAL: readonly Pair[] = [
  [1, 1],
  [2, 2],
  [3, 3],
  [5, 5],
  [7, 9],
  [9, 7],
  [8, 8],
  [4, 6],
  [11, 13],
];
const BATCHES = [1, 3];
const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];
const GROUPS = [2, 3, 4, 8];
const MULTIPLIERS = [1, 2];
const NON_SQUARE: readonly Pair[] = [[1, 3], [3, 1], [3, 5], [5, 3], [1, 7], [7, 1], [2, 3]];
/** Multiply-adds allowed per case, so the whole suite stays quick on a naive backend. */
const MULTIPLY_ADD_BUDGET = 300_000;

type PaddingForm = (typeof PADDING_FORMS)[number];

function randomInt(random: () => number, below: number): number {
  return Math.floor(random() * below);
}

/**
 * Padding of one form. Explicit sides stay below the kernel extent, so no
 * pooling window lies entirely in the padding (see docs/conformance.md).
 */
function explicitPadding(
  form: PaddingForm,
  random: () => number,
  extent: Pair,
): Padding {
  if (form === "valid" || form === "same") return form;
  const side = (axis: 0 | 1) => extent[axis] > 1 ? 1 + randomInt(random, extent[axis] - 1) : 0;
  if (form === "symmetric") {
    const [h, w] = [side(0), side(1)];
    return [h, h, w, w];
  }
  const pads = [randomInt(random, extent[0]), 0, randomInt(random, extent[1]), 0];
  pads[1] = (pads[0] + 1 + randomInt(random, Math.max(extent[0] - 1, 1))) % extent[0];
  pads[3] = (pads[2] + 1 + randomInt(random, Math.max(extent[1] - 1, 1))) % extent[1];
  return pads as unknown as Padding;
}

/** Grows a spatial size until the kernel fits in the padded input. */
function fitSpatial(spatial: Pair, padding: Padding, extent: Pair): Pair {
  const pads = typeof padding === "string" ? [0, 0, 0, 0] : padding;
  if (padding === "same") return spatial;
  return [
    Math.max(spatial[0], extent[0] - pads[0] - pads[1]),
    Math.max(spatial[1], extent[1] - pads[2] - pads[3]),
  ];
}

function extentOf(kernel: Pair, dilation: Pair): Pair {
  return [(kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1];
}

interface CaseDraft {
  readonly descriptor: OpDescriptor;
  readonly inputShapes: readonly Shape[];
  readonly inputRange?: readonly [number, number];
}

function multiplyAdds(draft: CaseDraft): number {
  const { multiplyAdds, outputShape } = opCost(draft.descriptor, draft.inputShapes);
  const touched = draft.inputShapes.reduce((sum, shape) => sum + shapeSize(shape), 0);
  return Math.max(multiplyAdds, touched, shapeSize(outputShape));
}

/**
 * Builds a table: `draft` is called once per sweep point with a seeded
 * generator for the free parameters, and called again with fresh draws while
 * the case is over budget.
 */
function table<P>(
  name: string,
  seed: number,
  points: readonly P[],
  draft: (point: P, random: () => number) => CaseDraft,
): CaseTable {
  const random = seededRandom(seed);
  const cases = points.map((point, index) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const candidate = draft(point, random);
      inferGeometry(candidate.descriptor, candidate.inputShapes);
      if (multiplyAdds(candidate) <= MULTIPLY_ADD_BUDGET) {
        const caseSeed = (seed * 7919 + index * 104_729) >>> 0;
        return {
          name: `${name} #${index}: ${describeCall(candidate.descriptor, candidate.inputShapes)}`,
          descriptor: candidate.descriptor,
          inputShapes: candidate.inputShapes,
          seed: caseSeed,
          inputRange: candidate.inputRange ?? [-1, 1],
        };
      }
    }
    throw new Error(`${name} #${index}: no draw fits the multiply-add budget`);
  });
  return { name, cases };
}

function product<A, B>(as: readonly A[], bs: readonly B[]): [A, B][] {
  return as.flatMap((a) => bs.map((b): [A, B] => [a, b]));
}

function repeat<T>(items: readonly T[], times: number): T[] {
  return Array.from({ length: times }, () => items).flat();
}

interface WindowPoint {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: PaddingForm;
  readonly dilation: Pair;
}

function windowSweep(kernels: readonly number[], dilations: readonly number[]): WindowPoint[] {
  return kernels.flatMap((k) =>
    STRIDES.flatMap((s) =>
      PADDING_FORMS.flatMap((padding) =>
        dilations.map((d): WindowPoint => ({
          kernel: [k, k],
          stride: [s, s],
          padding,
          dilation: [d, d],
        }))
      )
    )
  );
}

function nonSquareSweep(random: () => number, count: number): WindowPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    kernel: NON_SQUARE[i % NON_SQUARE.length],
    stride: pickOne(random, [[1, 2], [2, 1], [1, 1], [2, 2]] as Pair[]),
    padding: PADDING_FORMS[i % PADDING_FORMS.length],
    dilation: pickOne(random, [[1, 2], [2, 1], [1, 1]] as Pair[]),
  }));
}

/** A convolution draft at one window point, with the rest drawn from `random`. */
function convDraft(
  point: WindowPoint,
  random: () => number,
  channels: (random: () => number) => { inChannels: number; outChannels: number; groups: number },
): CaseDraft {
  const extent = extentOf(point.kernel, point.dilation);
  const padding = explicitPadding(point.padding, random, extent);
  const [h, w] = fitSpatial(pickOne(random, SPATIAL), padding, extent);
  const { inChannels, outChannels, groups } = channels(random);
  const activation = pickOne(random, ACTIVATIONS);
  const descriptor = conv2d({
    inChannels,
    outChannels,
    groups,
    kernel: point.kernel,
    stride: point.stride,
    dilation: point.dilation,
    padding,
    bias: random() < 0.5,
    activation,
  });
  const terms = point.kernel[0] * point.kernel[1] * (inChannels / groups);
  return {
    descriptor,
    inputShapes: [[pickOne(random, BATCHES), h, w, inChannels]],
    inputRange: convRange(activation, terms),
  };
}

function depthwiseTable(): CaseTable {
  const points = product(windowSweep(KERNELS, DILATIONS), MULTIPLIERS);
  return table(
    "depthwise conv2d",
    1,
    points,
    ([point, multiplier], random) =>
      convDraft(point, random, (r) => {
        const channels = pickOne(r, CHANNELS);
        return { inChannels: channels, outChannels: channels * multiplier, groups: channels };
      }),
  );
}

function denseTable(): CaseTable {
  const points = repeat(windowSweep(KERNELS, DILATIONS), 2);
  return table("dense conv2d", 2, points, (point, random) =>
    convDraft(point, random, (r) => ({
      inChannels: pickOne(r, CHANNELS.slice(0, 9)),
      outChannels: pickOne(r, CHANNELS),
      groups: 1,
    })));
}

function groupTable(): CaseTable {
  const points = product(GROUPS, windowSweep(KERNELS, [1]));
  return table("group conv2d", 3, points, ([groups, point], random) =>
    convDraft(
      { ...point, dilation: random() < 0.25 ? [2, 2] : [1, 1] },
      random,
      (r) => ({
        inChannels: groups * pickOne(r, [1, 2, 3, 5]),
        outChannels: groups * pickOne(r, [1, 2, 3, 4]),
        groups,
      }),
    ));
}

function pointwiseTable(): CaseTable {
  return table(
    "pointwise conv2d",
    4,
    product(CHANNELS, CHANNELS),
    ([inChannels, outChannels], random) => {
      const activation = pickOne(random, ACTIVATIONS);
      const [h, w] = pickOne(random, SPATIAL);
      return {
        descriptor: pointwiseConv2d({
          inChannels,
          outChannels,
          stride: pickOne(random, STRIDES),
          bias: random() < 0.5,
          activation,
        }),
        inputShapes: [[pickOne(random, BATCHES), h, w, inChannels]],
        inputRange: convRange(activation, inChannels),
      };
    },
  );
}

function nonSquareConvTable(): CaseTable {
  const random = seededRandom(5);
  return table(
    "non-square conv2d",
    5,
    nonSquareSweep(random, 56),
    (point, r) =>
      convDraft(point, r, (rr) => {
        const channels = pickOne(rr, CHANNELS.slice(0, 8));
        return rr() < 0.5
          ? { inChannels: channels, outChannels: channels, groups: channels }
          : { inChannels: channels, outChannels: pickOne(rr, CHANNELS.slice(0, 8)), groups: 1 };
      }),
  );
}

function poolDraft(
  point: WindowPoint,
  random: () => number,
  make: (kernel: Pair, stride: Pair, padding: Padding) => OpDescriptor,
  inputRange: readonly [number, number],
): CaseDraft {
  const padding = explicitPadding(point.padding, random, point.kernel);
  const [h, w] = fitSpatial(pickOne(random, SPATIAL), padding, point.kernel);
  return {
    descriptor: make(point.kernel, point.stride, padding),
    inputShapes: [[pickOne(random, BATCHES), h, w, pickOne(random, CHANNELS)]],
    inputRange,
  };
}

function avgPoolTable(): CaseTable {
  const random = seededRandom(6);
  const points = product(
    [...repeat(windowSweep(POOL_KERNELS, [1]), 2), ...nonSquareSweep(random, 20)],
    [false, true],
  );
  return table("avgPool2d", 6, points, ([point, countIncludePad], r) =>
    poolDraft(
      point,
      r,
      (kernel, stride, padding) => avgPool2d({ kernel, stride, padding, countIncludePad }),
      [-1, 1],
    ));
}

function maxPoolTable(): CaseTable {
  const random = seededRandom(7);
  // All-negative inputs catch a padded zero winning the max.
  const points = product(
    [...repeat(windowSweep(POOL_KERNELS, [1]), 2), ...nonSquareSweep(random, 20)],
    [[-1, 1], [-3, -1]] as const,
  );
  return table(
    "maxPool2d",
    7,
    points,
    ([point, range], r) =>
      poolDraft(
        point,
        r,
        (kernel, stride, padding) => maxPool2d({ kernel, stride, padding }),
        range,
      ),
  );
}

/**
 * One axis of a pool: its output size in floor mode and in ceil mode, and
 * whether ceil mode's last-window rule dropped a window that would start in
 * the trailing padding or past it.
 */
function ceilAxis(size: number, kernel: number, stride: number, before: number, after: number) {
  const span = size + before + after - kernel;
  const rounded = Math.ceil(span / stride) + 1;
  const dropped = (rounded - 1) * stride >= size + before;
  return { floor: Math.floor(span / stride) + 1, ceil: dropped ? rounded - 1 : rounded, dropped };
}

/** Heights and widths of the ceil-mode pool cases: every remainder modulo strides 2 and 3. */
const CEIL_SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13];

/** What a ceil-mode pool case must show on at least one axis. */
type CeilWant = "ceil above floor" | "dropped";

/**
 * A ceil-mode pool draft: sizes (and explicit padding) are drawn until some
 * axis shows the first of `wants` that the point allows — an output one
 * larger than floor mode gives (so the last window hangs past the padded
 * input), or a last window the rule drops (all a 2×2 stride-2 pool with one
 * padded row each side can show). The points use explicit padding: with
 * "same" padding ceil mode equals floor mode.
 */
function ceilPoolDraft(
  point: WindowPoint,
  random: () => number,
  wants: readonly CeilWant[],
  make: (kernel: Pair, stride: Pair, padding: Padding) => OpDescriptor,
  inputRange: readonly [number, number],
): CaseDraft {
  for (const want of wants) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const padding = explicitPadding(point.padding, random, point.kernel);
      const [h, w] = fitSpatial(
        [pickOne(random, CEIL_SIZES), pickOne(random, CEIL_SIZES)],
        padding,
        point.kernel,
      );
      const descriptor = make(point.kernel, point.stride, padding);
      const pads = inferGeometry(descriptor, [[1, h, w, 1]]).padding;
      const shows = [0, 1].some((axis) => {
        const a = ceilAxis(
          [h, w][axis],
          point.kernel[axis],
          point.stride[axis],
          pads[2 * axis],
          pads[2 * axis + 1],
        );
        return want === "dropped" ? a.dropped : a.ceil > a.floor;
      });
      if (!shows) continue;
      return {
        descriptor,
        inputShapes: [[pickOne(random, BATCHES), h, w, pickOne(random, CHANNELS)]],
        inputRange,
      };
    }
  }
  throw new Error(`no ceil-mode size for a ${point.kernel} pool with stride ${point.stride}`);
}

/**
 * Ceil-mode window points: kernels (square and not) × strides 1–3 (one axis
 * may be 1, where ceil equals floor) × valid, symmetric and asymmetric
 * padding, each with sizes where ceil exceeds floor; then points whose last
 * window the rule drops (a stride above the kernel, or padding on both sides).
 */
function ceilPoints(): [WindowPoint, CeilWant[]][] {
  const kernels: Pair[] = [[2, 2], [3, 3], [5, 5], [2, 3], [3, 1]];
  const strides: Pair[] = [[2, 2], [3, 3], [1, 2], [3, 2]];
  const forms = ["valid", "symmetric", "asymmetric"] as const;
  const sweep = kernels.flatMap((kernel) =>
    strides.flatMap((stride) =>
      forms.map((padding): [WindowPoint, CeilWant[]] => [
        { kernel, stride, padding, dilation: [1, 1] },
        ["ceil above floor", "dropped"],
      ])
    )
  );
  const dropping: WindowPoint[] = [
    { kernel: [2, 2], stride: [2, 2], padding: "symmetric", dilation: [1, 1] },
    { kernel: [3, 3], stride: [3, 3], padding: "symmetric", dilation: [1, 1] },
    { kernel: [1, 1], stride: [3, 2], padding: "valid", dilation: [1, 1] },
    { kernel: [2, 3], stride: [3, 3], padding: "asymmetric", dilation: [1, 1] },
  ];
  return [...sweep, ...dropping.map((point): [WindowPoint, CeilWant[]] => [point, ["dropped"]])];
}

function ceilAvgPoolTable(): CaseTable {
  return table(
    "avgPool2d ceil mode",
    17,
    product(ceilPoints(), [false, true]),
    ([[point, wants], countIncludePad], r) =>
      ceilPoolDraft(
        point,
        r,
        wants,
        (kernel, stride, padding) =>
          avgPool2d({ kernel, stride, padding, countIncludePad, ceilMode: true }),
        [-1, 1],
      ),
  );
}

function ceilMaxPoolTable(): CaseTable {
  // All-negative inputs catch an overhanging or padded zero winning the max.
  return table(
    "maxPool2d ceil mode",
    18,
    product(ceilPoints(), [[-1, 1], [-3, -1]] as const),
    ([[point, wants], range], r) =>
      ceilPoolDraft(
        point,
        r,
        wants,
        (kernel, stride, padding) => maxPool2d({ kernel, stride, padding, ceilMode: true }),
        range,
      ),
  );
}

function randomShape(random: () => number, channels: number): Shape {
  const [h, w] = pickOne(random, SPATIAL);
  return [pickOne(random, BATCHES), h, w, channels];
}

function shuffleTable(): CaseTable {
  const points = repeat(product([1, 2, 3, 4, 8], [1, 2, 3, 5, 8, 17]), 4);
  return table("channelShuffle", 8, points, ([groups, perGroup], random) => ({
    descriptor: channelShuffle({ groups }),
    inputShapes: [randomShape(random, groups * perGroup)],
  }));
}

function addTable(): CaseTable {
  return table("add", 9, repeat(ACTIVATIONS, 40), (activation, random) => {
    const rank = pickOne(random, [1, 2, 4, 4, 4]);
    const channels = pickOne(random, CHANNELS);
    const shape = rank === 4
      ? randomShape(random, channels)
      : rank === 2
      ? [pickOne(random, BATCHES), channels]
      : [channels];
    return {
      descriptor: add({ activation }),
      inputShapes: [shape, shape],
      inputRange: glueRange(activation),
    };
  });
}

function concatTable(): CaseTable {
  const points = repeat(product([1, 2, 3, 4], ACTIVATIONS), 10);
  return table("concat", 10, points, ([count, activation], random) => {
    const [n, h, w] = randomShape(random, 1);
    return {
      descriptor: concat({ activation }),
      inputShapes: Array.from({ length: count }, () => [n, h, w, pickOne(random, CHANNELS)]),
      inputRange: glueRange(activation),
    };
  });
}

function globalAvgPoolTable(): CaseTable {
  const spatial: readonly Pair[] = [...SPATIAL, [7, 7], [14, 14]];
  return table(
    "globalAvgPool",
    11,
    product(spatial, CHANNELS.slice(0, 8)),
    ([[h, w], c], random) => ({
      descriptor: globalAvgPool(),
      inputShapes: [[pickOne(random, BATCHES), h, w, c]],
    }),
  );
}

function fullyConnectedTable(): CaseTable {
  const points = repeat(product(ACTIVATIONS, [1, 2, 3, 5, 8, 17, 33, 100]), 5);
  return table("fullyConnected", 12, points, ([activation, outFeatures], random) => {
    const batch = pickOne(random, BATCHES);
    const shape: Shape = random() < 0.5
      ? [batch, pickOne(random, [1, 2, 3, 7, 16, 17, 33, 64, 100])]
      : randomShape(random, pickOne(random, CHANNELS.slice(0, 8))).with(0, batch);
    const inFeatures = shapeSize(shape) / batch;
    return {
      descriptor: fullyConnected({ inFeatures, outFeatures, bias: random() < 0.5, activation }),
      inputShapes: [shape],
      inputRange: convRange(activation, inFeatures),
    };
  });
}

/**
 * The forms of convolution each clamp runs through — one per kernel the
 * backends specialise: 3×3 depthwise at stride 1 and 2, pointwise, group
 * 1×1, dense 3×3, and a grouped or dilated layer for the generic loop.
 */
const CLAMP_CONV_FORMS: readonly ((random: () => number) => Conv2dOptions)[] = [
  (r) => {
    const channels = pickOne(r, CHANNELS);
    return { inChannels: channels, outChannels: channels, groups: channels, kernel: 3 };
  },
  (r) => {
    const channels = pickOne(r, CHANNELS);
    return {
      inChannels: channels,
      outChannels: channels,
      groups: channels,
      kernel: 3,
      stride: 2,
      padding: pickOne(r, ["same", [1, 1, 1, 1]] as Padding[]),
    };
  },
  (r) => ({ inChannels: pickOne(r, CHANNELS), outChannels: pickOne(r, CHANNELS), kernel: 1 }),
  (r) => {
    const groups = pickOne(r, GROUPS);
    return {
      inChannels: groups * pickOne(r, [1, 2, 3, 5]),
      outChannels: groups * pickOne(r, [1, 2, 3, 4]),
      groups,
      kernel: 1,
    };
  },
  (r) => ({
    inChannels: pickOne(r, CHANNELS.slice(0, 8)),
    outChannels: pickOne(r, CHANNELS),
    kernel: 3,
    stride: pickOne(r, STRIDES),
  }),
  (r) => {
    if (r() < 0.5) {
      const channels = pickOne(r, CHANNELS.slice(0, 9));
      return {
        inChannels: channels,
        outChannels: channels,
        groups: channels,
        kernel: 3,
        dilation: 2,
      };
    }
    const groups = pickOne(r, GROUPS);
    return {
      inChannels: groups * pickOne(r, [1, 2, 3]),
      outChannels: groups * pickOne(r, [1, 2, 3]),
      groups,
      kernel: 3,
    };
  },
];

function clampConvTable(): CaseTable {
  const points = product(CLAMP_CONV_FORMS.map((form, index) => ({ form, index })), CLAMP_KINDS);
  return table("conv2d clamp", 19, points, ([{ form, index }, kind], random) => {
    const descriptor = conv2d({
      padding: "same",
      ...form(random),
      bias: (index + CLAMP_KINDS.indexOf(kind)) % 2 === 0,
      activation: kind.activation,
    });
    const [h, w] = pickOne(random, SPATIAL);
    const terms = descriptor.kernel[0] * descriptor.kernel[1] *
      (descriptor.inChannels / descriptor.groups);
    return {
      descriptor,
      inputShapes: [[pickOne(random, BATCHES), h, w, descriptor.inChannels]],
      inputRange: convRange(descriptor.activation, terms),
    };
  });
}

function clampAddTable(): CaseTable {
  return table("add clamp", 20, product(CLAMP_KINDS, [1, 2, 4]), ([kind, rank], random) => {
    const channels = pickOne(random, CHANNELS);
    const shape = rank === 4
      ? randomShape(random, channels)
      : rank === 2
      ? [pickOne(random, BATCHES), channels]
      : [channels];
    return {
      descriptor: add({ activation: kind.activation }),
      inputShapes: [shape, shape],
      inputRange: glueRange(kind.activation, 2),
    };
  });
}

function clampConcatTable(): CaseTable {
  return table("concat clamp", 21, product(CLAMP_KINDS, [1, 2, 3]), ([kind, count], random) => {
    const [n, h, w] = randomShape(random, 1);
    return {
      descriptor: concat({ activation: kind.activation }),
      inputShapes: Array.from({ length: count }, () => [n, h, w, pickOne(random, CHANNELS)]),
      inputRange: glueRange(kind.activation),
    };
  });
}

function clampFullyConnectedTable(): CaseTable {
  return table(
    "fullyConnected clamp",
    22,
    product(CLAMP_KINDS, [2, 4]),
    ([kind, rank], random) => {
      const batch = pickOne(random, BATCHES);
      const shape: Shape = rank === 2
        ? [batch, pickOne(random, [1, 2, 3, 7, 16, 17, 33, 64, 100])]
        : randomShape(random, pickOne(random, CHANNELS.slice(0, 8))).with(0, batch);
      const inFeatures = shapeSize(shape) / batch;
      return {
        descriptor: fullyConnected({
          inFeatures,
          outFeatures: pickOne(random, [3, 5, 8, 17, 33]),
          bias: (rank + CLAMP_KINDS.indexOf(kind)) % 2 === 0,
          activation: kind.activation,
        }),
        inputShapes: [shape],
        inputRange: convRange(kind.activation, inFeatures),
      };
    },
  );
}

function softmaxTable(): CaseTable {
  const lengths = [1, 2, 3, 4, 5, 7, 8, 16, 17, 33, 64, 100, 1000];
  const points = repeat(product(lengths, [1, 4, 10]), 2);
  return table("softmax", 13, points, ([length, scale], random) => {
    const rank = pickOne(random, [1, 2, 4]);
    const shape = rank === 1
      ? [length]
      : rank === 2
      ? [pickOne(random, [1, 3, 5]), length]
      : [pickOne(random, BATCHES), 2, 3, length];
    return { descriptor: softmax(), inputShapes: [shape], inputRange: [-scale, scale] };
  });
}

function dw(channels: number, stride: number, size: number, activation: Activation): CaseDraft {
  return {
    descriptor: depthwiseConv2d({
      channels,
      kernel: 3,
      stride,
      padding: "same",
      bias: true,
      activation,
    }),
    inputShapes: [[1, size, size, channels]],
  };
}

function pw(
  inChannels: number,
  outChannels: number,
  size: number,
  groups = 1,
  activation: Activation = "relu",
): CaseDraft {
  return {
    descriptor: pointwiseConv2d({ inChannels, outChannels, groups, bias: true, activation }),
    inputShapes: [[1, size, size, inChannels]],
  };
}

function stem(outChannels: number, activation: Activation): CaseDraft {
  return {
    descriptor: conv2d({
      inChannels: 3,
      outChannels,
      kernel: 3,
      stride: 2,
      padding: "same",
      bias: true,
      activation,
    }),
    inputShapes: [[1, 16, 16, 3]],
  };
}

/** ShuffleNet v1 units for `g` groups and stage widths `widths`, at small spatial sizes. */
function shuffleNetLayers(g: number, widths: readonly number[]): CaseDraft[] {
  const layers: CaseDraft[] = [
    stem(24, "relu"),
    {
      descriptor: maxPool2d({ kernel: 3, stride: 2, padding: "same" }),
      inputShapes: [[1, 8, 8, 24]],
    },
  ];
  let inChannels = 24;
  let size = 4;
  for (const width of widths) {
    const bottleneck = width / 4;
    const firstGroups = inChannels === 24 ? 1 : g;
    const down = size > 1 ? size / 2 : 1;
    layers.push(
      pw(inChannels, bottleneck, size, firstGroups, "relu"),
      { descriptor: channelShuffle({ groups: g }), inputShapes: [[1, size, size, bottleneck]] },
      dw(bottleneck, 2, size, "none"),
      pw(bottleneck, width - inChannels, down, g, "none"),
      {
        descriptor: avgPool2d({
          kernel: 3,
          stride: 2,
          padding: [1, 1, 1, 1],
          countIncludePad: true,
        }),
        inputShapes: [[1, size, size, inChannels]],
      },
      {
        descriptor: concat({ activation: "relu" }),
        inputShapes: [[1, down, down, width - inChannels], [1, down, down, inChannels]],
      },
      pw(width, bottleneck, down, g, "relu"),
      pw(bottleneck, width, down, g, "none"),
      {
        descriptor: add({ activation: "relu" }),
        inputShapes: [[1, down, down, width], [1, down, down, width]],
      },
    );
    inChannels = width;
    size = down;
  }
  layers.push(
    { descriptor: globalAvgPool(), inputShapes: [[1, 7, 7, inChannels]] },
    {
      descriptor: fullyConnected({ inFeatures: inChannels, outFeatures: 1000, bias: true }),
      inputShapes: [[1, 1, 1, inChannels]],
    },
  );
  return layers;
}

function networkTable(): CaseTable {
  const mobileNet: CaseDraft[] = [
    stem(32, "relu6"),
    dw(32, 1, 8, "relu6"),
    pw(32, 64, 8, 1, "relu6"),
    dw(64, 2, 8, "relu6"),
    pw(64, 128, 4, 1, "relu6"),
    dw(128, 1, 4, "relu6"),
    pw(128, 128, 4, 1, "relu6"),
    dw(128, 2, 4, "relu6"),
    pw(128, 256, 2, 1, "relu6"),
    dw(256, 1, 2, "relu6"),
    pw(256, 256, 2, 1, "relu6"),
    dw(256, 2, 2, "relu6"),
    pw(256, 512, 1, 1, "relu6"),
    dw(512, 1, 3, "relu6"),
    pw(512, 512, 1, 1, "relu6"),
    dw(512, 2, 3, "relu6"),
    pw(512, 1024, 1, 1, "relu6"),
    dw(1024, 1, 2, "relu6"),
    pw(1024, 1024, 1, 1, "relu6"),
    { descriptor: globalAvgPool(), inputShapes: [[1, 7, 7, 1024]] },
    {
      descriptor: fullyConnected({ inFeatures: 1024, outFeatures: 1000, bias: true }),
      inputShapes: [[1, 1, 1, 1024]],
    },
    { descriptor: softmax(), inputShapes: [[1, 1000]], inputRange: [-10, 10] },
  ];
  const layers = [
    ...mobileNet,
    ...shuffleNetLayers(3, [240, 480, 960]),
    ...shuffleNetLayers(8, [384, 768, 1536]),
  ];
  const random = seededRandom(14);
  return {
    name: "network layers",
    cases: layers.map((layer, index) => ({
      name: `network layers #${index}: ${describeCall(layer.descriptor, layer.inputShapes)}`,
      descriptor: layer.descriptor,
      inputShapes: layer.inputShapes,
      seed: Math.floor(random() * 2 ** 32),
      inputRange: layer.inputRange ?? [-1, 1],
    })),
  };
}

/**
 * The case tables of each operator: its parameter sweeps, then its
 * non-finite table (NaN and ±Infinity at random, border and lane positions;
 * see non_finite.ts). Keyed by every operator name, so a new operator
 * without cases fails `deno check`; the cases test checks that no list is
 * empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_CASE_TABLES } from "@mobileops/conformance";
 * assert(OP_CASE_TABLES.channelShuffle.every((t) => t.cases.every((c) => c.descriptor.op === "channelShuffle")));
 * assert(OP_CASE_TABLES.maxPool2d.some((t) => t.cases.some((c) => c.specials?.some((s) => Number.isNaN(s.value)))));
 * ```
 */
export const OP_CASE_TABLES: { readonly [Op in OpName]: readonly CaseTable[] } = {
  conv2d: [
    depthwiseTable(),
    pointwiseTable(),
    groupTable(),
    denseTable(),
    nonSquareConvTable(),
    clampConvTable(),
    ...NON_FINITE_TABLES.conv2d,
  ],
  avgPool2d: [avgPoolTable(), ceilAvgPoolTable(), ...NON_FINITE_TABLES.avgPool2d],
  maxPool2d: [maxPoolTable(), ceilMaxPoolTable(), ...NON_FINITE_TABLES.maxPool2d],
  channelShuffle: [shuffleTable(), ...NON_FINITE_TABLES.channelShuffle],
  add: [addTable(), clampAddTable(), ...NON_FINITE_TABLES.add],
  concat: [concatTable(), clampConcatTable(), ...NON_FINITE_TABLES.concat],
  globalAvgPool: [globalAvgPoolTable(), ...NON_FINITE_TABLES.globalAvgPool],
  fullyConnected: [
    fullyConnectedTable(),
    clampFullyConnectedTable(),
    ...NON_FINITE_TABLES.fullyConnected,
  ],
  softmax: [softmaxTable(), ...NON_FINITE_TABLES.softmax],
};

/**
 * Every conformance case, by table: each operator's tables in
 * {@link OP_CASE_TABLES} order, then the real network layers, then the
 * extreme-but-valid sizes (`"extreme sizes"`: windows, strides, dilations,
 * padding at `MAX_WINDOW`, thousands of channels, large batches). Built
 * once, at import: plain data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CASE_TABLES } from "@mobileops/conformance";
 * const total = CASE_TABLES.reduce((sum, table) => sum + table.cases.length, 0);
 * assert(total >= 1000);
 * assert.equal(CASE_TABLES.at(-1)?.name, "extreme sizes");
 * ```
 */
export const CASE_TABLES: readonly CaseTable[] = [
  ...Object.values(OP_CASE_TABLES).flat(),
  networkTable(),
  EXTREME_SIZE_TABLE,
];

/** The data of one case: weights (for convolutions and fully connected layers) and inputs. */
export interface CaseData {
  /** OHWI filter or `[out][in]` matrix, plus bias if any; `undefined` for weightless operators. */
  readonly weights: OpWeights;
  /** One per input shape, row-major, drawn uniformly from the case's `inputRange`. */
  readonly inputs: readonly Float32Array[];
}

function weightsFor(descriptor: OpDescriptor, random: () => number): OpWeights {
  if (descriptor.op === "conv2d") {
    const d: Conv2dDescriptor = descriptor;
    const filter = randomFloat32(
      random,
      d.outChannels * d.kernel[0] * d.kernel[1] * (d.inChannels / d.groups),
    );
    return d.bias ? { filter, bias: randomFloat32(random, d.outChannels) } : { filter };
  }
  if (descriptor.op === "fullyConnected") {
    const weights = randomFloat32(random, descriptor.inFeatures * descriptor.outFeatures);
    return descriptor.bias
      ? { weights, bias: randomFloat32(random, descriptor.outFeatures) }
      : { weights };
  }
  return undefined;
}

/**
 * Generates a case's weights and inputs from its seed, then writes its
 * {@link ConformanceCase.specials} into the inputs: the same case always
 * gets the same data, and the specials do not change the drawn values
 * around them.
 *
 * @throws {RangeError} A special names an input or index the case does not have.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CASE_TABLES, caseData } from "@mobileops/conformance";
 * const testCase = CASE_TABLES[0].cases[0];
 * const a = caseData(testCase), b = caseData(testCase);
 * assert(a.inputs[0].join() === b.inputs[0].join());
 * const special = caseData({ ...testCase, specials: [{ input: 0, index: 1, value: NaN }] });
 * assert(Number.isNaN(special.inputs[0][1]) && special.inputs[0][0] === a.inputs[0][0]);
 * ```
 */
export function caseData(testCase: ConformanceCase): CaseData {
  const random = seededRandom(testCase.seed);
  const weights = weightsFor(testCase.descriptor, random);
  const [low, high] = testCase.inputRange;
  const inputs = testCase.inputShapes.map((shape) => {
    const data = randomFloat32(random, shapeSize(shape), (high - low) / 2);
    for (let i = 0; i < data.length; i++) data[i] += (high + low) / 2;
    return data;
  });
  for (const [i, { input, index, value }] of (testCase.specials ?? []).entries()) {
    const data = inputs[input];
    if (data === undefined) {
      throw new RangeError(`specials[${i}].input = ${input}: the case has ${inputs.length} inputs`);
    }
    if (!Number.isInteger(index) || index < 0 || index >= data.length) {
      throw new RangeError(
        `specials[${i}].index = ${index}: inputs[${input}] has ${data.length} values`,
      );
    }
    data[index] = value;
  }
  return { weights, inputs };
}
