/**
 * ONNX nodes → {@link IrGraph}: one pass over the nodes in file order that
 * reads attributes and constants, resolves padding, converts NCHW to the
 * graph's NHWC (filters OIHW → OHWI, fully connected columns of a flattened
 * feature map) and infers every value's shape. Whatever cannot be imported
 * is recorded, never thrown, so that one error can list every such node; a
 * node that reads a value no importable node made is passed over without a
 * second report.
 *
 * @module
 */

import { InvalidArgumentError, type Pad4, type Pair, resolvePadding } from "@mobileops/core";
import { OnnxError, reasonOf, type UnsupportedNode } from "./errors.ts";
import {
  type Bounds,
  type IrGraph,
  type IrNode,
  type IrValue,
  type Layout,
  NO_CLAMP,
} from "./ir.ts";
import { nchwColumnsToNhwc, oihwToOhwi } from "./layout.ts";
import {
  type AttributeProto,
  int,
  type NodeProto,
  type OnnxTensor,
  tensorFromProto,
} from "./proto.ts";

/** What {@link lowerGraph} needs besides the nodes. */
export interface LowerContext {
  /** The default domain's opset version. */
  readonly opset: number;
  /** Initializers and bound constants by value name. */
  readonly constants: ReadonlyMap<string, OnnxTensor>;
  /** The data input's name and ONNX shape. */
  readonly input: { readonly name: string; readonly shape: readonly number[] };
  /** The graph output's name. */
  readonly output: string;
}

/** The lowered graph, and every reason a node could not be lowered. */
export interface Lowered {
  /** Holds only the nodes that could be lowered. */
  readonly graph: IrGraph;
  /** In node order; empty when every node was lowered. */
  readonly refusals: readonly UnsupportedNode[];
}

/** Thrown inside a handler to stop lowering the node; its reasons are already recorded. */
class Skip {}

const FLOAT_MAX = 3.4028234663852886e38;

/** `AttributeProto.AttributeType` names of the types read, for messages. */
const ATTRIBUTE_TYPES: Readonly<Record<number, string>> = {
  1: "FLOAT",
  2: "INT",
  3: "STRING",
  4: "TENSOR",
  7: "INTS",
};

/** A 4-D value is an NCHW feature map; anything else keeps its ONNX shape. */
function layoutOf(shape: readonly number[]): Layout {
  return shape.length === 4
    ? { kind: "nchw", dims: [shape[0], shape[1], shape[2], shape[3]] }
    : { kind: "plain" };
}

const product = (dims: readonly number[]) => dims.reduce((p, d) => p * d, 1);
const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((dim, i) => dim === b[i]);

/** One node being lowered: its attributes, inputs, and what it defines. */
class NodeLowering {
  readonly refusals: UnsupportedNode[] = [];
  readonly nodes: IrNode[] = [];
  readonly values: [string, IrValue][] = [];
  readonly constants: [string, OnnxTensor][] = [];
  readonly attributes: Map<string, AttributeProto>;

  constructor(
    readonly state: LoweringState,
    readonly proto: NodeProto,
    readonly name: string,
    readonly opType: string,
  ) {
    this.attributes = new Map((proto.attribute ?? []).map((a) => [a.name ?? "", a]));
  }

  get opset(): number {
    return this.state.context.opset;
  }

  refuse(reason: string, attribute?: string, value?: unknown): void {
    this.refusals.push({
      node: this.name,
      opType: this.opType,
      ...(attribute === undefined ? {} : { attribute, value }),
      reason,
    });
  }

  fail(reason: string, attribute?: string, value?: unknown): never {
    this.refuse(reason, attribute, value);
    throw new Skip();
  }

  /** Records every attribute not in `known`: an attribute the importer ignores would be a guess. */
  known(...known: string[]): void {
    for (const [name, attribute] of this.attributes) {
      if (!known.includes(name)) {
        this.refuse("attribute is not supported", name, attributeValue(attribute));
      }
    }
  }

  #attribute(name: string, type: number, field: keyof AttributeProto) {
    const attribute = this.attributes.get(name);
    if (attribute === undefined) return undefined;
    // Old exporters leave `type` unset; then the populated field decides.
    if (attribute.type !== undefined && attribute.type !== 0 && attribute.type !== type) {
      this.fail(`must be an ${ATTRIBUTE_TYPES[type]} attribute`, name, attributeValue(attribute));
    }
    return attribute[field];
  }

  int(name: string, fallback: number): number {
    const value = this.#attribute(name, 2, "i") as Parameters<typeof int>[0] | undefined;
    return value === undefined || value === null ? fallback : this.#int(value, name);
  }

  ints(name: string): number[] | undefined {
    const value = this.#attribute(name, 7, "ints") as Parameters<typeof int>[0][] | undefined;
    return value === undefined ? undefined : value.map((v) => this.#int(v, name));
  }

  #int(value: Parameters<typeof int>[0], name: string): number {
    try {
      return int(value, name);
    } catch {
      return this.fail("must be an integer within ±2^53", name, String(value));
    }
  }

  float(name: string, fallback: number): number {
    const value = this.#attribute(name, 1, "f") as number | undefined | null;
    return value === undefined || value === null ? fallback : value;
  }

  string(name: string, fallback: string): string {
    const value = this.#attribute(name, 3, "s") as Uint8Array | undefined | null;
    return value === undefined || value === null ? fallback : new TextDecoder().decode(value);
  }

  tensor(name: string): OnnxTensor | undefined {
    const value = this.#attribute(name, 4, "t") as AttributeProto["t"];
    return value === undefined || value === null ? undefined : this.#tensor(value, name);
  }

  #tensor(proto: NonNullable<AttributeProto["t"]>, name: string): OnnxTensor {
    try {
      return tensorFromProto(proto, name);
    } catch (error) {
      if (!(error instanceof OnnxError)) throw error;
      return this.fail(reasonOf(error), error.field, error.value);
    }
  }

  inputName(i: number): string {
    return this.proto.input?.[i] ?? "";
  }

  hasInput(i: number): boolean {
    return this.inputName(i) !== "";
  }

  isConstant(i: number): boolean {
    return this.state.constants.has(this.inputName(i));
  }

  /** Input `i` as a constant; a data tensor there is recorded and ends the node. */
  constant(i: number, what: string): OnnxTensor {
    const name = this.inputName(i);
    const tensor = this.state.constants.get(name);
    if (tensor === undefined) {
      if (this.state.unknown.has(name)) throw new Skip();
      this.state.checkDefined(name, this.name);
      this.fail(
        "must be a constant (an initializer, a Constant node or a bound constant): " +
          "core operators take weights, shapes and bounds at prepare time",
        what,
        name,
      );
    }
    return tensor;
  }

  /** Input `i` as float32 data. */
  floats(i: number, what: string): Float32Array {
    const tensor = this.constant(i, what);
    if (!(tensor.data instanceof Float32Array)) {
      this.fail("must be a FLOAT tensor", what, this.inputName(i));
    }
    return tensor.data;
  }

  /** Input `i` as integers (shapes, pads). */
  integers(i: number, what: string): number[] {
    const tensor = this.constant(i, what);
    if (!(tensor.data instanceof BigInt64Array)) {
      this.fail("must be an INT64 tensor", what, this.inputName(i));
    }
    return [...tensor.data].map((value) => Number(value));
  }

  /** A scalar float input (Clip bounds, a Pad value) when given. */
  scalar(i: number, what: string): number | undefined {
    if (!this.hasInput(i)) return undefined;
    const data = this.floats(i, what);
    if (data.length !== 1) this.fail("must be a scalar", what, this.constant(i, what).shape);
    return data[0];
  }

  /** Input `i` as a data tensor; a constant there is refused. */
  value(i: number): { readonly name: string; readonly value: IrValue } {
    const name = this.inputName(i);
    const value = this.state.values.get(name);
    if (value !== undefined) return { name, value };
    if (this.state.unknown.has(name)) throw new Skip();
    if (this.state.constants.has(name)) {
      this.fail(
        "a constant where the operator reads data: the importer runs the data path on a backend " +
          "and evaluates only Identity, Dropout, Flatten, Reshape and Transpose of constants",
        `input ${i}`,
        name,
      );
    }
    this.state.checkDefined(name, this.name);
    return this.fail("is missing", `input ${i}`, name);
  }

  /** Input `i` as an NCHW feature map. */
  featureMap(i: number): { readonly name: string; readonly dims: readonly number[] } {
    const { name, value } = this.value(i);
    if (value.layout.kind !== "nchw" || value.shape.length !== 4) {
      this.fail("must be a 4-D NCHW tensor", `input ${i}`, value.shape);
    }
    return { name, dims: value.layout.dims };
  }

  /** Whether output `i` exists and something reads it. */
  outputUsed(i: number): boolean {
    const name = this.proto.output?.[i] ?? "";
    return name !== "" && this.state.used.has(name);
  }

  emit(node: DistributiveOmit<IrNode, "name" | "opType" | "output">, value: IrValue): void {
    const output = this.proto.output?.[0] ?? "";
    this.nodes.push({ ...node, name: this.name, opType: this.opType, output } as IrNode);
    this.values.push([output, value]);
  }

  defineConstant(tensor: OnnxTensor): void {
    this.constants.push([this.proto.output?.[0] ?? "", tensor]);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Everything defined so far. */
class LoweringState {
  readonly values = new Map<string, IrValue>();
  readonly constants: Map<string, OnnxTensor>;
  readonly unknown = new Set<string>();
  readonly used = new Set<string>();

  constructor(readonly context: LowerContext, nodes: readonly NodeProto[]) {
    this.constants = new Map(context.constants);
    this.values.set(context.input.name, {
      shape: context.input.shape,
      layout: layoutOf(context.input.shape),
    });
    for (const node of nodes) for (const input of node.input ?? []) this.used.add(input);
    this.used.add(context.output);
  }

  /** A name that nothing defines is a malformed file, not an unsupported node. */
  checkDefined(name: string, node: string): void {
    if (!this.values.has(name) && !this.constants.has(name) && !this.unknown.has(name)) {
      throw new OnnxError(
        `graph.node[${JSON.stringify(node)}].input`,
        name,
        "names no graph input, initializer or earlier node output (nodes must be in " +
          "topological order)",
      );
    }
  }
}

function attributeValue(attribute: AttributeProto): unknown {
  if (attribute.ints?.length) return attribute.ints.map((v) => Number(v.toString()));
  if (attribute.floats?.length) return [...attribute.floats];
  if (attribute.s?.length) return new TextDecoder().decode(attribute.s);
  if (attribute.t) return "a tensor";
  if (attribute.i !== undefined && attribute.i !== null && attribute.type !== 1) {
    return Number(attribute.i.toString());
  }
  return attribute.f ?? null;
}

/** A 2-D attribute (kernel, strides, dilations) that defaults to `fallback`. */
function pair(ctx: NodeLowering, name: string, fallback: number): Pair {
  const values = ctx.ints(name);
  if (values === undefined) return [fallback, fallback];
  if (values.length !== 2 || values.some((v) => v < 1)) {
    ctx.fail("must be two positive integers (a 2-D operator)", name, values);
  }
  return [values[0], values[1]];
}

/**
 * `auto_pad` and `pads` as `[top, bottom, left, right]` for an input of
 * `size` = `[height, width]`; `extent` is the dilated kernel.
 */
function spatialPadding(
  ctx: NodeLowering,
  size: Pair,
  kernel: Pair,
  stride: Pair,
  dilation: Pair,
): Pad4 {
  const autoPad = ctx.string("auto_pad", "NOTSET");
  const pads = ctx.ints("pads");
  if (autoPad === "VALID") return [0, 0, 0, 0];
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const [top, bottom, left, right] = resolvePadding("same", size, kernel, stride, dilation);
    // SAME_UPPER is TensorFlow's rule (odd extra at the end); SAME_LOWER puts it first.
    return autoPad === "SAME_UPPER" ? [top, bottom, left, right] : [bottom, top, right, left];
  }
  if (autoPad !== "NOTSET") {
    ctx.fail("must be NOTSET, SAME_UPPER, SAME_LOWER or VALID", "auto_pad", autoPad);
  }
  if (pads === undefined) return [0, 0, 0, 0];
  if (pads.length !== 4 || pads.some((p) => p < 0)) {
    ctx.fail("must be 4 non-negative integers [top, left, bottom, right]", "pads", pads);
  }
  return [pads[0], pads[2], pads[1], pads[3]];
}

function windowOutput(
  ctx: NodeLowering,
  size: Pair,
  kernel: Pair,
  stride: Pair,
  dilation: Pair,
  padding: Pad4,
  ceil = false,
): Pair {
  const out = [0, 1].map((axis) => {
    const extent = (kernel[axis] - 1) * dilation[axis] + 1;
    const padded = size[axis] + padding[2 * axis] + padding[2 * axis + 1];
    if (!ceil) return Math.floor((padded - extent) / stride[axis]) + 1;
    // ONNX's and PyTorch's ceil_mode: the last window must start inside the
    // input or its leading padding (core's inferGeometry applies the same rule).
    const rounded = Math.ceil((padded - extent) / stride[axis]) + 1;
    const lastStartsInside = (rounded - 1) * stride[axis] < size[axis] + padding[2 * axis];
    return lastStartsInside ? rounded : rounded - 1;
  });
  if (out[0] < 1 || out[1] < 1) {
    ctx.fail("the padded input is smaller than the kernel", "kernel_shape", [...kernel]);
  }
  return [out[0], out[1]];
}

function conv(ctx: NodeLowering): void {
  ctx.known("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
  const w = ctx.constant(1, "W");
  if (w.shape.length !== 4) {
    ctx.fail(`a ${w.shape.length - 2}-D convolution: core convolutions are 2-D`, "W", w.shape);
  }
  const groups = ctx.int("group", 1);
  const kernelShape = ctx.ints("kernel_shape");
  const stride = pair(ctx, "strides", 1);
  const dilation = pair(ctx, "dilations", 1);
  const filter = ctx.floats(1, "W");
  const bias = ctx.hasInput(2) ? ctx.floats(2, "B") : undefined;
  const x = ctx.featureMap(0);
  const [n, c, h, width] = x.dims;
  const [o, perGroup, kh, kw] = w.shape;
  if (groups < 1 || c % groups !== 0 || perGroup * groups !== c || o % groups !== 0) {
    ctx.fail(
      `must divide the ${c} input and ${o} output channels, with W of shape ` +
        `[${o}, ${c} / group, kH, kW]`,
      "group",
      groups,
    );
  }
  if (kernelShape !== undefined && !same(kernelShape, [kh, kw])) {
    ctx.fail(`must match W's kernel [${kh}, ${kw}]`, "kernel_shape", kernelShape);
  }
  if (bias !== undefined && bias.length !== o) {
    ctx.fail(`must hold one value per output channel (${o})`, "B", bias.length);
  }
  const padding = spatialPadding(ctx, [h, width], [kh, kw], stride, dilation);
  const [oh, ow] = windowOutput(ctx, [h, width], [kh, kw], stride, dilation, padding);
  ctx.emit({
    op: "conv",
    inputs: [x.name],
    inChannels: c,
    outChannels: o,
    kernel: [kh, kw],
    stride,
    padding,
    dilation,
    groups,
    filter: oihwToOhwi(filter, w.shape),
    ...(bias === undefined ? {} : { bias }),
    activation: NO_CLAMP,
  }, { shape: [n, o, oh, ow], layout: layoutOf([n, o, oh, ow]) });
}

function pool(ctx: NodeLowering): void {
  const average = ctx.opType === "AveragePool";
  ctx.known(
    "auto_pad",
    "ceil_mode",
    "kernel_shape",
    "pads",
    "strides",
    ...(average ? ["count_include_pad", "dilations"] : ["dilations", "storage_order"]),
  );
  const kernelShape = ctx.ints("kernel_shape");
  if (kernelShape === undefined || kernelShape.length !== 2) {
    ctx.fail("a 1-D or 3-D pool: core pools are 2-D", "kernel_shape", kernelShape);
  }
  const kernel = pair(ctx, "kernel_shape", 1);
  const stride = pair(ctx, "strides", 1);
  const dilation = pair(ctx, "dilations", 1);
  if (dilation[0] !== 1 || dilation[1] !== 1) {
    ctx.refuse("core's pools have no dilation", "dilations", [...dilation]);
  }
  const ceil = ctx.int("ceil_mode", 0) === 1;
  const countIncludePad = ctx.int("count_include_pad", 0) === 1;
  if (ctx.outputUsed(1)) {
    ctx.refuse("the Indices output has no core counterpart", "output 1", ctx.proto.output?.[1]);
  }
  const x = ctx.featureMap(0);
  const [n, c, h, w] = x.dims;
  const padding = spatialPadding(ctx, [h, w], kernel, stride, [1, 1]);
  if (padding.some((side, i) => side >= kernel[i < 2 ? 0 : 1])) {
    ctx.fail("a pool's padding must be smaller than its kernel", "pads", [...padding]);
  }
  const [oh, ow] = windowOutput(ctx, [h, w], kernel, stride, [1, 1], padding, ceil);
  ctx.emit({
    op: average ? "avgPool" : "maxPool",
    inputs: [x.name],
    kernel,
    stride,
    padding,
    countIncludePad,
    ceilMode: ceil,
  }, { shape: [n, c, oh, ow], layout: layoutOf([n, c, oh, ow]) });
}

function globalAveragePool(ctx: NodeLowering): void {
  ctx.known();
  const x = ctx.featureMap(0);
  const [n, c] = x.dims;
  ctx.emit({ op: "globalAvgPool", inputs: [x.name] }, {
    shape: [n, c, 1, 1],
    layout: layoutOf([n, c, 1, 1]),
  });
}

function clamp(ctx: NodeLowering, bounds: Bounds): void {
  if (!(bounds[0] <= bounds[1])) {
    ctx.refuse("a clamp needs min ≤ max and no NaN bound", "min, max", [...bounds]);
  }
  const x = ctx.value(0);
  ctx.emit({ op: "clamp", inputs: [x.name], bounds }, x.value);
}

function relu(ctx: NodeLowering): void {
  ctx.known();
  clamp(ctx, [0, Infinity]);
}

function clip(ctx: NodeLowering): void {
  let min: number;
  let max: number;
  if (ctx.opset < 11) {
    ctx.known("min", "max");
    min = ctx.float("min", -Infinity);
    max = ctx.float("max", Infinity);
  } else {
    ctx.known();
    min = ctx.scalar(1, "min") ?? -Infinity;
    max = ctx.scalar(2, "max") ?? Infinity;
  }
  // Clip-6's defaults are float32's extremes: the same as no bound.
  clamp(ctx, [min <= -FLOAT_MAX ? -Infinity : min, max >= FLOAT_MAX ? Infinity : max]);
}

/**
 * A constant `addend` that, broadcast against `x`, varies only along the
 * axis the graph holds last (channels of an NCHW map, the last axis
 * otherwise): its per-channel values, or `undefined`.
 */
function channelVector(
  addend: OnnxTensor,
  data: Float32Array,
  x: IrValue,
): Float32Array | undefined {
  const rank = x.shape.length;
  if (addend.shape.length > rank) return undefined;
  const dims = [...Array(rank - addend.shape.length).fill(1), ...addend.shape];
  const axis = x.layout.kind === "nchw" && rank === 4 ? 1 : rank - 1;
  if (x.layout.kind === "nchw" && rank !== 4 && x.layout.dims[2] * x.layout.dims[3] !== 1) {
    return undefined;
  }
  const channels = x.shape[axis];
  if (dims.some((dim, i) => i !== axis && dim !== 1)) return undefined;
  if (dims[axis] === channels) return data;
  return dims[axis] === 1 ? new Float32Array(channels).fill(data[0]) : undefined;
}

function add(ctx: NodeLowering): void {
  let legacyAxis: number | undefined;
  if (ctx.opset < 7) {
    ctx.known("broadcast", "axis");
    if (ctx.int("broadcast", 0) === 1) legacyAxis = ctx.int("axis", -1);
  } else {
    ctx.known();
  }
  const constantAt = [0, 1].filter((i) => ctx.isConstant(i));
  if (constantAt.length === 2) {
    ctx.fail("both operands are constants", "input 0", ctx.inputName(0));
  }
  if (constantAt.length === 1) {
    const i = constantAt[0];
    const addend = ctx.constant(i, `input ${i}`);
    const data = ctx.floats(i, `input ${i}`);
    const x = ctx.value(1 - i);
    let shaped = addend;
    // Add-6's broadcast aligns B's axes from `axis` on, not from the end.
    if (legacyAxis !== undefined && legacyAxis >= 0) {
      const trailing = x.value.shape.length - legacyAxis - addend.shape.length;
      shaped = { ...addend, shape: [...addend.shape, ...Array(Math.max(trailing, 0)).fill(1)] };
    }
    const bias = channelVector(shaped, data, x.value);
    if (bias === undefined) {
      ctx.fail(
        "a constant operand must vary along the channel axis only (a bias): core adds two " +
          "data tensors of one shape, or folds a per-channel constant into a bias",
        `input ${i}`,
        addend.shape,
      );
    }
    ctx.emit({ op: "bias", inputs: [x.name], bias }, x.value);
    return;
  }
  const a = ctx.value(0);
  const b = ctx.value(1);
  if (!same(a.value.shape, b.value.shape) || !sameLayout(a.value.layout, b.value.layout)) {
    ctx.fail(
      `must have input 0's shape [${a.value.shape.join(", ")}]: core adds tensors of one ` +
        "shape, without broadcasting",
      "input 1",
      b.value.shape,
    );
  }
  ctx.emit({ op: "add", inputs: [a.name, b.name], activation: NO_CLAMP }, a.value);
}

function sameLayout(a: Layout, b: Layout): boolean {
  return a.kind === b.kind && (a.kind === "plain" || same(a.dims, (b as typeof a).dims));
}

function concat(ctx: NodeLowering): void {
  ctx.known("axis");
  const axis = ctx.int("axis", 1);
  const count = ctx.proto.input?.length ?? 0;
  const inputs = Array.from({ length: count }, (_, i) => ctx.value(i));
  const first = inputs[0].value;
  const rank = first.shape.length;
  if (rank !== 4 || (axis !== 1 && axis !== -3)) {
    ctx.fail(
      `core concatenates 4-D NCHW tensors along channels (axis 1); this is axis ${axis} of a ` +
        `${rank}-D tensor`,
      "axis",
      axis,
    );
  }
  const maps = inputs.map((_, i) => ctx.featureMap(i));
  const [n, , h, w] = maps[0].dims;
  maps.forEach((map, i) => {
    if (map.dims[0] !== n || map.dims[2] !== h || map.dims[3] !== w) {
      ctx.fail(`must match input 0's N, H, W (${n}, ${h}, ${w})`, `input ${i}`, map.dims);
    }
  });
  const channels = maps.reduce((sum, map) => sum + map.dims[1], 0);
  const value = { shape: [n, channels, h, w], layout: layoutOf([n, channels, h, w]) };
  if (maps.length === 1) {
    ctx.emit({ op: "identity", inputs: [maps[0].name] }, value);
  } else {
    ctx.emit({ op: "concat", inputs: maps.map((map) => map.name), activation: NO_CLAMP }, value);
  }
}

/** A Gemm or MatMul: `a` is `[M, K]` data, `weights` `[N][K]` in ONNX column order. */
function fullyConnected(
  ctx: NodeLowering,
  a: { readonly name: string; readonly value: IrValue },
  weights: Float32Array,
  outFeatures: number,
  bias: Float32Array | undefined,
): void {
  const [m, k] = a.value.shape;
  const { layout } = a.value;
  let columns = weights;
  // The graph holds a flattened NCHW map as NHWC: reorder the columns to match (exact).
  if (layout.kind === "nchw" && layout.dims[1] > 1 && layout.dims[2] * layout.dims[3] > 1) {
    columns = nchwColumnsToNhwc(weights, outFeatures, [
      layout.dims[1],
      layout.dims[2],
      layout.dims[3],
    ]);
  }
  ctx.emit({
    op: "fullyConnected",
    inputs: [a.name],
    inFeatures: k,
    outFeatures,
    weights: columns,
    ...(bias === undefined ? {} : { bias }),
    activation: NO_CLAMP,
  }, { shape: [m, outFeatures], layout: { kind: "plain" } });
}

function matrix(ctx: NodeLowering, i: number): { readonly name: string; readonly value: IrValue } {
  const a = ctx.value(i);
  if (a.value.shape.length !== 2) {
    ctx.fail(
      "must be a 2-D [batch, features] tensor (Flatten or Reshape a feature map first)",
      `input ${i}`,
      a.value.shape,
    );
  }
  return a;
}

function gemm(ctx: NodeLowering): void {
  ctx.known("alpha", "beta", "transA", "transB", ...(ctx.opset < 7 ? ["broadcast"] : []));
  const alpha = ctx.float("alpha", 1);
  const beta = ctx.float("beta", 1);
  const transB = ctx.int("transB", 0) === 1;
  if (ctx.int("transA", 0) !== 0) {
    ctx.fail(
      "A transposed: A is the data operand, and no core operator transposes data",
      "transA",
      1,
    );
  }
  const b = ctx.constant(1, "B");
  const bData = ctx.floats(1, "B");
  const c = ctx.hasInput(2) ? ctx.constant(2, "C") : undefined;
  const cData = ctx.hasInput(2) ? ctx.floats(2, "C") : undefined;
  const a = matrix(ctx, 0);
  const k = a.value.shape[1];
  if (b.shape.length !== 2 || b.shape[transB ? 1 : 0] !== k) {
    ctx.fail(`must be 2-D with ${k} rows${transB ? " (columns, transB = 1)" : ""}`, "B", b.shape);
  }
  const n = b.shape[transB ? 0 : 1];
  const weights = new Float32Array(n * k);
  for (let o = 0; o < n; o++) {
    for (let i = 0; i < k; i++) {
      weights[o * k + i] = alpha * (transB ? bData[o * k + i] : bData[i * n + o]);
    }
  }
  let bias: Float32Array | undefined;
  if (c !== undefined && cData !== undefined && beta !== 0) {
    const dims = [...Array(Math.max(2 - c.shape.length, 0)).fill(1), ...c.shape];
    if (dims.length !== 2 || dims[0] !== 1) {
      ctx.fail(
        "must broadcast to [1, N]: core's fully connected bias is one value per output " +
          "feature, the same for every row",
        "C",
        c.shape,
      );
    }
    if (dims[1] !== 1 && dims[1] !== n) ctx.fail(`must have ${n} columns or 1`, "C", c.shape);
    bias = Float32Array.from({ length: n }, (_, o) => beta * cData[dims[1] === 1 ? 0 : o]);
  }
  fullyConnected(ctx, a, weights, n, bias);
}

function matMul(ctx: NodeLowering): void {
  ctx.known();
  const b = ctx.constant(1, "B");
  const data = ctx.floats(1, "B");
  const a = matrix(ctx, 0);
  const k = a.value.shape[1];
  if (b.shape.length !== 2 || b.shape[0] !== k) {
    ctx.fail(`must be a 2-D [${k}, N] constant`, "B", b.shape);
  }
  const n = b.shape[1];
  const weights = new Float32Array(n * k);
  for (let o = 0; o < n; o++) for (let i = 0; i < k; i++) weights[o * k + i] = data[i * n + o];
  fullyConnected(ctx, a, weights, n, undefined);
}

function softmax(ctx: NodeLowering): void {
  ctx.known("axis");
  const x = ctx.value(0);
  const { shape, layout } = x.value;
  const rank = shape.length;
  const given = ctx.int("axis", ctx.opset < 13 ? 1 : -1);
  const axis = given < 0 ? given + rank : given;
  // Before opset 13 Softmax runs over every axis from `axis` on, flattened.
  const span = (from: number) => product(shape.slice(from, rank - 1));
  let lastAxisOnly: boolean;
  if (layout.kind === "nchw") {
    const spatial = layout.dims[2] * layout.dims[3];
    lastAxisOnly = axis === 1 && (spatial === 1 || (rank === 4 && ctx.opset >= 13));
  } else {
    lastAxisOnly = axis === rank - 1 || (ctx.opset < 13 && axis >= 0 && span(axis) === 1);
  }
  if (!lastAxisOnly) {
    ctx.fail(
      `core's softmax runs over the axis the graph holds last (an NCHW map's channels); this ` +
        `one runs over axis ${given} of [${shape.join(", ")}]`,
      "axis",
      given,
    );
  }
  ctx.emit({ op: "softmax", inputs: [x.name] }, x.value);
}

function batchNormalization(ctx: NodeLowering): void {
  ctx.known(
    "epsilon",
    "momentum",
    ...(ctx.opset < 7 ? ["is_test"] : []),
    ...(ctx.opset < 9 ? ["spatial"] : []),
    ...(ctx.opset >= 14 ? ["training_mode"] : []),
  );
  const epsilon = ctx.float("epsilon", 1e-5);
  const spatial = ctx.int("spatial", 1);
  if (ctx.int("training_mode", 0) !== 0) {
    ctx.refuse("training mode normalizes with the batch's statistics", "training_mode", 1);
  }
  for (let i = 1; i < (ctx.proto.output?.length ?? 0); i++) {
    if (ctx.outputUsed(i)) {
      ctx.refuse(
        "a training output (running or saved statistics)",
        `output ${i}`,
        ctx.proto.output![i],
      );
    }
  }
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) =>
    ctx.floats(i, ["scale", "B", "mean", "var"][i - 1])
  );
  const x = ctx.value(0);
  const { shape, layout } = x.value;
  if (!((layout.kind === "nchw" && shape.length === 4) || shape.length === 2)) {
    ctx.fail(
      "must be a 4-D NCHW or a 2-D [batch, features] tensor: core folds BatchNorm per channel",
      "input 0",
      shape,
    );
  }
  const channels = shape[1];
  [gamma, beta, mean, variance].forEach((data, i) => {
    if (data.length !== channels) {
      ctx.fail(
        spatial === 0
          ? "spatial = 0 with per-position statistics: core folds BatchNorm per channel"
          : `must hold one value per channel (${channels})`,
        ["scale", "B", "mean", "var"][i],
        data.length,
      );
    }
  });
  ctx.emit({
    op: "batchNorm",
    inputs: [x.name],
    params: { gamma, beta, mean, variance, epsilon },
  }, x.value);
}

function dropout(ctx: NodeLowering): void {
  ctx.known("ratio", "seed", ...(ctx.opset < 7 ? ["is_test"] : []));
  if (ctx.outputUsed(1)) {
    ctx.refuse(
      "the mask output: inference Dropout is the identity",
      "output 1",
      ctx.proto.output?.[1],
    );
  }
  if (ctx.opset >= 12 && ctx.hasInput(2)) {
    const training = ctx.constant(2, "training_mode").data;
    if (training.length !== 1 || Number(training[0]) !== 0) {
      ctx.fail("training-mode Dropout is random", "training_mode", Number(training[0]));
    }
  }
  identity(ctx, true);
}

function identity(ctx: NodeLowering, checked = false): void {
  if (!checked) ctx.known();
  const name = ctx.inputName(0);
  const constant = ctx.state.constants.get(name);
  if (constant !== undefined) return ctx.defineConstant(constant);
  const x = ctx.value(0);
  ctx.emit({ op: "identity", inputs: [x.name] }, x.value);
}

function flatten(ctx: NodeLowering): void {
  ctx.known("axis");
  const given = ctx.int("axis", 1);
  const source = sourceShape(ctx);
  const axis = given < 0 ? given + source.length : given;
  reshapeTo(ctx, [product(source.slice(0, axis)), product(source.slice(axis))]);
}

function reshape(ctx: NodeLowering): void {
  const allowZero = ctx.opset >= 14 && ctx.int("allowzero", 0) === 1;
  let target: number[];
  if (ctx.opset < 5) {
    ctx.known("shape");
    target = ctx.ints("shape") ?? ctx.fail("is required", "shape", undefined);
  } else {
    ctx.known(...(ctx.opset >= 14 ? ["allowzero"] : []));
    target = ctx.integers(1, "shape");
  }
  const source = sourceShape(ctx);
  const resolved = target.map((dim, i) => dim === 0 && !allowZero ? source[i] : dim);
  const known = product(resolved.filter((dim) => dim !== -1));
  const inferred = resolved.map((dim) => dim === -1 ? product(source) / known : dim);
  if (
    resolved.filter((dim) => dim === -1).length > 1 ||
    inferred.some((dim) => !Number.isInteger(dim) || dim < 0) ||
    product(inferred) !== product(source)
  ) {
    ctx.fail(`does not fit an input of shape [${source.join(", ")}]`, "shape", target);
  }
  reshapeTo(ctx, inferred);
}

/** The ONNX shape of input 0, data or constant. */
function sourceShape(ctx: NodeLowering): readonly number[] {
  const constant = ctx.state.constants.get(ctx.inputName(0));
  return constant?.shape ?? ctx.value(0).value.shape;
}

/**
 * Flatten and Reshape: of a constant, evaluated; of data, a no-op when the
 * graph's data do not move (a batch-preserving flatten of a feature map, or
 * its inverse), or the first or last step of a channel shuffle.
 */
function reshapeTo(ctx: NodeLowering, target: readonly number[]): void {
  const constant = ctx.state.constants.get(ctx.inputName(0));
  if (constant !== undefined) return ctx.defineConstant({ ...constant, shape: target });
  const x = ctx.value(0);
  const { shape, layout } = x.value;
  if (same(shape, target)) return ctx.emit({ op: "identity", inputs: [x.name] }, x.value);
  if (layout.kind === "nchw") {
    const [n, c, h, w] = layout.dims;
    if (same(target, [n, c * h * w]) || same(target, layout.dims)) {
      return ctx.emit({ op: "identity", inputs: [x.name] }, { shape: target, layout });
    }
    if (
      shape.length === 4 && target.length === 5 &&
      same([target[0], target[3], target[4]], [n, h, w])
    ) {
      return ctx.emit({ op: "reshape", inputs: [x.name] }, {
        shape: target,
        layout: { kind: "plain" },
      });
    }
  } else if (shape.length === 5 && target.length === 4) {
    const [n, a, b, h, w] = shape;
    if (same(target, [n, a * b, h, w])) {
      return ctx.emit({ op: "reshape", inputs: [x.name] }, {
        shape: target,
        layout: layoutOf(target),
      });
    }
  }
  ctx.fail(
    `from [${shape.join(", ")}]: a Reshape or Flatten of data is supported as a ` +
      "batch-preserving flatten [N, C·H·W] of a feature map, and as the reshapes of a channel " +
      "shuffle (Reshape → Transpose → Reshape)",
    "shape",
    [...target],
  );
}

function transpose(ctx: NodeLowering): void {
  ctx.known("perm");
  const constant = ctx.state.constants.get(ctx.inputName(0));
  const source = sourceShape(ctx);
  const perm = ctx.ints("perm") ?? source.map((_, i) => source.length - 1 - i);
  if (!same([...perm].sort((a, b) => a - b), source.map((_, i) => i))) {
    ctx.fail(`must be a permutation of the ${source.length} axes`, "perm", perm);
  }
  const shape = perm.map((axis) => source[axis]);
  if (constant !== undefined) return ctx.defineConstant(transposeConstant(constant, perm, shape));
  const x = ctx.value(0);
  if (perm.every((axis, i) => axis === i)) {
    return ctx.emit({ op: "identity", inputs: [x.name] }, x.value);
  }
  if (source.length !== 5 || x.value.layout.kind !== "plain") {
    ctx.fail(
      "a Transpose of data is supported only inside a channel shuffle " +
        "(Reshape to [N, g, C/g, H, W] → Transpose [0, 2, 1, 3, 4] → Reshape)",
      "perm",
      perm,
    );
  }
  ctx.emit({ op: "transpose", inputs: [x.name], perm }, { shape, layout: { kind: "plain" } });
}

function transposeConstant(
  tensor: OnnxTensor,
  perm: readonly number[],
  shape: readonly number[],
): OnnxTensor {
  const source = tensor.shape;
  const strides = source.map((_, i) => product(source.slice(i + 1)));
  const data = tensor.data instanceof Float32Array
    ? new Float32Array(tensor.data.length)
    : new BigInt64Array(tensor.data.length);
  const index = new Array(shape.length).fill(0);
  for (let out = 0; out < data.length; out++) {
    let from = 0;
    for (let axis = 0; axis < shape.length; axis++) from += index[axis] * strides[perm[axis]];
    data[out] = tensor.data[from];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
  return { shape, data };
}

function pad(ctx: NodeLowering): void {
  let mode: string;
  let pads: number[] | undefined;
  let value: number;
  if (ctx.opset < 11) {
    ctx.known("mode", "pads", "paddings", "value");
    mode = ctx.string("mode", "constant");
    pads = ctx.ints("pads") ?? ctx.ints("paddings");
    value = ctx.float("value", 0);
  } else {
    ctx.known("mode");
    mode = ctx.string("mode", "constant");
    pads = ctx.integers(1, "pads");
    value = ctx.scalar(2, "constant_value") ?? 0;
    if (ctx.hasInput(3)) {
      const axes = ctx.integers(3, "axes");
      const full = new Array(8).fill(0);
      axes.forEach((axis, i) => {
        const a = axis < 0 ? axis + 4 : axis;
        full[a] = pads![i];
        full[a + 4] = pads![i + axes.length];
      });
      pads = full;
    }
  }
  if (mode !== "constant") {
    ctx.refuse("only constant padding: no core operator reflects or repeats edges", "mode", mode);
  }
  if (value !== 0) {
    ctx.refuse("only zero padding: core convolutions and pools pad with zeros", "value", value);
  }
  const x = ctx.featureMap(0);
  if (
    pads === undefined || pads.length !== 8 || pads[0] !== 0 || pads[1] !== 0 || pads[4] !== 0 ||
    pads[5] !== 0 || pads.some((p) => p < 0)
  ) {
    ctx.fail(
      "must pad only height and width, by non-negative amounts ([0, 0, top, left, 0, 0, bottom, " +
        "right])",
      "pads",
      pads,
    );
  }
  const [n, c, h, w] = x.dims;
  const padding: Pad4 = [pads[2], pads[6], pads[3], pads[7]];
  const dims = [n, c, h + padding[0] + padding[1], w + padding[2] + padding[3]];
  if (padding.every((side) => side === 0)) {
    return ctx.emit({ op: "identity", inputs: [x.name] }, ctx.state.values.get(x.name)!);
  }
  ctx.emit({ op: "pad", inputs: [x.name], pads: padding }, { shape: dims, layout: layoutOf(dims) });
}

function constant(ctx: NodeLowering): void {
  ctx.known("value", "value_float", "value_floats", "value_int", "value_ints");
  const tensor = ctx.tensor("value");
  if (tensor !== undefined) return ctx.defineConstant(tensor);
  const floats = ctx.attributes.has("value_float")
    ? [ctx.float("value_float", 0)]
    : ctx.attributes.get("value_floats")?.floats;
  if (floats !== undefined && floats !== null) {
    return ctx.defineConstant({
      shape: ctx.attributes.has("value_float") ? [] : [floats.length],
      data: Float32Array.from(floats),
    });
  }
  const ints = ctx.attributes.has("value_int") ? [ctx.int("value_int", 0)] : ctx.ints("value_ints");
  if (ints !== undefined) {
    return ctx.defineConstant({
      shape: ctx.attributes.has("value_int") ? [] : [ints.length],
      data: BigInt64Array.from(ints, BigInt),
    });
  }
  ctx.fail("must be given as value, value_float(s) or value_int(s)", "value", undefined);
}

/** Every operator the importer reads, by ONNX op type. */
const HANDLERS: Readonly<Record<string, (ctx: NodeLowering) => void>> = {
  Conv: conv,
  MaxPool: pool,
  AveragePool: pool,
  GlobalAveragePool: globalAveragePool,
  Relu: relu,
  Clip: clip,
  Add: add,
  Concat: concat,
  Gemm: gemm,
  MatMul: matMul,
  Softmax: softmax,
  BatchNormalization: batchNormalization,
  Dropout: dropout,
  Identity: (ctx) => identity(ctx),
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Pad: pad,
  Constant: constant,
};

/**
 * The ONNX operators {@link lowerGraph} reads; any other is reported as
 * unsupported.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SUPPORTED_OPERATORS } from "./lower.ts";
 * assert(SUPPORTED_OPERATORS.includes("Conv") && !SUPPORTED_OPERATORS.includes("LeakyRelu"));
 * ```
 */
export const SUPPORTED_OPERATORS: readonly string[] = Object.freeze(Object.keys(HANDLERS));

/** Unique node names that never collide with the graph input's. */
function nodeNames(nodes: readonly NodeProto[]): string[] {
  const taken = new Set<string>(["input"]);
  return nodes.map((node, i) => {
    let name = node.name || node.output?.[0] || `${node.opType}_${i}`;
    if (taken.has(name)) name = `${name}#${i}`;
    taken.add(name);
    return name;
  });
}

/**
 * Lowers every node of an ONNX graph (in file order, which ONNX requires to
 * be topological) into an {@link IrGraph}, collecting the reasons of every
 * node that cannot be lowered instead of stopping at the first.
 *
 * @throws {OnnxError} A malformed graph: a node reading a name nothing
 *   defines, or an output that is a constant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lowerGraph } from "./lower.ts";
 * const { graph, refusals } = lowerGraph([
 *   { name: "act", opType: "Relu", input: ["x"], output: ["y"] },
 *   { name: "odd", opType: "LeakyRelu", input: ["y"], output: ["z"] },
 * ], { opset: 13, constants: new Map(), input: { name: "x", shape: [1, 2, 3, 3] }, output: "z" });
 * assert(graph.nodes[0].op === "clamp" && refusals[0].node === "odd");
 * ```
 */
export function lowerGraph(nodes: readonly NodeProto[], context: LowerContext): Lowered {
  const state = new LoweringState(context, nodes);
  const lowered: IrNode[] = [];
  const refusals: UnsupportedNode[] = [];
  const names = nodeNames(nodes);
  nodes.forEach((proto, i) => {
    const opType = proto.opType ?? "";
    const ctx = new NodeLowering(state, proto, names[i], opType);
    const handler = HANDLERS[opType];
    const domain = proto.domain ?? "";
    if (domain !== "" && domain !== "ai.onnx") {
      ctx.refuse("operators of other domains are not supported", "domain", domain);
    } else if (handler === undefined) {
      ctx.refuse("operator is not supported: no core operator computes it");
    } else {
      try {
        handler(ctx);
      } catch (error) {
        if (error instanceof InvalidArgumentError && !(error instanceof OnnxError)) {
          ctx.refuse(reasonOf(error), error.field, error.value);
        } else if (!(error instanceof Skip)) {
          throw error;
        }
      }
    }
    refusals.push(...ctx.refusals);
    if (ctx.refusals.length > 0 || (ctx.nodes.length === 0 && ctx.constants.length === 0)) {
      for (const output of proto.output ?? []) state.unknown.add(output);
      return;
    }
    lowered.push(...ctx.nodes);
    for (const [name, value] of ctx.values) state.values.set(name, value);
    for (const [name, tensor] of ctx.constants) state.constants.set(name, tensor);
  });
  if (state.constants.has(context.output) && !state.values.has(context.output)) {
    throw new OnnxError("graph.output", context.output, "is a constant: there is nothing to run");
  }
  return {
    graph: {
      input: context.input.name,
      nodes: lowered,
      output: context.output,
      values: state.values,
    },
    refusals,
  };
}
