/**
 * Compiling a {@link ModelGraph} for one backend: every kernel prepared once,
 * activation buffers planned over the graph's liveness and allocated once,
 * so a steady-state `run` allocates nothing.
 *
 * @module
 */

import {
  type Backend,
  BackendMismatchError,
  DisposedError,
  InvalidArgumentError,
  type Kernel,
  opCost,
  type RunTimings,
  type Shape,
  ShapeError,
  Tensor,
} from "@mobileops/core";
import { withFieldPrefix } from "./errors.ts";
import { analyzeGraph, GRAPH_INPUT, type ModelGraph, nodeField } from "./graph.ts";

/** One node's share of a {@link CompiledModel.profile} run. */
export interface LayerProfile {
  /** The node's name. */
  readonly node: string;
  /** Its operator, e.g. `"conv2d"`. */
  readonly op: string;
  /** The kernel variant that ran it, e.g. `"f32-dwconv-wasmsimd"`. */
  readonly variant: string;
  /** Milliseconds, on the profile's clock. */
  readonly ms: number;
  /** Multiply-adds of the node, as `opCost` counts them (0 for pools, add, concat…). */
  readonly multiplyAdds: number;
  /**
   * Achieved 10⁹ floating-point operations per second, counting a
   * multiply-add as 2: `2 · multiplyAdds / (ms · 10⁶)`; 0 when either is 0.
   */
  readonly gflops: number;
}

/** What {@link CompiledModel.profile} measured: one entry per node, in graph order. */
export interface ModelProfile {
  /** The backend's clock (see core's `RunTimings.clock`): `"device"`, `"cpu"` or `"enqueue"`. */
  readonly clock: RunTimings["clock"];
  /** One entry per node, in graph order. */
  readonly layers: readonly LayerProfile[];
  /** The sum of the layers' times, in milliseconds. */
  readonly totalMs: number;
}

/** Which reusable buffer each node writes, and the buffers' shapes. */
export interface BufferPlan {
  /** One shape per buffer. */
  readonly buffers: readonly Shape[];
  /** Buffer index of each node's output, by node name. */
  readonly assignment: ReadonlyMap<string, number>;
}

/**
 * Greedy liveness-based buffer assignment: walking the nodes in order, a
 * node's output takes a free buffer of exactly its shape (backends need the
 * exact shape, not just the size) or a new one; a buffer is freed after the
 * node that last reads it. The output is taken before the node's own inputs
 * are freed, so it never aliases them. Validates the graph first and throws
 * what `inferGraphShapes` throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelShuffle } from "@mobileops/core";
 * import { planBuffers } from "@mobileops/graph";
 * const shuffle = channelShuffle({ groups: 2 });
 * const plan = planBuffers({
 *   name: "chain",
 *   inputShape: [1, 2, 2, 4],
 *   nodes: ["a", "b", "c"].map((name, i) => ({
 *     name,
 *     descriptor: shuffle,
 *     inputs: [i === 0 ? "input" : "ab"[i - 1]],
 *   })),
 *   output: "c",
 * });
 * // a → buffer 0, b → buffer 1, c reuses buffer 0 once a is dead.
 * assert(plan.buffers.length === 2 && plan.assignment.get("c") === 0);
 * ```
 */
export function planBuffers(graph: ModelGraph): BufferPlan {
  const { shapes, uses } = analyzeGraph(graph);
  const buffers: Shape[] = [];
  const assignment = new Map<string, number>();
  const free = new Map<string, number[]>();
  graph.nodes.forEach((node, i) => {
    const shape = shapes.get(node.name)!;
    const key = shape.join(",");
    const buffer = free.get(key)?.pop() ?? buffers.push(shape) - 1;
    assignment.set(node.name, buffer);
    for (const value of new Set([...node.inputs, node.name])) {
      if (value === GRAPH_INPUT || uses.get(value) !== i) continue;
      const released = shapes.get(value)!.join(",");
      free.set(released, [...(free.get(released) ?? []), assignment.get(value)!]);
    }
  });
  return { buffers, assignment };
}

/**
 * A model ready to run on one backend. `run` is synchronous and returns a
 * tensor owned by the compiled model: it is overwritten by the next `run`
 * and freed by `dispose()`, so download it before running again and do not
 * dispose it yourself.
 */
export interface CompiledModel extends Disposable {
  /** The compiled graph; `run` takes a tensor of exactly its `inputShape`. */
  readonly graph: ModelGraph;
  /** The backend that holds the kernels and buffers; `run` takes a tensor of this backend. */
  readonly backend: Backend;
  /** The buffer plan; its buffers are allocated once, at compile time. */
  readonly plan: BufferPlan;
  /**
   * Runs the graph on `input` (a live tensor of this backend with the graph's
   * input shape) and returns the output node's tensor.
   *
   * @throws {BackendMismatchError} `input` is not a Tensor, or (named by the
   *   node that reads it, `nodes["conv1"].inputs[0]`) belongs to another backend.
   * @throws {ShapeError} `input.shape` is not the graph's `inputShape`.
   * @throws {DisposedError} `input`, the compiled model or its backend was disposed.
   */
  run(input: Tensor): Tensor;
  /**
   * Runs the graph once like {@link CompiledModel.run} and resolves, when
   * it has finished, to each node's time, variant and achieved GFLOP/s,
   * timed by the backend's `time` (GPU timestamps where the backend has a
   * device clock, else the CPU clock around each kernel). The output tensor
   * holds the result, as after `run`.
   *
   * @throws What {@link CompiledModel.run} throws, and what the backend's
   *   `time` throws (another `time` in progress).
   */
  profile(input: Tensor): Promise<ModelProfile>;
  /** Frees the kernels and the activation buffers. Idempotent. */
  dispose(): void;
}

/**
 * Prepares each node's kernel on `backend` once and allocates the planned
 * buffers (see {@link planBuffers}). If a kernel fails to prepare, whatever
 * was already made is freed before the error is rethrown.
 *
 * @throws {GraphError | ShapeError | DescriptorError} A malformed graph,
 *   as `inferGraphShapes` reports it.
 * @throws {InvalidArgumentError} `backend` is not a Backend (field `backend`).
 * @throws {WeightsError | DescriptorError | UnsupportedError} A node the
 *   backend refuses to prepare: core's error class, its field prefixed with the
 *   node, e.g. `nodes["conv1"].weights.filter[0] = NaN: must be finite`, the
 *   original error as `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullyConnected, globalAvgPool } from "@mobileops/core";
 * import { compileGraph } from "@mobileops/graph";
 * import { createBackend } from "@mobileops/registry";
 * using backend = await createBackend("js");
 * using compiled = await compileGraph({
 *   name: "pool-fc",
 *   inputShape: [1, 4, 4, 3],
 *   nodes: [
 *     { name: "pool", descriptor: globalAvgPool(), inputs: ["input"] },
 *     {
 *       name: "fc",
 *       descriptor: fullyConnected({ inFeatures: 3, outFeatures: 5 }),
 *       inputs: ["pool"],
 *       weights: { weights: new Float32Array(15).fill(1) },
 *     },
 *   ],
 *   output: "fc",
 * }, backend);
 * using input = backend.upload(new Float32Array(48).fill(1), [1, 4, 4, 3]);
 * assert((await compiled.run(input).download()).join() === "3,3,3,3,3");
 * ```
 */
export async function compileGraph(graph: ModelGraph, backend: Backend): Promise<CompiledModel> {
  const plan = planBuffers(graph);
  checkBackend(backend);
  const kernels: Kernel[] = [];
  const buffers: Tensor[] = [];
  const release = () => {
    for (const kernel of kernels) kernel.dispose();
    for (const buffer of buffers) buffer.dispose();
  };
  try {
    for (const node of graph.nodes) {
      try {
        kernels.push(await backend.prepare(node.descriptor, node.weights));
      } catch (error) {
        throw withFieldPrefix(error, nodeField(node.name));
      }
    }
    for (const shape of plan.buffers) buffers.push(backend.zeros(shape));
  } catch (error) {
    release();
    throw error;
  }
  const shapes = analyzeGraph(graph).shapes;
  const multiplyAdds = graph.nodes.map((node) =>
    opCost(
      node.descriptor,
      node.inputs.map((input) => input === GRAPH_INPUT ? graph.inputShape : shapes.get(input)!),
    ).multiplyAdds
  );
  const steps = graph.nodes.map((node, i) => ({
    node: nodeField(node.name),
    kernel: kernels[i],
    inputs: node.inputs.map((input) => input === GRAPH_INPUT ? -1 : plan.assignment.get(input)!),
    output: buffers[plan.assignment.get(node.name)!],
  }));
  const output = buffers[plan.assignment.get(graph.output)!];
  const wanted = graph.inputShape;
  let disposed = false;
  const compiled: CompiledModel = {
    graph,
    backend,
    plan,
    run(input: Tensor): Tensor {
      if (disposed) throw new DisposedError(`compiled model ${graph.name}`);
      if (!(input instanceof Tensor)) {
        throw new BackendMismatchError(
          "input",
          input,
          "is not a Tensor: upload it with backend.upload",
        );
      }
      if (input.disposed) throw new DisposedError("input");
      if (input.shape.length !== wanted.length || input.shape.some((d, i) => d !== wanted[i])) {
        throw new ShapeError("input.shape", input.shape, `must be [${wanted.join(", ")}]`);
      }
      for (const step of steps) {
        try {
          backend.run(step.kernel, step.inputs.map((i) => i < 0 ? input : buffers[i]), step.output);
        } catch (error) {
          throw withFieldPrefix(error, step.node);
        }
      }
      return output;
    },
    async profile(input: Tensor): Promise<ModelProfile> {
      const timings = await backend.time(() => compiled.run(input));
      const layers = timings.runs.map((run, i) => ({
        node: graph.nodes[i].name,
        op: graph.nodes[i].descriptor.op,
        variant: run.variant,
        ms: run.ms,
        multiplyAdds: multiplyAdds[i],
        gflops: run.ms > 0 ? 2 * multiplyAdds[i] / (run.ms * 1e6) : 0,
      }));
      return {
        clock: timings.clock,
        layers,
        totalMs: layers.reduce((sum, layer) => sum + layer.ms, 0),
      };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      release();
    },
    [Symbol.dispose]() {
      compiled.dispose();
    },
  };
  return compiled;
}

const BACKEND_METHODS = ["prepare", "run", "zeros", "upload", "download", "dispose"] as const;

/** A Backend is an interface, not a class: check that it has the methods compiling uses. */
function checkBackend(backend: Backend): void {
  const methods = backend as unknown as Record<string, unknown> | null;
  if (
    methods === null || typeof methods !== "object" ||
    BACKEND_METHODS.some((method) => typeof methods[method] !== "function")
  ) {
    throw new InvalidArgumentError(
      "backend",
      backend,
      "must be a Backend (from createBackend or a backend package's factory)",
    );
  }
}
