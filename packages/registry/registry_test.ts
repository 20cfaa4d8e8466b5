import assert from "node:assert/strict";
import { BackendUnavailableError, InvalidArgumentError } from "@mobileops/core";
import { BACKEND_NAMES, createBackend, NoBackendError } from "./mod.ts";

Deno.test("createBackend returns the first backend of the preference that starts", async () => {
  using js = await createBackend(["js", "wasm"]);
  assert.equal(js.name, "js");
  using wasm = await createBackend("wasm", { wasm: { threads: 1 } });
  assert.equal(wasm.name, "wasm");
  assert.equal(wasm.capabilities.threads, 1);
  using preferred = await createBackend();
  assert.equal(preferred.name, BACKEND_NAMES[0]);
});

Deno.test("createBackend refuses unknown names, an empty list and unknown option keys", async () => {
  await assert.rejects(
    () => createBackend(["wasm", "cuda" as never]),
    (e: unknown) => e instanceof InvalidArgumentError && /preference\[1\] = "cuda"/.test(e.message),
  );
  await assert.rejects(() => createBackend([]), InvalidArgumentError);
  await assert.rejects(
    () => createBackend("js", { wasn: {} } as never),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === "options.wasn",
  );
});

Deno.test("a backend's bad options are thrown, not skipped as unavailable", async () => {
  await assert.rejects(
    () => createBackend(["wasm", "js"], { wasm: { threads: 0 } }),
    (e: unknown) =>
      e instanceof InvalidArgumentError && !(e instanceof BackendUnavailableError) &&
      e.field === "options.threads",
  );
});

Deno.test("NoBackendError lists every backend tried with its reason", () => {
  const error = new NoBackendError([
    { backend: "wasm", reason: "no SIMD128" },
    { backend: "js", reason: "disabled" },
  ]);
  assert.ok(error instanceof BackendUnavailableError);
  assert.equal(error.failures.length, 2);
  assert.match(error.message, /"wasm, js" is unavailable: .*wasm: no SIMD128; js: disabled/);
});
