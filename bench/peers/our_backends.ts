/**
 * Our backends as the peer benchmarks create them.
 *
 * @module
 */

import type { Backend } from "@mobileops/core";

/**
 * Creates `@mobileops/backend-wasm` with `threads` threads, or returns why it
 * cannot be created here (the benchmarks then skip its rows and say so).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createOurWasmBackend } from "./our_backends.ts";
 * const backend = await createOurWasmBackend(1);
 * if (typeof backend === "string") console.log(`skipped: ${backend}`);
 * else {
 *   assert.equal(backend.capabilities.threads, 1);
 *   backend.dispose();
 * }
 * ```
 */
export async function createOurWasmBackend(threads: number): Promise<Backend | string> {
  try {
    const { createWasmBackend } = await import("@mobileops/backend-wasm");
    return await createWasmBackend({ threads });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
