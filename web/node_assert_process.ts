/**
 * The `process` global that `npm:assert@2.1.0` (through `npm:util`) reads,
 * for a browser, which has none: that package's README asks bundlers that do
 * not polyfill Node's globals to provide it, and `deno bundle` does not.
 * Set only where `process` is missing (Deno and Node keep theirs); it has no
 * `getBuiltinModule`, so the wasm backend still knows it is not in Node.
 * web/node_assert.ts imports this first, so it is set before `npm:util`'s
 * top-level code reads `process.env`.
 *
 * @module
 */

import process from "npm:process@0.11.10";

(globalThis as { process?: unknown }).process ??= process;
