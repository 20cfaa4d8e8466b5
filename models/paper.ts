/**
 * The complexity figures the MobileNet v1 and ShuffleNet v1 papers report,
 * next to the builder options that reproduce them.
 *
 * @module
 */

import { mobilenetV1 } from "./mobilenet_v1.ts";
import type { Model } from "./model.ts";
import { shufflenetV1 } from "./shufflenet_v1.ts";

/** One reported figure. */
export interface PaperFigure {
  /** Where it is reported. */
  readonly source: string;
  /** Builds the network (seeded weights are generated lazily, so this is cheap). */
  readonly build: () => Model;
  /** Reported multiply-adds, in millions, as printed (integers). */
  readonly multiplyAddsM: number;
  /** Reported parameters, in millions, as printed (one decimal), when given. */
  readonly parametersM?: number;
  /**
   * Whether the figure counts the final fully connected layer. ShuffleNet's
   * Table 1 does not; every other figure does (see docs/models.md).
   */
  readonly countsClassifier: boolean;
  /** Why our count does not round to the printed figure, when it does not. */
  readonly discrepancy?: string;
}

const MOBILENET = "MobileNet v1 (arXiv 1704.04861)";
const SHUFFLENET = "ShuffleNet v1 (arXiv 1707.01083)";

/**
 * Every figure the models package is tested against.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAPER_FIGURES } from "@mobileops/models";
 * assert(PAPER_FIGURES.some((figure) => figure.multiplyAddsM === 569));
 * ```
 */
export const PAPER_FIGURES: readonly PaperFigure[] = [
  ...([[1, 224, 569, 4.2], [0.75, 224, 325, 2.6], [0.5, 224, 149, 1.3], [
    0.25,
    224,
    41,
    0.5,
  ]] as const)
    .map(([alpha, resolution, multiplyAddsM, parametersM]) => ({
      source: `${MOBILENET}, Table 6`,
      build: () => mobilenetV1({ alpha, resolution }),
      multiplyAddsM,
      parametersM,
      countsClassifier: true,
    })),
  ...([[192, 418], [160, 290], [128, 186]] as const).map(([resolution, multiplyAddsM]) => ({
    source: `${MOBILENET}, Table 7`,
    build: () => mobilenetV1({ alpha: 1, resolution }),
    multiplyAddsM,
    parametersM: 4.2,
    countsClassifier: true,
    discrepancy: resolution === 160
      ? "we count 290.68M: no counting convention gives 290 here and 569/418/186 on the other rows"
      : undefined,
  })),
  ...([[1, 143], [2, 140], [3, 137], [4, 133], [8, 137]] as const).map((
    [groups, multiplyAddsM],
  ) => ({
    source: `${SHUFFLENET}, Table 1`,
    build: () => shufflenetV1({ groups, scale: 1, resolution: 224 }),
    multiplyAddsM,
    countsClassifier: false,
  })),
  ...([[0.25, 13], [0.5, 38], [1.5, 292], [2, 524]] as const).map(([scale, multiplyAddsM]) => ({
    source: `${SHUFFLENET}, width-scaled g = 3 variants (Table 2 and the comparisons after it)`,
    build: () => shufflenetV1({ groups: 3, scale, resolution: 224 }),
    multiplyAddsM,
    countsClassifier: true,
  })),
];
