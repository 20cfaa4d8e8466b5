// The op-level conformance suite on the WebGPU backend; skipped with one loud line where no
// adapter exists, unless MOBILEOPS_REQUIRE_WEBGPU=1 (CI), under which it fails.
import { conformance } from "@mobileops/conformance";
import { createBackend } from "@mobileops/registry";
import { webgpuUnavailable } from "./testing.ts";

const unavailable = await webgpuUnavailable();
if (unavailable !== undefined) {
  console.error(`SKIPPED: the WebGPU conformance suite and every WebGPU test: ${unavailable}`);
}
conformance("webgpu", () => createBackend("webgpu"), { ignore: unavailable !== undefined });
