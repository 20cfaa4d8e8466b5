/**
 * `node:assert/strict` for the browser, which has no `node:` modules:
 * `npm:assert@2.1.0` (Node's assert module, for the browser), strict form.
 * The conformance package imports `node:assert/strict`; web/build.ts bundles
 * this module as web/dist/node_assert.js and web/conformance.html's import
 * map resolves `node:assert/strict` to it. As `node:assert/strict`'s, its
 * default export is `assert.strict`: a function (`ok`) whose `equal`,
 * `deepEqual`, … are the strict ones (`strictEqual`, `deepStrictEqual`, …).
 *
 * @example
 * ```ts
 * import assert from "./node_assert.ts";
 * assert.deepEqual([1, { a: 2 }], [1, { a: 2 }]);
 * assert.throws(() => assert.equal(1, "1"), assert.AssertionError);
 * await assert.rejects(Promise.reject(new RangeError("x")), RangeError);
 * ```
 *
 * @module
 */

// First: npm:util reads the `process` global as it loads.
import "./node_assert_process.ts";
import type nodeAssert from "node:assert/strict";
import assert from "npm:assert@2.1.0";

/** `assert.strict` of `npm:assert@2.1.0`, typed as `node:assert/strict`'s default export. */
const strict: typeof nodeAssert = assert.strict;

export default strict;
