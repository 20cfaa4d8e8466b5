/**
 * The backend registry: every backend of the project by name, in one list,
 * and {@link createBackend}, which tries a preference order and returns the
 * first backend that starts here.
 *
 * An explicit list rather than registration on import (TF.js and ONNX
 * Runtime register a backend when its package is imported): the names and
 * each backend's options are then checked by the type checker, a program
 * never depends on which modules happened to be imported first, and adding a
 * backend is one line here. Each package is still loaded only when asked for,
 * through a dynamic `import()`.
 *
 * @module
 */

import { type Backend, BackendUnavailableError, InvalidArgumentError } from "@mobileops/core";
import type { WasmBackendOptions } from "@mobileops/backend-wasm";
import type { WebGpuBackendOptions } from "@mobileops/backend-webgpu";

/** Each registered backend's options, by backend name. */
export interface BackendOptionsByName {
  /** `@mobileops/backend-js` takes no options. */
  readonly js: Record<never, never>;
  /** `@mobileops/backend-wasm`'s options: threads, relaxed SIMD, memory limit. */
  readonly wasm: WasmBackendOptions;
  /** `@mobileops/backend-webgpu`'s options: power preference, lower planning limits. */
  readonly webgpu: WebGpuBackendOptions;
}

/** A registered backend's name. */
export type BackendName = keyof BackendOptionsByName;

/** Options for {@link createBackend}: per backend name, that backend's own options. */
export type CreateBackendOptions = { readonly [N in BackendName]?: BackendOptionsByName[N] };

const FACTORIES: {
  readonly [N in BackendName]: (options: BackendOptionsByName[N]) => Promise<Backend>;
} = {
  wasm: async (options) => (await import("@mobileops/backend-wasm")).createWasmBackend(options),
  js: async () => (await import("@mobileops/backend-js")).createJsBackend(),
  // Last until it is measured on a real GPU: on a software adapter it is slower than wasm.
  webgpu: async (options) =>
    (await import("@mobileops/backend-webgpu")).createWebGpuBackend(options),
};

/**
 * Every registered backend, fastest first: the default preference order of
 * {@link createBackend}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BACKEND_NAMES } from "@mobileops/registry";
 * assert.deepEqual(BACKEND_NAMES, ["wasm", "js", "webgpu"]);
 * ```
 */
export const BACKEND_NAMES: readonly BackendName[] = Object.freeze(
  Object.keys(FACTORIES) as BackendName[],
);

/**
 * One registered backend with its own options, under a label: how the
 * benchmarks, the fuzzer and the soak name each configuration they run
 * (e.g. `{ label: "wasm-2threads", backend: "wasm", options: { threads: 2 } }`).
 */
export type BackendConfiguration = {
  readonly [N in BackendName]: {
    /** Names the configuration in reports, flags and bench groups. */
    readonly label: string;
    /** The registered backend to create. */
    readonly backend: N;
    /** That backend's options, as {@link createBackend} takes them for it. */
    readonly options: BackendOptionsByName[N];
  };
}[BackendName];

/**
 * Creates the backend a {@link BackendConfiguration} describes: `createBackend`
 * with only that backend and its options (so it throws {@link NoBackendError}
 * when the backend cannot start here).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConfiguredBackend } from "@mobileops/registry";
 * using backend = await createConfiguredBackend({ label: "wasm-1thread", backend: "wasm", options: { threads: 1 } });
 * assert.equal(backend.capabilities.threads, 1);
 * ```
 */
export function createConfiguredBackend(configuration: BackendConfiguration): Promise<Backend> {
  return createBackend(configuration.backend, {
    [configuration.backend]: configuration.options,
  } as CreateBackendOptions);
}

/** Why one backend of a preference list did not start. */
export interface BackendFailure {
  /** The backend's registered name. */
  readonly backend: BackendName;
  /** Its {@link BackendUnavailableError}'s message. */
  readonly reason: string;
}

/**
 * No backend of a preference list could start here. `failures` holds each
 * one's reason, in the order tried; the message lists them all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BackendUnavailableError } from "@mobileops/core";
 * import { NoBackendError } from "@mobileops/registry";
 * const error = new NoBackendError([{ backend: "wasm", reason: "no SIMD" }]);
 * assert(error instanceof BackendUnavailableError);
 * assert.match(error.message, /wasm: no SIMD/);
 * ```
 */
export class NoBackendError extends BackendUnavailableError {
  /** Always `"NoBackendError"`, so `String(error)` and stack traces show the class. */
  override name = "NoBackendError";
  /** Each backend tried, with why it did not start. */
  readonly failures: readonly BackendFailure[];
  /** Creates the error from the failures, in the order the backends were tried. */
  constructor(failures: readonly BackendFailure[]) {
    super(
      failures.map((failure) => failure.backend).join(", "),
      `none of them started here (${
        failures.map((failure) => `${failure.backend}: ${failure.reason}`).join("; ")
      })`,
    );
    this.failures = failures;
  }
}

function isBackendName(name: unknown): name is BackendName {
  return typeof name === "string" && Object.hasOwn(FACTORIES, name);
}

/**
 * Whether backend `name` starts here: `undefined` when it does (the backend
 * is created and disposed again), else the reason it does not — e.g. to grey
 * out a choice in a user interface or to skip a backend's tests.
 *
 * @throws {InvalidArgumentError} `name` is not a registered backend, or its options are bad.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backendUnavailable } from "@mobileops/registry";
 * assert.equal(await backendUnavailable("js"), undefined);
 * ```
 */
export async function backendUnavailable<N extends BackendName>(
  name: N,
  options?: BackendOptionsByName[N],
): Promise<string | undefined> {
  try {
    const backend = await createBackend(name, { [name]: options } as CreateBackendOptions);
    backend.dispose();
    return undefined;
  } catch (error) {
    if (!(error instanceof NoBackendError)) throw error;
    return error.failures[0].reason;
  }
}

/**
 * Creates the first backend of `preference` that starts here and returns it.
 * A backend that cannot start (its factory throws `BackendUnavailableError`:
 * no WebAssembly SIMD, no GPU adapter…) is skipped; any other error — bad
 * options, say — is thrown at once.
 *
 * @param preference Backend names in the order to try them, or one name.
 *   Default {@link BACKEND_NAMES}.
 * @param options Each backend's own options, by name.
 * @throws {InvalidArgumentError} `preference` is empty or names an unknown
 *   backend, or `options` has a key that is not a backend name.
 * @throws {NoBackendError} No backend of `preference` started; it lists why each failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBackend } from "@mobileops/registry";
 * using backend = await createBackend(["wasm", "js"], { wasm: { threads: 1 } });
 * assert(backend.name === "wasm" || backend.name === "js");
 * ```
 */
export async function createBackend(
  preference: BackendName | readonly BackendName[] = BACKEND_NAMES,
  options: CreateBackendOptions = {},
): Promise<Backend> {
  const names: readonly BackendName[] = typeof preference === "string" ? [preference] : preference;
  if (!Array.isArray(names as unknown) || names.length === 0) {
    throw new InvalidArgumentError(
      "preference",
      preference,
      `must be a backend name or a non-empty list of them (${BACKEND_NAMES.join(", ")})`,
    );
  }
  names.forEach((name, i) => {
    if (!isBackendName(name)) {
      throw new InvalidArgumentError(
        typeof preference === "string" ? "preference" : `preference[${i}]`,
        name,
        `is not a backend; known: ${BACKEND_NAMES.join(", ")}`,
      );
    }
  });
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError("options", options, "must be an object keyed by backend name");
  }
  for (const key of Object.keys(options)) {
    if (!isBackendName(key)) {
      throw new InvalidArgumentError(
        `options.${key}`,
        (options as Record<string, unknown>)[key],
        `is not a backend; known: ${BACKEND_NAMES.join(", ")}`,
      );
    }
  }
  const failures: BackendFailure[] = [];
  for (const name of names) {
    try {
      const factory = FACTORIES[name] as (options: unknown) => Promise<Backend>;
      return await factory(options[name] ?? {});
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      failures.push({ backend: name, reason: error.message });
    }
  }
  throw new NoBackendError(failures);
}
