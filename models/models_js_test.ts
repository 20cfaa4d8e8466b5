import { createBackend } from "@mobileops/registry";
import { modelConformance } from "./testing.ts";

modelConformance("js", () => createBackend("js"));
