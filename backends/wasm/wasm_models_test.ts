import { modelConformance } from "@mobileops/models/testing";
import { createBackend } from "@mobileops/registry";

// Every layer of the small and full-size networks, with relaxed FMA on one thread and
// with the mul + add fallback on two (the op-level suite covers the other two pairings).
modelConformance("wasm", () => createBackend("wasm", { wasm: { threads: 1 } }));
modelConformance(
  "wasm-nofma-2threads",
  () => createBackend("wasm", { wasm: { threads: 2, relaxedSimd: false } }),
);
