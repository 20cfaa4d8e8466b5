/**
 * Checks shared by the model builders; each throws {@link ModelOptionError}
 * naming the option.
 *
 * @module
 */

import { ModelOptionError } from "./errors.ts";

/**
 * A positive integer option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positiveInteger } from "./options.ts";
 * assert(positiveInteger("classes", 10) === 10);
 * ```
 */
export function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ModelOptionError(field, value, "must be a positive integer");
  }
  return value;
}

/**
 * An input resolution: a positive multiple of 32, the networks' total stride.
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
  return value;
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
 * A seed for the weight generator: an integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seed } from "./options.ts";
 * assert(seed(-4) === -4);
 * ```
 */
export function seed(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new ModelOptionError("seed", value, "must be an integer");
  }
  return value;
}
