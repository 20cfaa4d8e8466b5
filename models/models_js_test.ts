import { createJsBackend } from "@mobileops/backend-js";
import { modelConformance } from "./mod.ts";

modelConformance("js", createJsBackend);
