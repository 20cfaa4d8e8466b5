/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header
 * length, a JSON header mapping each tensor name to
 * `{ dtype, shape, data_offsets: [begin, end] }` (plus an optional
 * `__metadata__` map of strings), then the raw little-endian data. No npm
 * package for it is maintained for plain JS, and the format is small, so it
 * is implemented here.
 *
 * @module
 */

import { type Shape, shapeSize } from "@mobileops/core";
import { ModelOptionError, SafetensorsError } from "./errors.ts";
import { Model, type ParameterTensor } from "./model.ts";

/** A decoded file: float32 tensors by name, and the header's metadata. */
export interface SafetensorsContents {
  /** Every tensor of the file by name, its values converted to float32. */
  readonly tensors: Map<string, ParameterTensor>;
  /** The header's `__metadata__` strings; empty when the file has none. */
  readonly metadata: Readonly<Record<string, string>>;
}

const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

/** Largest header accepted, as the reference implementation does (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Writes float32 tensors (in the map's order) and string metadata. Throws
 * {@link SafetensorsError} naming the tensor or key when `tensors` is not a
 * Map of `{ shape, data: Float32Array }` whose shape is a list of
 * non-negative integers matching the data, a name is empty or
 * `__metadata__`, or `metadata` is not an object of strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSafetensors, encodeSafetensors } from "@mobileops/models";
 * const bytes = encodeSafetensors(
 *   new Map([["w", { shape: [2], data: new Float32Array([1.5, -2]) }]]),
 *   { note: "hi" },
 * );
 * const back = decodeSafetensors(bytes);
 * assert(back.tensors.get("w")!.data[1] === -2 && back.metadata.note === "hi");
 * ```
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, ParameterTensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  if (!(tensors instanceof Map)) {
    throw new SafetensorsError("tensors", tensors, "must be a Map of name → { shape, data }");
  }
  checkMetadata(metadata);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of tensors as ReadonlyMap<unknown, ParameterTensor | null>) {
    if (typeof name !== "string" || name === "" || name === "__metadata__") {
      throw new SafetensorsError(
        "tensors",
        name,
        "a tensor's name must be a non-empty string other than __metadata__",
      );
    }
    if (tensor === null || typeof tensor !== "object" || !(tensor.data instanceof Float32Array)) {
      throw new SafetensorsError(`${name}.data`, tensor?.data ?? tensor, "must be a Float32Array");
    }
    checkShape(name, tensor.shape);
    if (tensor.data.length !== shapeSize(tensor.shape)) {
      throw new SafetensorsError(name, tensor.shape, `does not match ${tensor.data.length} values`);
    }
    const end = offset + 4 * tensor.data.length;
    header[name] = { dtype: "F32", shape: tensor.shape, data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + headerLength + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(headerLength), true);
  bytes.fill(0x20, 8, 8 + headerLength);
  bytes.set(json, 8);
  let at = 8 + headerLength;
  for (const tensor of tensors.values()) {
    bytes.set(
      new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
      at,
    );
    at += tensor.data.byteLength;
  }
  return bytes;
}

function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function toFloat32(dtype: string, view: DataView, count: number): Float32Array {
  const out = new Float32Array(count);
  // bfloat16 is the top half of a float32: widen the bits in place.
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) {
    if (dtype === "F32") out[i] = view.getFloat32(4 * i, true);
    else if (dtype === "F64") out[i] = view.getFloat64(8 * i, true);
    else if (dtype === "F16") out[i] = float16ToFloat32(view.getUint16(2 * i, true));
    else bits[i] = view.getUint16(2 * i, true) << 16;
  }
  return out;
}

function checkMetadata(metadata: unknown): void {
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new SafetensorsError("metadata", metadata, "must be an object of strings");
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string") {
      throw new SafetensorsError(`metadata.${key}`, value, "must be a string");
    }
  }
}

function checkShape(name: string, shape: unknown): Shape {
  if (
    !Array.isArray(shape) ||
    shape.some((dim) => typeof dim !== "number" || !Number.isInteger(dim) || dim < 0)
  ) {
    throw new SafetensorsError(`${name}.shape`, shape, "must be an array of non-negative integers");
  }
  return shape;
}

/**
 * Reads a safetensors file. Floating-point dtypes (F32, F64, F16, BF16) are
 * converted to float32; anything else, and any malformed header or data
 * range, throws {@link SafetensorsError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSafetensors, SafetensorsError } from "@mobileops/models";
 * const header = new TextEncoder().encode('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}');
 * const bytes = new Uint8Array(8 + header.length + 4);
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
 * bytes.set(header, 8);
 * try {
 *   decodeSafetensors(bytes);
 * } catch (e) {
 *   assert(e instanceof SafetensorsError && e.field === "x.data_offsets");
 * }
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (!(bytes instanceof Uint8Array)) {
    throw new SafetensorsError("file", bytes, "must be a Uint8Array of the file's bytes");
  }
  if (bytes.length < 8) {
    throw new SafetensorsError("file", bytes, "is too short for the 8-byte header length");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    throw new SafetensorsError(
      "headerLength",
      headerLength,
      `exceeds the file (${bytes.length} bytes) or the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(8, 8 + headerLength),
    ));
  } catch (error) {
    throw new SafetensorsError("header", `${headerLength} bytes`, `is not JSON: ${error}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new SafetensorsError("header", header, "must be a JSON object");
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, ParameterTensor>();
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
        throw new SafetensorsError(name, entry, "must be an object of strings");
      }
      for (const [key, value] of Object.entries(entry)) {
        if (typeof value !== "string") {
          throw new SafetensorsError(`${name}.${key}`, value, "must be a string");
        }
        metadata[key] = value;
      }
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
    if (typeof dtype !== "string" || !(dtype in BYTES_PER_ELEMENT)) {
      throw new SafetensorsError(
        `${name}.dtype`,
        dtype,
        `must be a floating-point dtype (${Object.keys(BYTES_PER_ELEMENT).join(", ")})`,
      );
    }
    const dims = checkShape(name, shape);
    const count = shapeSize(dims);
    const size = count * BYTES_PER_ELEMENT[dtype];
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isInteger(o) && o >= 0) ||
      offsets[1] - offsets[0] !== size || offsets[1] > dataLength
    ) {
      throw new SafetensorsError(
        `${name}.data_offsets`,
        offsets,
        `must be [begin, begin + ${size}] within the ${dataLength} data bytes`,
      );
    }
    ranges.push([offsets[0], offsets[1], name]);
    const data = toFloat32(
      dtype,
      new DataView(bytes.buffer, bytes.byteOffset + dataStart + offsets[0], size),
      count,
    );
    tensors.set(name, { shape: dims, data });
  }
  // The format requires the tensors to tile the data buffer exactly: no holes, no overlaps.
  ranges.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [begin, end, name] of ranges) {
    if (begin !== covered) {
      throw new SafetensorsError(
        `${name}.data_offsets`,
        [begin, end],
        `overlaps or leaves a hole: the previous tensor ends at ${covered}`,
      );
    }
    covered = end;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError("data", `${dataLength} bytes`, `only ${covered} are tensor data`);
  }
  return { tensors, metadata };
}

/**
 * Saves a model's unfolded parameters (names as in `model.parameterShapes()`)
 * with the model's name and, when it has them, its labels (as a JSON array
 * in metadata `labels`). Throws {@link ModelOptionError} when `model` is not
 * a {@link Model}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSafetensors, mobilenetV1, saveSafetensors } from "@mobileops/models";
 * const model = mobilenetV1({ alpha: 0.25, resolution: 32, classes: 2, seed: 5 });
 * const loaded = loadSafetensors(mobilenetV1({ alpha: 0.25, resolution: 32, classes: 2 }), saveSafetensors(model));
 * assert(loaded.parameters.get("fc.bias")!.data[1] === model.parameters.get("fc.bias")!.data[1]);
 * ```
 */
export function saveSafetensors(model: Model): Uint8Array {
  checkModel(model);
  const metadata: Record<string, string> = { model: model.name };
  if (model.labels !== undefined) metadata.labels = JSON.stringify(model.labels);
  return encodeSafetensors(model.parameters, metadata);
}

/**
 * Returns `model` with the parameters of a safetensors file. A malformed
 * file, missing, unexpected, mis-shaped or non-finite tensors
 * (`conv1.bn.gamma[0] = NaN: must be finite`), and labels that are not a JSON
 * array of one string per class throw {@link SafetensorsError}; BatchNorm
 * statistics that cannot fold throw core's `WeightsError` named by the
 * parameter (`conv1.bn.variance[3]`); a `model` that is not a {@link Model},
 * or a `source` that is not a string, throws {@link ModelOptionError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSafetensors, mobilenetV1, SafetensorsError, encodeSafetensors } from "@mobileops/models";
 * try {
 *   loadSafetensors(mobilenetV1({ alpha: 0.25, resolution: 32 }), encodeSafetensors(new Map()));
 * } catch (e) {
 *   assert(e instanceof SafetensorsError && e.field === "conv1.weight");
 * }
 * ```
 */
export function loadSafetensors(model: Model, bytes: Uint8Array, source = "safetensors"): Model {
  checkModel(model);
  if (typeof source !== "string") {
    throw new ModelOptionError("source", source, "must be a string naming the file");
  }
  const { tensors, metadata } = decodeSafetensors(bytes);
  let labels: string[] | undefined;
  if (metadata.labels !== undefined) {
    try {
      labels = JSON.parse(metadata.labels);
    } catch {
      labels = undefined;
    }
    if (!Array.isArray(labels) || labels.some((label) => typeof label !== "string")) {
      throw new SafetensorsError(
        "__metadata__.labels",
        metadata.labels.slice(0, 40),
        "must be a JSON array of strings",
      );
    }
  }
  return model.withParameters(tensors, { source, labels });
}

function checkModel(model: Model): void {
  if (!(model instanceof Model)) {
    throw new ModelOptionError(
      "model",
      model,
      "must be a Model (from mobilenetV1 or shufflenetV1)",
    );
  }
}
