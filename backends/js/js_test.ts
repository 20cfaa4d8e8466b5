import { conformance } from "@mobileops/conformance";
import { createBackend } from "@mobileops/registry";

conformance("js", () => createBackend("js"));
