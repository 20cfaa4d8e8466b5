/**
 * The largest sizes the library accepts, checked once in core (descriptor
 * constructors, {@link validateShape}, {@link inferGeometry}) so every
 * backend refuses the same inputs. They are what every backend can address:
 * the wasm backend indexes its linear memory with 32-bit integers, so a
 * tensor's byte offset, and a dilated window's extent in elements, must stay
 * well below 2³¹.
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";

/** Largest size of any tensor axis (batch, height, width, channels, features): 2²⁴. */
export const MAX_DIMENSION = 2 ** 24;

/**
 * Most elements in one tensor or one weight array: 2²⁸ (1 GiB of float32),
 * so every element's byte offset fits a signed 32-bit integer.
 */
export const MAX_ELEMENTS = 2 ** 28;

/**
 * Largest kernel size, stride, dilation and padding side, per axis: 2¹² =
 * 4096. A dilated kernel's extent `(k − 1)·d + 1` then stays below 2²⁴.
 */
export const MAX_WINDOW = 2 ** 12;

/**
 * Checks that `value` is an options object (not `null`, not an array) whose
 * own keys are all in `keys`, so a misspelt option is an error instead of
 * being silently ignored. Returns it typed as `T`; `undefined` gives `{}`.
 *
 * @param field Names the object in the error, e.g. `"options"`.
 * @param keys Every option the caller accepts.
 * @param ErrorType The error class to throw; default {@link InvalidArgumentError}.
 * @throws {InvalidArgumentError} `field` is not an object, or `field.key` is not an option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidArgumentError, validateOptions } from "@mobileops/core";
 * assert.deepEqual(validateOptions("options", { threads: 2 }, ["threads"]), { threads: 2 });
 * assert.throws(
 *   () => validateOptions("options", { thread: 2 }, ["threads"]),
 *   (e: unknown) => e instanceof InvalidArgumentError && e.field === "options.thread",
 * );
 * ```
 */
export function validateOptions<T extends object>(
  field: string,
  value: unknown,
  keys: readonly string[],
  ErrorType: new (field: string, value: unknown, reason: string) => InvalidArgumentError =
    InvalidArgumentError,
): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ErrorType(field, value, "must be an options object");
  }
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new ErrorType(
        `${field}.${key}`,
        (value as Record<string, unknown>)[key],
        `is not an option here; the options are ${keys.join(", ")}`,
      );
    }
  }
  return value as T;
}
