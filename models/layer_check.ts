/**
 * The layer-by-layer half of model-level conformance ({@link checkLayers}),
 * kept free of `using` declarations so that it also runs, bundled, on
 * Node.js 20 (`tools/node`); `@mobileops/models/testing` re-exports it.
 *
 * @module
 */

import { reference, withinTolerance } from "@mobileops/conformance";
import type { Backend, Tensor } from "@mobileops/core";
import { GRAPH_INPUT, lastUses, type ModelGraph } from "@mobileops/graph";

/** How one layer compared with the reference. */
export interface LayerCheck {
  /** The graph node checked, e.g. `"conv1"`. */
  readonly name: string;
  /** Whether every output is within the op-level tolerance (`worstRatio` ≤ 1). */
  readonly ok: boolean;
  /** Largest error over tolerance among the layer's outputs (≤ 1 passes). */
  readonly worstRatio: number;
  /** Where and by how much it failed; empty when `ok`. */
  readonly detail: string;
}

/**
 * Runs `graph` on `backend` node by node, each node's kernel prepared,
 * run and freed in turn, and compares every node's output with the float64
 * reference of that operator evaluated on the backend's own float32 inputs
 * to it, within the op-level tolerance. Tensors are freed as soon as no
 * later node reads them. Resolves to one check per node and the output
 * node's values; throws only what the backend throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mobilenetV1 } from "@mobileops/models";
 * import { checkLayers } from "./layer_check.ts";
 * import { createBackend } from "@mobileops/registry";
 * const backend = await createBackend("js");
 * const { graph } = mobilenetV1({ alpha: 0.25, resolution: 32, classes: 4 });
 * const { layers, output } = await checkLayers(graph, backend, new Float32Array(32 * 32 * 3).fill(0.5));
 * assert(layers.every((layer) => layer.ok) && output.length === 4);
 * backend.dispose();
 * ```
 */
export async function checkLayers(
  graph: ModelGraph,
  backend: Backend,
  input: Float32Array,
): Promise<{ layers: LayerCheck[]; output: Float32Array }> {
  const uses = lastUses(graph);
  const values = new Map<string, Float32Array>([[GRAPH_INPUT, input]]);
  const tensors = new Map<string, Tensor>([[GRAPH_INPUT, backend.upload(input, graph.inputShape)]]);
  const layers: LayerCheck[] = [];
  try {
    for (const [i, node] of graph.nodes.entries()) {
      const kernel = await backend.prepare(node.descriptor, node.weights);
      try {
        tensors.set(node.name, backend.run(kernel, node.inputs.map((name) => tensors.get(name)!)));
      } finally {
        kernel.dispose();
      }
      const actual = await tensors.get(node.name)!.download();
      values.set(node.name, actual);
      const expected = reference(
        node.descriptor,
        node.weights,
        node.inputs.map((name) => ({ shape: tensors.get(name)!.shape, data: values.get(name)! })),
      );
      const { ok, worstRatio, detail } = withinTolerance(actual, expected);
      layers.push({ name: node.name, ok, worstRatio, detail });
      for (const name of node.inputs) {
        if (uses.get(name) !== i) continue;
        tensors.get(name)!.dispose();
        tensors.delete(name);
        values.delete(name);
      }
    }
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
  return { layers, output: values.get(graph.output)! };
}
