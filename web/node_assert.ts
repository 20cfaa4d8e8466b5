/**
 * The part of `node:assert/strict` that `@mobileops/conformance` calls
 * (`assert`, `ok`, `equal`, `deepEqual`, `fail`, `rejects`), for the
 * browser, which has no `node:` modules: web/conformance.html's import map
 * resolves `node:assert/strict` to this module's bundle. Semantics follow
 * Node's strict mode: `equal` is `Object.is`, `deepEqual` compares arrays
 * and plain objects element by element with `Object.is`, and `rejects`
 * accepts an error class or a validator function that returns `true`.
 *
 * @module
 */

/** A failed assertion, as Node names it. */
export class AssertionError extends Error {
  /** Always `"AssertionError"`. */
  override name = "AssertionError";
}

function fail(message = "Failed"): never {
  throw new AssertionError(message);
}

function ok(value: unknown, message?: string): asserts value {
  if (!value) fail(message ?? `expected a truthy value, got ${String(value)}`);
}

function equal(actual: unknown, expected: unknown, message?: string): void {
  if (!Object.is(actual, expected)) {
    fail(message ?? `expected ${String(expected)}, got ${String(actual)}`);
  }
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((value, i) => same(value, b[i]));
  }
  if (
    a === null || b === null || typeof a !== "object" || typeof b !== "object" ||
    Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)
  ) {
    return false;
  }
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length &&
    keys.every((key) =>
      same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
    );
}

function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!same(actual, expected)) {
    fail(message ?? `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

type Validator = (new (...args: never[]) => Error) | ((error: unknown) => boolean);

async function rejects(
  promise: Promise<unknown> | (() => Promise<unknown>),
  validator?: Validator,
  message?: string,
): Promise<void> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    if (validator === undefined) return;
    if (validator.prototype instanceof Error || validator === Error) {
      ok(error instanceof (validator as new () => Error), message ?? `wrong error: ${error}`);
    } else {
      ok(
        (validator as (error: unknown) => boolean)(error) === true,
        message ?? `wrong error: ${error}`,
      );
    }
    return;
  }
  fail(message ?? "expected a rejection");
}

/**
 * `assert(value, message)`, with `ok`, `equal`, `deepEqual`, `fail` and
 * `rejects` as its properties, as `node:assert/strict`'s default export.
 *
 * @example
 * ```ts
 * import assert from "./node_assert.ts";
 * assert.deepEqual([1, { a: 2 }], [1, { a: 2 }]);
 * await assert.rejects(Promise.reject(new RangeError("x")), RangeError);
 * ```
 */
const assert: typeof ok & {
  ok: typeof ok;
  equal: typeof equal;
  deepEqual: typeof deepEqual;
  fail: typeof fail;
  rejects: typeof rejects;
  AssertionError: typeof AssertionError;
} = Object.assign((value: unknown, message?: string) => ok(value, message), {
  ok,
  equal,
  deepEqual,
  fail,
  rejects,
  AssertionError,
});

export default assert;
