import { conformance } from "@mobileops/conformance";
import { createBackend } from "@mobileops/registry";

conformance("wasm", () => createBackend("wasm", { wasm: { threads: 1 } }));
conformance(
  "wasm-nofma",
  () => createBackend("wasm", { wasm: { threads: 1, relaxedSimd: false } }),
);
conformance("wasm-2threads", () => createBackend("wasm", { wasm: { threads: 2 } }));
conformance(
  "wasm-nofma-2threads",
  () => createBackend("wasm", { wasm: { threads: 2, relaxedSimd: false } }),
);
