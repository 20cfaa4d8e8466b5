// The model-level suite on the WebGPU backend: every layer of the small and full-size
// MobileNet v1 and ShuffleNet v1 within the op-level tolerance, compiled runs identical to
// layer-by-layer runs. Ignored where no adapter exists (webgpu_test.ts says so, loudly).
import { modelConformance } from "@mobileops/models/testing";
import { createBackend } from "@mobileops/registry";
import { webgpuUnavailable } from "./testing.ts";

if (await webgpuUnavailable() === undefined) {
  modelConformance("webgpu", () => createBackend("webgpu"));
}
