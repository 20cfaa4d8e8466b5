/**
 * The non-finite case tables: NaN, +Infinity and −Infinity written into the
 * inputs of small layers of every operator (`ConformanceCase.specials`),
 * where the float64 reference says exactly what must come out
 * (docs/operators.md, "Non-finite values").
 *
 * Positions are swept, not only drawn: the four corners and the middle of
 * each edge (windows that meet the padding), then every column of a middle
 * row and of the last row — each residue of a 4-, 6- or 12-pixel register
 * block and the remainder past the last full block, per row and over the
 * whole tensor. Each position takes the next channel of a cycle through
 * every lane of a 4-lane vector and every channel past the last full
 * vector, and the values cycle so that lanes see each of the three. A few
 * specials per case leave most outputs finite, so a value leaking into a
 * neighbour (an infinity times a zero-padded weight, a NaN read by the
 * wrong lane) fails as surely as a NaN turned into a number. Every layer is
 * swept once per activation (with and without bias in turn) and gets two
 * cases with specials at random positions; pools, add, softmax and global
 * average pooling add fixed patterns (a window of −∞ beside the padding,
 * `∞ + (−∞)`, a row of −∞). The clamp tables run each layer once per clamp
 * kind, the clamps of a layer sharing one sweep; the ceil-mode pool tables
 * put the patterns where the last window hangs past the padded input.
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
  type Conv2dOptions,
  fullyConnected,
  globalAvgPool,
  inferGeometry,
  maxPool2d,
  type OpDescriptor,
  type OpName,
  type Padding,
  type PairLike,
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
  describeSpecials,
  glueRange,
  type SpecialValue,
} from "./conformance_case.ts";
import { seededRandom } from "./random.ts";

/** What every sweep cycles through. */
const VALUES = [NaN, Infinity, -Infinity];
/** float32 lanes per SIMD128 vector (and per WGSL `vec4`). */
const LANES = 4;
const ACTIVATIONS: readonly Activation[] = ["none", "relu", "relu6"];
/** Cases per layer whose specials are drawn at random positions. */
const RANDOM_CASES = 2;

function range(length: number): number[] {
  return Array.from({ length }, (_, i) => i);
}

/** `shape` as NHWC; a shape of another rank as one row of vectors along its last axis. */
function nhwc(shape: Shape): readonly [number, number, number, number] {
  if (shape.length === 4) return [shape[0], shape[1], shape[2], shape[3]];
  const last = shape[shape.length - 1];
  return [1, 1, shapeSize(shape) / last, last];
}

/**
 * Channels that reach every lane: all of them up to four vectors, else each
 * lane of the first and of the last full vector, and every channel of the
 * remainder past it.
 */
function laneChannels(channels: number): number[] {
  if (channels <= 4 * LANES) return range(channels);
  const tail = channels - (channels % LANES);
  return [
    ...range(LANES),
    ...range(LANES).map((lane) => tail - LANES + lane),
    ...range(channels - tail).map((r) => tail + r),
  ];
}

/** The swept positions of one input, with their values (see the module comment). */
function sweepInput(shape: Shape, input: number): SpecialValue[] {
  const [n, h, w, c] = nhwc(shape);
  const midY = h >> 1;
  const midX = w >> 1;
  const pixels: (readonly [number, number, number])[] = [
    [0, 0, 0],
    [0, 0, w - 1],
    [n - 1, h - 1, 0],
    [n - 1, h - 1, w - 1],
    [0, 0, midX],
    [0, midY, 0],
    [n - 1, h - 1, midX],
    [n - 1, midY, w - 1],
    ...range(w).map((x) => [0, midY, x] as const),
    ...range(w).map((x) => [n - 1, h - 1, x] as const),
  ];
  const lanes = laneChannels(c);
  const seen = new Set<number>();
  const specials: SpecialValue[] = [];
  for (const [i, [b, y, x]] of pixels.entries()) {
    const index = ((b * h + y) * w + x) * c + lanes[i % lanes.length];
    if (seen.has(index)) continue;
    seen.add(index);
    // The q-th visit of lane l gets value l + q: every lane meets each value in turn.
    const value = VALUES[(i % lanes.length + Math.floor(i / lanes.length)) % VALUES.length];
    specials.push({ input, index, value });
  }
  return specials;
}

/**
 * The swept positions of every input, interleaved so that each case touches
 * every input. Input `k` starts `k / inputs` of the way into its sweep, so
 * equal shapes (`add`) get different positions in one case.
 */
function sweep(shapes: readonly Shape[]): SpecialValue[] {
  const perInput = shapes.map((shape, input) => {
    const list = sweepInput(shape, input);
    const start = Math.floor((input * list.length) / shapes.length);
    return [...list.slice(start), ...list.slice(0, start)];
  });
  const longest = Math.max(...perInput.map((list) => list.length));
  return range(longest).flatMap((i) => perInput.flatMap((list) => list[i] ?? []));
}

function randomSpecials(random: () => number, shapes: readonly Shape[]): SpecialValue[] {
  return range(1 + Math.floor(random() * 3)).map(() => {
    const input = Math.floor(random() * shapes.length);
    return {
      input,
      index: Math.floor(random() * shapeSize(shapes[input])),
      value: VALUES[Math.floor(random() * VALUES.length)],
    };
  });
}

/** One layer to sweep, and how densely. */
interface Sweep {
  readonly descriptor: OpDescriptor;
  readonly inputShapes: readonly Shape[];
  readonly inputRange?: readonly [number, number];
  /** Specials per case of the position sweep. */
  readonly perCase: number;
  /** Fixed patterns, one case each. */
  readonly patterns?: readonly (readonly SpecialValue[])[];
  /**
   * Only this chunk of the position sweep (taken modulo the chunk count),
   * and one random case: for a layer swept once per clamp, the clamps
   * share the sweep between them.
   */
  readonly chunk?: number;
}

/** A table of every sweep's position cases, random cases and patterns. */
function sweepTable(name: string, seed: number, sweeps: readonly Sweep[]): CaseTable {
  const random = seededRandom(seed);
  const cases: ConformanceCase[] = [];
  for (const layer of sweeps) {
    inferGeometry(layer.descriptor, layer.inputShapes);
    const swept = sweep(layer.inputShapes);
    const chunks = range(Math.ceil(swept.length / layer.perCase)).map((i) =>
      swept.slice(i * layer.perCase, (i + 1) * layer.perCase)
    );
    const specialSets = [
      ...(layer.chunk === undefined ? chunks : [chunks[layer.chunk % chunks.length]]),
      ...range(layer.chunk === undefined ? RANDOM_CASES : 1).map(() =>
        randomSpecials(random, layer.inputShapes)
      ),
      ...(layer.patterns ?? []),
    ];
    for (const specials of specialSets) {
      const index = cases.length;
      cases.push({
        name: `${name} #${index}: ${describeCall(layer.descriptor, layer.inputShapes)}` +
          describeSpecials(specials),
        descriptor: layer.descriptor,
        inputShapes: layer.inputShapes,
        seed: (seed * 7919 + index * 104_729) >>> 0,
        inputRange: layer.inputRange ?? [-1, 1],
        specials,
      });
    }
  }
  return { name, cases };
}

/** The convolution options of one layer, before activation and bias. */
type ConvLayer = Omit<Conv2dOptions, "activation" | "bias"> & { readonly shape: Shape };

/** Every layer once per activation; bias alternates, so each activation runs with and without. */
function convSweeps(layers: readonly ConvLayer[], perCase: number): Sweep[] {
  return layers.flatMap(({ shape, ...options }, l) =>
    ACTIVATIONS.map((activation, a) => {
      const descriptor = conv2d({ ...options, activation, bias: (l + a) % 2 === 0 });
      const terms = descriptor.kernel[0] * descriptor.kernel[1] *
        (descriptor.inChannels / descriptor.groups);
      return {
        descriptor,
        inputShapes: [shape],
        inputRange: convRange(activation, terms),
        perCase,
      };
    })
  );
}

/**
 * Every layer once per clamp kind; each takes the next chunk of the position
 * sweep (so the clamps of a layer share one sweep) and one random case, and
 * bias alternates.
 */
function clampConvSweeps(layers: readonly ConvLayer[], perCase: number): Sweep[] {
  return layers.flatMap(({ shape, ...options }, l) =>
    CLAMP_KINDS.map(({ activation }, k) => {
      const descriptor = conv2d({ ...options, activation, bias: (l + k) % 2 === 0 });
      const terms = descriptor.kernel[0] * descriptor.kernel[1] *
        (descriptor.inChannels / descriptor.groups);
      return {
        descriptor,
        inputShapes: [shape],
        inputRange: convRange(activation, terms),
        perCase,
        chunk: k,
      };
    })
  );
}

function depthwise(
  channels: number,
  kernel: PairLike,
  stride: PairLike,
  padding: Padding,
  shape: Shape,
  options: { dilation?: PairLike; multiplier?: number } = {},
): ConvLayer {
  const multiplier = options.multiplier ?? 1;
  return {
    inChannels: channels,
    outChannels: channels * multiplier,
    groups: channels,
    kernel,
    stride,
    padding,
    dilation: options.dilation,
    shape,
  };
}

function depthwiseTable(): CaseTable {
  return sweepTable(
    "depthwise conv2d non-finite",
    101,
    convSweeps([
      depthwise(11, 3, 1, "same", [1, 5, 11, 11]),
      depthwise(7, 3, 1, [1, 1, 1, 1], [2, 4, 7, 7]),
      depthwise(13, 3, 2, "same", [1, 7, 13, 13]),
      depthwise(9, 3, 2, [1, 1, 1, 1], [1, 6, 9, 9]),
      depthwise(5, 3, 1, "valid", [1, 5, 9, 5]),
      depthwise(6, 5, 1, "same", [1, 6, 10, 6]),
      depthwise(5, 3, 1, "same", [1, 7, 9, 5], { dilation: 2 }),
      depthwise(3, 3, 1, "same", [1, 5, 7, 3], { multiplier: 2 }),
    ], 5),
  );
}

function pointwiseTable(): CaseTable {
  const pointwise = (
    inChannels: number,
    outChannels: number,
    shape: Shape,
    groups = 1,
    stride = 1,
  ): ConvLayer => ({ inChannels, outChannels, groups, kernel: 1, stride, shape });
  return sweepTable(
    "pointwise conv2d non-finite",
    102,
    convSweeps([
      pointwise(11, 13, [1, 3, 5, 11]),
      pointwise(5, 20, [1, 2, 7, 5]),
      pointwise(16, 9, [2, 1, 13, 16]),
      pointwise(7, 3, [1, 5, 7, 7], 1, 2),
      pointwise(12, 15, [1, 3, 5, 12], 3),
      pointwise(24, 40, [1, 2, 7, 24], 8),
      pointwise(10, 6, [1, 1, 13, 10], 2),
    ], 4),
  );
}

function denseTable(): CaseTable {
  return sweepTable(
    "dense and group conv2d non-finite",
    103,
    convSweeps([
      {
        inChannels: 3,
        outChannels: 10,
        kernel: 3,
        stride: 2,
        padding: "same",
        shape: [1, 9, 11, 3],
      },
      { inChannels: 5, outChannels: 6, kernel: 3, padding: [1, 1, 1, 1], shape: [1, 5, 7, 5] },
      {
        inChannels: 4,
        outChannels: 5,
        kernel: 3,
        dilation: 2,
        padding: "same",
        shape: [1, 7, 9, 4],
      },
      {
        inChannels: 6,
        outChannels: 8,
        groups: 2,
        kernel: 3,
        padding: "same",
        shape: [1, 5, 7, 6],
      },
      {
        inChannels: 3,
        outChannels: 7,
        kernel: [2, 3],
        stride: [1, 2],
        padding: [0, 1, 2, 0],
        shape: [1, 5, 9, 3],
      },
    ], 4),
  );
}

/**
 * One layer of each convolution form the backends specialise (3×3
 * depthwise at stride 1 and 2, pointwise, group 1×1, a dense 3×3 stem,
 * group 3×3), under every clamp.
 */
function clampConvTable(): CaseTable {
  return sweepTable(
    "conv2d clamp non-finite",
    112,
    clampConvSweeps([
      depthwise(11, 3, 1, "same", [1, 5, 11, 11]),
      depthwise(9, 3, 2, [1, 1, 1, 1], [1, 6, 9, 9]),
      { inChannels: 11, outChannels: 13, kernel: 1, shape: [1, 3, 5, 11] },
      { inChannels: 12, outChannels: 15, groups: 3, kernel: 1, shape: [1, 3, 5, 12] },
      {
        inChannels: 3,
        outChannels: 10,
        kernel: 3,
        stride: 2,
        padding: "same",
        shape: [1, 9, 11, 3],
      },
      {
        inChannels: 6,
        outChannels: 8,
        groups: 2,
        kernel: 3,
        padding: "same",
        shape: [1, 5, 7, 6],
      },
    ], 4),
  );
}

interface PoolLayer {
  readonly kernel: readonly [number, number];
  readonly stride: PairLike;
  readonly padding: Padding;
  readonly shape: Shape;
}

const POOL_LAYERS: readonly PoolLayer[] = [
  { kernel: [3, 3], stride: 2, padding: "same", shape: [1, 7, 13, 11] },
  { kernel: [3, 3], stride: 1, padding: [1, 1, 1, 1], shape: [2, 4, 7, 5] },
  { kernel: [2, 2], stride: 2, padding: "valid", shape: [1, 6, 8, 7] },
  { kernel: [2, 2], stride: 2, padding: [1, 0, 1, 0], shape: [1, 3, 3, 4] },
  { kernel: [1, 3], stride: [1, 2], padding: [0, 0, 2, 1], shape: [1, 3, 9, 6] },
  { kernel: [5, 5], stride: 1, padding: "same", shape: [1, 5, 6, 3] },
];

/**
 * Two windows of non-finite cells: the top-left `kh × kw` block −∞ in every
 * channel (so the first window, which meets the padding, holds −∞ and
 * padding only: padding must not win), and the bottom-right block +∞ in
 * even channels and NaN in odd ones.
 */
function poolPatterns(layer: PoolLayer): SpecialValue[][] {
  return [
    cornerBlock(layer, "top left", () => -Infinity),
    cornerBlock(layer, "bottom right", (channel) => channel % 2 ? NaN : Infinity),
  ];
}

/** A `kh × kw` block (clipped to the image) of the last batch item, in every channel. */
function cornerBlock(
  { kernel: [kh, kw], shape }: PoolLayer,
  corner: "top left" | "bottom right",
  value: (channel: number) => number,
): SpecialValue[] {
  const [n, h, w, c] = shape;
  const [top, left] = corner === "top left" ? [0, 0] : [h - Math.min(kh, h), w - Math.min(kw, w)];
  return range(Math.min(kh, h)).flatMap((dy) =>
    range(Math.min(kw, w)).flatMap((dx) =>
      range(c).map((channel) => ({
        input: 0,
        index: (((n - 1) * h + top + dy) * w + left + dx) * c + channel,
        value: value(channel),
      }))
    )
  );
}

function maxPoolTable(): CaseTable {
  return sweepTable(
    "maxPool2d non-finite",
    104,
    POOL_LAYERS.map((layer) => ({
      descriptor: maxPool2d({ kernel: layer.kernel, stride: layer.stride, padding: layer.padding }),
      inputShapes: [layer.shape],
      perCase: 3,
      patterns: poolPatterns(layer),
    })),
  );
}

function avgPoolTable(): CaseTable {
  return sweepTable(
    "avgPool2d non-finite",
    105,
    POOL_LAYERS.flatMap((layer, i) =>
      [false, true].map((countIncludePad) => ({
        descriptor: avgPool2d({
          kernel: layer.kernel,
          stride: layer.stride,
          padding: layer.padding,
          countIncludePad,
        }),
        inputShapes: [layer.shape],
        perCase: 3,
        patterns: poolPatterns(layer).slice(i % 2, i % 2 + 1),
      }))
    ),
  );
}

/**
 * Ceil-mode pools whose last window hangs past the padded input (past the
 * image, and past the bottom/right padding where there is some), on both
 * axes but for the 1×3 one, and one whose would-be last window the rule
 * drops.
 */
const CEIL_POOL_LAYERS: readonly PoolLayer[] = [
  { kernel: [3, 3], stride: 2, padding: "valid", shape: [1, 6, 8, 5] },
  { kernel: [2, 2], stride: 2, padding: [1, 0, 1, 0], shape: [2, 4, 6, 7] },
  { kernel: [3, 2], stride: [3, 2], padding: [1, 1, 0, 0], shape: [1, 6, 7, 4] },
  { kernel: [1, 3], stride: [1, 3], padding: [0, 0, 1, 1], shape: [1, 3, 9, 6] },
  { kernel: [5, 5], stride: 3, padding: [2, 2, 2, 2], shape: [1, 8, 9, 3] },
  { kernel: [2, 2], stride: 2, padding: [1, 1, 1, 1], shape: [1, 5, 5, 9] },
];

/**
 * The pool patterns, plus the bottom-right block all −∞: the last window
 * then holds only −∞ cells and its overhang, which must not win (a max of
 * −∞, not 0).
 */
function ceilPoolPatterns(layer: PoolLayer): SpecialValue[][] {
  return [...poolPatterns(layer), cornerBlock(layer, "bottom right", () => -Infinity)];
}

function ceilMaxPoolTable(): CaseTable {
  return sweepTable(
    "maxPool2d ceil mode non-finite",
    113,
    CEIL_POOL_LAYERS.map((layer) => ({
      descriptor: maxPool2d({
        kernel: layer.kernel,
        stride: layer.stride,
        padding: layer.padding,
        ceilMode: true,
      }),
      inputShapes: [layer.shape],
      perCase: 3,
      patterns: ceilPoolPatterns(layer),
    })),
  );
}

function ceilAvgPoolTable(): CaseTable {
  return sweepTable(
    "avgPool2d ceil mode non-finite",
    114,
    CEIL_POOL_LAYERS.flatMap((layer, i) =>
      [false, true].map((countIncludePad, j) => ({
        descriptor: avgPool2d({
          kernel: layer.kernel,
          stride: layer.stride,
          padding: layer.padding,
          countIncludePad,
          ceilMode: true,
        }),
        inputShapes: [layer.shape],
        perCase: 4,
        patterns: ceilPoolPatterns(layer).slice((i + j) % 3, (i + j) % 3 + 1),
      }))
    ),
  );
}

function shuffleTable(): CaseTable {
  const layers: [number, Shape][] = [
    [3, [1, 2, 3, 21]],
    [5, [1, 3, 5, 15]],
    [2, [1, 3, 5, 6]],
    [3, [2, 2, 7, 3]],
    [8, [2, 1, 3, 40]],
    [4, [1, 1, 7, 36]],
  ];
  return sweepTable(
    "channelShuffle non-finite",
    106,
    layers.map(([groups, shape]) => ({
      descriptor: channelShuffle({ groups }),
      inputShapes: [shape],
      perCase: 3,
    })),
  );
}

/**
 * `a + b` of infinities and NaN at one index each: `∞ + (−∞)` and
 * `NaN + ∞` give NaN, `∞ + ∞` and `−∞ + (−∞)` stay infinite.
 */
function addPattern(shape: Shape): SpecialValue[] {
  const size = shapeSize(shape);
  const last = shape[shape.length - 1];
  // First, end of the first vector row, last, start of the last row; distinct even for one row.
  const indices = [...new Set([0, last - 1, size - 1, size - last, 1, 2, 3])].slice(0, 4);
  const pairs: [number, number][] = [
    [Infinity, -Infinity],
    [Infinity, Infinity],
    [-Infinity, -Infinity],
    [NaN, Infinity],
  ];
  return pairs.flatMap(([a, b], i) => [
    { input: 0, index: indices[i], value: a },
    { input: 1, index: indices[i], value: b },
  ]);
}

function addTable(): CaseTable {
  const shapes: Shape[] = [[1, 3, 5, 11], [13], [3, 9], [2, 4, 6, 20]];
  return sweepTable(
    "add non-finite",
    107,
    shapes.flatMap((shape) =>
      ACTIVATIONS.map((activation) => ({
        descriptor: add({ activation }),
        inputShapes: [shape, shape],
        inputRange: glueRange(activation),
        perCase: 4,
        patterns: [addPattern(shape)],
      }))
    ),
  );
}

function concatTable(): CaseTable {
  const inputs: Shape[][] = [
    [[1, 3, 5, 5], [1, 3, 5, 7]],
    [[2, 2, 3, 4], [2, 2, 3, 9], [2, 2, 3, 1]],
    [[1, 1, 7, 17], [1, 1, 7, 3]],
  ];
  return sweepTable(
    "concat non-finite",
    108,
    inputs.flatMap((inputShapes) =>
      ACTIVATIONS.map((activation) => ({
        descriptor: concat({ activation }),
        inputShapes,
        inputRange: glueRange(activation),
        perCase: 4,
      }))
    ),
  );
}

function globalAvgPoolTable(): CaseTable {
  const shapes: Shape[] = [[2, 3, 7, 7], [1, 7, 7, 9], [3, 1, 1, 13], [1, 2, 13, 23]];
  return sweepTable(
    "globalAvgPool non-finite",
    109,
    shapes.map((shape) => ({
      descriptor: globalAvgPool(),
      inputShapes: [shape],
      perCase: 3,
      // Channel 0 sums ∞ and −∞ (NaN); channel 1 sums two ∞ (∞).
      patterns: shape[1] * shape[2] > 1
        ? [[
          { input: 0, index: 0, value: Infinity },
          { input: 0, index: shape[3], value: -Infinity },
          { input: 0, index: 1, value: Infinity },
          { input: 0, index: shape[3] + 1, value: Infinity },
        ]]
        : [],
    })),
  );
}

function fullyConnectedTable(): CaseTable {
  const layers: [Shape, number][] = [[[5, 11], 13], [[4, 2, 3, 4], 6], [[6, 33], 9]];
  return sweepTable(
    "fullyConnected non-finite",
    110,
    layers.flatMap(([shape, outFeatures], l) =>
      ACTIVATIONS.map((activation, a) => {
        const inFeatures = shapeSize(shape) / shape[0];
        return {
          descriptor: fullyConnected({
            inFeatures,
            outFeatures,
            bias: (l + a) % 2 === 0,
            activation,
          }),
          inputShapes: [shape],
          inputRange: convRange(activation, inFeatures),
          // Each special reaches a whole row of outputs: two leave most rows finite.
          perCase: 2,
        };
      })
    ),
  );
}

/** `add` under every clamp: a chunk of the sweep, a random case and the `a + b` pattern each. */
function clampAddTable(): CaseTable {
  const shapes: Shape[] = [[1, 3, 5, 11], [13]];
  return sweepTable(
    "add clamp non-finite",
    115,
    shapes.flatMap((shape) =>
      CLAMP_KINDS.map(({ activation }, k) => ({
        descriptor: add({ activation }),
        inputShapes: [shape, shape],
        inputRange: glueRange(activation, 2),
        perCase: 4,
        chunk: k,
        patterns: [addPattern(shape)],
      }))
    ),
  );
}

function clampConcatTable(): CaseTable {
  const inputs: Shape[][] = [
    [[1, 3, 5, 5], [1, 3, 5, 7]],
    [[2, 2, 3, 4], [2, 2, 3, 9], [2, 2, 3, 1]],
  ];
  return sweepTable(
    "concat clamp non-finite",
    116,
    inputs.flatMap((inputShapes) =>
      CLAMP_KINDS.map(({ activation }, k) => ({
        descriptor: concat({ activation }),
        inputShapes,
        inputRange: glueRange(activation),
        perCase: 4,
        chunk: k,
      }))
    ),
  );
}

function clampFullyConnectedTable(): CaseTable {
  const layers: [Shape, number][] = [[[5, 11], 13], [[4, 2, 3, 4], 6]];
  return sweepTable(
    "fullyConnected clamp non-finite",
    117,
    layers.flatMap(([shape, outFeatures], l) =>
      CLAMP_KINDS.map(({ activation }, k) => {
        const inFeatures = shapeSize(shape) / shape[0];
        return {
          descriptor: fullyConnected({
            inFeatures,
            outFeatures,
            bias: (l + k) % 2 === 0,
            activation,
          }),
          inputShapes: [shape],
          inputRange: convRange(activation, inFeatures),
          perCase: 2,
          chunk: k,
        };
      })
    ),
  );
}

/**
 * Rows of infinities: row 0 all −∞ (every `v − max` is NaN), row 1 ending in
 * +∞ (NaN throughout), row 2 −∞ but for its first value (1 there, 0 elsewhere).
 */
function softmaxPattern(shape: Shape): SpecialValue[] {
  const length = shape[shape.length - 1];
  return [
    ...range(length).map((i) => ({ input: 0, index: i, value: -Infinity })),
    { input: 0, index: 2 * length - 1, value: Infinity },
    ...range(length - 1).map((i) => ({ input: 0, index: 2 * length + 1 + i, value: -Infinity })),
  ];
}

function softmaxTable(): CaseTable {
  const shapes: Shape[] = [[5, 15], [6, 1], [2, 2, 3, 8], [3, 33]];
  return sweepTable(
    "softmax non-finite",
    111,
    shapes.map((shape) => ({
      descriptor: softmax(),
      inputShapes: [shape],
      inputRange: [-4, 4],
      perCase: 2,
      patterns: [softmaxPattern(shape)],
    })),
  );
}

/**
 * Each operator's non-finite tables, for `OP_CASE_TABLES`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NON_FINITE_TABLES } from "./non_finite.ts";
 * const specials = NON_FINITE_TABLES.add.flatMap((t) => t.cases.flatMap((c) => c.specials ?? []));
 * assert(specials.some((s) => Number.isNaN(s.value)) && specials.some((s) => s.value === -Infinity));
 * ```
 */
export const NON_FINITE_TABLES: { readonly [Op in OpName]: readonly CaseTable[] } = {
  conv2d: [depthwiseTable(), pointwiseTable(), denseTable(), clampConvTable()],
  avgPool2d: [avgPoolTable(), ceilAvgPoolTable()],
  maxPool2d: [maxPoolTable(), ceilMaxPoolTable()],
  channelShuffle: [shuffleTable()],
  add: [addTable(), clampAddTable()],
  concat: [concatTable(), clampConcatTable()],
  globalAvgPool: [globalAvgPoolTable()],
  fullyConnected: [fullyConnectedTable(), clampFullyConnectedTable()],
  softmax: [softmaxTable()],
};
