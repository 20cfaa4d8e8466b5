/**
 * Test helper: the ONNX backend test data shipped by Debian's
 * `libonnx-testdata` — which cases are in scope, how to load one with its
 * non-data inputs bound as constants, and how to run and compare it.
 *
 * @module
 */

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "@mobileops/core";
import { decodeOnnxTensor, loadOnnx, type OnnxModel, type OnnxTensor } from "./mod.ts";
import { onnx } from "./proto.ts";
import { networkReference, worstRatio } from "./_tolerance.ts";

/**
 * Where Debian installs the data; `ONNX_TESTDATA` overrides it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TESTDATA_ROOT } from "./_testdata.ts";
 * assert(TESTDATA_ROOT.length > 0);
 * ```
 */
export const TESTDATA_ROOT: string = Deno.env.get("ONNX_TESTDATA") ??
  "/usr/share/libonnx-testdata/data";

/**
 * ONNX's own relative tolerance for these cases (`onnx/backend/test/runner`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ONNX_RTOL } from "./_testdata.ts";
 * assert(ONNX_RTOL === 1e-3);
 * ```
 */
export const ONNX_RTOL = 1e-3;
/**
 * ONNX's own absolute tolerance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ONNX_ATOL } from "./_testdata.ts";
 * assert(ONNX_ATOL === 1e-7);
 * ```
 */
export const ONNX_ATOL = 1e-7;

/**
 * The cases in scope, by directory: the operators the importer reads and
 * the PyTorch-exported layers of the networks it targets.
 */
const IN_SCOPE: Readonly<Record<string, RegExp>> = {
  node: new RegExp(
    "^test_(conv_with|basic_conv_with|averagepool_|maxpool_|globalaveragepool|relu$|clip|" +
      "leakyrelu|add|concat_|gemm_|matmul_|softmax_(?!.*expanded)|batchnorm_|flatten_|" +
      "identity$|dropout_|training_dropout|constant_pad|reshape_|transpose_)",
  ),
  "pytorch-converted": new RegExp(
    "^test_(Conv[123]d|AvgPool|MaxPool|BatchNorm|ReLU$|LeakyReLU|Softmax$|softmax_|Linear|" +
      "ZeroPad2d|ConstantPad2d|ReflectionPad2d|ReplicationPad2d|PixelShuffle)",
  ),
  "pytorch-operator":
    /^test_operator_(conv|maxpool|flatten|pad|clip|concat2|add.*|mm|permute2|view)$/,
  simple: /^test_single_relu_model$/,
};

/**
 * Every in-scope case present under `root`, as `directory/case`, sorted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inScopeCases } from "./_testdata.ts";
 * assert(inScopeCases("/nonexistent").length === 0);
 * ```
 */
export function inScopeCases(root: string = TESTDATA_ROOT): string[] {
  if (!existsSync(root)) return [];
  return Object.entries(IN_SCOPE).flatMap(([directory, pattern]) => {
    const path = join(root, directory);
    if (!existsSync(path)) return [];
    return readdirSync(path)
      .filter((name) => pattern.test(name) && existsSync(join(path, name, "model.onnx")))
      .map((name) => `${directory}/${name}`);
  }).sort();
}

/** A case's model, its data input, its expected output, and the other inputs bound. */
export interface TestCase {
  /** `directory/case`. */
  readonly name: string;
  /** `model.onnx`. */
  readonly bytes: Uint8Array;
  /** Every graph input but the first, from its `.pb`, by name. */
  readonly constants: Record<string, OnnxTensor>;
  /** Reads `input_0.pb`. */
  readonly input: () => OnnxTensor;
  /** Reads `output_0.pb`. */
  readonly output: () => OnnxTensor;
}

/**
 * Reads case `name` (`directory/case`) from `test_data_set_0`, binding every
 * graph input except the first (the data) as a constant from its `.pb` file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inScopeCases, readCase } from "./_testdata.ts";
 * const [name] = inScopeCases(); // none when the data are not installed
 * if (name !== undefined) assert(readCase(name).bytes.length > 0);
 * ```
 */
export function readCase(name: string, root: string = TESTDATA_ROOT): TestCase {
  const directory = join(root, name);
  const bytes = Deno.readFileSync(join(directory, "model.onnx"));
  const graph = onnx.ModelProto.decode(bytes).graph!;
  const initializers = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const inputs = (graph.input ?? []).filter((input) => !initializers.has(input.name));
  const data = join(directory, "test_data_set_0");
  const read = (file: string) => decodeOnnxTensor(Deno.readFileSync(join(data, file)));
  const constants: Record<string, OnnxTensor> = {};
  inputs.slice(1).forEach((input, i) => {
    const { shape, data } = read(`input_${i + 1}.pb`);
    constants[input.name ?? ""] = { shape, data };
  });
  return {
    name,
    bytes,
    constants,
    input: () => read("input_0.pb"),
    output: () => read("output_0.pb"),
  };
}

/** A case's input in the graph's layout, and the float64 reference and bound in ONNX's. */
export interface CaseReference {
  /** `input_0.pb` in the graph's layout. */
  readonly input: Float32Array;
  /** `output_0.pb`. */
  readonly expected: Float32Array;
  /** The imported graph run in float64, in ONNX's layout. */
  readonly values: Float64Array;
  /** Our accumulation bound per output, in ONNX's layout. */
  readonly bound: Float64Array;
}

/**
 * The float64 reference of an imported case, computed once for every
 * backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { caseReference, loadCase, readCase, TESTDATA_ROOT } from "./_testdata.ts";
 * import { existsSync } from "node:fs";
 * if (existsSync(`${TESTDATA_ROOT}/node/test_basic_conv_with_padding`)) {
 *   const testCase = readCase("node/test_basic_conv_with_padding");
 *   const model = loadCase(testCase);
 *   assert(!(model instanceof Error) && caseReference(model, testCase).values.length === 25);
 * }
 * ```
 */
export function caseReference(model: OnnxModel, testCase: TestCase): CaseReference {
  const input = model.toGraphInput(testCase.input().data as Float32Array);
  const reference = networkReference(model.graph, input);
  const nchw = model.output.layout === "nchw";
  return {
    input,
    expected: testCase.output().data as Float32Array,
    values: nchw ? reorder(reference.values, model) : reference.values,
    bound: nchw ? reorder(reference.bound, model) : reference.bound,
  };
}

/** How one case ran on one backend. */
export interface CaseResult {
  /** Within ONNX's `|actual − expected| ≤ atol + rtol·|expected|` everywhere. */
  readonly onnxOk: boolean;
  /** Largest `|actual − expected| / (atol + rtol·|expected|)` against ONNX's expected output. */
  readonly onnxRatio: number;
  /** Largest error against the float64 reference of the imported graph over our bound (≤ 1). */
  readonly ratio: number;
  /** ONNX's expected output against the same reference and bound (its own float32 rounding). */
  readonly expectedRatio: number;
}

/**
 * Runs an imported case on `backend` and compares it with ONNX's expected
 * output (ONNX's tolerance) and with the float64 reference of the graph
 * (our accumulation bound).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { existsSync } from "node:fs";
 * import { createBackend } from "@mobileops/registry";
 * import { caseReference, loadCase, readCase, runCase, TESTDATA_ROOT } from "./_testdata.ts";
 * if (existsSync(`${TESTDATA_ROOT}/node/test_basic_conv_with_padding`)) {
 *   const testCase = readCase("node/test_basic_conv_with_padding");
 *   const model = loadCase(testCase);
 *   using backend = await createBackend("js");
 *   assert(!(model instanceof Error));
 *   assert((await runCase(model, caseReference(model, testCase), backend)).onnxOk);
 * }
 * ```
 */
export async function runCase(
  model: OnnxModel,
  reference: CaseReference,
  backend: Backend,
): Promise<CaseResult> {
  using compiled = await model.compile(backend);
  using tensor = backend.upload(reference.input, model.input.graphShape);
  const actual = model.fromGraphOutput(await compiled.run(tensor).download());
  const { expected } = reference;
  const onnxBound = Float64Array.from(expected, (e) => ONNX_ATOL + ONNX_RTOL * Math.abs(e));
  const onnxRatio = worstRatio(actual, expected, onnxBound);
  return {
    onnxOk: onnxRatio <= 1,
    onnxRatio,
    ratio: worstRatio(actual, reference.values, reference.bound),
    expectedRatio: worstRatio(expected, reference.values, reference.bound),
  };
}

/** Float64 values in the graph's layout → ONNX's, without rounding to float32. */
function reorder(values: Float64Array, model: OnnxModel): Float64Array {
  const [n, h, w, c] = model.output.graphShape;
  const out = new Float64Array(values.length);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < h * w; p++) {
      for (let k = 0; k < c; k++) out[(b * c + k) * h * w + p] = values[(b * h * w + p) * c + k];
    }
  }
  return out;
}

/**
 * Loads a case with its constants bound: the model, or the error that
 * refused it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { existsSync } from "node:fs";
 * import { loadCase, readCase, TESTDATA_ROOT } from "./_testdata.ts";
 * if (existsSync(`${TESTDATA_ROOT}/node/test_relu`)) {
 *   assert(loadCase(readCase("node/test_relu")) instanceof Error); // a 3-D standalone Relu
 * }
 * ```
 */
export function loadCase(testCase: TestCase): OnnxModel | Error {
  try {
    return loadOnnx(testCase.bytes, { constants: testCase.constants });
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
}
