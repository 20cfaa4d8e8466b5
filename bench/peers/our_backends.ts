/**
 * Our backends as the peer benchmarks create them: through the registry,
 * one registered backend at a time.
 *
 * @module
 */

import type { Backend } from "@mobileops/core";
import { createBackend, NoBackendError } from "@mobileops/registry";

/**
 * Creates `@mobileops/backend-wasm` with `threads` threads through the
 * registry, or returns why it cannot be created here (the benchmarks then
 * skip its rows and say so).
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
    return await createBackend("wasm", { wasm: { threads } });
  } catch (error) {
    // One backend was asked for: its own reason says more than the registry's summary.
    if (error instanceof NoBackendError) return error.failures[0].reason;
    return error instanceof Error ? error.message : String(error);
  }
}
