/**
 * Checks shared by the model builders, and the largest sizes they accept;
 * each check throws {@link ModelOptionError} naming the option.
 *
 * @module
 */

import { MAX_ELEMENTS } from "@mobileops/core";
import { ModelOptionError } from "./errors.ts";

/**
 * Largest MobileNet width multiplier α: 4, so the widest layer has 4096
 * channels and a 1×1 layer's filter 4096² values (the paper uses α ≤ 1).
 */
export const MAX_ALPHA = 4;

/**
 * Largest input resolution, height = width: 4096 pixels. Every ShuffleNet
 * configuration fits core's `MAX_ELEMENTS` up to it; MobileNet with α > 1
 * is further limited so that its largest activation does (at α = 4: 2048).
 */
export const MAX_RESOLUTION = 4096;

/**
 * Most output classes: 2¹⁶ = 65,536, so the fully connected layer's matrix
 * (at most 4096 features × classes) stays within core's `MAX_ELEMENTS`.
 */
export const MAX_CLASSES = 2 ** 16;

/**
 * `value`, or `fallback` when the option is `undefined`; `null` is not a
 * default but a value, which the option's check refuses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { orDefault } from "./options.ts";
 * assert(orDefault(undefined, 1000) === 1000 && orDefault(null, 1000) === null);
 * ```
 */
export function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/**
 * A positive integer option, at most `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positiveInteger } from "./options.ts";
 * assert(positiveInteger("classes", 10) === 10);
 * ```
 */
export function positiveInteger(field: string, value: unknown, max = Infinity): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ModelOptionError(field, value, "must be a positive integer");
  }
  if (value > max) throw new ModelOptionError(field, value, `must be at most ${max}`);
  return value;
}

/**
 * A class count: a positive integer up to {@link MAX_CLASSES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classes } from "./options.ts";
 * assert(classes(1000) === 1000);
 * ```
 */
export function classes(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value > MAX_CLASSES) {
    throw new ModelOptionError("classes", value, `must be at most ${MAX_CLASSES} (MAX_CLASSES)`);
  }
  return positiveInteger("classes", value);
}

/**
 * MobileNet's width multiplier: a finite number in (0, {@link MAX_ALPHA}].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { alpha } from "./options.ts";
 * assert(alpha(0.75) === 0.75);
 * ```
 */
export function alpha(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ModelOptionError("alpha", value, "must be a positive finite number");
  }
  if (value > MAX_ALPHA) {
    throw new ModelOptionError("alpha", value, `must be at most ${MAX_ALPHA} (MAX_ALPHA)`);
  }
  return value;
}

/**
 * An input resolution: a multiple of 32 (the networks' total stride) from
 * 32 to {@link MAX_RESOLUTION}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolution } from "./options.ts";
 * assert(resolution(160) === 160);
 * ```
 */
export function resolution(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 32 || value % 32 !== 0) {
    throw new ModelOptionError(
      "resolution",
      value,
      "must be a positive multiple of 32 (the network's total stride), e.g. 224, 192, 160, 128",
    );
  }
  if (value > MAX_RESOLUTION) {
    throw new ModelOptionError(
      "resolution",
      value,
      `must be at most ${MAX_RESOLUTION} (MAX_RESOLUTION)`,
    );
  }
  return value;
}

/**
 * Checks that an activation of `elements` values fits core's
 * `MAX_ELEMENTS`; otherwise the resolution is what to lower.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activationFits } from "./options.ts";
 * activationFits(112 * 112 * 64, "block1.pointwise", 224);
 * assert.throws(() => activationFits(2 ** 30, "block1.pointwise", 4096));
 * ```
 */
export function activationFits(elements: number, layer: string, size: number): void {
  if (elements > MAX_ELEMENTS) {
    throw new ModelOptionError(
      "resolution",
      size,
      `${layer} would output ${elements} values, more than core's MAX_ELEMENTS ` +
        `(${MAX_ELEMENTS}); lower the resolution or the width`,
    );
  }
}

/**
 * One of a fixed set of values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneOf } from "./options.ts";
 * assert(oneOf("groups", 3, [1, 2, 3, 4, 8]) === 3);
 * ```
 */
export function oneOf<T>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new ModelOptionError(field, value, `must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/**
 * A boolean option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boolean } from "./options.ts";
 * assert(boolean("countIncludePad", false) === false);
 * ```
 */
export function boolean(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new ModelOptionError(field, value, "must be a boolean");
  return value;
}

/**
 * A BatchNorm ε: a finite non-negative number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { epsilon } from "./options.ts";
 * assert(epsilon("batchNormEpsilon", 1e-5) === 1e-5);
 * ```
 */
export function epsilon(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ModelOptionError(field, value, "must be a finite non-negative number");
  }
  return value;
}

/**
 * A seed for the weight generator: a safe integer (|seed| < 2⁵³, so it is
 * exactly the number written); the generator uses it modulo 2³².
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seed } from "./options.ts";
 * assert(seed("seed", -4) === -4);
 * ```
 */
export function seed(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new ModelOptionError(field, value, "must be an integer of magnitude below 2^53");
  }
  return value;
}
