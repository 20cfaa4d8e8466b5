import { modelConformance } from "@mobileops/models";
import { createWasmBackend } from "./mod.ts";

// Every layer of the small and full-size networks, with relaxed FMA on one thread and
// with the mul + add fallback on two (the op-level suite covers the other two pairings).
modelConformance("wasm", () => createWasmBackend({ threads: 1 }));
modelConformance(
  "wasm-nofma-2threads",
  () => createWasmBackend({ threads: 2, relaxedSimd: false }),
);
