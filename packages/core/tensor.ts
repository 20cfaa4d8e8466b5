/**
 * Tensors: float32 data in canonical NHWC layout, stored by the backend that
 * created them and released explicitly.
 *
 * NHWC (channels last) is the canonical layout because the kernels these
 * networks spend their time in want it: a pointwise convolution over NHWC is a
 * plain `[pixels × Cin] · [Cin × Cout]` matrix product, and a depthwise
 * convolution reads contiguous channel vectors at each tap, which is what SIMD
 * lanes and GPU threads consume. XNNPACK, TFLite and ONNX Runtime's fast CPU
 * paths all use it for that reason.
 *
 * @module
 */

import { DisposedError, InvalidArgumentError } from "./errors.ts";
import { type Shape, shapeSize } from "./geometry.ts";

/** What a tensor needs from the backend that owns it. */
export interface TensorOwner {
  /** Backend name, reported by {@link Tensor.backend} and in error messages. */
  readonly name: string;
  /** Reads a tensor's data back; waits for pending work. */
  download(tensor: Tensor): Promise<Float32Array>;
  /** Frees a tensor's storage. */
  releaseTensor(tensor: Tensor): void;
}

interface TensorState {
  readonly owner: TensorOwner;
  readonly storage: unknown;
  disposed: boolean;
}

const states = new WeakMap<Tensor, TensorState>();

/** Set only while {@link mintTensor} runs: the constructor refuses every other caller. */
let minting = false;
/** The private constructor, captured in the class's static block. */
let mint: (owner: TensorOwner, shape: Shape, storage: unknown) => Tensor;

/**
 * A float32 tensor held by one backend. Create it with `backend.upload`,
 * produce it with `backend.run`, read it with {@link Tensor.download}, free
 * it with {@link Tensor.dispose} (or `using`). Any use after dispose throws
 * {@link DisposedError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createJsBackend } from "@mobileops/backend-js";
 * const backend = await createJsBackend();
 * {
 *   using t = backend.upload(new Float32Array([1, 2, 3]), [1, 1, 1, 3]);
 *   assert((await t.download())[2] === 3);
 * }
 * backend.dispose();
 * ```
 */
export class Tensor {
  /** Dimensions; spatial tensors are `[N, H, W, C]`. */
  readonly shape: Shape;
  /** Number of elements. */
  readonly size: number;

  /**
   * Not callable: tensors come from a backend's `upload`, `zeros` and `run`,
   * so no caller can forge one over another tensor's storage.
   *
   * @throws {InvalidArgumentError} Always, when called with `new Tensor(…)`.
   */
  private constructor(owner: TensorOwner, shape: Shape, storage: unknown) {
    if (!minting) {
      throw new InvalidArgumentError(
        "new Tensor()",
        shape,
        "tensors are created by a backend: use backend.upload, backend.zeros or backend.run",
      );
    }
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    states.set(this, { owner, storage, disposed: false });
  }

  /** Name of the owning backend. */
  get backend(): string {
    return states.get(this)!.owner.name;
  }

  /** Whether {@link Tensor.dispose} has been called. */
  get disposed(): boolean {
    return states.get(this)!.disposed;
  }

  /** Copies the data to a new `Float32Array`, after any pending work. */
  download(): Promise<Float32Array> {
    const state = states.get(this)!;
    if (state.disposed) return Promise.reject(new DisposedError("tensor"));
    return state.owner.download(this);
  }

  /** Frees the storage. Idempotent. */
  dispose(): void {
    const state = states.get(this)!;
    if (state.disposed) return;
    state.owner.releaseTensor(this);
    state.disposed = true;
  }

  /** Lets `using t = …` dispose the tensor at scope end. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  static {
    mint = (owner, shape, storage) => new Tensor(owner, shape, storage);
  }
}

/** A new tensor over `storage`; for `defineBackend` only (not exported by the package). */
export function mintTensor(owner: TensorOwner, shape: Shape, storage: unknown): Tensor {
  minting = true;
  try {
    return mint(owner, shape, storage);
  } finally {
    minting = false;
  }
}

/** Owner and storage of a tensor; for backends (through `defineBackend`) only. */
export function tensorState(tensor: Tensor): Readonly<TensorState> | undefined {
  return states.get(tensor);
}
