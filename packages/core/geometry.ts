/**
 * Shape inference and validation: the one place that turns a descriptor and
 * the input shapes into the output shape and the resolved padding. Every
 * backend calls it (through {@link defineBackend}); none re-derives padding.
 *
 * @module
 */

import type { OpDescriptor, Padding, Pair } from "./descriptors.ts";
import { ShapeError } from "./errors.ts";
import { MAX_DIMENSION, MAX_ELEMENTS } from "./limits.ts";

/** A tensor shape. Spatial operators use NHWC: `[batch, height, width, channels]`. */
export type Shape = readonly number[];

/** Resolved padding `[top, bottom, left, right]`. */
export type Pad4 = readonly [top: number, bottom: number, left: number, right: number];

/** What an operator does to its inputs' shapes, computed once per call. */
export interface OpGeometry {
  /** The validated input shapes, in input order. */
  readonly inputShapes: readonly Shape[];
  /** Shape of the tensor the operator produces (NHWC for spatial operators). */
  readonly outputShape: Shape;
  /** Resolved padding, for convolutions and pools; `[0,0,0,0]` otherwise. */
  readonly padding: Pad4;
}

/**
 * Number of elements of a shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeSize } from "@mobileops/core";
 * assert(shapeSize([1, 7, 9, 3]) === 189);
 * ```
 */
export function shapeSize(shape: Shape): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

/**
 * Checks that `shape` is a non-empty list of positive integers, each at most
 * {@link MAX_DIMENSION}, with at most {@link MAX_ELEMENTS} elements in all.
 * Throws {@link ShapeError} naming the dimension.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShapeError, validateShape } from "@mobileops/core";
 * try {
 *   validateShape("shape", [1, 0, 4, 4]);
 * } catch (e) {
 *   assert(e instanceof ShapeError && e.message.startsWith("shape[1] = 0"));
 * }
 * ```
 */
export function validateShape(field: string, shape: Shape): Shape {
  if (!Array.isArray(shape as unknown) || shape.length === 0) {
    throw new ShapeError(field, shape, "must be a non-empty array of dimensions");
  }
  shape.forEach((dim, i) => {
    if (typeof dim !== "number" || !Number.isInteger(dim) || dim < 1) {
      throw new ShapeError(`${field}[${i}]`, dim, "must be a positive integer");
    }
    if (dim > MAX_DIMENSION) {
      throw new ShapeError(
        `${field}[${i}]`,
        dim,
        `must be at most ${MAX_DIMENSION} (MAX_DIMENSION)`,
      );
    }
  });
  const size = shapeSize(shape);
  if (size > MAX_ELEMENTS) {
    throw new ShapeError(
      field,
      shape,
      `has ${size} elements, more than ${MAX_ELEMENTS} (MAX_ELEMENTS)`,
    );
  }
  return shape;
}

/** Extent of a dilated kernel: `(k − 1)·d + 1`. */
export function effectiveKernel(kernel: number, dilation: number): number {
  return (kernel - 1) * dilation + 1;
}

/**
 * Resolves a padding rule for one input size. `"same"` follows TensorFlow:
 * output `ceil(in / stride)`, total padding
 * `max((out − 1)·stride + effectiveKernel − in, 0)`, the odd extra row or
 * column going bottom/right.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolvePadding } from "@mobileops/core";
 * const pad = resolvePadding("same", [224, 224], [3, 3], [2, 2], [1, 1]);
 * assert(pad.join() === "0,1,0,1");
 * ```
 */
export function resolvePadding(
  padding: Padding,
  input: Pair,
  kernel: Pair,
  stride: Pair,
  dilation: Pair,
): Pad4 {
  if (padding === "valid") return [0, 0, 0, 0];
  if (padding !== "same") return padding;
  const sides = [0, 1].map((axis) => {
    const out = Math.ceil(input[axis] / stride[axis]);
    const total = Math.max(
      (out - 1) * stride[axis] + effectiveKernel(kernel[axis], dilation[axis]) - input[axis],
      0,
    );
    const before = Math.floor(total / 2);
    return [before, total - before];
  });
  return [sides[0][0], sides[0][1], sides[1][0], sides[1][1]];
}

function expectCount(shapes: readonly Shape[], min: number, max: number, op: string) {
  if (shapes.length < min || shapes.length > max) {
    const wanted = min === max ? `${min}` : `${min} to ${max === Infinity ? "any" : max}`;
    throw new ShapeError("inputs.length", shapes.length, `${op} takes ${wanted} input(s)`);
  }
}

function expectRank(field: string, shape: Shape, rank: number, layout: string) {
  if (shape.length !== rank) {
    throw new ShapeError(field, shape, `must have rank ${rank} (${layout})`);
  }
}

function windowed(
  field: string,
  shape: Shape,
  kernel: Pair,
  stride: Pair,
  dilation: Pair,
  padding: Padding,
  outChannels: number,
  ceilMode = false,
): OpGeometry {
  const [n, h, w] = shape;
  const pad = resolvePadding(padding, [h, w], kernel, stride, dilation);
  const extents = [
    effectiveKernel(kernel[0], dilation[0]),
    effectiveKernel(kernel[1], dilation[1]),
  ];
  const padded = [h + pad[0] + pad[1], w + pad[2] + pad[3]];
  for (const axis of [0, 1]) {
    if (extents[axis] > padded[axis]) {
      throw new ShapeError(
        `${field}[${axis + 1}]`,
        shape[axis + 1],
        `padded ${axis === 0 ? "height" : "width"} ${padded[axis]} is smaller than the ` +
          `${axis === 0 ? "kernel height" : "kernel width"} ${extents[axis]} (kernel × dilation)`,
      );
    }
  }
  const [outH, outW] = [0, 1].map((axis) => {
    const span = padded[axis] - extents[axis];
    if (!ceilMode) return Math.floor(span / stride[axis]) + 1;
    // ONNX / PyTorch ceil mode: round up, but drop a last window that would
    // start in the bottom/right padding (or past it).
    const out = Math.ceil(span / stride[axis]) + 1;
    const inputAndLeadingPad = [h, w][axis] + pad[axis * 2];
    return (out - 1) * stride[axis] >= inputAndLeadingPad ? out - 1 : out;
  });
  return { inputShapes: [shape], outputShape: [n, outH, outW, outChannels], padding: pad };
}

const NO_PADDING: Pad4 = [0, 0, 0, 0];

/**
 * Validates the input shapes against a descriptor and computes the output
 * shape and resolved padding. Throws {@link ShapeError} naming the field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthwiseConv2d, inferGeometry } from "@mobileops/core";
 * const g = inferGeometry(depthwiseConv2d({ channels: 64, kernel: 3, stride: 2, padding: "same" }), [[1, 112, 112, 64]]);
 * assert(g.outputShape.join() === "1,56,56,64");
 * ```
 */
export function inferGeometry(descriptor: OpDescriptor, inputShapes: readonly Shape[]): OpGeometry {
  if (!Array.isArray(inputShapes as unknown)) {
    throw new ShapeError("inputs", inputShapes, "must be an array of tensors");
  }
  inputShapes.forEach((shape, i) => validateShape(`inputs[${i}].shape`, shape));
  const geometry = geometryOf(descriptor, inputShapes);
  const { outputShape } = geometry;
  if (outputShape.some((dim) => dim > MAX_DIMENSION) || shapeSize(outputShape) > MAX_ELEMENTS) {
    throw new ShapeError(
      "inputs[0].shape",
      inputShapes[0],
      `gives a ${descriptor.op} output of shape [${outputShape.join(", ")}], beyond ` +
        `MAX_DIMENSION (${MAX_DIMENSION}) per axis or MAX_ELEMENTS (${MAX_ELEMENTS}) in all`,
    );
  }
  return geometry;
}

function geometryOf(descriptor: OpDescriptor, inputShapes: readonly Shape[]): OpGeometry {
  switch (descriptor.op) {
    case "conv2d": {
      expectCount(inputShapes, 1, 1, "conv2d");
      const shape = inputShapes[0];
      expectRank("inputs[0].shape", shape, 4, "NHWC");
      if (shape[3] !== descriptor.inChannels) {
        throw new ShapeError(
          "inputs[0].shape[3]",
          shape[3],
          `must equal the descriptor's inChannels (${descriptor.inChannels})`,
        );
      }
      return windowed(
        "inputs[0].shape",
        shape,
        descriptor.kernel,
        descriptor.stride,
        descriptor.dilation,
        descriptor.padding,
        descriptor.outChannels,
      );
    }
    case "avgPool2d":
    case "maxPool2d": {
      expectCount(inputShapes, 1, 1, descriptor.op);
      const shape = inputShapes[0];
      expectRank("inputs[0].shape", shape, 4, "NHWC");
      return windowed(
        "inputs[0].shape",
        shape,
        descriptor.kernel,
        descriptor.stride,
        [1, 1],
        descriptor.padding,
        shape[3],
        descriptor.ceilMode,
      );
    }
    case "channelShuffle": {
      expectCount(inputShapes, 1, 1, "channelShuffle");
      const shape = inputShapes[0];
      expectRank("inputs[0].shape", shape, 4, "NHWC");
      if (shape[3] % descriptor.groups !== 0) {
        throw new ShapeError(
          "inputs[0].shape[3]",
          shape[3],
          `channels must be divisible by groups (${descriptor.groups})`,
        );
      }
      return { inputShapes, outputShape: shape, padding: NO_PADDING };
    }
    case "add": {
      expectCount(inputShapes, 2, 2, "add");
      const [a, b] = inputShapes;
      if (a.length !== b.length || a.some((dim, i) => dim !== b[i])) {
        throw new ShapeError("inputs[1].shape", b, `must equal inputs[0].shape [${a.join(", ")}]`);
      }
      return { inputShapes, outputShape: a, padding: NO_PADDING };
    }
    case "concat": {
      expectCount(inputShapes, 1, Infinity, "concat");
      const first = inputShapes[0];
      let channels = 0;
      inputShapes.forEach((shape, i) => {
        expectRank(`inputs[${i}].shape`, shape, 4, "NHWC");
        for (const axis of [0, 1, 2]) {
          if (shape[axis] !== first[axis]) {
            throw new ShapeError(
              `inputs[${i}].shape[${axis}]`,
              shape[axis],
              `must equal inputs[0].shape[${axis}] (${first[axis]})`,
            );
          }
        }
        channels += shape[3];
      });
      return {
        inputShapes,
        outputShape: [first[0], first[1], first[2], channels],
        padding: NO_PADDING,
      };
    }
    case "globalAvgPool": {
      expectCount(inputShapes, 1, 1, "globalAvgPool");
      const shape = inputShapes[0];
      expectRank("inputs[0].shape", shape, 4, "NHWC");
      return { inputShapes, outputShape: [shape[0], 1, 1, shape[3]], padding: NO_PADDING };
    }
    case "fullyConnected": {
      expectCount(inputShapes, 1, 1, "fullyConnected");
      const shape = inputShapes[0];
      const features = shapeSize(shape) / shape[0];
      if (shape.length < 2 || features !== descriptor.inFeatures) {
        throw new ShapeError(
          "inputs[0].shape",
          shape,
          `must be [batch, ...] with ${descriptor.inFeatures} features per batch (inFeatures)`,
        );
      }
      return {
        inputShapes,
        outputShape: [shape[0], descriptor.outFeatures],
        padding: NO_PADDING,
      };
    }
    case "softmax": {
      expectCount(inputShapes, 1, 1, "softmax");
      return { inputShapes, outputShape: inputShapes[0], padding: NO_PADDING };
    }
  }
}
