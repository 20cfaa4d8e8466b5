/**
 * The weight layout the GEMM and direct-convolution kernels share: per group,
 * output channels in panels of whole `v128` lane groups, each panel a bias row
 * followed by one row per reduction step, so a kernel reads a panel front to
 * back with constant offsets.
 *
 * @module
 */

/** A panel: `vectors` × 4 lanes, the first `valid` of them real outputs (the rest zero). */
export interface OutputPanel {
  /** `v128` vectors (4 lanes each) per row of the panel. */
  readonly vectors: number;
  /** Output channels the panel holds; lanes past them are zero and never stored. */
  readonly valid: number;
}

/**
 * Packs `[groups·n][k]` weights (row-major per output channel) and bias into
 * `panels` per group: `[bias lanes][k rows of lanes]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packOutputPanels } from "./pack.ts";
 * // 3 outputs × 2 reduction steps, one panel of 4 lanes.
 * const packed = packOutputPanels(new Float32Array([1, 2, 3, 4, 5, 6]), undefined, 1, 2, [
 *   { vectors: 1, valid: 3 },
 * ]);
 * assert(packed.join() === "0,0,0,0,1,3,5,0,2,4,6,0");
 * ```
 */
export function packOutputPanels(
  weights: Float32Array,
  bias: Float32Array | undefined,
  groups: number,
  k: number,
  panels: readonly OutputPanel[],
): Float32Array {
  const n = panels.reduce((sum, panel) => sum + panel.valid, 0);
  const groupFloats = panels.reduce((sum, panel) => sum + 4 * panel.vectors * (1 + k), 0);
  const packed = new Float32Array(groups * groupFloats);
  let at = 0;
  for (let g = 0; g < groups; g++) {
    let first = g * n;
    for (const { vectors, valid } of panels) {
      const lanes = 4 * vectors;
      for (let l = 0; l < valid; l++) {
        packed[at + l] = bias?.[first + l] ?? 0;
        for (let kk = 0; kk < k; kk++) {
          packed[at + lanes * (1 + kk) + l] = weights[(first + l) * k + kk];
        }
      }
      at += lanes * (1 + k);
      first += valid;
    }
  }
  return packed;
}
