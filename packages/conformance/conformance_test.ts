import { conformance } from "./conformance.ts";
import { createReferenceBackend } from "./_reference_backend.ts";

// The suite against the reference itself: every case must pass with the
// float32 rounding of the results as the only error.
conformance("reference", () => Promise.resolve(createReferenceBackend()));
