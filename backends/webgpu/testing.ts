/**
 * What the WebGPU tests share: whether this machine can run them. Where no
 * adapter exists they are registered as ignored — the conformance test
 * saying so in one loud line — unless the environment sets
 * `MOBILEOPS_REQUIRE_WEBGPU=1` (CI does), under which a missing adapter
 * fails the run.
 *
 * @module
 */

import { BackendUnavailableError } from "@mobileops/core";
import { createWebGpuBackend } from "./webgpu_backend.ts";

/**
 * Why the WebGPU tests cannot run here, or `undefined` when they can;
 * throws instead when `MOBILEOPS_REQUIRE_WEBGPU=1`.
 *
 * @example
 * ```ts
 * import { webgpuUnavailable } from "./testing.ts";
 * const reason = await webgpuUnavailable();
 * Deno.test({ name: "needs a GPU", ignore: reason !== undefined, fn: () => {} });
 * ```
 */
export async function webgpuUnavailable(): Promise<string | undefined> {
  const reason = await createWebGpuBackend().then(
    (backend) => (backend.dispose(), undefined),
    (error) => {
      if (error instanceof BackendUnavailableError) return error.message;
      throw error;
    },
  );
  if (reason !== undefined && Deno.env.get("MOBILEOPS_REQUIRE_WEBGPU") === "1") {
    throw new Error(`MOBILEOPS_REQUIRE_WEBGPU=1, but ${reason}`);
  }
  return reason;
}

/**
 * Replaces `navigator.gpu` with `gpu` (a stub adapter source, or
 * `undefined` for a runtime without WebGPU) while `body` runs, and removes
 * the stub afterwards, so a test can exercise the backend's handling of
 * adapters this machine does not have.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BackendUnavailableError } from "@mobileops/core";
 * import { createWebGpuBackend } from "./mod.ts";
 * import { withGpu } from "./testing.ts";
 * await withGpu({ requestAdapter: () => Promise.resolve(null) }, async () => {
 *   await assert.rejects(createWebGpuBackend(), BackendUnavailableError);
 * });
 * ```
 */
export async function withGpu(gpu: unknown, body: () => Promise<void>): Promise<void> {
  Object.defineProperty(navigator, "gpu", { value: gpu, configurable: true });
  try {
    await body();
  } finally {
    delete (navigator as { gpu?: unknown }).gpu;
  }
}
