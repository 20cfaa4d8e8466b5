/**
 * Compiling a {@link ModelGraph} for one backend: every kernel prepared once,
 * activation buffers planned over the graph's liveness and allocated once,
 * so a steady-state `run` allocates nothing.
 *
 * @module
 */

import { type Backend, type Kernel, type Shape, ShapeError, type Tensor } from "@mobileops/core";
import { GRAPH_INPUT, inferGraphShapes, lastUses, type ModelGraph } from "./graph.ts";

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
 * are freed, so it never aliases them.
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
  const shapes = inferGraphShapes(graph);
  const uses = lastUses(graph);
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
   * Runs the graph on `input` (a tensor of this backend with the graph's
   * input shape; throws core's `ShapeError` otherwise) and returns the output
   * node's tensor.
   */
  run(input: Tensor): Tensor;
  /** Frees the kernels and the activation buffers. Idempotent. */
  dispose(): void;
}

/**
 * Prepares each node's kernel on `backend` once and allocates the planned
 * buffers (see {@link planBuffers}). If a kernel fails to prepare, whatever
 * was already made is freed before the error is rethrown.
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
  const kernels: Kernel[] = [];
  const buffers: Tensor[] = [];
  const release = () => {
    for (const kernel of kernels) kernel.dispose();
    for (const buffer of buffers) buffer.dispose();
  };
  try {
    for (const node of graph.nodes) {
      kernels.push(await backend.prepare(node.descriptor, node.weights));
    }
    for (const shape of plan.buffers) buffers.push(backend.zeros(shape));
  } catch (error) {
    release();
    throw error;
  }
  const steps = graph.nodes.map((node, i) => ({
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
      if (input.shape.length !== wanted.length || input.shape.some((d, i) => d !== wanted[i])) {
        throw new ShapeError("input.shape", input.shape, `must be [${wanted.join(", ")}]`);
      }
      for (const step of steps) {
        backend.run(step.kernel, step.inputs.map((i) => i < 0 ? input : buffers[i]), step.output);
      }
      return output;
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
