/**
 * Bad-input cases: each names a misuse, the error class every backend must
 * raise for it, and the field (or disposed subject) the error must name.
 * Validation lives in core's `defineBackend` wrapper, so these pass on any
 * backend built with it and catch one that bypasses it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  add,
  avgPool2d,
  type Backend,
  BackendMismatchError,
  channelShuffle,
  concat,
  conv2d,
  DescriptorError,
  DisposedError,
  fullyConnected,
  InvalidArgumentError,
  maxPool2d,
  type OpDescriptor,
  ShapeError,
  WeightsError,
} from "@mobileops/core";

/** What a bad-input case may use. */
export interface BadInputContext {
  /** The backend under test. */
  readonly backend: Backend;
  /** A second instance of the same backend, for ownership checks. */
  readonly other: Backend;
  /** A new instance the case may dispose. */
  fresh(): Promise<Backend>;
}

/** A class of error that a bad input must raise. */
export type ErrorClass = new (...args: never[]) => Error;

/** One misuse and the error it must raise. */
export interface BadInputCase {
  /** The misuse, in words; used as the test step's name. */
  readonly name: string;
  /** The class the raised error must be an instance of, e.g. core's `ShapeError`. */
  readonly error: ErrorClass;
  /**
   * The `field` of the {@link InvalidArgumentError}, or the `subject` of the
   * {@link DisposedError}, where `"backend"` stands for `"backend <name>"`.
   */
  readonly field: string;
  /** Whether the failing call throws synchronously or returns a promise that rejects. */
  readonly fails: "throws" | "rejects";
  /** Prepares what the case needs and returns the call that must fail. */
  setup(context: BadInputContext): Promise<() => unknown>;
}

const CONV = conv2d({ inChannels: 6, outChannels: 6, kernel: 3, groups: 3, bias: true });
const CONV_WEIGHTS = { filter: new Float32Array(6 * 3 * 3 * 2), bias: new Float32Array(6) };
const NO_BIAS = conv2d({ inChannels: 2, outChannels: 4, kernel: 1 });

function malformed<D extends OpDescriptor>(descriptor: D, change: Record<string, unknown>) {
  return { ...descriptor, ...change } as unknown as D;
}

function prepareFails(
  name: string,
  error: ErrorClass,
  field: string,
  descriptor: OpDescriptor,
  weights?: unknown,
): BadInputCase {
  return {
    name,
    error,
    field,
    fails: "rejects",
    setup: ({ backend }) =>
      Promise.resolve(() => backend.prepare(descriptor, weights as undefined)),
  };
}

function runFails(
  name: string,
  error: ErrorClass,
  field: string,
  descriptor: OpDescriptor,
  inputShapes: readonly (readonly number[])[],
): BadInputCase {
  return {
    name,
    error,
    field,
    fails: "throws",
    async setup({ backend }) {
      const weights = descriptor.op === "conv2d"
        ? {
          filter: new Float32Array(
            descriptor.outChannels * descriptor.kernel[0] * descriptor.kernel[1] *
              descriptor.inChannels / descriptor.groups,
          ),
          bias: descriptor.bias ? new Float32Array(descriptor.outChannels) : undefined,
        }
        : descriptor.op === "fullyConnected"
        ? { weights: new Float32Array(descriptor.inFeatures * descriptor.outFeatures) }
        : undefined;
      const kernel = await backend.prepare(descriptor, weights);
      const inputs = inputShapes.map((shape) => backend.zeros(shape));
      return () => backend.run(kernel, inputs);
    },
  };
}

/** Prepares a 2-channel add and two [1, 2, 2, 2] inputs on `backend`. */
async function addSetup(backend: Backend) {
  const kernel = await backend.prepare(add());
  const inputs = [backend.zeros([1, 2, 2, 2]), backend.zeros([1, 2, 2, 2])];
  return { kernel, inputs };
}

/**
 * Every bad-input case, each raising one typed error from core.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BAD_INPUT_CASES } from "@mobileops/conformance";
 * assert(BAD_INPUT_CASES.every((c) => c.field.length > 0));
 * ```
 */
export const BAD_INPUT_CASES: readonly BadInputCase[] = [
  prepareFails(
    "zero kernel size",
    DescriptorError,
    "kernel[0]",
    malformed(CONV, { kernel: [0, 3] }),
  ),
  prepareFails(
    "negative stride",
    DescriptorError,
    "stride[1]",
    malformed(CONV, { stride: [1, -1] }),
  ),
  prepareFails(
    "zero pooling kernel",
    DescriptorError,
    "kernel[1]",
    malformed(maxPool2d({ kernel: 2 }), { kernel: [2, 0] }),
  ),
  prepareFails(
    "zero inChannels",
    DescriptorError,
    "inChannels",
    malformed(CONV, { inChannels: 0 }),
  ),
  prepareFails(
    "negative explicit padding",
    DescriptorError,
    "padding[2]",
    malformed(CONV, { padding: [0, 0, -1, 0] }),
  ),
  prepareFails(
    "groups not dividing inChannels",
    DescriptorError,
    "groups",
    malformed(CONV, { groups: 4 }),
  ),
  prepareFails(
    "outChannels not a multiple of groups",
    DescriptorError,
    "outChannels",
    malformed(CONV, { outChannels: 4 }),
  ),
  prepareFails(
    "unknown activation",
    DescriptorError,
    "activation",
    malformed(add(), { activation: "gelu" }),
  ),
  prepareFails(
    "clamp with min above max",
    DescriptorError,
    "activation.min",
    malformed(add(), { activation: { min: 1, max: -1 } }),
  ),
  prepareFails(
    "clamp with a NaN bound",
    DescriptorError,
    "activation.max",
    malformed(CONV, { activation: { min: 0, max: NaN } }),
  ),
  prepareFails(
    "clamp bound not a number",
    DescriptorError,
    "activation.min",
    malformed(fullyConnected({ inFeatures: 2, outFeatures: 1 }), {
      activation: { min: "0", max: 1 },
    }),
  ),
  prepareFails(
    "clamp missing a bound",
    DescriptorError,
    "activation.max",
    malformed(add(), { activation: { min: 0 } }),
  ),
  prepareFails(
    "clamp with an unknown key",
    DescriptorError,
    "activation.mid",
    malformed(add(), { activation: { min: 0, max: 1, mid: 0.5 } }),
  ),
  prepareFails(
    "ceilMode not a boolean",
    DescriptorError,
    "ceilMode",
    malformed(maxPool2d({ kernel: 2 }), { ceilMode: 1 }),
  ),
  prepareFails(
    "ceilMode null",
    DescriptorError,
    "ceilMode",
    malformed(avgPool2d({ kernel: 2 }), { ceilMode: null }),
  ),
  prepareFails("unknown operator", DescriptorError, "op", malformed(add(), { op: "mul" })),
  prepareFails(
    "null field instead of the default",
    DescriptorError,
    "stride",
    malformed(CONV, { stride: null }),
  ),
  prepareFails(
    "unknown descriptor field",
    DescriptorError,
    "options.strides",
    malformed(CONV, { strides: [2, 2] }),
  ),
  prepareFails(
    "dilation past MAX_WINDOW (2^32)",
    DescriptorError,
    "dilation[0]",
    malformed(CONV, { dilation: [2 ** 32, 1] }),
  ),
  prepareFails(
    "padding past MAX_WINDOW",
    DescriptorError,
    "padding[1]",
    malformed(CONV, { padding: [0, 70_000, 0, 0] }),
  ),
  prepareFails(
    "pooling kernel past MAX_WINDOW",
    DescriptorError,
    "kernel[1]",
    malformed(maxPool2d({ kernel: 2 }), { kernel: [1, 2 ** 20] }),
  ),
  prepareFails("filter length mismatch", WeightsError, "weights.filter", CONV, {
    ...CONV_WEIGHTS,
    filter: new Float32Array(CONV_WEIGHTS.filter.length - 1),
  }),
  prepareFails("bias length mismatch", WeightsError, "weights.bias", CONV, {
    ...CONV_WEIGHTS,
    bias: new Float32Array(5),
  }),
  prepareFails("bias given, descriptor has none", WeightsError, "weights.bias", NO_BIAS, {
    filter: new Float32Array(8),
    bias: new Float32Array(4),
  }),
  prepareFails("bias missing, descriptor has one", WeightsError, "weights.bias", CONV, {
    filter: CONV_WEIGHTS.filter,
  }),
  prepareFails("non-finite weight", WeightsError, "weights.filter[2]", NO_BIAS, {
    filter: new Float32Array([0, 0, NaN, 0, 0, 0, 0, 0]),
  }),
  prepareFails(
    "fully connected weights length mismatch",
    WeightsError,
    "weights.weights",
    fullyConnected({ inFeatures: 3, outFeatures: 2 }),
    { weights: new Float32Array(5) },
  ),
  prepareFails("weights for a weightless operator", WeightsError, "weights", add(), {
    filter: new Float32Array(1),
  }),
  {
    name: "upload shape with a zero dimension",
    error: ShapeError,
    field: "shape[1]",
    fails: "throws",
    setup: ({ backend }) => Promise.resolve(() => backend.upload(new Float32Array(0), [1, 0, 2])),
  },
  {
    name: "zeros shape with a negative dimension",
    error: ShapeError,
    field: "shape[1]",
    fails: "throws",
    setup: ({ backend }) => Promise.resolve(() => backend.zeros([1, -2])),
  },
  {
    name: "upload of an array holding non-numbers",
    error: ShapeError,
    field: "data[0]",
    fails: "throws",
    setup: ({ backend }) =>
      Promise.resolve(() => backend.upload(["1", "x", null, {}] as never, [1, 1, 1, 4])),
  },
  {
    name: "upload shape past MAX_DIMENSION",
    error: ShapeError,
    field: "shape[0]",
    fails: "throws",
    setup: ({ backend }) => Promise.resolve(() => backend.zeros([2 ** 24 + 1])),
  },
  {
    name: "zeros shape past MAX_ELEMENTS",
    error: ShapeError,
    field: "shape",
    fails: "throws",
    setup: ({ backend }) => Promise.resolve(() => backend.zeros([2 ** 12, 2 ** 12, 2 ** 5])),
  },
  {
    name: "upload data length differs from the shape",
    error: ShapeError,
    field: "data.length",
    fails: "throws",
    setup: ({ backend }) => Promise.resolve(() => backend.upload(new Float32Array(5), [2, 3])),
  },
  runFails(
    "kernel taller than the input",
    ShapeError,
    "inputs[0].shape[1]",
    conv2d({ inChannels: 2, outChannels: 2, kernel: 5 }),
    [[1, 3, 8, 2]],
  ),
  runFails(
    "kernel wider than the padded input",
    ShapeError,
    "inputs[0].shape[2]",
    conv2d({ inChannels: 2, outChannels: 2, kernel: 5, padding: [2, 2, 1, 0] }),
    [[1, 3, 3, 2]],
  ),
  runFails(
    "dilated kernel larger than the input",
    ShapeError,
    "inputs[0].shape[1]",
    conv2d({ inChannels: 1, outChannels: 1, kernel: 3, dilation: 2 }),
    [[1, 4, 9, 1]],
  ),
  runFails(
    "pooling window larger than the input",
    ShapeError,
    "inputs[0].shape[2]",
    maxPool2d({ kernel: 3 }),
    [[1, 3, 2, 1]],
  ),
  runFails(
    "output past MAX_ELEMENTS",
    ShapeError,
    "inputs[0].shape",
    conv2d({ inChannels: 1, outChannels: 64, kernel: 1 }),
    [[1, 2 ** 12, 2 ** 11, 1]],
  ),
  runFails("conv input of rank 3", ShapeError, "inputs[0].shape", CONV, [[1, 4, 6]]),
  runFails("conv input with the wrong channel count", ShapeError, "inputs[0].shape[3]", CONV, [
    [1, 4, 4, 5],
  ]),
  runFails("add of two shapes", ShapeError, "inputs[1].shape", add(), [[1, 2, 2, 3], [
    1,
    2,
    2,
    4,
  ]]),
  runFails("add of one input", ShapeError, "inputs.length", add(), [[1, 2, 2, 3]]),
  runFails("concat of two heights", ShapeError, "inputs[1].shape[1]", concat(), [
    [1, 2, 2, 3],
    [1, 3, 2, 3],
  ]),
  runFails(
    "channel shuffle of indivisible channels",
    ShapeError,
    "inputs[0].shape[3]",
    channelShuffle({ groups: 3 }),
    [[1, 2, 2, 8]],
  ),
  runFails(
    "fully connected feature count mismatch",
    ShapeError,
    "inputs[0].shape",
    fullyConnected({ inFeatures: 12, outFeatures: 2 }),
    [[1, 2, 2, 4]],
  ),
  {
    name: "output tensor of the wrong shape",
    error: ShapeError,
    field: "output.shape",
    fails: "throws",
    async setup({ backend }) {
      const { kernel, inputs } = await addSetup(backend);
      const output = backend.zeros([1, 2, 2, 3]);
      return () => backend.run(kernel, inputs, output);
    },
  },
  {
    name: "output tensor aliasing an input",
    error: ShapeError,
    field: "output",
    fails: "throws",
    async setup({ backend }) {
      const { kernel, inputs } = await addSetup(backend);
      return () => backend.run(kernel, inputs, inputs[0]);
    },
  },
  {
    name: "input tensor of another backend instance",
    error: BackendMismatchError,
    field: "inputs[0]",
    fails: "throws",
    async setup({ backend, other }) {
      const { kernel, inputs } = await addSetup(backend);
      return () => backend.run(kernel, [other.zeros([1, 2, 2, 2]), inputs[1]]);
    },
  },
  {
    name: "kernel of another backend instance",
    error: BackendMismatchError,
    field: "kernel",
    fails: "throws",
    async setup({ backend, other }) {
      const { inputs } = await addSetup(backend);
      const foreign = await other.prepare(add());
      return () => backend.run(foreign, inputs);
    },
  },
  {
    name: "output tensor of another backend instance",
    error: BackendMismatchError,
    field: "output",
    fails: "throws",
    async setup({ backend, other }) {
      const { kernel, inputs } = await addSetup(backend);
      return () => backend.run(kernel, inputs, other.zeros([1, 2, 2, 2]));
    },
  },
  {
    name: "download through another backend instance",
    error: BackendMismatchError,
    field: "tensor",
    fails: "rejects",
    setup: ({ backend, other }) => {
      const tensor = other.zeros([2]);
      return Promise.resolve(() => backend.download(tensor));
    },
  },
  {
    name: "run on a disposed input tensor",
    error: DisposedError,
    field: "inputs[1]",
    fails: "throws",
    async setup({ backend }) {
      const { kernel, inputs } = await addSetup(backend);
      inputs[1].dispose();
      return () => backend.run(kernel, inputs);
    },
  },
  {
    name: "download of a disposed tensor",
    error: DisposedError,
    field: "tensor",
    fails: "rejects",
    setup: ({ backend }) => {
      const tensor = backend.upload([1, 2], [2]);
      tensor.dispose();
      return Promise.resolve(() => tensor.download());
    },
  },
  {
    name: "run of a disposed kernel",
    error: DisposedError,
    field: "kernel",
    fails: "throws",
    async setup({ backend }) {
      const { kernel, inputs } = await addSetup(backend);
      kernel.dispose();
      return () => backend.run(kernel, inputs);
    },
  },
  {
    name: "run into a disposed output tensor",
    error: DisposedError,
    field: "output",
    fails: "throws",
    async setup({ backend }) {
      const { kernel, inputs } = await addSetup(backend);
      const output = backend.zeros([1, 2, 2, 2]);
      output.dispose();
      return () => backend.run(kernel, inputs, output);
    },
  },
  {
    name: "upload on a disposed backend",
    error: DisposedError,
    field: "backend",
    fails: "throws",
    async setup({ fresh }) {
      const backend = await fresh();
      backend.dispose();
      return () => backend.upload([1], [1]);
    },
  },
  {
    name: "prepare on a disposed backend",
    error: DisposedError,
    field: "backend",
    fails: "rejects",
    async setup({ fresh }) {
      const backend = await fresh();
      backend.dispose();
      return () => backend.prepare(add());
    },
  },
  {
    name: "run on a disposed backend",
    error: DisposedError,
    field: "backend",
    fails: "throws",
    async setup({ fresh }) {
      const backend = await fresh();
      const { kernel, inputs } = await addSetup(backend);
      backend.dispose();
      return () => backend.run(kernel, inputs);
    },
  },
  {
    name: "download of a tensor whose backend was disposed",
    error: DisposedError,
    field: "tensor",
    fails: "rejects",
    async setup({ fresh }) {
      const backend = await fresh();
      const tensor = backend.upload([1, 2, 3], [3]);
      backend.dispose();
      return () => tensor.download();
    },
  },
];

function expectedError(testCase: BadInputCase, backendName: string) {
  const field = testCase.field === "backend" ? `backend ${backendName}` : testCase.field;
  return (error: unknown) => {
    assert.ok(
      error instanceof testCase.error,
      `expected ${testCase.error.name}, got ${error instanceof Error ? error.name : error}: ` +
        `${error instanceof Error ? error.message : ""}`,
    );
    const named = error instanceof InvalidArgumentError
      ? error.field
      : error instanceof DisposedError
      ? error.subject
      : undefined;
    assert.equal(named, field, `${testCase.error.name} names ${named}, expected ${field}`);
    assert.ok(error.message.includes(field), `message "${error.message}" does not name ${field}`);
    return true;
  };
}

/**
 * Runs one bad-input case and asserts the call fails the expected way (the
 * right class, synchronously or by rejecting, naming the field) and leaves
 * the backend's tensor and kernel counts as they were. Throws an
 * `AssertionError` otherwise.
 *
 * @example
 * ```ts
 * import { BAD_INPUT_CASES, checkBadInput } from "@mobileops/conformance";
 * import { createJsBackend } from "@mobileops/backend-js";
 * using backend = await createJsBackend();
 * using other = await createJsBackend();
 * await checkBadInput(BAD_INPUT_CASES[0], { backend, other, fresh: createJsBackend });
 * ```
 */
export async function checkBadInput(
  testCase: BadInputCase,
  context: BadInputContext,
): Promise<void> {
  const call = await testCase.setup(context);
  const { backend } = context;
  const before = backend.disposed ? undefined : backend.memoryStats();
  const matches = expectedError(testCase, backend.name);
  let returned: unknown;
  let thrown: { error: unknown } | undefined;
  try {
    returned = call();
  } catch (error) {
    thrown = { error };
  }
  if (testCase.fails === "throws") {
    if (!thrown) {
      // A rejected promise where a throw was due must not go unhandled.
      if (returned instanceof Promise) returned.catch(() => {});
      assert.fail(`${testCase.name} must throw synchronously, but returned ${returned}`);
    }
    matches(thrown.error);
  } else {
    assert.ok(!thrown, `${testCase.name} must reject, not throw: ${thrown?.error}`);
    assert.ok(returned instanceof Promise, `${testCase.name} must return a promise`);
    await assert.rejects(returned, matches);
  }
  if (before) {
    const after = backend.memoryStats();
    assert.equal(after.tensors, before.tensors, "a failed call must not leave a tensor behind");
    assert.equal(after.kernels, before.kernels, "a failed call must not leave a kernel behind");
  }
}
