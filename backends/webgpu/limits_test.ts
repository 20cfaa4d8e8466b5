// The split paths, on small shapes: with the planning limits lowered, conformance cases must
// still match the reference while their work is split over many dispatches (few workgroups
// per dimension, small workgroups) and their tensors bound in windows (a small binding size).
import assert from "node:assert/strict";
import { CASE_TABLES, type ConformanceCase, runCase } from "@mobileops/conformance";
import {
  effectiveKernel,
  fullyConnected,
  inferGeometry,
  shapeSize,
  UnsupportedError,
} from "@mobileops/core";
import { createWebGpuBackend } from "./mod.ts";
import { webgpuUnavailable } from "./testing.ts";

const ignore = await webgpuUnavailable() !== undefined;

const SMALL = {
  maxStorageBufferBindingSize: 4096,
  maxComputeWorkgroupsPerDimension: 3,
  maxComputeInvocationsPerWorkgroup: 16,
  maxComputeWorkgroupStorageSize: 32,
};
/** A window's start is aligned down to 256 bytes, so it may take up to 252 bytes more. */
const ALIGNMENT_SLACK = 252;

/** Bytes of the largest binding window one unit of work of `testCase` needs. */
function unitBytes({ descriptor, inputShapes }: ConformanceCase): number {
  const [shape] = inputShapes;
  const [, h, w, c] = shape;
  switch (descriptor.op) {
    case "conv2d": {
      const rows = Math.min(effectiveKernel(descriptor.kernel[0], descriptor.dilation[0]), h);
      const filter = descriptor.kernel[0] * descriptor.kernel[1] *
        (descriptor.inChannels / descriptor.groups);
      return 4 * Math.max(rows * w * c, filter);
    }
    case "avgPool2d":
    case "maxPool2d":
      return 4 * Math.min(descriptor.kernel[0], h) * w * c;
    case "globalAvgPool":
      return 4 * h * w * c;
    case "fullyConnected":
      return 4 * descriptor.inFeatures;
    case "softmax":
      return 4 * shape[shape.length - 1];
    case "channelShuffle":
      return 4 * c;
    case "concat":
      return 4 * Math.max(...inputShapes.map((input) => input[3]));
    case "add":
      return 4;
  }
}

/** Every 6th case of every table but the extreme sizes, where one unit's windows fit. */
const CASES = CASE_TABLES.filter((table) => table.name !== "extreme sizes").flatMap((table) =>
  table.cases.filter((testCase, i) =>
    i % 6 === 0 && unitBytes(testCase) + ALIGNMENT_SLACK <= SMALL.maxStorageBufferBindingSize
  )
);

Deno.test({
  name: "split dispatches and windowed bindings match the reference",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend({ limits: SMALL });
    const failures: string[] = [];
    let windowed = 0;
    const dispatchesBefore = backend.memoryStats().detail!.dispatches;
    for (const [i, testCase] of CASES.entries()) {
      const report = await runCase(backend, testCase, { presetOutput: i % 2 === 1 });
      if (!report.ok) failures.push(`${report.name}: ${report.problem}`);
      const largest = Math.max(
        ...testCase.inputShapes.map(shapeSize),
        shapeSize(inferGeometry(testCase.descriptor, testCase.inputShapes).outputShape),
      );
      if (4 * largest > SMALL.maxStorageBufferBindingSize) windowed++;
    }
    const dispatches = backend.memoryStats().detail!.dispatches - dispatchesBefore;
    console.log(
      `split paths: ${CASES.length - failures.length}/${CASES.length} cases pass, ` +
        `${windowed} with tensors bound in windows, ${dispatches} dispatches`,
    );
    assert.deepEqual(failures.slice(0, 10), []);
    assert(windowed >= 50, `only ${windowed} cases had a tensor larger than the binding size`);
    assert(dispatches > 5 * CASES.length, `only ${dispatches} dispatches`);
  },
});

Deno.test({
  name: "a unit whose window exceeds the binding size is refused with UnsupportedError",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend({ limits: { maxStorageBufferBindingSize: 1024 } });
    const fc = await backend.prepare(fullyConnected({ inFeatures: 512, outFeatures: 1 }), {
      weights: new Float32Array(512),
    });
    const x = backend.upload(new Float32Array(512), [1, 512]);
    assert.throws(
      () => backend.run(fc, [x]),
      (error) =>
        error instanceof UnsupportedError && error.field === "inputs[0]" &&
        /maxStorageBufferBindingSize \(1024\)/.test(error.message),
    );
  },
});
