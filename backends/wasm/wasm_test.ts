import { conformance } from "@mobileops/conformance";
import { createWasmBackend } from "./mod.ts";

conformance("wasm", () => createWasmBackend({ threads: 1 }));
conformance("wasm-nofma", () => createWasmBackend({ threads: 1, relaxedSimd: false }));
conformance("wasm-2threads", () => createWasmBackend({ threads: 2 }));
conformance("wasm-nofma-2threads", () => createWasmBackend({ threads: 2, relaxedSimd: false }));
