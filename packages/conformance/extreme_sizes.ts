/**
 * The extreme-sizes table: calls at or near core's size limits that are
 * still cheap to compute — kernel size, stride, dilation and padding equal
 * to `MAX_WINDOW` on tiny inputs, thousands of channels, tens of thousands
 * of batch rows, rows of 2¹⁶ values, a concatenation of 300 inputs. They
 * check that nothing overflows, unrolls or allocates per kernel extent or
 * per channel count (a dilation of 2¹² must still read the right three
 * taps, not wrap around), while each stays within a small work budget.
 *
 * @module
 */

import {
  add,
  avgPool2d,
  channelShuffle,
  concat,
  conv2d,
  type Conv2dOptions,
  fullyConnected,
  globalAvgPool,
  inferGeometry,
  MAX_WINDOW,
  maxPool2d,
  opCost,
  type OpDescriptor,
  type Shape,
  shapeSize,
  softmax,
} from "@mobileops/core";
import { type CaseTable, convRange, describeCall } from "./conformance_case.ts";

/** Work allowed per case: multiply-adds, window reads, elements touched. */
const WORK_BUDGET = 2 ** 20;

const W = MAX_WINDOW;

interface Extreme {
  readonly descriptor: OpDescriptor;
  readonly inputShapes: readonly Shape[];
  readonly inputRange?: readonly [number, number];
}

/** Multiply-adds, pooling window reads, or elements read and written: whichever is most. */
function work({ descriptor, inputShapes }: Extreme): number {
  const { multiplyAdds, outputShape } = opCost(descriptor, inputShapes);
  const windowReads = descriptor.op === "avgPool2d" || descriptor.op === "maxPool2d"
    ? shapeSize(outputShape) * descriptor.kernel[0] * descriptor.kernel[1]
    : 0;
  const touched = inputShapes.reduce((sum, shape) => sum + shapeSize(shape), 0) +
    shapeSize(outputShape);
  return Math.max(multiplyAdds, windowReads, touched);
}

function conv(options: Conv2dOptions, shape: Shape): Extreme {
  const descriptor = conv2d(options);
  const terms = descriptor.kernel[0] * descriptor.kernel[1] *
    (descriptor.inChannels / descriptor.groups);
  return {
    descriptor,
    inputShapes: [shape],
    inputRange: convRange(descriptor.activation, terms),
  };
}

function dw(channels: number, options: Omit<Conv2dOptions, "inChannels" | "outChannels">) {
  return { inChannels: channels, outChannels: channels, groups: channels, ...options };
}

function extremes(): Extreme[] {
  return [
    // Dilation at the limit with "same" padding: only the centre tap lies in the image.
    conv(dw(5, { kernel: 3, dilation: W, padding: "same", bias: true, activation: "relu" }), [
      1,
      3,
      3,
      5,
    ]),
    conv(dw(4, { kernel: 3, dilation: W, stride: 2, padding: "same", activation: "relu6" }), [
      1,
      5,
      7,
      4,
    ]),
    conv(dw(6, { kernel: 3, dilation: [W, 1], padding: "same", bias: true }), [1, 3, 5, 6]),
    conv({ inChannels: 2, outChannels: 3, kernel: 3, dilation: W, padding: "same" }, [1, 3, 3, 2]),
    // Two taps W rows apart, both in the image.
    conv(dw(3, { kernel: [2, 1], dilation: [W, 1], bias: true }), [1, W + 1, 1, 3]),
    // Kernel size at the limit: a whole row or column in one window.
    conv(dw(3, { kernel: [1, W], activation: "relu" }), [1, 2, W, 3]),
    conv({ inChannels: 2, outChannels: 3, kernel: [W, 1], bias: true }, [1, W, 2, 2]),
    conv(dw(4, { kernel: [W, 1], padding: "same", bias: true, activation: "relu6" }), [1, 2, 3, 4]),
    conv({
      inChannels: 2,
      outChannels: 3,
      kernel: [W, 1],
      dilation: [2, 1],
      padding: [W, W, 0, 0],
      activation: "relu",
    }, [1, 3, 2, 2]),
    // Stride and padding at the limit.
    conv({ inChannels: 3, outChannels: 4, kernel: 1, stride: W, bias: true }, [1, 2, W + 1, 3]),
    conv(dw(2, { kernel: 3, stride: W, activation: "relu" }), [1, 3, W + 3, 2]),
    conv({
      inChannels: 3,
      outChannels: 5,
      kernel: 1,
      stride: W,
      padding: [W, W, W, W],
      bias: true,
    }, [1, 1, 1, 3]),
    conv(dw(4, { kernel: 3, stride: W, padding: [W, W, W, W], bias: true, activation: "relu6" }), [
      1,
      2,
      2,
      4,
    ]),
    // Thousands of channels.
    conv({ inChannels: 4096, outChannels: 5, kernel: 1, bias: true, activation: "relu" }, [
      1,
      1,
      2,
      4096,
    ]),
    conv({ inChannels: 3, outChannels: 4096, kernel: 1, activation: "relu6" }, [1, 1, 3, 3]),
    conv({ inChannels: 4096, outChannels: 2048, groups: 1024, kernel: 1, bias: true }, [
      1,
      1,
      2,
      4096,
    ]),
    conv(dw(5000, { kernel: 3, padding: "same", bias: true, activation: "relu" }), [1, 2, 3, 5000]),
    // Many batch rows of one pixel.
    conv({ inChannels: 5, outChannels: 7, kernel: 1, bias: true, activation: "relu" }, [
      4096,
      1,
      1,
      5,
    ]),
    conv(dw(3, { kernel: 3, padding: "same", activation: "relu6" }), [2048, 1, 1, 3]),
    // Pools: a window, stride or padding at the limit.
    { descriptor: maxPool2d({ kernel: [1, W] }), inputShapes: [[1, 2, W, 3]] },
    { descriptor: maxPool2d({ kernel: [W, 1], stride: 1 }), inputShapes: [[1, W + 1, 1, 2]] },
    { descriptor: maxPool2d({ kernel: [1, 2], stride: W }), inputShapes: [[1, 2, W + 2, 3]] },
    {
      descriptor: maxPool2d({ kernel: [1, W], stride: [1, W], padding: [0, 0, W - 1, W - 1] }),
      inputShapes: [[1, 2, 3, 5]],
    },
    { descriptor: avgPool2d({ kernel: [1, W] }), inputShapes: [[1, 2, W, 3]] },
    ...[false, true].map((countIncludePad) => ({
      descriptor: avgPool2d({
        kernel: [1, W],
        stride: [1, W],
        padding: [0, 0, W - 1, W - 1],
        countIncludePad,
      }),
      inputShapes: [[1, 1, 3, 2]],
    })),
    {
      descriptor: avgPool2d({
        kernel: [W, 1],
        stride: [W, 1],
        padding: [W - 1, W - 1, 0, 0],
        countIncludePad: true,
      }),
      inputShapes: [[1, 3, 2, 4]],
    },
    // Ceil mode: a last window of 4096 that holds 5 cells and hangs past the input (and its
    // padding) by thousands.
    {
      descriptor: maxPool2d({ kernel: [1, W], stride: [1, W], ceilMode: true }),
      inputShapes: [[1, 2, W + 5, 3]],
      inputRange: [-3, -1],
    },
    ...[false, true].map((countIncludePad) => ({
      descriptor: avgPool2d({
        kernel: [1, W],
        stride: [1, W],
        padding: [0, 0, 2, 1],
        countIncludePad,
        ceilMode: true,
      }),
      inputShapes: [[1, 1, W + 2, 2]],
    })),
    // Channel shuffles of 2¹⁶ channels, and of many pixels.
    { descriptor: channelShuffle({ groups: 256 }), inputShapes: [[1, 1, 1, 2 ** 16]] },
    { descriptor: channelShuffle({ groups: 3 }), inputShapes: [[1, 1, 1, 3 * 21845]] },
    { descriptor: channelShuffle({ groups: 2 ** 16 }), inputShapes: [[1, 1, 1, 2 ** 16]] },
    { descriptor: channelShuffle({ groups: 2 }), inputShapes: [[2 ** 16, 1, 1, 4]] },
    // Long element-wise runs, many batch rows, many inputs.
    {
      descriptor: add({ activation: "relu6" }),
      inputShapes: [[1, 1, 1, 2 ** 17 + 3], [1, 1, 1, 2 ** 17 + 3]],
      inputRange: [-8, 8],
    },
    {
      descriptor: add({ activation: "relu" }),
      inputShapes: [[2 ** 16, 1, 1, 3], [2 ** 16, 1, 1, 3]],
    },
    {
      descriptor: concat({ activation: "relu" }),
      inputShapes: [[8192, 1, 1, 3], [8192, 1, 1, 5]],
    },
    {
      descriptor: concat(),
      inputShapes: Array.from({ length: 300 }, (_, i): Shape => [1, 2, 2, 1 + (i % 3)]),
    },
    { descriptor: globalAvgPool(), inputShapes: [[1, 1, 2 ** 17, 3]] },
    { descriptor: globalAvgPool(), inputShapes: [[4096, 1, 1, 5]] },
    // Fully connected layers with long rows, wide outputs, many batch rows.
    {
      descriptor: fullyConnected({ inFeatures: 2 ** 16, outFeatures: 3, bias: true }),
      inputShapes: [[2, 2 ** 16]],
    },
    {
      descriptor: fullyConnected({ inFeatures: 3, outFeatures: W, activation: "relu" }),
      inputShapes: [[16, 3]],
    },
    {
      descriptor: fullyConnected({
        inFeatures: 4,
        outFeatures: 2,
        bias: true,
        activation: "relu6",
      }),
      inputShapes: [[16384, 4]],
      inputRange: convRange("relu6", 4),
    },
    // Softmax rows of 2¹⁶ values, and 2¹⁶ rows.
    { descriptor: softmax(), inputShapes: [[1, 2 ** 16]], inputRange: [-4, 4] },
    { descriptor: softmax(), inputShapes: [[2 ** 16, 2]], inputRange: [-4, 4] },
  ];
}

function extremeTable(): CaseTable {
  const name = "extreme sizes";
  return {
    name,
    cases: extremes().map((extreme, index) => {
      inferGeometry(extreme.descriptor, extreme.inputShapes);
      if (work(extreme) > WORK_BUDGET) {
        throw new Error(`${name} #${index}: ${work(extreme)} exceeds the work budget`);
      }
      return {
        name: `${name} #${index}: ${describeCall(extreme.descriptor, extreme.inputShapes)}`,
        descriptor: extreme.descriptor,
        inputShapes: extreme.inputShapes,
        seed: (15 * 7919 + index * 104_729) >>> 0,
        inputRange: extreme.inputRange ?? [-1, 1],
      };
    }),
  };
}

/**
 * The extreme-sizes table (the last of `CASE_TABLES`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_WINDOW } from "@mobileops/core";
 * import { EXTREME_SIZE_TABLE } from "./extreme_sizes.ts";
 * assert(EXTREME_SIZE_TABLE.cases.some((c) =>
 *   c.descriptor.op === "conv2d" && c.descriptor.dilation[0] === MAX_WINDOW
 * ));
 * ```
 */
export const EXTREME_SIZE_TABLE: CaseTable = extremeTable();
