/**
 * Typed errors shared by every backend. Validation lives in core, so every
 * backend raises the same class with the same message for the same bad input.
 *
 * @module
 */

/** Formats an offending value for an error message, compactly. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name}(${(value as Float32Array).length})`;
  }
  if (Array.isArray(value)) return `[${value.map(describeValue).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** Base class of every error this project raises on purpose. */
export class MobileOpsError extends Error {
  /** Always `"MobileOpsError"`, so `String(error)` and stack traces show the class. */
  override name = "MobileOpsError";
}

/**
 * A field of a descriptor, shape or weight set holds a value that is not
 * allowed. `field` names it (e.g. `"stride[0]"`), `value` is what was given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidArgumentError } from "@mobileops/core";
 * const error = new InvalidArgumentError("groups", 3, "must divide inChannels (8)");
 * assert(error.message === "groups = 3: must divide inChannels (8)");
 * ```
 */
export class InvalidArgumentError extends MobileOpsError {
  /** Always `"InvalidArgumentError"`, so `String(error)` and stack traces show the class. */
  override name = "InvalidArgumentError";
  /** Dotted path of the offending field. */
  readonly field: string;
  /** The offending value, as given. */
  readonly value: unknown;
  /** Creates the error; the message is `field = value: reason`. */
  constructor(field: string, value: unknown, reason: string) {
    super(`${field} = ${describeValue(value)}: ${reason}`);
    this.field = field;
    this.value = value;
  }
}

/** An operator descriptor is malformed (sizes, groups, padding, activation…). */
export class DescriptorError extends InvalidArgumentError {
  /** Always `"DescriptorError"`, so `String(error)` and stack traces show the class. */
  override name = "DescriptorError";
}

/** Input tensor shapes do not fit the operator (rank, channels, kernel larger than padded input…). */
export class ShapeError extends InvalidArgumentError {
  /** Always `"ShapeError"`, so `String(error)` and stack traces show the class. */
  override name = "ShapeError";
}

/** Weights do not match the descriptor (missing, wrong length, bias present/absent). */
export class WeightsError extends InvalidArgumentError {
  /** Always `"WeightsError"`, so `String(error)` and stack traces show the class. */
  override name = "WeightsError";
}

/** A tensor or kernel created by one backend instance was handed to another. */
export class BackendMismatchError extends InvalidArgumentError {
  /** Always `"BackendMismatchError"`, so `String(error)` and stack traces show the class. */
  override name = "BackendMismatchError";
}

/** A tensor, kernel or backend was used after `dispose()`. */
export class DisposedError extends MobileOpsError {
  /** Always `"DisposedError"`, so `String(error)` and stack traces show the class. */
  override name = "DisposedError";
  /** What was used: e.g. `"inputs[0]"`, `"kernel"`, `"backend wasm"`. */
  readonly subject: string;
  /** Creates the error for `subject`. */
  constructor(subject: string) {
    super(`${subject} was used after dispose()`);
    this.subject = subject;
  }
}

/**
 * A valid request that this backend (or importer) has no implementation for,
 * e.g. an operator configuration no kernel variant covers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidArgumentError, UnsupportedError } from "@mobileops/core";
 * const error = new UnsupportedError("op", "lstm", "is not supported");
 * assert(error instanceof InvalidArgumentError && error.message === 'op = "lstm": is not supported');
 * ```
 */
export class UnsupportedError extends InvalidArgumentError {
  /** Always `"UnsupportedError"`, so `String(error)` and stack traces show the class. */
  override name = "UnsupportedError";
}

/** A backend cannot be created here (no WebGPU adapter, no WebAssembly SIMD…). */
export class BackendUnavailableError extends MobileOpsError {
  /** Always `"BackendUnavailableError"`, so `String(error)` and stack traces show the class. */
  override name = "BackendUnavailableError";
  /** Name of the backend that could not be created. */
  readonly backend: string;
  /** Creates the error for `backend`, with the reason. */
  constructor(backend: string, reason: string) {
    super(`backend ${describeValue(backend)} is unavailable: ${reason}`);
    this.backend = backend;
  }
}

/** A backend could not obtain the memory it needed. */
export class OutOfMemoryError extends MobileOpsError {
  /** Always `"OutOfMemoryError"`, so `String(error)` and stack traces show the class. */
  override name = "OutOfMemoryError";
  /** Bytes that were requested when allocation failed. */
  readonly requestedBytes: number;
  /** Creates the error for a failed request of `requestedBytes`. */
  constructor(backend: string, requestedBytes: number, reason: string) {
    super(
      `backend ${describeValue(backend)} could not allocate ${requestedBytes} bytes: ${reason}`,
    );
    this.requestedBytes = requestedBytes;
  }
}
