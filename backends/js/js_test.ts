import { conformance } from "@mobileops/conformance";
import { createJsBackend } from "@mobileops/backend-js";

conformance("js", createJsBackend);
