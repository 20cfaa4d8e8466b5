/**
 * The register-blocked matrix product behind the `f32-gemm-1x1-js` and
 * `f32-conv-im2row-js` variants: `output[p][o] = act(bias[o] + Σ_k a[p][k]·W[o][k])`
 * for a tile of up to 4 rows `p` (pixels) × 4 columns `o` (output channels).
 *
 * A 4×4 tile keeps its 16 sums in locals, so each step of the K loop does 8
 * loads (4 activations, 4 weights) for 16 multiply-adds; measured against
 * 2×4, 4×2, 4×8 and 8×4 tiles in V8, 4×4 was as fast as any and simplest
 * (bigger tiles spill the 16 x64 float registers). Weights are packed once
 * into per-block panels `[K][4]`, zero-padded past the last channel, so the
 * K loop reads them contiguously; the bias is packed the same way so the
 * sums start from it. Each finished output row is activated in place (see
 * `activateRange` in kernel.ts).
 *
 * @module
 */

import { activateRange, type ActivationCode } from "../kernel.ts";

/** Output channels per tile. */
const TILE_COLUMNS = 4;

/** Weights packed for {@link gemm4Rows} and {@link gemm1Row}. */
export interface GemmPanels {
  /** Column blocks per group: `ceil(groupOut / 4)`. */
  readonly blocks: number;
  /** `[group][block][K][4]`. */
  readonly panels: Float32Array;
  /** `[group][block][4]`. */
  readonly bias: Float32Array;
}

/**
 * Packs a row-major weight matrix per group — `filter[(g·groupOut + o)·depth + k]`,
 * which is exactly an OHWI filter flattened per output channel — into panels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packGemmPanels } from "./gemm.ts";
 * // 1 group, depth 2, 5 output channels: two blocks, the second padded with zeros.
 * const packed = packGemmPanels(1, 2, 5, new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
 * assert.equal(packed.blocks, 2);
 * assert.deepEqual([...packed.panels], [1, 3, 5, 7, 2, 4, 6, 8, 9, 0, 0, 0, 10, 0, 0, 0]);
 * ```
 */
export function packGemmPanels(
  groups: number,
  depth: number,
  groupOut: number,
  filter: Float32Array,
  bias?: Float32Array,
): GemmPanels {
  const blocks = Math.ceil(groupOut / TILE_COLUMNS);
  const panels = new Float32Array(groups * blocks * depth * TILE_COLUMNS);
  const packedBias = new Float32Array(groups * blocks * TILE_COLUMNS);
  for (let g = 0; g < groups; g++) {
    for (let o = 0; o < groupOut; o++) {
      const block = g * blocks + Math.floor(o / TILE_COLUMNS);
      const lane = o % TILE_COLUMNS;
      const source = (g * groupOut + o) * depth;
      for (let k = 0; k < depth; k++) {
        panels[(block * depth + k) * TILE_COLUMNS + lane] = filter[source + k];
      }
      packedBias[block * TILE_COLUMNS + lane] = bias?.[g * groupOut + o] ?? 0;
    }
  }
  return { blocks, panels, bias: packedBias };
}

/**
 * Four rows of the product for one group: rows `a0 + r·aStride` of `a`
 * (r = 0…3) times every 4-column panel of group `group`, written to the
 * first `columns` (the group's output channels) of rows `o0 + r·oStride`
 * of `output`, then the activation (an {@link ActivationCode}). Looping
 * over the panels here, not in the caller, pays the call once per four
 * rows, which matters for the short K of grouped layers (K = 20 in
 * ShuffleNet's narrowest ones).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gemm4Rows, packGemmPanels } from "./gemm.ts";
 * const packed = packGemmPanels(1, 1, 4, new Float32Array([1, 2, 3, 4]));
 * const output = new Float32Array(16);
 * gemm4Rows(new Float32Array([1, 2, 3, 4]), 0, 1, 1, packed, 0, output, 0, 4, 4, 0);
 * assert.deepEqual([...output.subarray(12)], [4, 8, 12, 16]);
 * ```
 */
export function gemm4Rows(
  a: Float32Array,
  a0: number,
  aStride: number,
  depth: number,
  packed: GemmPanels,
  group: number,
  output: Float32Array,
  o0: number,
  oStride: number,
  columns: number,
  activation: ActivationCode,
): void {
  const { blocks, panels, bias } = packed;
  const a1 = a0 + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
  const o1 = o0 + oStride, o2 = o1 + oStride, o3 = o2 + oStride;
  for (let b = 0; b < blocks; b++) {
    const block = group * blocks + b;
    const bb = block * TILE_COLUMNS;
    let s00 = bias[bb], s01 = bias[bb + 1], s02 = bias[bb + 2], s03 = bias[bb + 3];
    let s10 = s00, s11 = s01, s12 = s02, s13 = s03;
    let s20 = s00, s21 = s01, s22 = s02, s23 = s03;
    let s30 = s00, s31 = s01, s32 = s02, s33 = s03;
    let wi = block * depth * TILE_COLUMNS;
    for (let k = 0; k < depth; k++, wi += TILE_COLUMNS) {
      const w0 = panels[wi], w1 = panels[wi + 1], w2 = panels[wi + 2], w3 = panels[wi + 3];
      const x0 = a[a0 + k], x1 = a[a1 + k], x2 = a[a2 + k], x3 = a[a3 + k];
      s00 += x0 * w0;
      s01 += x0 * w1;
      s02 += x0 * w2;
      s03 += x0 * w3;
      s10 += x1 * w0;
      s11 += x1 * w1;
      s12 += x1 * w2;
      s13 += x1 * w3;
      s20 += x2 * w0;
      s21 += x2 * w1;
      s22 += x2 * w2;
      s23 += x2 * w3;
      s30 += x3 * w0;
      s31 += x3 * w1;
      s32 += x3 * w2;
      s33 += x3 * w3;
    }
    const c = b * TILE_COLUMNS;
    const valid = columns - c;
    storeRow(output, o0 + c, valid, s00, s01, s02, s03);
    storeRow(output, o1 + c, valid, s10, s11, s12, s13);
    storeRow(output, o2 + c, valid, s20, s21, s22, s23);
    storeRow(output, o3 + c, valid, s30, s31, s32, s33);
  }
  activateRange(output, o0, o0 + columns, activation);
  activateRange(output, o1, o1 + columns, activation);
  activateRange(output, o2, o2 + columns, activation);
  activateRange(output, o3, o3 + columns, activation);
}

/**
 * One row of the product, for the rows left over when the row count is not
 * a multiple of 4; arguments as {@link gemm4Rows}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gemm1Row, packGemmPanels } from "./gemm.ts";
 * const packed = packGemmPanels(1, 2, 2, new Float32Array([1, 2, 3, 4]), new Float32Array([0, -100]));
 * const output = new Float32Array(2);
 * gemm1Row(new Float32Array([1, 1]), 0, 2, packed, 0, output, 0, 2, 2);
 * assert.deepEqual([...output], [3, 0]);
 * ```
 */
export function gemm1Row(
  a: Float32Array,
  a0: number,
  depth: number,
  packed: GemmPanels,
  group: number,
  output: Float32Array,
  o0: number,
  columns: number,
  activation: ActivationCode,
): void {
  const { blocks, panels, bias } = packed;
  for (let b = 0; b < blocks; b++) {
    const block = group * blocks + b;
    const bb = block * TILE_COLUMNS;
    let s0 = bias[bb], s1 = bias[bb + 1], s2 = bias[bb + 2], s3 = bias[bb + 3];
    let wi = block * depth * TILE_COLUMNS;
    for (let k = 0; k < depth; k++, wi += TILE_COLUMNS) {
      const x = a[a0 + k];
      s0 += x * panels[wi];
      s1 += x * panels[wi + 1];
      s2 += x * panels[wi + 2];
      s3 += x * panels[wi + 3];
    }
    const c = b * TILE_COLUMNS;
    storeRow(output, o0 + c, columns - c, s0, s1, s2, s3);
  }
  activateRange(output, o0, o0 + columns, activation);
}

/** Stores a block's sums; `valid` counts the columns left in the group (4 or more: all). */
function storeRow(
  output: Float32Array,
  at: number,
  valid: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
): void {
  output[at] = s0;
  if (valid >= TILE_COLUMNS) {
    output[at + 1] = s1;
    output[at + 2] = s2;
    output[at + 3] = s3;
    return;
  }
  if (valid > 1) output[at + 1] = s1;
  if (valid > 2) output[at + 2] = s2;
}
